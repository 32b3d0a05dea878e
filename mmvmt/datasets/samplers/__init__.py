# Copyright (c) mmvmt contributors.
from .video_frame_sampler import VideoFrameSampler, video_lengths

__all__ = ['VideoFrameSampler', 'video_lengths']
