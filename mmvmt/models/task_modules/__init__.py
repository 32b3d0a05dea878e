# Copyright (c) mmvmt contributors.
from .match_costs import TubeGIoUCost, TubeL1Cost, TubeMatchCost

__all__ = ['TubeMatchCost', 'TubeL1Cost', 'TubeGIoUCost']
