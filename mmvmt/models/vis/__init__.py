# Copyright (c) mmvmt contributors.
from .vmt import VMT

__all__ = ['VMT']
