# Copyright (c) mmvmt contributors.
"""HQYTVISDataset and the test pipeline: real frames, and one clear error
for each kind of bad input."""
import copy
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from mmvmt.datasets import DatasetError
from mmvmt.datasets.transforms import VideoFormatError, short_side_size
from mmvmt.registry import DATASETS
from ..conftest import ROOT

CLASSES = ('person', 'giant_panda')


def write_video(root, name, sizes):
    os.makedirs(osp.join(root, 'JPEGImages', name), exist_ok=True)
    names = []
    for t, (h, w) in enumerate(sizes):
        rel = f'{name}/{t:05d}.jpg'
        img = np.full((h, w, 3), 40 * t, np.uint8)
        cv2.imwrite(osp.join(root, 'JPEGImages', rel), img)
        names.append(rel)
    return names


def make_root(tmp_path, sizes=((32, 48), (32, 48)), anns=None):
    root = str(tmp_path)
    names = write_video(root, 'vid_a', sizes)
    data = dict(
        videos=[dict(id=1, height=sizes[0][0], width=sizes[0][1],
                     length=len(names), file_names=names)],
        categories=[dict(id=i + 1, name=n) for i, n in enumerate(CLASSES)],
        annotations=anns if anns is not None else [
            dict(id=5, video_id=1, category_id=2, iscrowd=0,
                 segmentations=[[[4, 4, 20, 4, 20, 20, 4, 20]], None],
                 bboxes=[[4, 4, 16, 16], None], areas=[256, None])
        ])
    with open(osp.join(root, 'valid.json'), 'w') as f:
        json.dump(data, f)
    return root


def build(root, **kwargs):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'datasets',
                                   'hq_ytvis.py'))
    ds = copy.deepcopy(cfg.test_dataloader.dataset)
    ds.update(data_root=root, ann_file='valid.json',
              data_prefix=dict(img_path='JPEGImages/'),
              metainfo=dict(classes=CLASSES), **kwargs)
    return DATASETS.build(ds)


def test_dataset_and_test_pipeline(tmp_path):
    dataset = build(make_root(tmp_path))
    assert len(dataset) == 1
    assert dataset.metainfo['classes'] == CLASSES
    info = dataset.get_data_info(0)
    assert [f['frame_id'] for f in info['images']] == [0, 1]
    inst = info['images'][0]['instances']
    assert inst[0]['bbox'] == [4, 4, 20, 20] and inst[0]['bbox_label'] == 1
    assert inst[0]['instance_id'] == 5 and info['images'][1]['instances'] == []
    item = dataset[0]
    # shorter side 360, as torchvision Resize(360): 32x48 -> 360x540
    assert tuple(item['inputs'].shape) == (2, 3, 360, 540)
    meta = item['data_samples'][0].metainfo
    assert meta['ori_shape'] == (32, 48)
    assert meta['file_name'] == 'vid_a/00000.jpg'


def test_short_side_size_matches_torchvision_rule():
    assert short_side_size(640, 272, 360) == (847, 360)
    assert short_side_size(176, 144, 360) == (440, 360)
    assert short_side_size(272, 640, 360) == (360, 847)
    assert short_side_size(1000, 100, 360, max_size=1000) == (1000, 100)


BAD = {
    'unknown video': (dict(id=5, video_id=9, category_id=1, iscrowd=0,
                           segmentations=[None, None]), 'unknown video 9'),
    'unknown category': (dict(id=5, video_id=1, category_id=77, iscrowd=0,
                              segmentations=[None, None]),
                         'unknown category 77'),
    'wrong length': (dict(id=5, video_id=1, category_id=1, iscrowd=0,
                          segmentations=[None]), 'lists 1 frames'),
}


@pytest.mark.parametrize('name', sorted(BAD))
def test_bad_annotations(tmp_path, name):
    ann, needle = BAD[name]
    with pytest.raises(DatasetError, match=needle):
        build(make_root(tmp_path, anns=[ann]))


def test_missing_frame_file(tmp_path):
    root = make_root(tmp_path)
    os.remove(osp.join(root, 'JPEGImages', 'vid_a', '00001.jpg'))
    with pytest.raises(DatasetError, match='00001.jpg'):
        build(root)


def test_video_without_frames(tmp_path):
    root = make_root(tmp_path)
    data = json.load(open(osp.join(root, 'valid.json')))
    data['videos'][0]['file_names'] = []
    json.dump(data, open(osp.join(root, 'valid.json'), 'w'))
    with pytest.raises(DatasetError, match='no frames'):
        build(root)


def test_malformed_json(tmp_path):
    root = make_root(tmp_path)
    with open(osp.join(root, 'valid.json'), 'w') as f:
        f.write('{"videos": [')
    with pytest.raises(DatasetError, match='not valid JSON'):
        build(root)


def test_frames_of_different_sizes(tmp_path):
    dataset = build(make_root(tmp_path, sizes=((32, 48), (40, 48))))
    with pytest.raises(VideoFormatError, match='same size'):
        dataset[0]


@pytest.mark.parametrize('version', ['2019', '2021'])
def test_youtube_vis_configs(tmp_path, version):
    """The YouTube-VIS base configs read an official-style json with
    mmdet's class list of that year (labels follow that list)."""
    from mmdet.datasets import YouTubeVISDataset
    YouTubeVISDataset.set_dataset_classes(version)
    classes = YouTubeVISDataset.METAINFO['classes']
    root = str(tmp_path)
    names = write_video(root, 'vid_a', [(32, 48)] * 2)
    cat = classes.index('giant_panda') + 1
    data = dict(
        videos=[dict(id=1, height=32, width=48, length=2, file_names=names)],
        categories=[dict(id=i + 1, name=n) for i, n in enumerate(classes)],
        annotations=[dict(id=5, video_id=1, category_id=cat, iscrowd=0,
                          segmentations=[[[4, 4, 20, 4, 20, 20, 4, 20]],
                                         None])])
    with open(osp.join(root, 'valid.json'), 'w') as f:
        json.dump(data, f)
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'datasets',
                                   f'youtube_vis_{version}.py'))
    ds = copy.deepcopy(cfg.test_dataloader.dataset)
    ds.update(data_root=root, ann_file='valid.json',
              data_prefix=dict(img_path='JPEGImages/'))
    dataset = DATASETS.build(ds)
    assert dataset.metainfo['classes'] == classes
    frame = dataset.get_data_info(0)['images'][0]
    assert frame['instances'][0]['bbox_label'] == cat - 1
    assert cfg.test_evaluator.iou_types == ('segm', )
    assert dataset[0]['inputs'].shape[0] == 2
