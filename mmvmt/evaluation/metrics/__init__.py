# Copyright (c) mmvmt contributors.
from .dump_results import AtomicDumpResults
from .hq_ytvis_metric import HQYTVISMetric

__all__ = ['HQYTVISMetric', 'AtomicDumpResults']
