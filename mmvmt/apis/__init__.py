# Copyright (c) mmvmt contributors.
from .inference import (VideoInputError, inference_video, init_model,
                        read_video)

__all__ = ['init_model', 'inference_video', 'read_video', 'VideoInputError']
