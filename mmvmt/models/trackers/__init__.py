# Copyright (c) mmvmt contributors.
from .window_linker import WindowLinker, overlap_tube_iou

__all__ = ['WindowLinker', 'overlap_tube_iou']
