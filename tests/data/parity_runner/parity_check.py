"""Tube helpers that the kit's ``compare_runs.py`` imports as
``parity_check`` (not shipped in the kit): decode one result's tube and
compare two tubes."""
from typing import List, Optional, Tuple

import numpy as np
import pycocotools.mask as mask_utils


def tube(result: dict, shape: Optional[Tuple[int, int]] = None
         ) -> Tuple[List[np.ndarray], int]:
    """Frames of one result as bool masks (all-False where None).

    Returns:
        tuple: the masks (H, W) per frame and the number of None frames.
    """
    segs = result['segmentations']
    if shape is None:
        shape = next(tuple(s['size']) for s in segs if s is not None)
    masks, missing = [], 0
    for s in segs:
        if s is None:
            masks.append(np.zeros(shape, bool))
            missing += 1
        else:
            rle = dict(size=s['size'], counts=s['counts'].encode())
            masks.append(mask_utils.decode(rle).astype(bool))
    return masks, missing


def ious(a: List[np.ndarray], b: List[np.ndarray]
         ) -> Tuple[float, List[float]]:
    """Tube IoU and per-frame IoUs (1.0 where both are empty)."""
    inter = [int((x & y).sum()) for x, y in zip(a, b)]
    union = [int((x | y).sum()) for x, y in zip(a, b)]
    frames = [i / u if u else 1.0 for i, u in zip(inter, union)]
    total = sum(inter) / sum(union) if sum(union) else 1.0
    return total, frames
