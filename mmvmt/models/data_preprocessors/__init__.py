# Copyright (c) mmvmt contributors.
from .vmt_data_preprocessor import VMTDataPreprocessor

__all__ = ['VMTDataPreprocessor']
