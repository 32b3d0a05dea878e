# Copyright (c) mmvmt contributors.
"""Details of VMT's training step: one absent-frame switch for matching and
losses, mask features once per clip, the released detaches, SeqFormer's
controller initialisation, fresh refinement point subsets."""
import math

import torch

from mmvmt.models.dense_heads import BoundaryRefineHead, DynamicMaskHead
from mmvmt.models.losses import clip_tubes
from .test_losses import clip_with_gt, toy_model


def absent_clip():
    """clip_with_gt with the instance absent in the second frame."""
    track = clip_with_gt()
    gt = track[0][1].gt_instances
    track[0][1].gt_instances = gt[[False]]
    return track


def test_mask_absent_drives_matching_and_losses():
    track = absent_clip()
    tubes = clip_tubes(track[0], (64, 96), 'cpu', 1, mask_absent=True)
    assert tubes.visible.tolist() == [[True, False]]
    assert tubes.valid.tolist() == [[True, False]]
    assert tubes.labels.tolist() == [2]  # label 1 + offset 1
    released = clip_tubes(track[0], (64, 96), 'cpu', 1, mask_absent=False)
    assert released.valid.tolist() == [[True, True]]
    # the model passes its single switch to the targets that both the
    # assigner and the criterion read
    model = toy_model()
    seen = []
    real_assign = model.assigner.assign

    def assign(pred, gt, *args, **kwargs):
        seen.append(gt.valid.tolist())
        return real_assign(pred, gt, *args, **kwargs)

    model.assigner.assign = assign
    inputs = torch.randn(1, 2, 3, 64, 96)
    for flag, expected in ((True, [[True, False]]), (False, [[True, True]])):
        model.train_cfg['mask_absent'] = flag
        seen.clear()
        losses = model.loss(inputs, absent_clip())
        assert seen and all(v == expected for v in seen), (flag, seen)
        assert torch.isfinite(sum(losses.values()))


def test_mask_features_once_per_clip():
    model = toy_model()
    calls = []
    real = model.mask_head.mask_features

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    model.mask_head.mask_features = counted
    track = clip_with_gt()
    model.loss(torch.randn(2, 2, 3, 64, 96), track + clip_with_gt())
    assert len(calls) == 2  # two clips, two decoder layers each


def test_released_detaches_in_the_mask_branch():
    """The inc and refined masks send no gradient to C2, the stride-2
    feature or the boxes; the reference points get gradient only through
    the coarse head."""
    model = toy_model()
    head = model.mask_head
    T, n, h, w = 2, 3, 32, 48
    memory = [torch.randn(T, 256, h // 8, w // 8),
              torch.randn(T, 256, h // 16, w // 16),
              torch.randn(T, 256, h // 32, w // 32)]
    c2 = torch.randn(T, 64, h // 4, w // 4, requires_grad=True)
    hires = torch.randn(T, 64, h // 2, w // 2, requires_grad=True)
    centers = (torch.rand(T, n, 2) * 30).requires_grad_(True)
    boxes = torch.rand(T, n, 4).requires_grad_(True)
    out = head(memory, c2, hires, torch.randn(T, 3, h, w),
               torch.randn(n, 256), centers, boxes)
    for key in ('pred_masks_inc', 'pred_masks_refine'):
        grads = torch.autograd.grad(out[key].sum(), [c2, hires, boxes],
                                    retain_graph=True, allow_unused=True)
        assert all(g is None for g in grads), key
        # the centres reach these stages only through the coarse logits
        direct = torch.autograd.grad(out[key].sum(), centers,
                                     retain_graph=True)[0]
        via_l8 = torch.autograd.grad(out[key].sum(), out['mask_L8'],
                                     retain_graph=True)[0]
        chained = torch.autograd.grad(out['mask_L8'], centers, via_l8,
                                      retain_graph=True)[0]
        torch.testing.assert_close(direct, chained)
        assert direct.abs().sum() > 0


def test_controller_init_is_seqformers():
    head = DynamicMaskHead(10, 8, 32)
    head.init_weights()
    for layer in head.controller.layers:
        fan_out, fan_in = layer.weight.shape
        bound = math.sqrt(6 / (fan_in + fan_out))
        assert float(layer.bias.abs().max()) == 0
        assert float(layer.weight.abs().max()) <= bound
        assert float(layer.weight.abs().max()) > 0.9 * bound


def test_point_subset_fresh_in_training_fixed_at_inference():
    head = BoundaryRefineHead(embed_dims=8, num_layers=1,
                              feedforward_channels=16, max_points=50)
    band = torch.zeros(20, 30, dtype=torch.bool)
    band[5:15] = True  # 300 points above the cap of 50
    head.train()
    torch.manual_seed(0)
    a, b = head.select_points(band), head.select_points(band)
    assert len(a) == len(b) == 50 and not torch.equal(a, b)
    torch.manual_seed(0)
    assert torch.equal(head.select_points(band), a)  # the global RNG's
    head.eval()
    assert torch.equal(head.select_points(band), head.select_points(band))
