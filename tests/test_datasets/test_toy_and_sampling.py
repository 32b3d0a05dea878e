# Copyright (c) mmvmt contributors.
"""Toy dataset generator and SeqFormer clip sampling."""
import filecmp
import json
import os.path as osp
import random

import numpy as np
import pycocotools.mask as mask_utils
import pytest

from mmvmt.datasets.toy_generator import (TOY_CLASSES, generate_video,
                                          make_toy_dataset)
from mmvmt.datasets.transforms import seqformer_frame_ids


def test_toy_dataset_is_deterministic_and_valid(tmp_path):
    a = make_toy_dataset(str(tmp_path / 'a'), seed=3, num_videos=5,
                         num_frames=4, size=(64, 96), num_val_videos=2)
    b = make_toy_dataset(str(tmp_path / 'b'), seed=3, num_videos=5,
                         num_frames=4, size=(64, 96), num_val_videos=2)
    for split in ('train', 'val'):
        assert filecmp.cmp(a[split], b[split], shallow=False)
    data = json.load(open(a['train']))
    assert [c['name'] for c in data['categories']] == list(TOY_CLASSES)
    video = data['videos'][0]
    assert video['length'] == 4 and len(video['file_names']) == 4
    frame = osp.join(tmp_path, 'a', 'JPEGImages', video['file_names'][0])
    assert filecmp.cmp(frame, frame.replace('/a/', '/b/'), shallow=False)
    assert data['annotations']
    for ann in data['annotations']:
        assert len(ann['segmentations']) == 4
        for seg, area, box in zip(ann['segmentations'], ann['areas'],
                                  ann['bboxes']):
            if seg is None:
                assert area is None and box is None
                continue
            mask = mask_utils.decode(
                dict(size=seg['size'], counts=seg['counts'].encode()))
            assert mask.shape == (64, 96) and int(mask.sum()) == area
            ys, xs = np.nonzero(mask)
            assert box == [xs.min(), ys.min(), xs.max() - xs.min() + 1,
                           ys.max() - ys.min() + 1]
    other = make_toy_dataset(str(tmp_path / 'c'), seed=4, num_videos=5,
                             num_frames=4, size=(64, 96), num_val_videos=2)
    assert not filecmp.cmp(a['train'], other['train'], shallow=False)
    # val videos come from their own seed (seed + 1000), not from train's
    val = json.load(open(a['val']))
    assert len(val['videos']) == 2
    _, objects = generate_video(1003, 0, 4, 64, 96)
    kept = [o for o in objects if any(m is not None for m in o['masks'])]
    first = [a_ for a_ in val['annotations']
             if a_['video_id'] == val['videos'][0]['id']]
    assert [a_['category_id'] for a_ in first] == \
        [o['category_id'] for o in kept]


def test_toy_objects_enter_leave_and_are_not_coloured_by_class():
    absent = total = 0
    colours = {}
    for index in range(40):
        frames, objects = generate_video(0, index, 8, 128, 192)
        for obj in objects:
            masks = obj['masks']
            absent += sum(m is None for m in masks)
            total += len(masks)
            shown = [t for t, m in enumerate(masks) if m is not None]
            if shown:
                t = shown[0]
                colours.setdefault(obj['category_id'], []).append(
                    frames[t][masks[t] > 0].mean(0))
    assert absent / total >= 0.10, absent / total
    # colour is random per object: objects of one class differ in colour
    for cat, values in colours.items():
        assert np.std(np.array(values), 0).max() > 30, (cat, values)


def test_toy_texture_moves_with_the_object_and_worm_width():
    from mmvmt.datasets.toy_generator import _object_pattern, _shape_mask
    for cat in range(5):
        p1 = _object_pattern(cat, 40, 60, (20.0, 20.0), 0.3, 1.0)
        p2 = _object_pattern(cat, 40, 60, (25.0, 23.0), 0.3, 1.0)
        np.testing.assert_allclose(p2[3:, 5:], p1[:-3, :-5], atol=1e-4)
    # a straight worm (phase so that sin stays small is not needed: measure
    # the stroke across its middle) is about max(2, int(0.35 size)) wide
    size = 20.0
    worm = _shape_mask(100, 160, 4, (80.0, 50.0), size, 0.0, np.pi / 2,
                       np.zeros(3))
    width = int(worm[:, 80].sum())
    assert abs(width - int(size * 0.35)) <= 2, width


@pytest.mark.parametrize('length,num', [(1, 5), (2, 5), (5, 5), (30, 5),
                                        (30, 3), (10, 1)])
def test_seqformer_frame_ids(length, num):
    rng = random.Random(0)
    for _ in range(50):
        ids = seqformer_frame_ids(length, num, 3, rng)
        assert len(ids) == num and ids == sorted(ids)
        assert all(0 <= i < length for i in ids)
        if length >= num:
            assert len(set(ids)) == num
        if length >= 7 and num >= 3:
            # some frame has a neighbour within the near window
            gaps = np.diff(ids)
            assert (gaps <= 3).sum() >= 1


def test_train_pipeline_and_browse_dataset(tmp_path):
    """The toy config's training pipeline runs over a whole (small) toy
    epoch, clips keep frames aligned, and browse_dataset renders them."""
    import subprocess
    import sys

    import cv2
    from mmengine.config import Config

    from mmvmt.registry import DATASETS
    from ..conftest import ROOT
    root = str(tmp_path / 'toy')
    make_toy_dataset(root, seed=1, num_videos=5, num_frames=4,
                     size=(64, 96), num_val_videos=1)
    config = osp.join(ROOT, 'configs', 'vmt', 'vmt_r18_toy.py')
    cfg = Config.fromfile(config)
    cfg.train_dataloader.dataset.data_root = root + '/'
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    for i in range(len(dataset)):
        item = dataset[i]
        assert tuple(item['inputs'].shape) == (3, 3, 64, 96)
        frames = [item['data_samples'][t] for t in range(3)]
        ids = [f.metainfo['frame_id'] for f in frames]
        assert ids == sorted(ids)
        flips = {f.metainfo['flip'] for f in frames}
        assert len(flips) == 1  # same flip on every frame of the clip
        for f in frames:
            gt = f.gt_instances
            if len(gt) == 0:
                continue
            masks = gt.masks.to_ndarray()
            for k in range(len(gt)):
                ys, xs = np.nonzero(masks[k])
                x1, y1, x2, y2 = gt.bboxes[k].tolist()
                assert abs(xs.min() - x1) <= 1 and abs(xs.max() + 1 - x2) <= 1
                assert abs(ys.min() - y1) <= 1 and abs(ys.max() + 1 - y2) <= 1
    cfg_path = tmp_path / 'browse_cfg.py'
    cfg_path.write_text(f'_base_ = [{config!r}]\n'
                        f'train_dataloader = dict(dataset=dict('
                        f'data_root={root + "/"!r}))\n')
    out = tmp_path / 'browse'
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'analysis_tools', 'browse_dataset.py'),
        str(cfg_path), '--output-dir', str(out), '--num-clips', '2',
        '--not-show'
    ], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    img = cv2.imread(str(out / 'clip_000.png'))
    assert img.shape == (64, 3 * 96, 3)
