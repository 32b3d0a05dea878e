# Copyright (c) mmvmt contributors.
"""Self-correction of video mask annotations with a model's predictions
(the HQ-YTVIS recipe: VMT paper, "automated annotation refinement by
iterative training and self-correction").

The paper gives no rule and no code; this one is our reconstruction. For
each video, the annotated tubes and the predicted tubes of the same
category are paired one to one, greedily by tube mask IoU (highest
first, the evaluator's :func:`mask_tube_iou`); a pair agrees when its IoU
is at least ``iou_thr``. In an agreeing pair, every frame where both the
annotation and the prediction have a non-empty mask, and their frame IoU is
at least ``frame_iou_thr``, takes the predicted mask; every other frame
keeps the annotation (an absent frame stays absent, a frame the prediction
misses or contradicts keeps its annotated mask).
"""
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import pycocotools.mask as mask_utils

from mmvmt.evaluation.functional.hqvis_data import Tube
from mmvmt.evaluation.functional.tube_iou import (boundary_tube_iou,
                                                  mask_tube_iou,
                                                  tube_boundaries)
from .coarse_labels import rle_of

REASONS = ('replaced', 'kept_low_iou', 'kept_no_prediction',
           'kept_pred_absent', 'kept_frame_disagrees', 'absent')


def make_tube(segs: Sequence[Optional[dict]], tube_id: int = 0,
              video_id: int = 0, category_id: int = 0,
              score: float = 1.0) -> Tube:
    """A :class:`Tube` of per-frame RLEs (None or empty = absent)."""
    rles = [rle_of(s) for s in segs]
    areas = np.array([0 if r is None else int(mask_utils.area(r))
                      for r in rles], dtype=np.int64)
    rles = [r if a > 0 else None for r, a in zip(rles, areas)]
    size = next((tuple(r['size']) for r in rles if r is not None), None)
    present = areas[areas > 0]
    return Tube(id=tube_id, video_id=video_id, category_id=category_id,
                score=score, iscrowd=0,
                avg_area=float(present.mean()) if present.size else 0.0,
                rles=rles, areas=areas, boundary_rles=rles, null_size=size)


def pair_tubes(anns: Sequence[dict], preds: Sequence[dict],
               field: str) -> List[Tuple[int, Optional[int], float]]:
    """One-to-one pairs of annotations and predictions of one video.

    Args:
        anns (Sequence[dict]): Annotations (``category_id``, ``field``).
        preds (Sequence[dict]): Predicted tubes (``category_id``,
            ``segmentations``, ``score``).
        field (str): Annotation field with the current masks.

    Returns:
        list: per annotation (its index, the paired prediction's index or
        None, their tube mask IoU), greedy by IoU over same-category pairs.
    """
    ann_tubes = [make_tube(a[field]) for a in anns]
    pred_tubes = [make_tube(p['segmentations']) for p in preds]
    cand = sorted(
        ((mask_tube_iou(pt, at), i, j)
         for i, (a, at) in enumerate(zip(anns, ann_tubes))
         for j, (p, pt) in enumerate(zip(preds, pred_tubes))
         if p['category_id'] == a['category_id']),
        key=lambda c: (-c[0], c[1], c[2]))
    paired: Dict[int, Tuple[int, float]] = {}
    used = set()
    for iou, i, j in cand:
        if i in paired or j in used:
            continue
        paired[i] = (j, iou)
        used.add(j)
    return [(i, *paired.get(i, (None, 0.0))) for i in range(len(anns))]


def correct_video(anns: Sequence[dict], preds: Sequence[dict],
                  iou_thr: float = 0.5,
                  field: str = 'segmentations',
                  frame_iou_thr: float = 0.0
                  ) -> Tuple[List[List[Optional[dict]]], Counter]:
    """Corrected masks of one video's annotations.

    Args:
        anns (Sequence[dict]): The video's annotations.
        preds (Sequence[dict]): The video's predicted tubes (YouTube-VIS
            results: ``category_id``, ``score``, ``segmentations``).
        iou_thr (float): Tube mask IoU at which a pair agrees.
        field (str): Annotation field with the current masks.
        frame_iou_thr (float): Frame IoU below which a frame of an agreeing
            pair keeps its annotation. Defaults to 0 (every frame present
            in both is replaced).

    Returns:
        tuple: per annotation its new per-frame masks (the annotation's own
        dicts where kept, the prediction's RLE where replaced), and the
        count of frames per reason (``REASONS``).
    """
    counts: Counter = Counter()
    out = []
    for i, j, iou in pair_tubes(anns, preds, field):
        segs = list(anns[i][field])
        if j is None:
            why = 'kept_no_prediction'
        elif iou < iou_thr:
            why = 'kept_low_iou'
        else:
            why = None
        new = []
        for t, seg in enumerate(segs):
            ann_rle = rle_of(seg)
            if ann_rle is None or mask_utils.area(ann_rle) == 0:
                counts['absent'] += 1
                new.append(seg)
                continue
            if why is not None:
                counts[why] += 1
                new.append(seg)
                continue
            pred_rle = rle_of(preds[j]['segmentations'][t])
            if pred_rle is None or mask_utils.area(pred_rle) == 0:
                counts['kept_pred_absent'] += 1
                new.append(seg)
            elif mask_utils.iou([pred_rle], [ann_rle],
                                [0])[0, 0] < frame_iou_thr:
                counts['kept_frame_disagrees'] += 1
                new.append(seg)
            else:
                counts['replaced'] += 1
                new.append(dict(size=list(pred_rle['size']),
                                counts=pred_rle['counts'].decode('ascii')))
        out.append(new)
    return out, counts


def label_quality(labels: Sequence[dict], exact: Sequence[dict],
                  field: str = 'segmentations') -> Dict[str, float]:
    """Mean tube mask IoU and tube boundary IoU of labels against the exact
    masks, annotations paired by ``id`` (the evaluator's functions).

    Args:
        labels (Sequence[dict]): Annotations with the labels in ``field``.
        exact (Sequence[dict]): Annotations with the exact masks in
            ``segmentations``.

    Returns:
        dict: ``mask_iou``, ``boundary_iou`` (means over annotations) and
        ``num`` (annotations compared).
    """
    by_id = {a['id']: a for a in exact}
    pairs = [(make_tube(a[field]),
              make_tube(by_id[a['id']]['segmentations']))
             for a in labels if a['id'] in by_id]
    if not pairs:
        return dict(mask_iou=0.0, boundary_iou=0.0, num=0)
    mask = [mask_tube_iou(a, e) for a, e in pairs]
    bounds = tube_boundaries([t for p in pairs for t in p])
    boundary = [boundary_tube_iou(bounds[2 * k], bounds[2 * k + 1])
                for k in range(len(pairs))]
    return dict(mask_iou=float(np.mean(mask)),
                boundary_iou=float(np.mean(boundary)), num=len(pairs))
