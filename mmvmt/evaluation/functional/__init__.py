# Copyright (c) mmvmt contributors.
from .hqvis_data import HQVISInputError, Tube, group_tubes
from .hqvis_eval import (AREA_RNGS, IOU_THRS, REC_THRS, STAT_NAMES,
                         HQVISEvaluator, evaluate_hqvis)
from .tube_iou import boundary_width, mask_boundary

__all__ = [
    'HQVISEvaluator', 'evaluate_hqvis', 'HQVISInputError', 'Tube',
    'group_tubes', 'boundary_width', 'mask_boundary', 'IOU_THRS', 'REC_THRS',
    'AREA_RNGS', 'STAT_NAMES'
]


def __getattr__(name: str):
    # TubeCollector works on mmengine InstanceData (torch): import it only
    # when asked for, so the evaluator itself stays torch-free
    if name in ('TubeCollector', 'encode_rle'):
        from . import tube_results
        return getattr(tube_results, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
