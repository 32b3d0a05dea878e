# Copyright (c) mmvmt contributors.
from .frame_sampling import SeqFormerFrameSample, seqformer_frame_ids
from .resize import ShortSideResize, short_side_size
from .video_checks import CheckFrameSizes, VideoFormatError

__all__ = [
    'ShortSideResize', 'short_side_size', 'CheckFrameSizes',
    'VideoFormatError', 'SeqFormerFrameSample', 'seqformer_frame_ids'
]
