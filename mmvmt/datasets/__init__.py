# Copyright (c) mmvmt contributors.
from .coco_pseudo_clip import COCOPseudoClipDataset
from .hq_ytvis import (YTVIS2019_CLASSES, DatasetError, HQYTVISDataset,
                       YTVISJsonDataset)
from .samplers import VideoFrameSampler
from .transforms import *  # noqa: F401,F403
from .video_concat import VideoConcatDataset

__all__ = [
    'HQYTVISDataset', 'YTVISJsonDataset', 'YTVIS2019_CLASSES', 'DatasetError',
    'COCOPseudoClipDataset', 'VideoConcatDataset',
    'VideoFrameSampler'
]
