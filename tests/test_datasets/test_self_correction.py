# Copyright (c) mmvmt contributors.
"""The self-correction rule on hand-made tubes: agreement threshold,
category, one-to-one pairing, absent frames, frame agreement; label
quality against a direct computation."""
import numpy as np
import pytest

from mmvmt.datasets.coarse_labels import decode, encode
from mmvmt.datasets.self_correction import (correct_video, label_quality,
                                            pair_tubes)

SHAPE = (30, 40)


def rect(x0, y0, w, h):
    mask = np.zeros(SHAPE, np.uint8)
    mask[y0:y0 + h, x0:x0 + w] = 1
    return encode(mask)


def ann(ann_id, cat, segs):
    return dict(id=ann_id, video_id=1, category_id=cat, iscrowd=0,
                segmentations=segs)


def pred(cat, segs, score=0.9):
    return dict(video_id=1, category_id=cat, score=score,
                segmentations=segs)


def test_agreeing_pair_replaces_frames_present_in_both():
    # annotation 10x10 at x=0, prediction 10x10 at x=2: frames 0 and 2
    # inter 80, union 120 each; frame 1 only predicted, frame 3 only
    # annotated (+100 union each): tube IoU 160 / 440 = 0.36
    a = ann(1, 1, [rect(0, 0, 10, 10), None, rect(0, 0, 10, 10),
                   rect(0, 0, 10, 10)])
    p = pred(1, [rect(2, 0, 10, 10), rect(2, 0, 10, 10),
                 rect(2, 0, 10, 10), None])
    [(i, j, iou)] = pair_tubes([a], [p], 'segmentations')
    assert (i, j) == (0, 0)
    assert iou == pytest.approx(160 / 440)
    new, counts = correct_video([a], [p], iou_thr=0.3)
    assert new[0][0] == p['segmentations'][0]  # replaced
    assert new[0][1] is None  # absent in the annotation: stays absent
    assert new[0][2] == p['segmentations'][2]
    assert new[0][3] is a['segmentations'][3]  # prediction misses it
    assert counts == dict(replaced=2, absent=1, kept_pred_absent=1)
    # above the threshold nothing changes
    new, counts = correct_video([a], [p], iou_thr=0.4)
    assert new[0] == a['segmentations']
    assert counts == dict(kept_low_iou=3, absent=1)


def test_other_category_is_never_used():
    a = ann(1, 1, [rect(0, 0, 10, 10)])
    p = pred(2, [rect(0, 0, 10, 10)])  # identical mask, other category
    new, counts = correct_video([a], [p], iou_thr=0.1)
    assert new[0] == a['segmentations']
    assert counts == dict(kept_no_prediction=1)


def test_pairs_are_one_to_one_by_iou():
    near = ann(1, 1, [rect(0, 0, 10, 10)])
    far = ann(2, 1, [rect(1, 0, 10, 10)])  # IoU 90/110 with the prediction
    p = pred(1, [rect(0, 0, 10, 10)])  # IoU 1 with `near`
    pairs = pair_tubes([far, near], [p], 'segmentations')
    assert pairs[0] == (0, None, 0.0) and pairs[1][:2] == (1, 0)
    new, counts = correct_video([far, near], [p], iou_thr=0.5)
    assert new[0] == far['segmentations']
    assert counts == dict(kept_no_prediction=1, replaced=1)


def test_frames_that_disagree_keep_their_label():
    # frame 0: IoU 1; frame 1: prediction 10x10 at x=6 -> 40 / 160 = 0.25
    a = ann(1, 1, [rect(0, 0, 10, 10), rect(0, 0, 10, 10)])
    p = pred(1, [rect(0, 0, 10, 12), rect(6, 0, 10, 10)])
    new, counts = correct_video([a], [p], iou_thr=0.5, frame_iou_thr=0.5)
    assert new[0] == [p['segmentations'][0], a['segmentations'][1]]
    assert counts == dict(replaced=1, kept_frame_disagrees=1)


def test_corrects_from_the_refined_field():
    a = ann(1, 1, [rect(0, 0, 10, 10)])
    a['segmentations_refined'] = [rect(20, 10, 10, 10)]
    p = pred(1, [rect(20, 10, 10, 11)])
    new, _ = correct_video([a], [p], iou_thr=0.5,
                           field='segmentations_refined')
    assert new[0] == p['segmentations']


def test_label_quality_is_the_tube_ious():
    exact = [ann(1, 1, [rect(0, 0, 10, 10), rect(0, 0, 10, 10)])]
    # frame 0 exact, frame 1 shifted by 5: inter 100 + 50, union 100 + 150
    labels = [ann(1, 1, [rect(0, 0, 10, 10), rect(5, 0, 10, 10)])]
    q = label_quality(labels, exact)
    assert q['num'] == 1
    assert q['mask_iou'] == pytest.approx(150 / 250)
    assert label_quality(exact, exact)['boundary_iou'] == 1.0
    assert 0.0 < q['boundary_iou'] < q['mask_iou']
    assert decode(labels[0]['segmentations'][1]).sum() == 100
