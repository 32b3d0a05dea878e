# Copyright (c) mmvmt contributors.
from .match_costs import TubeGIoUCost, TubeL1Cost

__all__ = ['TubeL1Cost', 'TubeGIoUCost']
