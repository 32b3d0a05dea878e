# Copyright (c) mmvmt contributors.
from .hooks import *  # noqa: F401,F403
from .loops import ResumableIterBasedTrainLoop

__all__ = ['ResumableIterBasedTrainLoop']
