# Copyright (c) mmvmt contributors.
from .local_visualizer import VMTLocalVisualizer, draw_mask_overlay, id_colour

__all__ = ['VMTLocalVisualizer', 'id_colour', 'draw_mask_overlay']
