# Copyright (c) mmvmt contributors.
"""Coarse labels: each degradation on hand-made masks, determinism, the
json it writes, and the toy folder's coarse train split."""
import json
import os.path as osp

import numpy as np
import pytest

from mmvmt.datasets.coarse_labels import (DEFAULTS, coarsen_annotations,
                                          coarsen_track,
                                          coarsen_train_split, decode,
                                          encode, parse_coarse_options,
                                          simplify_polygon)
from mmvmt.datasets.toy_generator import make_toy_dataset

OFF = dict(tolerance=0.01, p_lag=0.0, p_dilate=0.0, p_erode=0.0)


def square(x0, y0, side=10, shape=(40, 40)):
    mask = np.zeros(shape, np.uint8)
    mask[y0:y0 + side, x0:x0 + side] = 1
    return mask


def test_polygon_fills_holes_and_keeps_a_square():
    ring = square(5, 5, 20)
    ring[10:20, 10:20] = 0
    assert (simplify_polygon(ring, 1.0) == square(5, 5, 20)).all()
    assert (simplify_polygon(square(3, 4), 2.0) == square(3, 4)).all()


def test_polygon_tolerance_cuts_a_notch():
    mask = square(5, 5, 20)
    mask[5:7, 14:16] = 0  # a 2-px notch in the top edge
    assert (simplify_polygon(mask, 0.01) == mask).all()
    assert (simplify_polygon(mask, 3.0) == square(5, 5, 20)).all()


def test_lag_shifts_back_by_the_motion():
    """A square moving 4 px right per frame, full lag: frame t is drawn
    where the square was at t-1."""
    masks = [square(4 * t, 10) for t in range(3)]
    out = coarsen_track(masks, np.random.default_rng(0),
                        **dict(OFF, p_lag=1.0, lag=1.0))
    assert (out[0] == masks[0]).all()  # no previous frame
    assert (out[1] == masks[0]).all() and (out[2] == masks[1]).all()
    half = coarsen_track(masks, np.random.default_rng(0),
                         **dict(OFF, p_lag=1.0, lag=0.5))
    assert (half[1] == square(2, 10)).all()


def test_dilation_and_erosion_by_one_pixel():
    masks = [square(10, 10, 12)]
    dil = coarsen_track(masks, np.random.default_rng(0),
                        **dict(OFF, p_dilate=1.0, max_radius=1))[0]
    ero = coarsen_track(masks, np.random.default_rng(0),
                        **dict(OFF, p_erode=1.0, max_radius=1))[0]
    # 3x3 elliptical kernel = a plus: one more pixel on every side, not at
    # the four corners; erosion takes one pixel off every side
    assert dil.sum() == 14 * 14 - 4 and ero.sum() == 10 * 10
    assert (ero == square(11, 11, 10)).all()


def test_absent_frames_stay_absent_and_tiny_masks_survive():
    tiny = np.zeros((20, 20), np.uint8)
    tiny[5, 5] = 1
    out = coarsen_track([None, tiny, np.zeros_like(tiny)],
                        np.random.default_rng(0),
                        **dict(OFF, p_erode=1.0))
    assert out[0] is None and out[2] is None
    assert out[1].sum() >= 1  # erosion would empty it: falls back


def _ytvis(masks_per_ann):
    anns = [dict(id=i + 1, video_id=1, category_id=1, iscrowd=0,
                 segmentations=[None if m is None else encode(m)
                                for m in masks])
            for i, masks in enumerate(masks_per_ann)]
    return dict(videos=[dict(id=1, file_names=['a', 'b', 'c'], height=40,
                             width=40, length=3)],
                categories=[dict(id=1, name='x')], annotations=anns)


def test_json_is_deterministic_and_order_free():
    tracks = [[square(4 * t, 10) for t in range(3)],
              [None, square(20, 20, 15), square(22, 20, 15)]]
    data = _ytvis(tracks)
    a = coarsen_annotations(data, seed=3)
    assert a == coarsen_annotations(data, seed=3)
    assert a != coarsen_annotations(data, seed=4)
    flipped = dict(data, annotations=data['annotations'][::-1])
    assert coarsen_annotations(flipped, seed=3)['annotations'][::-1] == \
        a['annotations']
    assert data['annotations'][0]['segmentations'][0] == \
        encode(tracks[0][0])  # the input is not modified
    for ann in a['annotations']:
        for seg, area, box in zip(ann['segmentations'], ann['areas'],
                                  ann['bboxes']):
            if seg is None:
                assert area is None and box is None
                continue
            mask = decode(seg)
            ys, xs = np.nonzero(mask)
            assert area == mask.sum()
            assert box == [xs.min(), ys.min(), xs.max() - xs.min() + 1,
                           ys.max() - ys.min() + 1]
    assert a['annotations'][1]['segmentations'][0] is None


def test_toy_folder_coarse_train_split(tmp_path):
    folder = str(tmp_path / 'toy')
    make_toy_dataset(folder, seed=0, num_videos=2, num_frames=3,
                     size=(64, 96), num_val_videos=1)
    exact = json.load(open(osp.join(folder, 'train.json')))
    val = open(osp.join(folder, 'val.json')).read()
    quality = coarsen_train_split(folder, seed=0)
    assert json.load(open(osp.join(folder, 'train_exact.json'))) == exact
    assert not osp.exists(osp.join(folder, 'coco.json'))
    assert open(osp.join(folder, 'val.json')).read() == val
    coarse = json.load(open(osp.join(folder, 'train.json')))
    assert [a['id'] for a in coarse['annotations']] == \
        [a['id'] for a in exact['annotations']]
    assert 0.3 < quality['mask_iou'] < 1.0
    assert quality['boundary_iou'] < 1.0
    # a different seed gives other coarse masks
    again = str(tmp_path / 'again')
    make_toy_dataset(again, seed=0, num_videos=2, num_frames=3,
                     size=(64, 96), num_val_videos=1)
    coarsen_train_split(again, seed=1)
    assert json.load(open(osp.join(again, 'train.json')))['annotations'] \
        != coarse['annotations']


def test_parse_coarse_options():
    opts = parse_coarse_options(['tolerance=3', 'max_radius=2', 'p_lag=1'])
    assert opts == dict(tolerance=3.0, max_radius=2, p_lag=1.0)
    assert isinstance(opts['max_radius'], int)
    assert isinstance(opts['tolerance'], float)
    assert parse_coarse_options([]) == {}
    for bad, needle in [('tolerance', 'KEY=VALUE'), ('tol=3', 'unknown'),
                        ('max_radius=1.5', 'integer'),
                        ('lag=x', 'number'), ('p_erode=1.2', 'range'),
                        ('tolerance=-1', 'range'), ('lag=inf', 'range'),
                        ('max_radius=0', 'range')]:
        with pytest.raises(ValueError, match=needle):
            parse_coarse_options([bad])


def test_coarse_options_reach_the_split(tmp_path):
    """Always dilating by 2 px (nothing else) grows every mask; the options
    and seed are recorded in the json's info."""
    folder = str(tmp_path / 'toy')
    make_toy_dataset(folder, seed=0, num_videos=2, num_frames=3,
                     size=(64, 96), num_val_videos=1)
    opts = dict(OFF, p_dilate=1.0, max_radius=2)
    coarsen_train_split(folder, seed=5, **opts)
    coarse = json.load(open(osp.join(folder, 'train.json')))
    exact = json.load(open(osp.join(folder, 'train_exact.json')))
    assert coarse['info']['coarse_options'] == dict(DEFAULTS, **opts, seed=5)
    grown = [c > e for ca, ea in zip(coarse['annotations'],
                                     exact['annotations'])
             for c, e in zip(ca['areas'], ea['areas']) if e]
    assert grown and all(grown)
