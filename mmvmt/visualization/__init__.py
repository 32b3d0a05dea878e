# Copyright (c) mmvmt contributors.
from .local_visualizer import VMTLocalVisualizer, id_colour

__all__ = ['VMTLocalVisualizer', 'id_colour']
