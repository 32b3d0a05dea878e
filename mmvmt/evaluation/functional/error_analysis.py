# Copyright (c) mmvmt contributors.
"""What limits a result file's Tube-Mask AP: classification, localisation
or object size.

mmdet's ``coco_error_analysis.py`` answers this for images; this module
gives the video instance segmentation counterpart in three figures, all
from the evaluator's own loading and tube IoU functions:

* class-agnostic AP: every GT and result tube put in one category and
  evaluated again. The gap to the per-class AP is what wrong categories
  cost (a tube found with the wrong class counts as both a miss and a
  false positive in per-class AP).
* best tube IoU per GT tube: the highest tube mask IoU any result tube of
  the same video reaches with it (any category), and whether that result
  has the GT's category. Shares at IoU >= 0.5 / 0.75 bound how many tubes
  per-class AP50 / AP75 can find with these results.
* the same best IoU per size bucket of the GT's mean per-frame area.

Torch-free, like the evaluator.
"""
import copy
from collections import defaultdict
from typing import Dict, List, Sequence, Union

import numpy as np

from .hqvis_data import HQVISData, read_json
from .hqvis_eval import HQVISEvaluator, evaluate_hqvis
from .tube_iou import tube_iou_matrix

# mean per-frame area edges in pixels: 16^2, 32^2 (COCO's small), 96^2
AREA_EDGES = (256, 1024, 9216)


def class_agnostic(gt: dict, results: List[dict]) -> tuple:
    """Copies of a GT dict and a result list with one category.

    Args:
        gt (dict): YouTube-VIS GT.
        results (list[dict]): Result tubes.

    Returns:
        tuple: (gt, results), every ``category_id`` set to 1 and the GT's
        categories replaced by ``[{'id': 1, 'name': 'object'}]``.
    """
    gt = copy.deepcopy(gt)
    results = copy.deepcopy(results)
    gt['categories'] = [dict(id=1, name='object')]
    for item in list(gt.get('annotations', [])) + results:
        item['category_id'] = 1
    return gt, results


def best_matches(data: HQVISData) -> Dict[str, np.ndarray]:
    """For every GT tube, the result tube of its video with the highest
    tube mask IoU, whatever its category.

    Args:
        data (HQVISData): GT and results as the evaluator groups them
            (results cut to the top 100 per video and category, those of
            unknown categories left out).

    Returns:
        dict: ``best_iou`` (G,) float64 (0 where the video has no result),
        ``class_ok`` (G,) bool (that result has the GT's category; False
        without a result; of equal IoUs the first result in file order),
        ``area`` (G,) float64 mean per-frame GT area,
        per video and category (crowd annotations left out).
    """
    by_video = defaultdict(list)
    for (vid, _), tubes in data.dts.items():
        by_video[vid].extend(tubes)
    for tubes in by_video.values():  # file order: ties go to the first
        tubes.sort(key=lambda t: t.id)
    best, class_ok, area = [], [], []
    for (vid, _), tubes in data.gts.items():
        cands = by_video[vid]
        for tube in tubes:
            if tube.iscrowd:
                continue
            ious = tube_iou_matrix(cands, [tube])[:, 0]
            k = int(np.argmax(ious)) if len(ious) else -1
            best.append(float(ious[k]) if k >= 0 else 0.0)
            class_ok.append(k >= 0
                            and cands[k].category_id == tube.category_id)
            area.append(tube.avg_area)
    return dict(best_iou=np.array(best, np.float64),
                class_ok=np.array(class_ok, bool),
                area=np.array(area, np.float64))


def _bucket_rows(matches: Dict[str, np.ndarray],
                 edges: Sequence[float]) -> List[dict]:
    bounds = [0.0] + [float(e) for e in edges] + [float('inf')]
    rows = []
    for low, high in zip(bounds[:-1], bounds[1:]):
        sel = (matches['area'] >= low) & (matches['area'] < high)
        if not sel.any():
            continue
        iou = matches['best_iou'][sel]
        rows.append(dict(area=[low, None if high == bounds[-1] else high],
                         num=int(sel.sum()),
                         median_best_iou=float(np.median(iou)),
                         found_50=float((iou >= 0.5).mean()),
                         class_ok=float(matches['class_ok'][sel].mean())))
    return rows


def analyse_errors(gt: Union[str, dict], results: Union[str, list],
                   area_edges: Sequence[float] = AREA_EDGES) -> dict:
    """Per-class vs class-agnostic AP and best-match statistics.

    Args:
        gt (str | dict): YouTube-VIS GT (path or dict).
        results (str | list): Result tubes (path or list).
        area_edges (Sequence[float]): Size bucket edges (mean per-frame GT
            area in pixels). Defaults to ``AREA_EDGES``.

    Returns:
        dict: ``per_class`` and ``class_agnostic`` (each ``{'mask': ...,
        'boundary': ...}`` evaluator statistics), ``tubes`` (number of GT
        tubes), ``found_50`` / ``found_75`` (share of GT tubes whose best
        tube IoU is >= 0.5 / 0.75), ``median_best_iou``, ``class_ok`` (share
        whose best match has the right category) and ``by_area`` (the same
        per size bucket: ``area`` [low, high) (high None for the last),
        ``num``,
        ``median_best_iou``, ``found_50``, ``class_ok``).
    """
    gt = read_json(gt, 'GT')
    results = read_json(results, 'results')
    evaluator = HQVISEvaluator(gt, results)  # loads and groups once
    matches = best_matches(evaluator.data)
    iou = matches['best_iou']
    empty = not len(iou)
    return dict(
        per_class={name: evaluator.evaluate(iou_type)
                   for name, iou_type in (('mask', 'segm'),
                                          ('boundary', 'boundary'))},
        class_agnostic=evaluate_hqvis(*class_agnostic(gt, results)),
        tubes=int(len(iou)),
        found_50=0.0 if empty else float((iou >= 0.5).mean()),
        found_75=0.0 if empty else float((iou >= 0.75).mean()),
        median_best_iou=0.0 if empty else float(np.median(iou)),
        class_ok=0.0 if empty else float(matches['class_ok'].mean()),
        by_area=_bucket_rows(matches, area_edges))
