# Copyright (c) mmvmt contributors.
from .hqvis_data import HQVISInputError, Tube, group_tubes
from .hqvis_eval import (AREA_RNGS, IOU_THRS, REC_THRS, STAT_NAMES,
                         HQVISEvaluator, evaluate_hqvis)
from .tube_iou import boundary_width, mask_boundary
from .tube_results import TubeCollector, encode_rle

__all__ = [
    'HQVISEvaluator', 'evaluate_hqvis', 'HQVISInputError', 'Tube',
    'group_tubes', 'boundary_width', 'mask_boundary', 'IOU_THRS', 'REC_THRS',
    'AREA_RNGS', 'STAT_NAMES', 'TubeCollector', 'encode_rle'
]
