# Copyright (c) mmvmt contributors.
from .hq_ytvis import YTVIS2019_CLASSES, DatasetError, HQYTVISDataset
from .transforms import *  # noqa: F401,F403

__all__ = ['HQYTVISDataset', 'YTVIS2019_CLASSES', 'DatasetError']
