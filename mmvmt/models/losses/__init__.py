# Copyright (c) mmvmt contributors.
from .incoherence_targets import incoherence_targets
from .tube_targets import clip_tubes, downsample_masks
from .vmt_criterion import VMTCriterion

__all__ = [
    'VMTCriterion', 'clip_tubes', 'downsample_masks', 'incoherence_targets'
]
