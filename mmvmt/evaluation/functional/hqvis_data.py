# Copyright (c) mmvmt contributors.
"""Loading and validation of YouTube-VIS style GT and result files for the
HQ-YTVIS evaluator.

Every annotation becomes a :class:`Tube`: one entry per listed frame with the
frame's compressed RLE (or ``None`` where the object is absent), its pixel
area and its mask size. The semantics follow the reference evaluator
(``cocoapi_hq``, see ``docs/evaluation.md``); the reference quirks that live
here are marked ``REFERENCE QUIRK``.
"""
import json
import math
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import pycocotools.mask as mask_utils

from mmvmt.utils.cli_errors import UserInputError
from .rle_crop import valid_rle_strings


class HQVISInputError(ValueError, UserInputError):
    """A GT or result file that cannot be evaluated."""


@dataclass
class Tube:
    """One GT or predicted instance over the frames of a video.

    Attributes:
        id (int): Annotation id (GT) or 1-based file position (results).
        video_id (int): Video id.
        category_id (int): Category id.
        score (float): Detection score (1.0 for GT).
        iscrowd (int): Crowd flag (0 for results).
        avg_area (float): Mean of the truthy per-frame areas (0 if none).
        rles (list): Per listed frame a compressed RLE dict or None.
        areas (np.ndarray): (num_listed_frames,) int64 pixel counts of the
            RLEs (0 where absent).
        boundary_rles (list): RLEs used for boundary extraction (differs
            from ``rles`` only for GT with ``segmentations_refined``).
        null_size (tuple, optional): (h, w) used for absent frames in
            boundary mode (the annotation's ``height``/``width``).
    """
    id: int
    video_id: int
    category_id: int
    score: float
    iscrowd: int
    avg_area: float
    rles: List[Optional[dict]]
    areas: np.ndarray
    boundary_rles: List[Optional[dict]] = field(default_factory=list)
    null_size: Optional[Tuple[int, int]] = None


@dataclass
class HQVISData:
    """GT and results of one evaluation, grouped for the evaluator.

    Attributes:
        video_ids (list[int]): Sorted GT video ids.
        cat_ids (list[int]): Sorted GT category ids.
        gts (dict): (video_id, cat_id) -> list of GT tubes (file order).
        dts (dict): (video_id, cat_id) -> list of result tubes, sorted by
            descending score (stable) and cut to ``max_dets``.
    """
    video_ids: List[int]
    cat_ids: List[int]
    gts: Dict[Tuple[int, int], List[Tube]]
    dts: Dict[Tuple[int, int], List[Tube]]


def read_json(path_or_obj: Union[str, Any], what: str) -> Any:
    """Read a JSON file (or pass an already loaded object through)."""
    if not isinstance(path_or_obj, str):
        return path_or_obj
    try:
        with open(path_or_obj) as f:
            return json.load(f)
    except FileNotFoundError:
        raise HQVISInputError(f'{what} file not found: {path_or_obj}')
    except json.JSONDecodeError as err:
        raise HQVISInputError(
            f'{what} file {path_or_obj} is not valid JSON: {err}')


def _require(obj: dict, key: str, where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise HQVISInputError(f'{where}: missing required field "{key}"')
    return obj[key]


def _to_rle(seg: Any, h: int, w: int, where: str,
            given: List[Tuple[dict, str]]) -> Optional[dict]:
    """Convert one frame's segmentation to compressed RLE (None if absent).

    Polygons and uncompressed RLEs are converted with pycocotools exactly as
    the reference's ``annToRLE`` does (polygons at the video size). RLEs
    given with string ``counts`` are appended to ``given`` with ``where``,
    to be checked by :func:`_check_given_rles`.
    """
    if not seg:  # None, {} and [] are absent frames in the reference
        return None
    try:
        if isinstance(seg, list):
            return mask_utils.merge(mask_utils.frPyObjects(seg, h, w))
        if isinstance(seg, dict) and isinstance(seg.get('counts'), list):
            return mask_utils.frPyObjects(seg, h, w)
        if isinstance(seg, dict) and 'counts' in seg and 'size' in seg:
            counts = seg['counts']
            if isinstance(counts, str):
                counts = counts.encode('ascii')
            rle = {'size': list(seg['size']), 'counts': counts}
            given.append((rle, where))
            return rle
    except Exception as err:  # pycocotools raises plain Exceptions
        raise HQVISInputError(f'{where}: cannot decode segmentation: {err}')
    raise HQVISInputError(
        f'{where}: segmentation must be an RLE dict, a polygon list or null, '
        f'got {type(seg).__name__}')


def _check_given_rles(given: List[Tuple[dict, str]]) -> None:
    """Reject RLE strings that are not valid COCO RLE of their size (one
    batched check; pycocotools would decode them into arbitrary masks)."""
    if not given:
        return
    try:
        strings = [rle['counts'] for rle, _ in given]
        pixels = [int(rle['size'][0]) * int(rle['size'][1])
                  for rle, _ in given]
    except (TypeError, ValueError, IndexError, UnicodeEncodeError):
        raise HQVISInputError('an RLE has a size that is not [height, '
                              'width] or non-ASCII counts') from None
    bad = np.flatnonzero(~valid_rle_strings(strings, np.array(pixels)))
    if bad.size:
        rle, where = given[bad[0]]
        raise HQVISInputError(
            f'{where}: "counts" is not a valid COCO RLE of size '
            f'{rle["size"]} ({bad.size} such frame(s) in the file)')


def _avg_area(areas: Sequence[Any]) -> float:
    # REFERENCE QUIRK: null frames and frames with area exactly 0 are left
    # out of the mean; no truthy frame gives 0 (counted as 'small').
    truthy = [a for a in areas if a]
    return float(np.array(truthy).mean()) if truthy else 0


def _rle_areas(rles: List[Optional[dict]]) -> np.ndarray:
    present = [r for r in rles if r is not None]
    out = np.zeros(len(rles), dtype=np.int64)
    if present:
        vals = np.asarray(mask_utils.area(present), dtype=np.int64)
        out[[i for i, r in enumerate(rles) if r is not None]] = vals
    return out


def load_gt(gt_json: Union[str, dict]) -> Tuple[dict, List[Tube]]:
    """Load and check a YouTube-VIS GT file.

    Args:
        gt_json (str | dict): Path or loaded dict.

    Returns:
        tuple: (videos by id, list of GT tubes).
    """
    gt = read_json(gt_json, 'GT')
    if not isinstance(gt, dict):
        raise HQVISInputError('GT file must hold a JSON object')
    videos = {}
    for vid in _require(gt, 'videos', 'GT'):
        vid_id = _require(vid, 'id', 'GT video')
        if vid_id in videos:
            raise HQVISInputError(f'GT lists video id {vid_id} twice')
        for key in ('height', 'width'):
            size = _require(vid, key, f'GT video {vid_id}')
            if not isinstance(size, int) or size <= 0:
                raise HQVISInputError(f'GT video {vid_id}: "{key}" must be '
                                      f'a positive integer, got {size!r}')
        videos[vid_id] = vid
    given: List[Tuple[dict, str]] = []
    cats = [_require(c, 'id', 'GT category') for c in
            _require(gt, 'categories', 'GT')]
    tubes = []
    for ann in _require(gt, 'annotations', 'GT'):
        where = f'GT annotation {ann.get("id", "?")}'
        vid_id = _require(ann, 'video_id', where)
        if vid_id not in videos:
            raise HQVISInputError(f'{where}: unknown video_id {vid_id}')
        video = videos[vid_id]
        h, w = video['height'], video['width']
        segs = _require(ann, 'segmentations', where)
        length = len(video['file_names']) if 'file_names' in video \
            else video.get('length', len(segs))
        bboxes = ann.get('bboxes')
        if bboxes is not None and (not isinstance(bboxes, list)
                                   or len(bboxes) < length):
            raise HQVISInputError(
                f'{where}: "bboxes" must list one entry per frame of video '
                f'{vid_id} ({length}), got '
                f'{len(bboxes) if isinstance(bboxes, list) else bboxes!r}')
        areas = _require(ann, 'areas', where)
        iscrowd = _require(ann, 'iscrowd', where)
        rles = [_to_rle(s, h, w, f'{where} frame {t}', given)
                for t, s in enumerate(segs)]
        # REFERENCE QUIRK: boundaries are extracted from
        # `segmentations_refined` when present; the IoU uses `segmentations`.
        refined = ann.get('segmentations_refined')
        brles = rles if refined is None else [
            _to_rle(s, h, w, f'{where} refined frame {t}', given)
            for t, s in enumerate(refined)
        ]
        null_size = ((ann['height'], ann['width'])
                     if 'height' in ann and 'width' in ann else (h, w))
        tubes.append(
            Tube(
                id=_require(ann, 'id', where),
                video_id=vid_id,
                category_id=_require(ann, 'category_id', where),
                score=1.0,
                iscrowd=int(bool(iscrowd)),
                # REFERENCE QUIRK: GT area comes from the `areas` field, the
                # masks are never measured for it.
                avg_area=_avg_area(areas),
                rles=rles,
                areas=_rle_areas(rles),
                boundary_rles=brles,
                null_size=null_size))
    _check_given_rles(given)
    return {'videos': videos, 'cat_ids': sorted(set(cats))}, tubes


def load_results(results_json: Union[str, list], videos: dict,
                 cat_ids: Sequence[int],
                 strict: bool = False) -> List[Tube]:
    """Load and check a YouTube-VIS result list.

    Args:
        results_json (str | list): Path or loaded list.
        videos (dict): GT videos by id.
        cat_ids (Sequence[int]): GT category ids.
        strict (bool): Raise on inputs the reference silently accepts
            (unknown category ids, a frame count different from the video
            length, an RLE size different from the video size) instead of
            warning. Defaults to False (reference numbers).

    Returns:
        list[Tube]: Result tubes, ids 1..N in file order.
    """
    results = read_json(results_json, 'results')
    if not isinstance(results, list):
        raise HQVISInputError('results file must hold a JSON list')
    if not results:
        warnings.warn('the result list is empty: every AP is 0')
    cat_set = set(cat_ids)
    unknown_cats, bad_len, bad_size = set(), [], []
    given: List[Tuple[dict, str]] = []
    tubes = []
    for i, res in enumerate(results):
        where = f'result #{i} (video {res.get("video_id", "?")})' \
            if isinstance(res, dict) else f'result #{i}'
        vid_id = _require(res, 'video_id', where)
        if vid_id not in videos:
            raise HQVISInputError(
                f'{where}: video_id {vid_id} is not a GT video')
        cat_id = _require(res, 'category_id', where)
        score = _require(res, 'score', where)
        if (not isinstance(score, (int, float)) or isinstance(score, bool)
                or not math.isfinite(score) or score < 0):
            raise HQVISInputError(
                f'{where}: score must be a finite number >= 0, got {score!r}')
        segs = _require(res, 'segmentations', where)
        if not isinstance(segs, list):
            raise HQVISInputError(f'{where}: segmentations must be a list')
        video = videos[vid_id]
        h, w = video['height'], video['width']
        rles = []
        for t, seg in enumerate(segs):
            if seg and not (isinstance(seg, dict)
                            and isinstance(seg.get('counts'), str)
                            and 'size' in seg):
                raise HQVISInputError(
                    f'{where} frame {t}: result frames must be compressed '
                    'RLE dicts with string counts, or null')
            rle = _to_rle(seg, h, w, f'{where} frame {t}', given)
            if rle is not None and list(rle['size']) != [h, w]:
                bad_size.append(f'{where} frame {t}: RLE size {rle["size"]}'
                                f' != video size {[h, w]}')
            rles.append(rle)
        if cat_id not in cat_set:
            unknown_cats.add(cat_id)
        if 'length' in video and len(segs) != video['length']:
            bad_len.append(f'{where}: {len(segs)} frames listed, video '
                           f'{vid_id} has {video["length"]}')
        areas = _rle_areas(rles)
        null_size = ((res['height'], res['width'])
                     if 'height' in res and 'width' in res else None)
        tubes.append(
            Tube(
                id=i + 1,
                video_id=vid_id,
                category_id=cat_id,
                score=float(score),
                iscrowd=0,
                avg_area=_avg_area(
                    [a if r is not None else None
                     for a, r in zip(areas.tolist(), rles)]),
                rles=rles,
                areas=areas,
                boundary_rles=rles,
                null_size=null_size))
    _check_given_rles(given)
    problems = []
    if unknown_cats:
        problems.append(f'results use category ids {sorted(unknown_cats)} '
                        'that are not in the GT categories; they are '
                        'ignored')
    if bad_len:
        # REFERENCE QUIRK: frame lists are paired with zip(), so only the
        # first min(len(dt), len(gt)) frames count.
        problems.append('segmentation lists whose length differs from the '
                        'video length (only the common frames are '
                        'compared): ' + '; '.join(bad_len[:5]))
    if bad_size:
        problems.append('RLE sizes that differ from the video size (such '
                        'frames add nothing to intersection or union): ' +
                        '; '.join(bad_size[:5]))
    for msg in problems:
        if strict:
            raise HQVISInputError(msg)
        warnings.warn(msg)
    return tubes


def group_tubes(gt_json: Union[str, dict],
                results_json: Union[str, list],
                max_dets: int = 100,
                strict: bool = False) -> HQVISData:
    """Load GT and results and group them per (video, category).

    Args:
        gt_json (str | dict): GT path or dict.
        results_json (str | list): Results path or list.
        max_dets (int): Detections kept per (video, category).
            Defaults to 100.
        strict (bool): See :func:`load_results`. Defaults to False.

    Returns:
        :obj:`HQVISData`: The grouped data.
    """
    meta, gt_tubes = load_gt(gt_json)
    dt_tubes = load_results(results_json, meta['videos'], meta['cat_ids'],
                            strict)
    cat_set = set(meta['cat_ids'])
    gts: Dict[Tuple[int, int], List[Tube]] = defaultdict(list)
    dts: Dict[Tuple[int, int], List[Tube]] = defaultdict(list)
    for tube in gt_tubes:
        if tube.category_id in cat_set:
            gts[tube.video_id, tube.category_id].append(tube)
    for tube in dt_tubes:
        if tube.category_id in cat_set:
            dts[tube.video_id, tube.category_id].append(tube)
    for key, tubes in dts.items():
        # REFERENCE QUIRK: stable sort by descending score, ties keep file
        # order; the top 100 are cut before any IoU is computed.
        order = np.argsort([-t.score for t in tubes], kind='mergesort')
        dts[key] = [tubes[i] for i in order[:max_dets]]
    return HQVISData(
        video_ids=sorted(meta['videos']),
        cat_ids=meta['cat_ids'],
        gts=dict(gts),
        dts=dict(dts))
