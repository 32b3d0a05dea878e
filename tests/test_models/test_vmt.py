# Copyright (c) mmvmt contributors.
"""The VMT detector on small random clips: documented shapes, odd sizes,
one-frame videos, empty outputs, and clear errors."""
import copy
import os.path as osp

import pytest
import torch
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.config import Config

from mmvmt.models.dense_heads import box_masks
from mmvmt.registry import MODELS
from ..conftest import ROOT


def small_model(**test_cfg):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'vmt', 'vmt_r50.py'))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.depth = 18
    model_cfg.neck.in_channels = [128, 256, 512]
    model_cfg.mask_head.c2_channels = 64
    model_cfg.num_queries = 20
    model_cfg.encoder.num_layers = 1
    model_cfg.decoder.num_layers = 2
    model_cfg.bbox_head.num_pred_layer = 2
    model_cfg.test_cfg.update(test_cfg)
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    model.init_weights()
    return model.eval()


def video_samples(num_frames, height, width, ori=None):
    ori = ori or (height, width)
    frames = []
    for t in range(num_frames):
        sample = DetDataSample()
        sample.set_metainfo(
            dict(img_shape=(height, width), ori_shape=ori, frame_id=t,
                 video_id=1, img_id=t))
        frames.append(sample)
    track = TrackDataSample()
    track.video_data_samples = frames
    return [track]


@pytest.mark.parametrize('size', [(64, 96), (90, 130)])
def test_forward_shapes(size):
    height, width = size
    model = small_model()
    frames = torch.randn(2, 3, height, width)
    with torch.no_grad():
        out = model.forward_clip(frames, 1)
        assert out['all_cls'].shape == (2, 1, 20, 42)
        assert out['all_boxes'].shape == (2, 1, 2, 20, 4)
        assert out['hs_box'].shape == (2, 1, 2, 20, 256)
        qids = torch.tensor([1, 5, 7])
        masks = model.forward_mask_branch(out, frames, 0, qids,
                                          tuple(frames.shape[-2:]))
    s2 = (-(-height // 2), -(-width // 2))
    s4 = (-(-s2[0] // 2), -(-s2[1] // 2))
    s8 = (-(-s4[0] // 2), -(-s4[1] // 2))
    assert masks['mask_L8'].shape == (2, 3) + s8
    assert masks['mask_L4'].shape == (2, 3) + s4
    assert masks['mask_L2'].shape == (2, 3) + s2
    # the spec's off-by-one chain: 2*s8, 2*s4, 2*s2
    assert masks['pred_masks'].shape[-2:] == (2 * s8[0], 2 * s8[1])
    assert masks['pred_masks_inc'].shape[-2:] == (2 * s4[0], 2 * s4[1])
    assert masks['pred_masks_refine'].shape[-2:] == (2 * s2[0], 2 * s2[1])
    if size == (90, 130):
        assert masks['pred_masks'].shape[-2:] == (24, 34)
        assert masks['pred_masks_inc'].shape[-2:] == (46, 66)
        assert masks['pred_masks_refine'].shape[-2:] == (90, 130)
    assert masks['band'].dtype == torch.bool


def test_predict_outputs_original_size_one_frame():
    model = small_model()
    samples = video_samples(1, 64, 96, ori=(32, 48))
    with torch.no_grad():
        res = model.predict(torch.randn(1, 1, 3, 64, 96), samples)
    inst = res[0][0].pred_track_instances
    k = len(inst)
    assert inst.masks.shape == (k, 32, 48) and inst.masks.dtype == torch.bool
    assert inst.scores.shape == (k, ) and inst.bboxes.shape == (k, 4)
    assert k <= 10
    assert (inst.scores[:-1] >= inst.scores[1:]).all()


def test_no_instance_gives_empty_results():
    model = small_model(mask_thr=1.1)  # no pixel can pass
    samples = video_samples(2, 64, 96)
    with torch.no_grad():
        res = model.predict(torch.randn(1, 2, 3, 64, 96), samples)
    for frame in res[0]:
        assert len(frame.pred_track_instances) == 0
        assert frame.pred_track_instances.masks.shape == (0, 64, 96)


def test_predict_rejects_batches():
    model = small_model()
    with pytest.raises(ValueError, match='one clip'):
        model.predict(torch.randn(2, 1, 3, 64, 96), video_samples(1, 64, 96))


def test_box_masks_quirks():
    # negative start wraps around like Python slicing in the original
    boxes = torch.tensor([[[0.05, 0.5, 0.3, 0.2], [0.5, 0.5, 0.2, 0.2]]])
    masks = box_masks(boxes, 10, 20)
    # x1 = 0.05*20 - 0.3*20/2 = -2 -> slice [-2:4] is empty
    assert masks[0, 0].sum() == 0
    # x1 = 8, x2 = 12, y1 = 4, y2 = 6
    assert masks[0, 1].nonzero().tolist()[0] == [4, 8]
    assert masks[0, 1].sum() == 2 * 4
