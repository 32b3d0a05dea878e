# Copyright (c) mmvmt contributors.
from .boundary_refine_head import (BoundaryRefineHead, RefineEncoderLayer,
                                   boundary_band)
from .dynamic_mask_head import DynamicMaskHead, relative_coords
from .incoherence_head import IncoherenceHead
from .tracklet_refine_head import (TrackletRefineHead, instance_nodes,
                                   learned_nodes)
from .vmt_head import VMTHead
from .vmt_mask_head import VMTMaskHead, box_masks

__all__ = [
    'BoundaryRefineHead', 'RefineEncoderLayer', 'boundary_band',
    'DynamicMaskHead', 'relative_coords', 'IncoherenceHead',
    'TrackletRefineHead', 'instance_nodes', 'learned_nodes', 'VMTHead',
    'VMTMaskHead', 'box_masks'
]
