# Copyright (c) mmvmt contributors.
"""Temporal stability of predicted tubes (an extra statistic of ours, not
one of the 24 reference stats; docs/evaluation.md).

``temporal_flicker``: the predictions are matched to the GT tubes as at
AP50 (per video and category, detections in descending score order, each
to the unmatched GT tube of highest tube mask IoU, if at least 0.5). For a
matched pair and every two consecutive frames where the GT object is
present in both, the error is ``|IoU(P_t, P_t+1) - IoU(G_t, G_t+1)|``:
how much more (or less) the predicted mask changes between the frames
than the true one, so motion of the object itself costs nothing. The
statistic is the mean error over all such frame pairs (0 = as stable as
the GT; -1 when there is no pair). A prediction absent in a frame counts
as an empty mask there.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
import pycocotools.mask as mask_utils

from .hqvis_data import HQVISData, Tube
from .tube_iou import mask_tube_iou


def _frame_iou(a: Optional[dict], b: Optional[dict]) -> float:
    """IoU of two frames' RLEs (None = empty); 1.0 when both are empty."""
    if a is None and b is None:
        return 1.0
    if a is None or b is None:
        return 0.0
    union = mask_utils.area(mask_utils.merge([a, b], False))
    if union == 0:
        return 1.0
    inter = mask_utils.area(mask_utils.merge([a, b], True))
    return float(inter) / float(union)


def match_at_50(dts: Sequence[Tube], gts: Sequence[Tube]) -> List[tuple]:
    """(detection, GT) pairs matched as at AP50 (``dts`` in score order)."""
    used, pairs = set(), []
    for dt in dts:
        best, best_iou = None, 0.5
        for j, gt in enumerate(gts):
            if j in used:
                continue
            iou = mask_tube_iou(dt, gt)
            if iou >= best_iou:
                best, best_iou = j, iou
        if best is not None:
            used.add(best)
            pairs.append((dt, gts[best]))
    return pairs


def flicker_errors(dt: Tube, gt: Tube) -> List[float]:
    """Per consecutive GT-present frame pair, ``|dIoU_pred - dIoU_gt|``."""
    errors = []
    for t in range(min(len(dt.rles), len(gt.rles)) - 1):
        if gt.rles[t] is None or gt.rles[t + 1] is None:
            continue
        pred = _frame_iou(dt.rles[t], dt.rles[t + 1])
        true = _frame_iou(gt.rles[t], gt.rles[t + 1])
        errors.append(abs(pred - true))
    return errors


def temporal_flicker(data: HQVISData) -> Dict[str, float]:
    """The statistic over grouped GT and results (see the module docstring).

    Args:
        data (HQVISData): From :func:`group_tubes` (``HQVISEvaluator.data``).

    Returns:
        dict: ``temporal_flicker`` (mean error, -1 without frame pairs) and
        ``temporal_pairs`` (number of frame pairs).
    """
    errors: List[float] = []
    for key, gts in data.gts.items():
        gts = [g for g in gts if not g.iscrowd]
        for dt, gt in match_at_50(data.dts.get(key, []), gts):
            errors += flicker_errors(dt, gt)
    return dict(temporal_flicker=float(np.mean(errors)) if errors else -1.0,
                temporal_pairs=len(errors))
