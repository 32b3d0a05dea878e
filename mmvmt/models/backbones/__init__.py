# Copyright (c) mmvmt contributors.
from .resnet_stem import ResNetWithStem

__all__ = ['ResNetWithStem']
