# Copyright (c) mmvmt contributors.
from .hq_ytvis_metric import HQYTVISMetric

__all__ = ['HQYTVISMetric']
