# Copyright (c) mmvmt contributors.
"""Precision/recall tables of the COCO/YTVIS protocol from per-video
matching records, for all (category, area range) pairs at once.

Every (category, area range) is a segment of one concatenated array of
detections; cumulative counts, recalls and precisions are computed for all
segments together with exact integer/float operations identical to the
reference's per-pair loop (``cocoapi_hq``'s ``accumulate``), so the numbers
are the same to the last bit.
"""
from typing import Dict, Sequence, Tuple

import numpy as np

# per (cat, area, video): dt scores (D,), dt matched (T, D), dt ignored
# (T, D), gt ignored (G,)
VideoRecord = Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def min_true_positives(num_pos: np.ndarray,
                       rec_thrs: np.ndarray) -> np.ndarray:
    """Smallest true-positive count whose recall reaches each threshold.

    Recall is computed as the reference does, ``tp / num_pos`` in float64,
    so ``c`` qualifies for threshold ``r`` iff ``c / num_pos >= r``.

    Args:
        num_pos (np.ndarray): (S,) positive (non-ignored GT) counts, > 0.
        rec_thrs (np.ndarray): (R,) recall thresholds in [0, 1].

    Returns:
        np.ndarray: (S, R) int64 counts.
    """
    npos = num_pos[:, None].astype(np.float64)
    count = np.ceil(rec_thrs[None, :] * npos)
    # the product may round either way: fix by the exact division test
    count -= ((count - 1) >= 0) & ((count - 1) / npos >= rec_thrs)
    count += count / npos < rec_thrs
    return count.astype(np.int64)


def accumulate(records: Dict[Tuple[int, int, int], VideoRecord],
               num_cats: int, num_areas: int, iou_thrs: np.ndarray,
               rec_thrs: np.ndarray,
               max_dets: Sequence[int]) -> Tuple[np.ndarray, np.ndarray]:
    """Precision (T, R, K, A, M) and recall (T, K, A, M) tables.

    Args:
        records (dict): (cat_index, area_index, video_index) -> record.
        num_cats (int): K.
        num_areas (int): A.
        iou_thrs (np.ndarray): (T,) IoU thresholds.
        rec_thrs (np.ndarray): (R,) recall thresholds.
        max_dets (Sequence[int]): (M,) detections kept per video.

    Returns:
        tuple[np.ndarray]: precision and recall, -1 where undefined (no
        record, or no non-ignored GT).
    """
    num_t, num_r, num_m = len(iou_thrs), len(rec_thrs), len(max_dets)
    precision = -np.ones((num_t, num_r, num_cats, num_areas, num_m))
    recall = -np.ones((num_t, num_cats, num_areas, num_m))
    groups: Dict[Tuple[int, int], list] = {}
    for (k, a, _), rec in sorted(records.items()):  # video order inside
        groups.setdefault((k, a), []).append(rec)
    npig = {key: sum(int(np.count_nonzero(~r[3])) for r in recs)
            for key, recs in groups.items()}
    # REFERENCE QUIRK: a pair without non-ignored GT stays -1
    keys = [key for key in groups if npig[key] > 0]
    if not keys:
        return precision, recall
    recs = [r for key in keys for r in groups[key]]
    num_pos = np.array([npig[key] for key in keys])
    seg = np.repeat(np.arange(len(keys)),
                    [sum(len(r[0]) for r in groups[key]) for key in keys])
    scores = np.concatenate([r[0] for r in recs])
    rank = np.concatenate([np.arange(len(r[0])) for r in recs])
    matched = np.concatenate([r[1] for r in recs], axis=1)
    ignored = np.concatenate([r[2] for r in recs], axis=1)
    tps, fps = matched & ~ignored, ~matched & ~ignored
    min_tp = min_true_positives(num_pos, rec_thrs)
    cat_idx = np.array([k for k, _ in keys])
    area_idx = np.array([a for _, a in keys])
    for m, max_det in enumerate(max_dets):
        # each video's first max_det detections; REFERENCE QUIRK: stable
        # sort by score inside each segment, ties keep video order
        sel = np.flatnonzero(rank < max_det)
        inds = sel[np.lexsort((-scores[sel], seg[sel]))]
        tp = _segment_cumsum(tps[:, inds], seg[inds])
        fp = _segment_cumsum(fps[:, inds], seg[inds])
        pr, rc_last, lengths, starts = _segment_curves(
            tp, fp, seg[inds], num_pos, len(keys))
        q = _sample_precision(pr, tp, seg[inds], min_tp, lengths, starts)
        recall[:, cat_idx, area_idx, m] = rc_last
        precision[:, :, cat_idx, area_idx, m] = q
    return precision, recall


def _segment_cumsum(x: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Cumulative sums along axis 1 restarting at every segment (int64)."""
    cs = np.cumsum(x, axis=1, dtype=np.int64)
    if seg.size == 0:
        return cs
    first = np.ones(seg.size, dtype=bool)
    first[1:] = seg[1:] != seg[:-1]
    starts = np.flatnonzero(first)
    base = (cs - x)[:, starts]
    return cs - np.repeat(base, np.diff(np.append(starts, seg.size)),
                          axis=1)


def _segment_curves(tp_count: np.ndarray, fp_count: np.ndarray,
                    seg: np.ndarray, num_pos: np.ndarray,
                    num_segs: int) -> tuple:
    """Interpolated precision and final recall of every segment, from the
    (T, N) cumulative true/false positive counts of each segment.

    Returns:
        tuple: precision made non-increasing from the right inside each
        segment (T, N); recall at each segment's end (T, S), 0 for empty
        segments; segment lengths (S,) and starts (S,).
    """
    tp = tp_count.astype(np.float64)
    fp = fp_count.astype(np.float64)
    # REFERENCE QUIRK: + eps in the denominator, so perfect precision is
    # 0.9999999999999998.
    pr = tp / (fp + tp + np.spacing(1))
    lengths = np.bincount(seg, minlength=num_segs)
    starts = np.cumsum(lengths) - lengths
    rc_last = np.zeros((tp.shape[0], num_segs))
    full = lengths > 0
    ends = (starts + lengths - 1)[full]
    rc_last[:, full] = tp[:, ends] / num_pos[full]
    for start, length in zip(starts[full].tolist(), lengths[full].tolist()):
        if length > 1:
            piece = pr[:, start:start + length]
            piece[:] = np.maximum.accumulate(piece[:, ::-1], axis=1)[:, ::-1]
    return pr, rc_last, lengths, starts


def _sample_precision(pr: np.ndarray, tp: np.ndarray, seg: np.ndarray,
                      min_tp: np.ndarray, lengths: np.ndarray,
                      starts: np.ndarray) -> np.ndarray:
    """Precision at the first detection reaching each recall threshold
    (``tp``: (T, N) cumulative true positives, ``seg``: (N,) segments).

    Returns:
        np.ndarray: (T, R, S); 0 where a segment never reaches it.
    """
    num_t, num_segs, num_r = pr.shape[0], len(lengths), min_tp.shape[1]
    # integer keys that increase across segments: one search per row
    shift = int(tp.max(initial=0)) + int(min_tp.max(initial=0)) + 2
    keys = tp + seg * shift
    queries = (min_tp + np.arange(num_segs)[:, None] * shift).ravel()
    out = np.zeros((num_t, num_r, num_segs))
    for t in range(num_t):
        idx = np.searchsorted(keys[t], queries, side='left').reshape(
            num_segs, num_r) - starts[:, None]
        valid = idx < lengths[:, None]
        vals = np.zeros((num_segs, num_r))
        vals[valid] = pr[t, (idx + starts[:, None])[valid]]
        out[t] = vals.T
    return out
