# Copyright (c) mmvmt contributors.
from .boundary_refine_head import (BoundaryRefineHead, RefineEncoderLayer,
                                   boundary_band)
from .dynamic_mask_head import DynamicMaskHead, relative_coords
from .vmt_head import VMTHead
from .vmt_mask_head import VMTMaskHead, box_masks

__all__ = [
    'BoundaryRefineHead', 'RefineEncoderLayer', 'boundary_band',
    'DynamicMaskHead', 'relative_coords', 'VMTHead', 'VMTMaskHead',
    'box_masks'
]
