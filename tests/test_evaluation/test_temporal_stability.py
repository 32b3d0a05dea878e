# Copyright (c) mmvmt contributors.
"""temporal_flicker on hand-made tubes, and through HQYTVISMetric."""
import numpy as np
import pycocotools.mask as mask_utils
import pytest

from mmvmt.evaluation.functional import group_tubes
from mmvmt.evaluation.functional.temporal_stability import temporal_flicker

H, W = 30, 40


def rle(x0, width=10):
    mask = np.zeros((H, W), np.uint8)
    mask[5:15, x0:x0 + width] = 1
    out = mask_utils.encode(np.asfortranarray(mask))
    out['counts'] = out['counts'].decode()
    return out


def gt_json(segs):
    return dict(
        videos=[dict(id=1, height=H, width=W, length=len(segs))],
        categories=[dict(id=1, name='x')],
        annotations=[dict(id=1, video_id=1, category_id=1, iscrowd=0,
                          height=H, width=W, segmentations=segs,
                          areas=[None if s is None else 100 for s in segs])])


def result(segs, score=0.9):
    return dict(video_id=1, category_id=1, score=score, segmentations=segs)


def test_as_stable_as_the_gt_is_zero():
    segs = [rle(0), rle(2), rle(4)]  # moving by 2 px: IoU 80/120
    stats = temporal_flicker(group_tubes(gt_json(segs), [result(segs)]))
    assert stats == dict(temporal_flicker=0.0, temporal_pairs=2)


def test_a_prediction_that_lags_then_jumps():
    gt = [rle(0), rle(2), rle(4)]
    pred = [rle(0), rle(0), rle(4)]
    # GT pairs: IoU 80/120 twice. Prediction: 1.0, then 60/140.
    expected = (abs(1.0 - 80 / 120) + abs(60 / 140 - 80 / 120)) / 2
    stats = temporal_flicker(group_tubes(gt_json(gt), [result(pred)]))
    assert stats['temporal_flicker'] == pytest.approx(expected)
    assert stats['temporal_pairs'] == 2


def test_absent_frames_and_unmatched_predictions():
    gt = [rle(0), None, rle(4), rle(4)]
    pred = [rle(0), rle(2), None, rle(4)]
    # only the pair (2, 3) has the GT in both frames: GT IoU 1, pred 0
    stats = temporal_flicker(group_tubes(gt_json(gt), [result(pred)]))
    assert stats == dict(temporal_flicker=1.0, temporal_pairs=1)
    far = [rle(30), rle(30), rle(30), rle(30)]  # tube IoU 0: no match
    stats = temporal_flicker(group_tubes(gt_json(gt), [result(far)]))
    assert stats == dict(temporal_flicker=-1.0, temporal_pairs=0)


def test_metric_reports_it_only_when_asked(tmp_path):
    import json

    import torch
    from mmdet.structures import DetDataSample, TrackDataSample
    from mmengine.structures import InstanceData

    from mmvmt.evaluation import HQYTVISMetric
    segs = [rle(0), rle(2)]
    ann = tmp_path / 'gt.json'
    ann.write_text(json.dumps(gt_json(segs)))
    frames = []
    for t, seg in enumerate(segs):
        sample = DetDataSample()
        sample.set_metainfo(dict(video_id=1, frame_id=t, img_id=t,
                                 ori_shape=(H, W), ori_video_length=2,
                                 file_name=f'v/{t}.jpg'))
        mask = mask_utils.decode(dict(size=seg['size'],
                                      counts=seg['counts'].encode()))
        sample.pred_track_instances = InstanceData(
            masks=torch.from_numpy(mask[None].astype(bool)),
            scores=torch.tensor([0.9]), labels=torch.tensor([0]),
            instances_id=torch.tensor([3]), bboxes=torch.zeros(1, 4))
        frames.append(sample)
    track = TrackDataSample()
    track.video_data_samples = frames
    for flag in (True, False):
        metric = HQYTVISMetric(ann_file=str(ann), temporal_stability=flag)
        metric.dataset_meta = dict(classes=('x', ))
        metric.process({}, [track.to_dict()])
        out = metric.evaluate(1)
        assert out['hqvis/mask_AP'] == pytest.approx(1.0)
        assert ('hqvis/temporal_flicker' in out) == flag
        if flag:
            assert out['hqvis/temporal_flicker'] == 0.0
