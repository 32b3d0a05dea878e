# Copyright (c) mmvmt contributors.
"""YouTube-VIS-like coarse masks from exact ones (for self-correction
experiments where the true masks are known).

YouTube-VIS masks were drawn as polygons, frame by frame; HQ-YTVIS
(VMT paper, section 4) was made because their boundaries are coarse. This
module degrades exact per-frame masks in ways such annotations show (our
reconstruction of "coarse", not a measured model of YouTube-VIS errors):

* polygon tracing: the outer contours only (holes filled), simplified with
  ``cv2.approxPolyDP`` at ``tolerance`` pixels and filled again;
* a boundary that lags the motion: with probability ``p_lag`` (when the
  previous frame is annotated) the frame's mask is shifted back by
  ``lag`` times the displacement of the mask centroid since that frame;
* occasional dilation or erosion by 1 to ``max_radius`` pixels
  (probabilities ``p_dilate``, ``p_erode``).

Absent frames stay absent. A mask the degradation empties falls back to its
simplified polygon, then to the exact mask (tiny objects). Every annotation
draws from its own generator seeded by ``(seed, annotation id)``, so the
output is deterministic per seed and does not depend on annotation order.
"""
import copy
import math
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import pycocotools.mask as mask_utils

DEFAULTS = dict(tolerance=1.5, p_lag=0.3, lag=0.3, p_dilate=0.2,
                p_erode=0.2, max_radius=1)


def parse_coarse_options(items: Sequence[str]) -> Dict[str, float]:
    """``KEY=VALUE`` strings (a CLI's ``--coarse-options``) -> keyword
    arguments of :func:`coarsen_track`.

    Args:
        items (Sequence[str]): e.g. ``['tolerance=3', 'max_radius=2']``;
            keys from ``DEFAULTS``.

    Returns:
        dict: The options given, typed like their defaults.

    Raises:
        ValueError: An item without ``=``, an unknown key, a value that is
            not a number of the default's type, a probability outside
            [0, 1], a negative or non-finite tolerance or lag, or a
            radius below 1.
    """
    out: Dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition('=')
        if not sep:
            raise ValueError(f'coarse option {item!r} is not KEY=VALUE')
        if key not in DEFAULTS:
            raise ValueError(f'unknown coarse option {key!r} (known: '
                             f'{", ".join(DEFAULTS)})')
        kind = type(DEFAULTS[key])
        try:
            number = kind(value)
        except ValueError:
            raise ValueError(f'coarse option {key}={value!r} is not '
                             f'{"an integer" if kind is int else "a number"}')
        low = 1 if key == 'max_radius' else 0
        high = 1 if key.startswith('p_') else math.inf
        if not math.isfinite(number) or not low <= number <= high:
            raise ValueError(f'coarse option {key}={value} out of range')
        out[key] = number
    return out


def rle_of(seg: Optional[dict]) -> Optional[dict]:
    """A frame's RLE (compressed with str or bytes counts, or uncompressed)
    as pycocotools' compressed RLE with bytes counts; None if absent."""
    if not seg:
        return None
    counts = seg['counts']
    if isinstance(counts, list):
        return mask_utils.frPyObjects(seg, *seg['size'])
    return dict(size=list(seg['size']),
                counts=counts.encode('ascii') if isinstance(counts, str)
                else counts)


def decode(seg: Optional[dict]) -> Optional[np.ndarray]:
    """A frame's RLE (see :func:`rle_of`) -> (H, W) uint8, or None."""
    rle = rle_of(seg)
    return None if rle is None else mask_utils.decode(rle)


def encode(mask: np.ndarray) -> dict:
    """(H, W) mask -> compressed RLE with ``counts`` as str."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle['counts'] = rle['counts'].decode('ascii')
    return rle


def simplify_polygon(mask: np.ndarray, tolerance: float) -> np.ndarray:
    """Outer contours, simplified to ``tolerance`` pixels, filled.

    Args:
        mask (np.ndarray): (H, W) uint8 or bool.
        tolerance (float): ``epsilon`` of ``cv2.approxPolyDP`` in pixels.

    Returns:
        np.ndarray: (H, W) uint8.
    """
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_NONE)
    out = np.zeros(mask.shape, np.uint8)
    polys = [cv2.approxPolyDP(c, tolerance, True) for c in contours]
    cv2.fillPoly(out, [p for p in polys if len(p) >= 3], 1)
    return out


def _centroid(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean()])


def _shift(mask: np.ndarray, dxy: np.ndarray) -> np.ndarray:
    mat = np.float32([[1, 0, dxy[0]], [0, 1, dxy[1]]])
    return cv2.warpAffine(mask, mat, (mask.shape[1], mask.shape[0]),
                          flags=cv2.INTER_NEAREST, borderValue=0)


def coarsen_track(masks: List[Optional[np.ndarray]],
                  rng: np.random.Generator,
                  tolerance: float = DEFAULTS['tolerance'],
                  p_lag: float = DEFAULTS['p_lag'],
                  lag: float = DEFAULTS['lag'],
                  p_dilate: float = DEFAULTS['p_dilate'],
                  p_erode: float = DEFAULTS['p_erode'],
                  max_radius: int = DEFAULTS['max_radius']
                  ) -> List[Optional[np.ndarray]]:
    """Coarse masks of one annotated track (see the module docstring).

    Args:
        masks (list): Per frame an exact (H, W) mask or None (absent).
        rng (np.random.Generator): This track's generator.
        tolerance, p_lag, lag, p_dilate, p_erode, max_radius: See the
            module docstring (defaults in ``DEFAULTS``).

    Returns:
        list: Per frame a coarse (H, W) uint8 mask or None.
    """
    out: List[Optional[np.ndarray]] = []
    prev = None
    for mask in masks:
        if mask is None or not mask.any():
            out.append(None)
            prev = None
            continue
        mask = mask.astype(np.uint8)
        draws = rng.random(3)
        radius = int(rng.integers(1, max_radius + 1))
        coarse = mask
        if prev is not None and draws[0] < p_lag:
            coarse = _shift(mask, -lag * (_centroid(mask) - _centroid(prev)))
        polygon = simplify_polygon(coarse, tolerance)
        coarse = polygon
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                           (2 * radius + 1, 2 * radius + 1))
        if draws[1] < p_dilate:
            coarse = cv2.dilate(coarse, kernel)
        elif draws[2] < p_erode:
            coarse = cv2.erode(coarse, kernel)
        if not coarse.any():
            coarse = polygon if polygon.any() else mask
        out.append(coarse)
        prev = mask
    return out


def areas_bboxes(segs: List[Optional[dict]]) -> Tuple[list, list]:
    """Per-frame areas and xywh boxes of RLEs (None where absent)."""
    rles = [rle_of(s) for s in segs]
    areas = [None if r is None else int(mask_utils.area(r)) for r in rles]
    bboxes = [None if r is None else
              [float(v) for v in mask_utils.toBbox(r)] for r in rles]
    return areas, bboxes


def coarsen_annotations(data: Dict, seed: int, **kwargs) -> Dict:
    """A copy of a YouTube-VIS json with coarse ``segmentations``.

    ``areas`` and ``bboxes`` are recomputed from the coarse masks; videos,
    ids, categories and every other field are kept.

    Args:
        data (dict): YouTube-VIS json (``videos``, ``annotations``, ...)
            with RLE ``segmentations``.
        seed (int): Seed; each annotation uses ``(seed, ann['id'])``.
        **kwargs: ``tolerance``, ``p_lag``, ``lag``, ``p_dilate``,
            ``p_erode``, ``max_radius`` of :func:`coarsen_track`.

    Returns:
        dict: The coarse json.
    """
    out = copy.deepcopy(data)
    for ann in out.get('annotations', []):
        rng = np.random.default_rng([seed, int(ann['id'])])
        masks = [decode(s) for s in ann['segmentations']]
        coarse = coarsen_track(masks, rng, **kwargs)
        ann['segmentations'] = [None if m is None else encode(m)
                                for m in coarse]
        ann['areas'], ann['bboxes'] = areas_bboxes(ann['segmentations'])
    return out


def coarsen_train_split(folder: str, seed: int,
                        **kwargs) -> Dict[str, float]:
    """Make a toy data folder's ``train.json`` coarse in place.

    The exact train file moves to ``train_exact.json`` (no config reads
    it) and ``coco.json`` (exact first-frame polygons) is removed, so
    nothing exact is left for training; ``val.json`` stays exact.

    Args:
        folder (str): Folder written by ``make_toy_dataset``.
        seed (int): Seed of the coarse labels.
        **kwargs: Options of :func:`coarsen_track` (defaults in
            ``DEFAULTS``).

    Returns:
        dict: The coarse labels' quality against the exact ones
        (:func:`~mmvmt.datasets.self_correction.label_quality`).
    """
    import json
    import os
    import os.path as osp

    from mmvmt.utils.atomic_io import dump_json_atomic
    from .self_correction import label_quality
    train = osp.join(folder, 'train.json')
    with open(train) as f:
        exact = json.load(f)
    coarse = coarsen_annotations(exact, seed, **kwargs)
    options = dict(DEFAULTS, **kwargs)
    info = coarse.setdefault('info', {})
    info['description'] = info.get('description', '') + \
        f', coarse labels seed {seed}'
    info['coarse_options'] = dict(options, seed=seed)
    os.replace(train, osp.join(folder, 'train_exact.json'))
    dump_json_atomic(coarse, train)
    if osp.exists(osp.join(folder, 'coco.json')):
        os.remove(osp.join(folder, 'coco.json'))
    return label_quality(coarse['annotations'], exact['annotations'])
