# Copyright (c) mmvmt contributors.
from .resize import ShortSideResize, short_side_size

__all__ = ['ShortSideResize', 'short_side_size']
