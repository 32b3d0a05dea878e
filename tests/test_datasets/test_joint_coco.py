# Copyright (c) mmvmt contributors.
"""COCO pseudo clips, the joint HQ-YTVIS + COCO loader and its sampler."""
import json
import os.path as osp
import random

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from mmvmt.datasets import (DatasetError, VideoConcatDataset,
                            VideoFrameSampler)
from mmvmt.datasets.toy_generator import TOY_CLASSES, make_toy_dataset
from mmvmt.registry import DATASETS, TRANSFORMS
from ..conftest import ROOT

CONFIG = osp.join(ROOT, 'configs', 'vmt', 'vmt_r50.py')
# toy categories as "COCO" names; 'worm' stays unmapped
TOY_MAP = {name: name for name in TOY_CLASSES[:4]}


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy'))
    paths = make_toy_dataset(root, seed=1, num_videos=5, num_frames=4,
                             size=(64, 96), num_val_videos=1)
    return dict(root=root + '/', **paths)


def joint_loader_cfg(toy):
    """The vmt_r50 joint train dataloader pointed at the toy data."""
    cfg = Config.fromfile(CONFIG).train_dataloader
    cfg.update(num_workers=0, persistent_workers=False)
    video, coco = cfg.dataset.datasets
    video.update(data_root=toy['root'], ann_file='train.json',
                 seg_field='segmentations',
                 data_prefix=dict(img_path='JPEGImages/'),
                 metainfo=dict(classes=TOY_CLASSES))
    coco.update(data_root=toy['root'], ann_file='coco.json',
                data_prefix=dict(img_path='JPEGImages/'),
                metainfo=dict(classes=TOY_CLASSES))
    coco['category_map'] = TOY_MAP  # replace the table (update merges)
    return cfg


def build_coco(toy, pipeline=(), **kwargs):
    return DATASETS.build(
        dict(type='COCOPseudoClipDataset', data_root=toy['root'],
             ann_file=kwargs.pop('ann_file', 'coco.json'),
             data_prefix=dict(img_path='JPEGImages/'),
             metainfo=dict(classes=TOY_CLASSES),
             category_map=kwargs.pop('category_map', TOY_MAP),
             pipeline=list(pipeline), **kwargs))


def test_coco_dataset_maps_categories(toy):
    coco = json.load(open(toy['coco']))
    dataset = build_coco(toy)
    worm = TOY_CLASSES.index('worm') + 1
    kept = {a['image_id'] for a in coco['annotations']
            if a['category_id'] != worm}
    assert len(dataset) == len(kept)
    labels = {i['bbox_label'] for k in range(len(dataset))
              for i in dataset.get_data_info(k)['images'][0]['instances']}
    assert labels <= {0, 1, 2, 3}  # worm (label 4) dropped
    info = dataset.get_data_info(0)
    assert info['video_length'] == 1 and len(info['images']) == 1


def test_coco_dataset_bad_input(toy, tmp_path):
    from mmvmt.datasets import YTVIS2019_CLASSES
    table = Config.fromfile(CONFIG).train_dataloader.dataset.datasets[
        1].category_map
    assert len(table) == 19 and set(table.values()) <= set(YTVIS2019_CLASSES)
    with pytest.raises(DatasetError, match='non-empty category_map'):
        build_coco(toy, category_map={})
    with pytest.raises(DatasetError, match='not classes of the dataset'):
        build_coco(toy, category_map={'blob': 'person'})
    with pytest.raises(DatasetError, match='lacks'):
        build_coco(toy, category_map={'dog': 'blob'})
    coco = json.load(open(toy['coco']))
    coco['annotations'][0]['image_id'] = 999
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps(coco))
    with pytest.raises(DatasetError, match='unknown image 999'):
        build_coco(toy, ann_file=str(bad))
    bad.write_text('{"images": [')
    with pytest.raises(DatasetError, match='not valid JSON'):
        build_coco(toy, ann_file=str(bad))


def clip_from_image(toy, num_frames=5):
    """One toy COCO image loaded as a clip of identical frames."""
    pipeline = [
        dict(type='SeqFormerFrameSample', num_frames=num_frames),
        dict(type='TransformBroadcaster', transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadTrackAnnotations', with_mask=True)])
    ]
    return build_coco(toy, pipeline)[0]


def assert_boxes_fit_masks(boxes, masks, scale=1.0):
    """Boxes agree with the mask extents, within two source pixels: mmdet
    scales boxes exactly but resizes masks by nearest neighbour, twice in
    the resize-crop-resize branch."""
    for box, mask in zip(np.asarray(boxes), masks):
        ys, xs = np.nonzero(mask)
        assert len(xs), 'an instance with an empty mask was kept'
        np.testing.assert_allclose(
            box, [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1],
            atol=max(1.0, 2 * np.ceil(scale)))


def test_pseudo_clip_augment(toy):
    np.random.seed(0)
    results = clip_from_image(toy)
    original = results['img'][0].copy()
    ids = set(results['gt_instances_ids'][0].tolist())
    out = TRANSFORMS.build(dict(type='PseudoClipAugment'))(results)
    same = [np.array_equal(img, original) for img in out['img']]
    assert sum(same) == 1  # the original plus 4 different copies
    for t in range(5):
        masks = out['gt_masks'][t].masks
        assert masks.shape[1:] == original.shape[:2]
        assert len(masks) == len(out['gt_bboxes'][t]) == len(
            out['gt_bboxes_labels'][t]) == len(out['gt_instances_ids'][t])
        assert set(out['gt_instances_ids'][t].tolist()) <= ids
        assert_boxes_fit_masks(out['gt_bboxes'][t], masks)


def test_clip_augmentation_is_shared(toy):
    """Identical frames stay identical through the config's flip,
    photometric distortion, multi-scale resize and random size crop."""
    cfg = Config.fromfile(CONFIG)
    pipeline = cfg.train_dataloader.dataset.datasets[1].pipeline
    augment = [TRANSFORMS.build(t) for t in pipeline
               if t['type'] in ('TransformBroadcaster', 'RandomChoice')][1:]
    assert len(augment) == 2  # flip + photometric, resize branches
    for seed in range(8):
        np.random.seed(seed)
        random.seed(seed)
        results = clip_from_image(toy)
        for t in augment:
            results = t(results)
        results = TRANSFORMS.build(
            dict(type='FilterClipInstances', min_instances=0))(results)
        imgs = results['img']
        assert all(np.array_equal(imgs[0], img) for img in imgs[1:])
        for t in range(1, 5):
            assert np.array_equal(results['gt_masks'][0].masks,
                                  results['gt_masks'][t].masks)
            assert np.allclose(results['gt_bboxes'][0],
                               results['gt_bboxes'][t])
        scale = max(imgs[0].shape[0] / 64, imgs[0].shape[1] / 96)
        assert_boxes_fit_masks(results['gt_bboxes'][0],
                               results['gt_masks'][0].masks, scale)


def test_joint_loader_runs_an_epoch(toy):
    loader = Runner.build_dataloader(joint_loader_cfg(toy), seed=0)
    assert isinstance(loader.dataset, VideoConcatDataset)
    assert isinstance(loader.sampler, VideoFrameSampler)
    video_frames = sum(
        v['length'] for v in json.load(open(toy['train']))['videos'])
    coco_images = len(loader.dataset.datasets[1])
    # one sample per frame of every video, one per COCO image
    assert len(loader.sampler) == video_frames + coco_images
    seen = 0
    for batch in loader:
        for clip, track in zip(batch['inputs'], batch['data_samples']):
            seen += 1
            assert clip.shape[0] == 5 and clip.dtype.is_floating_point
            assert len({f.metainfo['flip'] for f in track}) == 1
            assert len({f.metainfo['img_shape'] for f in track}) == 1
            ids = set()
            for frame in track:
                gt = frame.gt_instances
                ids.update(gt.instances_ids.tolist())
                assert gt.labels.max() < len(TOY_CLASSES) if len(gt) else 1
                height, width = frame.metainfo['img_shape']
                assert_boxes_fit_masks(gt.bboxes.numpy(),
                                       gt.masks.to_ndarray(),
                                       max(height / 64, width / 96))
            assert 1 <= len(ids) <= 25
    assert seen == len(loader.sampler)


def test_frame_sampler_splits_ranks(toy, monkeypatch):
    import mmvmt.datasets.samplers.video_frame_sampler as module
    dataset = DATASETS.build(joint_loader_cfg(toy).dataset)
    pairs = []
    for rank in range(2):
        monkeypatch.setattr(module, 'get_dist_info', lambda r=rank: (r, 2))
        sampler = VideoFrameSampler(dataset, seed=3)
        sampler.set_epoch(1)
        pairs.append(list(sampler))
        assert len(pairs[-1]) == len(sampler)
    everything = set(module.VideoFrameSampler(dataset, seed=3).pairs)
    assert set(pairs[0]) | set(pairs[1]) == everything
    assert len(pairs[0]) == len(pairs[1])
    # a (video, frame) pair reaches the right dataset and anchor frame
    video, frame = next(p for p in everything if p[1] == 2)
    item = dataset[(video, frame)]
    frame_ids = [f.metainfo['frame_id'] for f in item['data_samples']]
    assert 2 in frame_ids
