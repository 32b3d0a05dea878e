# Copyright (c) mmvmt contributors.
"""HQ-YTVIS evaluation. ``functional`` (the evaluator) needs only numpy,
OpenCV and pycocotools; the mmengine metric is imported on first use."""
from .functional import *  # noqa: F401,F403


def __getattr__(name: str):
    if name == 'HQYTVISMetric':
        from .metrics import HQYTVISMetric
        return HQYTVISMetric
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
