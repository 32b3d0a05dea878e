# Copyright (c) mmvmt contributors.
"""HQ-YTVIS evaluator: Tube-Mask AP (``segm``) and Tube-Boundary AP
(``boundary``), with the reference's numbers to the last bit.

Matching, accumulation and the 12 summary statistics follow the COCO/YTVIS
protocol as implemented by the reference (``cocoapi_hq``); every place where
the reference deviates from a "clean" definition is marked REFERENCE QUIRK.
Work is done per video (optionally in a process pool), so memory stays
bounded by one video's masks.
"""
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .accumulate import VideoRecord, accumulate
from .hqvis_data import HQVISData, Tube, group_tubes
from .tube_iou import apply_boundary_iou, tube_iou_matrix

# REFERENCE QUIRK: the exact numpy doubles (0.8999999999999999, ten recall
# thresholds one ulp above the decimal).
IOU_THRS = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1,
                       endpoint=True)
REC_THRS = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1,
                       endpoint=True)
MAX_DETS = [1, 10, 100]
# REFERENCE QUIRK: HQ-YTVIS area ranges (128^2 / 256^2, not COCO's 32/96),
# bounds inclusive on both sides.
AREA_RNGS = [[0**2, 1e5**2], [0**2, 128**2], [128**2, 256**2],
             [256**2, 1e5**2]]
AREA_LABELS = ['all', 'small', 'medium', 'large']
STAT_NAMES = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10',
              'AR100', 'ARs', 'ARm', 'ARl']
IOU_TYPES = ('segm', 'boundary')


def _greedy_match(ious: np.ndarray, gts: Sequence[Tube],
                  gt_ig: np.ndarray) -> Tuple[np.ndarray, np.ndarray,
                                              np.ndarray]:
    """The reference's greedy matching at every IoU threshold.

    Args:
        ious (np.ndarray): (num_dts, num_gts) IoUs, dts in score order.
        gts (Sequence[Tube]): GT tubes (file order).
        gt_ig (np.ndarray): (num_gts,) bool ignore flags (file order).

    Returns:
        tuple: matched (T, D) bool, matched-to-ignored (T, D) bool and the
        GT ignore flags in matching order (G,).
    """
    order = np.argsort(gt_ig, kind='mergesort')
    gt_ig = gt_ig[order]
    num_t, num_d, num_g = len(IOU_THRS), ious.shape[0], len(gts)
    dt_match_id = np.zeros((num_t, num_d))
    dt_ig = np.zeros((num_t, num_d), dtype=bool)
    if num_d and num_g:
        # plain Python lists: element access in the loops is 3x faster
        crowd = [bool(gts[j].iscrowd) for j in order]
        gt_ids = [gts[j].id for j in order]
        ig = gt_ig.tolist()
        rows = ious[:, order].tolist()
        for tind, thr in enumerate(IOU_THRS.tolist()):
            gt_used = [False] * num_g
            for dind, row in enumerate(rows):
                best = min(thr, 1 - 1e-10)
                m = -1
                for gind in range(num_g):
                    if gt_used[gind] and not crowd[gind]:
                        continue
                    if m > -1 and not ig[m] and ig[gind]:
                        break
                    if row[gind] < best:
                        continue
                    best = row[gind]
                    m = gind
                if m == -1:
                    continue
                dt_ig[tind, dind] = ig[m]
                dt_match_id[tind, dind] = gt_ids[m]
                # crowd GT are marked too but the check above skips them
                gt_used[m] = True
    # REFERENCE QUIRK: "matched" means the matched GT id != 0, so a match to
    # a GT with id 0 counts as a false positive.
    return dt_match_id != 0, dt_ig, gt_ig


def match_video(ious: np.ndarray,
                gts: Sequence[Tube],
                dts: Sequence[Tube],
                area_rng: Sequence[float],
                cache: Optional[dict] = None) -> VideoRecord:
    """Greedy matching of one (video, category, area range), all IoU
    thresholds.

    Args:
        ious (np.ndarray): (num_dts, num_gts) IoUs, dts in score order.
        gts (Sequence[Tube]): GT tubes (file order).
        dts (Sequence[Tube]): Detections in score order (<= 100).
        area_rng (Sequence[float]): (lo, hi), inclusive.
        cache (dict, optional): Matchings of other area ranges of the same
            (video, category), by GT ignore flags: ranges that ignore the
            same GT match identically.

    Returns:
        tuple: dt scores (D,), dt matched (T, D) bool, dt ignored (T, D)
        bool, gt ignored (G,) bool.
    """
    lo, hi = area_rng
    # REFERENCE QUIRK: `ignore` is overwritten by `iscrowd`.
    gt_ig = np.array([bool(g.iscrowd) or g.avg_area < lo or g.avg_area > hi
                      for g in gts], dtype=bool)
    cache = {} if cache is None else cache
    key = gt_ig.tobytes()
    if key not in cache:
        cache[key] = _greedy_match(ious, gts, gt_ig)
    matched, dt_ig, gt_ig = cache[key]
    dt_out = np.array([d.avg_area < lo or d.avg_area > hi for d in dts],
                      dtype=bool)
    dt_ig = dt_ig | (~matched & dt_out[None, :])
    scores = np.array([d.score for d in dts], dtype=np.float64)
    return scores, matched, dt_ig, gt_ig


def evaluate_one_video(
    args: tuple
) -> Tuple[Dict[Tuple[int, int], VideoRecord], List[np.ndarray]]:
    """Evaluate all categories of one video (a process-pool task).

    Args:
        args (tuple): (per-category GT lists, per-category dt lists,
            category indices, use_boundary, per-category mask IoU matrices
            from an earlier call or None).

    Returns:
        tuple: (cat_index, area_index) -> :data:`VideoRecord`, and the
        per-category mask IoU matrices (reused by the other mode).
    """
    gts_by_cat, dts_by_cat, cat_indices, use_boundary, mask_ious = args
    # REFERENCE QUIRK: a (video, category) with neither GT nor detections
    # is recorded as "no entry"; the caller only passes the others
    if mask_ious is None:
        mask_ious = [tube_iou_matrix(dts, gts)
                     for gts, dts in zip(gts_by_cat, dts_by_cat)]
    ious = mask_ious
    if use_boundary:
        ious = [iou.copy() for iou in mask_ious]
        apply_boundary_iou(ious, dts_by_cat, gts_by_cat,
                           min_iou=float(IOU_THRS[0]))
    out = {}
    for k, iou, gts, dts in zip(cat_indices, ious, gts_by_cat, dts_by_cat):
        cache: dict = {}
        for a, rng in enumerate(AREA_RNGS):
            out[k, a] = match_video(iou, gts, dts, rng, cache)
    return out, mask_ious


def summarize(precision: np.ndarray, recall: np.ndarray) -> np.ndarray:
    """The 12 COCO-style summary numbers (``stats``), -1 where undefined."""

    def mean_of(s: np.ndarray) -> float:
        s = s[s > -1]
        return -1.0 if len(s) == 0 else float(np.mean(s))

    def ap(iou_thr: Optional[float] = None, area: str = 'all',
           max_dets: int = 100) -> float:
        s = precision
        if iou_thr is not None:
            s = s[np.where(iou_thr == IOU_THRS)[0]]
        a, m = AREA_LABELS.index(area), MAX_DETS.index(max_dets)
        return mean_of(s[:, :, :, [a], [m]])

    def ar(area: str = 'all', max_dets: int = 100) -> float:
        a, m = AREA_LABELS.index(area), MAX_DETS.index(max_dets)
        return mean_of(recall[:, :, [a], [m]])

    return np.array([
        ap(), ap(.5), ap(.75), ap(area='small'), ap(area='medium'),
        ap(area='large'), ar(max_dets=1), ar(max_dets=10), ar(),
        ar('small'), ar('medium'), ar('large')
    ])


class HQVISEvaluator:
    """Evaluate YouTube-VIS style results with Tube-Mask / Tube-Boundary AP.

    Args:
        gt (str | dict): GT json path or loaded dict.
        results (str | list): Result json path or loaded list.
        workers (int): Processes for the per-video work (0/1 = serial).
            Defaults to 0.
        strict (bool): Reject inputs the reference silently accepts.
            Defaults to False.
    """

    def __init__(self,
                 gt: Union[str, dict],
                 results: Union[str, list],
                 workers: int = 0,
                 strict: bool = False) -> None:
        self.timings: Dict[str, float] = defaultdict(float)
        tic = time.perf_counter()
        self.data: HQVISData = group_tubes(
            gt, results, max_dets=MAX_DETS[-1], strict=strict)
        self.timings['load'] = time.perf_counter() - tic
        self.workers = workers
        # per video, per category mask IoUs, shared by the two modes
        self._mask_ious: Optional[List[List[np.ndarray]]] = None

    def _video_tasks(self, use_boundary: bool) -> List[tuple]:
        data = self.data
        tasks = []
        for v, vid in enumerate(data.video_ids):
            gts = [data.gts.get((vid, c), []) for c in data.cat_ids]
            dts = [data.dts.get((vid, c), []) for c in data.cat_ids]
            keep = [k for k in range(len(data.cat_ids)) if gts[k] or dts[k]]
            tasks.append(([gts[k] for k in keep], [dts[k] for k in keep],
                          keep, use_boundary, None if self._mask_ious is None
                          else self._mask_ious[v]))
        return tasks

    def evaluate(self, iou_type: str = 'segm') -> Dict[str, float]:
        """Run one mode and return its 12 statistics by name.

        Args:
            iou_type (str): ``'segm'`` (Tube-Mask AP) or ``'boundary'``
                (Tube-Boundary AP). Defaults to ``'segm'``.

        Returns:
            dict[str, float]: ``AP``, ``AP50``, ..., ``ARl`` (fractions,
            -1 where undefined).
        """
        if iou_type not in IOU_TYPES:
            raise ValueError(f'iou_type must be one of {IOU_TYPES}, got '
                             f'{iou_type!r}')
        tic = time.perf_counter()
        tasks = self._video_tasks(iou_type == 'boundary')
        if self.workers and self.workers > 1 and len(tasks) > 1:
            with ProcessPoolExecutor(self.workers) as pool:
                per_video = list(pool.map(evaluate_one_video, tasks,
                                          chunksize=1))
        else:
            per_video = [evaluate_one_video(t) for t in tasks]
        self._mask_ious = [ious for _, ious in per_video]
        records = {(k, a, v): rec
                   for v, (recs, _) in enumerate(per_video)
                   for (k, a), rec in recs.items()}
        self.timings[f'{iou_type}/evaluate'] = time.perf_counter() - tic
        tic = time.perf_counter()
        precision, recall = accumulate(records, len(self.data.cat_ids),
                                       len(AREA_RNGS), IOU_THRS, REC_THRS,
                                       MAX_DETS)
        self.precision, self.recall = precision, recall
        stats = summarize(precision, recall)
        self.timings[f'{iou_type}/accumulate'] = time.perf_counter() - tic
        return dict(zip(STAT_NAMES, stats.tolist()))


def evaluate_hqvis(gt: Union[str, dict],
                   results: Union[str, list],
                   iou_types: Sequence[str] = ('segm', 'boundary'),
                   workers: int = 0,
                   strict: bool = False) -> Dict[str, Dict[str, float]]:
    """Tube-Mask AP and/or Tube-Boundary AP of a result file.

    Returns:
        dict: ``{'mask': {...12 stats}, 'boundary': {...}}`` for the
        requested types (``segm`` is reported under ``mask``).
    """
    evaluator = HQVISEvaluator(gt, results, workers=workers, strict=strict)
    names = {'segm': 'mask', 'boundary': 'boundary'}
    return {names[t]: evaluator.evaluate(t) for t in iou_types}
