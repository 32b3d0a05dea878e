# Copyright (c) mmvmt contributors.
from .inference import (VideoInputError, inference_video, init_model,
                        iter_frames, predict_frames, read_video)
from .windowed_inference import iter_video_predictions

__all__ = [
    'init_model', 'inference_video', 'iter_frames', 'iter_video_predictions',
    'predict_frames', 'read_video', 'VideoInputError'
]
