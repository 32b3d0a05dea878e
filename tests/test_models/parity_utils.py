# Copyright (c) mmvmt contributors.
"""Helpers comparing mmvmt outputs with the original VMT's (parity kit)."""
from typing import List

import numpy as np
import pycocotools.mask as mask_utils


def _decode(segs) -> List[np.ndarray]:
    return [None if s is None else mask_utils.decode(
        dict(size=s['size'], counts=s['counts'].encode()))
            for s in segs]


def tube_iou(a: List[np.ndarray], b: List[np.ndarray]) -> float:
    inter = union = 0
    for x, y in zip(a, b):
        x = np.zeros_like(y) if x is None else x
        y = np.zeros_like(x) if y is None else y
        inter += int((x & y).sum())
        union += int((x | y).sum())
    return inter / union if union else 1.0


def compare_results(actual: list, expected: list) -> None:
    """The parity kit's results.json rule.

    Instances are matched by category, then by maximum tube IoU; each
    needs |score diff| <= 1e-4, tube IoU >= 0.995 and frame IoU >= 0.98 on
    frames whose union has at least 500 pixels.
    """
    assert len(actual) == len(expected), (len(actual), len(expected))
    used = set()
    for exp in expected:
        exp_masks = _decode(exp['segmentations'])
        cands = [(i, a) for i, a in enumerate(actual)
                 if i not in used and a['category_id'] == exp['category_id']
                 and a['video_id'] == exp['video_id']]
        assert cands, f'no result of category {exp["category_id"]}'
        scored = [(tube_iou(_decode(a['segmentations']), exp_masks), i, a)
                  for i, a in cands]
        iou, idx, act = max(scored, key=lambda s: s[0])
        used.add(idx)
        assert abs(act['score'] - exp['score']) <= 1e-4, (act['score'],
                                                          exp['score'])
        assert iou >= 0.995, iou
        for x, y in zip(_decode(act['segmentations']), exp_masks):
            if x is None or y is None:
                assert x is None and y is None
                continue
            union = int((x | y).sum())
            if union >= 500:
                assert (x & y).sum() / union >= 0.98


def close(actual, expected, atol: float, rtol: float = 0.) -> float:
    """Assert |a - e| <= atol + rtol * |e| elementwise; return max diff."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    diff = np.abs(actual - expected)
    bound = atol + rtol * np.abs(expected)
    worst = np.unravel_index(np.argmax(diff - bound), diff.shape)
    assert (diff <= bound).all(), (
        f'max excess at {worst}: {actual[worst]} vs {expected[worst]}')
    return float(diff.max()) if diff.size else 0.0
