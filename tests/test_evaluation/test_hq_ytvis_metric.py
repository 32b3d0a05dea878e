# Copyright (c) mmvmt contributors.
"""HQYTVISMetric on packed predictions."""
import json
import os.path as osp
import zipfile

import numpy as np
import pycocotools.mask as mask_utils
import torch
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.structures import InstanceData

from mmvmt.evaluation import HQYTVISMetric


def rle(mask):
    r = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    r['counts'] = r['counts'].decode()
    return r


def video(masks_per_frame, scores, labels, ids):
    frames = []
    for t, masks in enumerate(masks_per_frame):
        s = DetDataSample()
        s.set_metainfo(dict(video_id=1, frame_id=t, img_id=t,
                            ori_shape=masks.shape[1:],
                            file_name=f'video_0001/{t:05d}.jpg',
                            ori_video_length=len(masks_per_frame)))
        s.pred_track_instances = InstanceData(
            masks=torch.from_numpy(masks), scores=torch.tensor(scores),
            labels=torch.tensor(labels), instances_id=torch.tensor(ids),
            bboxes=torch.zeros(len(ids), 4))
        frames.append(s)
    track = TrackDataSample()
    track.video_data_samples = frames
    return track


def test_metric_perfect_prediction_and_files(tmp_path):
    h, w = 40, 60
    a = np.zeros((h, w), bool)
    a[5:25, 5:30] = True
    b = np.zeros((h, w), bool)
    b[20:35, 30:55] = True
    frames = [np.stack([a, b]), np.stack([a, b])]
    gt = dict(
        videos=[dict(id=1, height=h, width=w, length=2)],
        categories=[dict(id=1, name='x'), dict(id=2, name='y')],
        annotations=[
            dict(id=1, video_id=1, category_id=1, iscrowd=0,
                 segmentations=[rle(a), rle(a)], areas=[500, 500]),
            dict(id=2, video_id=1, category_id=2, iscrowd=0,
                 segmentations=[rle(b), rle(b)], areas=[375, 375]),
        ])
    ann = tmp_path / 'gt.json'
    ann.write_text(json.dumps(gt))
    metric = HQYTVISMetric(ann_file=str(ann),
                           outfile_prefix=str(tmp_path / 'out'))
    metric.dataset_meta = dict(classes=('x', 'y'))
    metric.process({}, [video(frames, [0.9, 0.8], [0, 1], [0, 1]).to_dict()])
    res = metric.evaluate(1)
    assert abs(res['hqvis/mask_AP'] - 1.0) < 1e-12
    assert abs(res['hqvis/boundary_AP'] - 1.0) < 1e-12
    out = json.load(open(tmp_path / 'out' / 'results.json'))
    assert [r['category_id'] for r in out] == [1, 2]
    assert out[0]['video_name'] == 'video_0001'
    with zipfile.ZipFile(tmp_path / 'out' / 'submission_file.zip') as zf:
        assert zf.namelist() == ['results.json']


def test_low_scores_become_null_tubes(tmp_path):
    a = np.zeros((8, 8), bool)
    a[2:5, 2:5] = True
    metric = HQYTVISMetric(format_only=True,
                           outfile_prefix=str(tmp_path / 'o'))
    metric.process({}, [video([a[None]], [0.0005], [0], [3]).to_dict()])
    metric.evaluate(1)
    out = json.load(open(osp.join(tmp_path, 'o', 'results.json')))
    assert out[0]['segmentations'] == [None]


def test_category_ids_of_a_class_subset(tmp_path):
    """A dataset restricted to a subset of the file's categories: label l is
    the l-th selected class, written with that class's id (not l + 1)."""
    h, w = 20, 30
    a = np.zeros((h, w), bool)
    a[2:10, 3:12] = True
    gt = dict(videos=[dict(id=1, height=h, width=w, length=1)],
              categories=[dict(id=4, name='cat'), dict(id=7, name='dog'),
                          dict(id=9, name='fox')],
              annotations=[])
    ann = tmp_path / 'gt.json'
    ann.write_text(json.dumps(gt))
    metric = HQYTVISMetric(ann_file=str(ann), format_only=True,
                           outfile_prefix=str(tmp_path / 'out'))
    metric.dataset_meta = dict(classes=('fox', 'cat'))
    metric.process({}, [video([np.stack([a, a])], [0.9, 0.8], [0, 1],
                              [0, 1]).to_dict()])
    metric.evaluate(1)
    results = json.load(open(tmp_path / 'out' / 'results.json'))
    assert [r['category_id'] for r in results] == [9, 4]
    # without dataset classes: the YouTube-VIS numbering, label + 1
    plain = HQYTVISMetric(ann_file=str(ann), format_only=True,
                          outfile_prefix=str(tmp_path / 'plain'))
    plain.process({}, [video([np.stack([a])], [0.9], [1], [0]).to_dict()])
    plain.evaluate(1)
    assert json.load(open(tmp_path / 'plain' / 'results.json'))[0][
        'category_id'] == 2
