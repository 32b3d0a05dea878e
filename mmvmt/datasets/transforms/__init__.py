# Copyright (c) mmvmt contributors.
from .frame_sampling import SeqFormerFrameSample, seqformer_frame_ids
from .loading import FrameReadError, LoadFrameFromFile
from .pseudo_clip import PseudoClipAugment
from .resize import ShortSideResize, short_side_size
from .video_checks import (CheckFrameSizes, FilterClipInstances,
                           VideoFormatError)

__all__ = [
    'ShortSideResize', 'short_side_size', 'CheckFrameSizes',
    'FilterClipInstances', 'VideoFormatError', 'SeqFormerFrameSample',
    'seqformer_frame_ids', 'PseudoClipAugment', 'LoadFrameFromFile',
    'FrameReadError'
]
