# Copyright (c) mmvmt contributors.
"""Learned incoherence and node-label write-back of the tracklet mode: the
information-loss ground truth against its formula written out with numpy,
the head against a plain convolution, the learned nodes against a direct
computation, the write-back inside the mask head, the optional criterion
terms against their formulas, and a training step of the toy config."""
import math
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmvmt.models.dense_heads import IncoherenceHead, learned_nodes
from mmvmt.models.losses import VMTCriterion, incoherence_targets
from mmvmt.registry import MODELS
from ..conftest import ROOT
from .test_criterion import dice, half, make_case


def down2(m):
    """2x2 block mean (bilinear at exactly half size)."""
    h, w = m.shape
    return m.reshape(h // 2, 2, w // 2, 2).mean((1, 3))


def up2(s):
    """Bilinear x2, half-pixel centres, edges clamped, written out: output
    pixel j reads source position max(j / 2 - 0.25, 0)."""

    def along_rows(a):
        n = a.shape[0]
        out = np.zeros((2 * n, ) + a.shape[1:])
        for j in range(2 * n):
            src = max(j / 2 - 0.25, 0.0)
            i0 = int(math.floor(src))
            frac = src - i0
            i1 = min(i0 + 1, n - 1)
            out[j] = (1 - frac) * a[i0] + frac * a[i1]
        return out

    return along_rows(along_rows(s).T).T


def information_loss(m, threshold=0.01):
    return (down2(np.abs(m - up2(down2(m)))) > threshold).astype(np.float32)


def hand_masks():
    masks = np.zeros((4, 16, 20), np.float32)
    masks[0, 4:12, 6:14] = 1  # square on the 2-pixel grid
    masks[1, 3:10, 5:16] = 1  # off the grid
    for y in range(16):  # a diagonal edge
        masks[2, y, :y + 2] = 1
    masks[3] = 1  # full: nothing is lost
    return masks


def test_incoherence_targets_are_the_information_loss():
    masks = hand_masks()
    got = incoherence_targets(torch.from_numpy(masks), (8, 10))
    assert got.shape == (4, 8, 10)
    for k in range(4):
        expected = information_loss(masks[k])
        np.testing.assert_array_equal(got[k].numpy(), expected)
    assert got[3].sum() == 0 and got[:3].sum(dim=(1, 2)).min() > 0
    # on the grid, the square's interior and far background are exact
    assert got[0, 3:5, 4:6].sum() == 0 and got[0, 0, 0] == 0
    # leading dimensions are kept
    assert incoherence_targets(torch.from_numpy(masks).view(2, 2, 16, 20),
                               (8, 10)).shape == (2, 2, 8, 10)


def test_incoherence_head_is_one_convolution_stack():
    torch.manual_seed(0)
    head = IncoherenceHead(mask_dims=3, hires_channels=4, feat_channels=5)
    mask4 = torch.randn(2, 3, 6, 7, requires_grad=True)
    g4 = torch.randn(2, 4, 6, 7)
    logit4 = torch.randn(2, 3, 6, 7, requires_grad=True)
    out = head(mask4, g4, logit4)
    assert out.shape == (2, 3, 6, 7)
    for i in range(3):
        x = torch.cat([mask4, g4, logit4[:, i:i + 1].sigmoid()], 1)
        x = F.relu(head.conv1(x))
        expected = head.conv_logits(F.relu(head.conv2(x)))[:, 0]
        torch.testing.assert_close(out[:, i], expected)
    out.sum().backward()  # its inputs are detached
    assert mask4.grad is None and logit4.grad is None
    assert head.conv1.weight.grad.abs().sum() > 0
    assert head(mask4, g4, logit4[:, :0]).shape == (2, 0, 6, 7)


def test_learned_nodes_threshold_and_exclusion():
    gen = torch.Generator().manual_seed(1)
    inc = torch.randn(2, 2, 3, 5, generator=gen)  # (T, n, h4, w4)
    probs = torch.zeros(2, 2, 6, 10)
    probs[:, 0, 1:5, 1:6] = 0.9
    probs[:, 1, 2:6, 4:9] = 0.7  # overlaps instance 0 at x=4,5
    nodes = learned_nodes(inc, probs, threshold=0.4)
    assert nodes.shape == (2, 2, 6, 10)
    p = torch.sigmoid(inc).numpy().repeat(2, 2).repeat(2, 3)  # nearest x2
    fg = probs.numpy() > 0.5
    for i, j in ((0, 1), (1, 0)):
        expected = (p[:, i] >= 0.4) & ~(fg[:, j] & ~fg[:, i])
        np.testing.assert_array_equal(nodes[i].numpy(), expected)
        assert not (nodes[i].numpy() & fg[:, j] & ~fg[:, i]).any()
    assert (nodes[0].numpy() & fg[:, 0] & fg[:, 1]).any()  # shared: kept


def toy_learned_model():
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'vmt',
                                   'vmt_r18_toy_tracklet_learned.py'))
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def mask_head_inputs(num_frames=2, num_insts=3, height=64, width=96,
                     embed_dims=128, seed=4, box_size=0.4):
    """Random (memory, c2, hires, imgs, queries, centers, boxes) of
    ``VMTMaskHead.forward``."""
    gen = torch.Generator().manual_seed(seed)

    def rand(*shape):
        return torch.randn(*shape, generator=gen)

    memory = [rand(num_frames, embed_dims, height // s, width // s)
              for s in (8, 16, 32)]
    centers = torch.rand(num_frames, num_insts, 2, generator=gen) * \
        torch.tensor([width, height])
    boxes = torch.cat([centers / torch.tensor([width, height]),
                       torch.full((num_frames, num_insts, 2), box_size)], -1)
    return (memory, rand(num_frames, 64, height // 4, width // 4),
            rand(num_frames, 64, height // 2, width // 2),
            rand(num_frames, 3, height, width), rand(num_insts, embed_dims),
            centers, boxes)


def test_node_labels_are_written_over_the_dense_logits():
    head = toy_learned_model().mask_head.eval()
    inputs = mask_head_inputs()
    with torch.no_grad():
        # untrained, the map is near 0.5 everywhere: a threshold at its
        # median makes about half the pixels nodes
        inc = head(*inputs)['incoherence']
        head.refine_head.node_threshold = float(inc.sigmoid().median())
        out = head(*inputs)
        decoder = head.refine_head.label_decoder
        head.refine_head.label_decoder = None  # feature write-back only
        dense = head(*inputs)
        head.refine_head.label_decoder = decoder
    node_mask = out['node_mask']
    assert node_mask.shape == out['mask_L2'].shape == (2, 3, 32, 48)
    assert out['incoherence'].shape == (2, 3, 16, 24)
    assert 'node_logits' not in dense and node_mask.any()
    assert not node_mask.all()
    torch.testing.assert_close(out['mask_L2'][node_mask],
                               out['node_logits'][node_mask])
    torch.testing.assert_close(out['mask_L2'][~node_mask],
                               dense['mask_L2'][~node_mask])
    assert not torch.allclose(out['mask_L2'][node_mask],
                              dense['mask_L2'][node_mask])
    # the refined nodes are the learned nodes (below the test-time cap)
    prob4 = F.interpolate(out['mask_L4'].sigmoid(), size=(32, 48),
                          mode='nearest')
    nodes = learned_nodes(out['incoherence'], prob4,
                          head.refine_head.node_threshold)
    assert torch.equal(node_mask, nodes.transpose(0, 1))


def with_tracklet_outputs(case):
    """The criterion test's case with stride-2 logits, incoherence and
    node outputs on its full-cascade clip."""
    gen = torch.Generator().manual_seed(5)
    res = case[2][1][0]
    res.update(mask_L2=torch.randn(2, 1, 4, 4, generator=gen),
               incoherence=torch.randn(2, 1, 2, 2, generator=gen),
               node_logits=torch.randn(2, 1, 4, 4, generator=gen),
               node_mask=torch.rand(2, 1, 4, 4, generator=gen) > 0.5)
    return case


def test_tracklet_loss_terms_match_the_formulas():
    case = with_tracklet_outputs(make_case())
    criterion = VMTCriterion(
        loss_incoherence=dict(type='CrossEntropyLoss', use_sigmoid=True,
                              loss_weight=0.5),
        loss_incoherence_dice=dict(type='DiceLoss', use_sigmoid=True,
                                   activate=True, naive_dice=True, eps=1.0,
                                   loss_weight=0.5),
        loss_node=dict(type='L1Loss', loss_weight=1.0))
    got = criterion(*case)
    # the full-cascade layer matched one tube (GT 1 of clip 0); 3 GT tubes
    res, gt = case[2][1][0], case[3][0]
    gt2 = half(gt.masks[1])  # (T, 4, 4) at the refinement's size
    tgt = torch.from_numpy(np.stack(
        [information_loss(gt2[t].numpy()) for t in range(2)]))
    x = res['incoherence'][:, 0]
    p = torch.sigmoid(x)
    bce = -(tgt * torch.log(p) + (1 - tgt) * torch.log(1 - p))
    nodes = res['node_mask'][:, 0].float()
    l1 = ((torch.sigmoid(res['node_logits'][:, 0]) - gt2).abs() *
          nodes).sum() / nodes.sum()
    expected = dict(loss_incoherence=0.5 * float(bce.mean()) / 3,
                    loss_incoherence_dice=0.5 * float(dice(x, tgt)) / 3,
                    loss_node=float(l1) / 3)
    for name, value in expected.items():
        assert math.isclose(float(got[name]), value, rel_tol=1e-4), (
            name, float(got[name]), value)
        assert value > 0
    assert 'd0.loss_node' not in got  # the refinement's terms: last layer
    # the plain criterion refuses outputs it has no loss for, and a
    # criterion with a term refuses outputs without its prediction
    with pytest.raises(ValueError, match="'incoherence' but no loss"):
        VMTCriterion()(*case)
    with pytest.raises(ValueError, match="'node_logits' but no loss"):
        VMTCriterion(loss_incoherence=dict(
            type='CrossEntropyLoss', use_sigmoid=True))(*case)
    del case[2][1][0]['incoherence']
    with pytest.raises(ValueError, match='loss_incoherence is set'):
        criterion(*case)


def test_toy_learned_config_trains():
    from .test_losses import clip_with_gt
    model = toy_learned_model().train()
    model.bbox_head.label_offset = 1  # clip_with_gt's label 1 of 42
    losses = model.loss(torch.randn(1, 2, 3, 64, 96), clip_with_gt())
    for name in ('loss_incoherence', 'loss_incoherence_dice', 'loss_node'):
        assert losses[name] > 0, name
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    head = model.mask_head.refine_head
    assert head.incoherence_head.conv_logits.weight.grad.abs().sum() > 0
    assert head.label_decoder[2].weight.grad.abs().sum() > 0
