# Copyright (c) mmvmt contributors.
"""VMT training losses and clip-level match costs."""
import torch
from mmdet.structures import DetDataSample, TrackDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.structures import InstanceData

from mmvmt.models.task_modules import TubeGIoUCost, TubeL1Cost
from .test_vmt import small_model


def test_tube_costs():
    pred = InstanceData(bboxes=torch.tensor([[[0.5, 0.5, 0.2, 0.2],
                                              [0.6, 0.5, 0.2, 0.2]]]))
    boxes = torch.tensor([[[0.5, 0.5, 0.2, 0.2], [0.0, 0.0, 0.0, 0.0]]])
    masked = InstanceData(bboxes=boxes, valid=torch.tensor([[True, False]]))
    every = InstanceData(bboxes=boxes, valid=torch.tensor([[True, True]]))
    assert TubeL1Cost()(pred, masked).item() == 0.0  # absent frame left out
    # SeqFormer: torch.cdist (p=2) over the concatenated T x 4 vectors
    seqformer = (0.6**2 + 0.5**2 + 0.2**2 + 0.2**2)**0.5
    assert abs(TubeL1Cost()(pred, every).item() - seqformer) < 1e-6
    assert abs(TubeL1Cost(p=1.0)(pred, every).item() - 1.5) < 1e-6
    assert abs(TubeGIoUCost()(pred, masked).item() + 1.0) < 1e-6
    # masked and unmasked agree with torch.cdist on random all-valid tubes
    gen = torch.Generator().manual_seed(0)
    p = InstanceData(bboxes=torch.rand(5, 3, 4, generator=gen))
    g = InstanceData(bboxes=torch.rand(4, 3, 4, generator=gen),
                     valid=torch.ones(4, 3, dtype=torch.bool))
    g.valid[0, 1] = False
    cost = TubeL1Cost()(p, g)
    ref = torch.cdist(p.bboxes.flatten(1), g.bboxes.flatten(1))
    torch.testing.assert_close(cost[:, 1:], ref[:, 1:])
    kept = [0, 2]
    torch.testing.assert_close(
        cost[:, 0], torch.cdist(p.bboxes[:, kept].flatten(1),
                                g.bboxes[:1, kept].flatten(1))[:, 0])


def clip_with_gt(num_frames=2, height=64, width=96, with_gt=True):
    frames = []
    for t in range(num_frames):
        sample = DetDataSample()
        sample.set_metainfo(dict(img_shape=(height, width),
                                 ori_shape=(height, width), frame_id=t))
        mask = torch.zeros(1 if with_gt else 0, height, width,
                           dtype=torch.uint8)
        boxes = torch.zeros(1 if with_gt else 0, 4)
        if with_gt:
            mask[0, 10 + 2 * t:40, 20:60] = 1
            boxes[0] = torch.tensor([20., 10 + 2 * t, 60., 40.])
        sample.gt_instances = InstanceData(
            bboxes=boxes, labels=torch.tensor([1] if with_gt else [],
                                              dtype=torch.long),
            masks=BitmapMasks(mask.numpy(), height, width),
            instances_ids=torch.tensor([7] if with_gt else [],
                                       dtype=torch.long))
        frames.append(sample)
    track = TrackDataSample()
    track.video_data_samples = frames
    return [track]


def toy_model():
    """The small test model (42 logits, label offset 1) with the toy
    config's handling of absent frames."""
    import os.path as osp

    from mmengine.config import Config

    from ..conftest import ROOT
    model = small_model()
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'vmt',
                                   'vmt_r18_toy.py'))
    model.train_cfg.update(mask_absent=cfg.model.train_cfg.mask_absent)
    return model.train()


def test_losses_with_and_without_gt():
    model = toy_model()
    inputs = torch.randn(1, 2, 3, 64, 96)
    losses = model.loss(inputs, clip_with_gt())
    assert all(torch.isfinite(v) for v in losses.values())
    for key in ('loss_cls', 'loss_bbox', 'loss_giou', 'loss_mask',
                'loss_dice', 'loss_mask_refine', 'loss_mask_dice_refine',
                'loss_mask_sem', 'loss_mask_sem_dice', 'd0.loss_dice'):
        assert losses[key] > 0, key
    sum(losses.values()).backward()
    grad = model.mask_head.refine_dyn_head.controller.layers[0].weight.grad
    assert grad is not None and grad.abs().sum() > 0
    model.zero_grad()
    empty = model.loss(inputs, clip_with_gt(with_gt=False))
    assert empty['loss_cls'] > 0
    for key in ('loss_bbox', 'loss_giou', 'loss_mask', 'loss_dice',
                'loss_mask_refine'):
        assert empty[key] == 0, key
    sum(empty.values()).backward()


def test_padding_masks():
    model = toy_model()
    track = clip_with_gt(height=48, width=96)
    masks = model.padding_masks(torch.zeros(1, 2, 3, 64, 96), track)
    assert masks.shape == (2, 64, 96)
    assert masks[:, 48:].all() and not masks[:, :48].any()
