# Copyright (c) mmvmt contributors.
"""Per-tracklet refinement (TrackletRefineHead): its nodes, tokens,
windows and gradients on hand-made inputs; before training, with the
union band and one-frame windows, the original's outputs on the kit; a
training step of the toy variant."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmvmt.models.dense_heads import TrackletRefineHead, instance_nodes
from mmvmt.models.dense_heads.boundary_refine_head import (boundary_band,
                                                           frame_code)
from mmvmt.registry import MODELS
from ..conftest import ROOT, shared_path
from .parity_utils import check_stages, convert_kit_weights, run_in_process


def small_head(**kwargs):
    torch.manual_seed(0)
    return TrackletRefineHead(embed_dims=8, num_layers=1, num_heads=2,
                              feedforward_channels=16, query_dims=6,
                              dropout=0.0, **kwargs)


def randomise_new_params(head):
    with torch.no_grad():
        for p in (head.coarse_proj.weight, head.coarse_proj.bias,
                  head.query_proj.weight, head.time_gain):
            p.normal_()


def two_touching_squares():
    probs = torch.zeros(2, 2, 24, 30)  # (T, n, H, W)
    probs[:, 0, 4:14, 4:14] = 0.9
    probs[:, 1, 4:14, 14:24] = 0.8  # shares the x=13/14 edge with 0
    probs[1, 1, 4:14, 16:26] = 0.8
    probs[1, 1, 4:14, 14:16] = 0.0
    return probs


def test_nodes_of_an_instance_avoid_other_instances():
    probs = two_touching_squares()
    nodes = instance_nodes(probs)
    assert nodes.shape == (2, 2, 24, 30)
    fg = probs > 0.5
    for i, j in ((0, 1), (1, 0)):
        own_band = boundary_band(fg[:, i:i + 1].float())
        assert (nodes[i] <= own_band).all()  # only its own band
        other_only = fg[:, j] & ~fg[:, i]
        assert not (nodes[i] & other_only).any()
        # and everything of its band that is not on the other instance
        assert torch.equal(nodes[i], own_band & ~other_only)


def test_token_time_code_matches_its_frame():
    head = small_head()
    randomise_new_params(head)
    num_frames, h, w = 3, 6, 7
    flat = torch.randn(num_frames, h * w, 8)
    pos = torch.randn(h * w, 8)
    nodes = torch.rand(num_frames, h, w) < 0.3
    coarse = torch.rand(num_frames, h * w, 2)
    query = torch.randn(6)
    with torch.no_grad():
        toks, poss, tids, idx = head.tokens(flat, pos, nodes, coarse, query,
                                            range(num_frames))
        flat_i = torch.cat(idx)
        assert tids.tolist() == sum(
            ([t] * len(i) for t, i in enumerate(idx)), [])
        for k, (t, i) in enumerate(zip(tids.tolist(), flat_i.tolist())):
            code = frame_code(t, num_frames, 8, flat)
            torch.testing.assert_close(poss[k], pos[i] + head.time_gain * code)
            expected = flat[t, i] + coarse[t, i] @ head.coarse_proj.weight.T \
                + head.coarse_proj.bias + head.query_proj(query)
            torch.testing.assert_close(toks[k], expected)


def instance_inputs(num_frames=4):
    torch.manual_seed(2)
    feats = torch.randn(num_frames, 8, 10, 12)
    nodes = torch.rand(num_frames, 10, 12) < 0.3
    coarse = torch.rand(num_frames, 2, 10, 12)
    return feats, nodes, coarse, torch.randn(6)


def test_window_covering_the_clip_is_the_full_clip():
    feats, nodes, coarse, query = instance_inputs()
    outs = {}
    for window in (None, 4, 9, 1, 2):
        head = small_head(window=window).eval()
        randomise_new_params(head)
        with torch.no_grad():
            outs[window] = head.forward_instance(feats, nodes, coarse,
                                                 query)[0]
    torch.testing.assert_close(outs[4], outs[None], rtol=0, atol=0)
    torch.testing.assert_close(outs[9], outs[None], rtol=0, atol=0)
    assert not torch.allclose(outs[1], outs[None])
    assert not torch.allclose(outs[2], outs[None])
    # a window of 2 is two independent halves of the clip
    half = small_head(window=None).eval()
    randomise_new_params(half)
    with torch.no_grad():
        first = half.forward_instance(feats[:2], nodes[:2], coarse[:2],
                                      query)[0]
    # the frame code is relative to the whole clip, so compare without it
    no_time = {}
    for window, clip in ((2, 4), (None, 2)):
        head = small_head(window=window).eval()
        randomise_new_params(head)
        with torch.no_grad():
            head.time_gain.zero_()
            no_time[window] = head.forward_instance(
                feats[:clip], nodes[:clip], coarse[:clip], query)[0]
    torch.testing.assert_close(no_time[2][:2], no_time[None])
    assert first.shape == no_time[None].shape


def test_gradients_reach_the_new_parameters():
    feats, nodes, coarse, query = instance_inputs()
    head = small_head().train()  # new parameters at their zero start
    out = head.forward_instance(feats, nodes, coarse, query)[0]
    (out * torch.randn_like(out)).sum().backward()
    for name in ('coarse_proj.weight', 'query_proj.weight', 'time_gain'):
        grad = dict(head.named_parameters())[name].grad
        assert grad is not None and grad.abs().sum() > 0, name


def test_training_cap_draws_a_fresh_subset():
    head = small_head(train_max_points=5, max_points=1000).train()
    band = torch.ones(10, 12, dtype=torch.bool)
    first = head.select_points(band, None, head.train_max_points)
    second = head.select_points(band, None, head.train_max_points)
    assert first.numel() == 5 and not torch.equal(first, second)
    head.eval()
    assert head.select_points(band).numel() == 120  # test-time cap


def _tracklet_r50(tmp_path):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'vmt',
                                   'vmt_r50_tracklet.py'))
    cfg.model.mask_head.refine_head.update(node_source='union_band',
                                           window=1, max_points=12000)
    path = str(tmp_path / 'tracklet_r50.py')
    cfg.dump(path)
    return path


@pytest.mark.parametrize('case', ['tiny', 'small'])
def test_union_band_one_frame_windows_is_the_release(case, tmp_path):
    """Before training, node_source='union_band' and window=1 give every
    instance the released per-frame refinement: the original's outputs."""
    import json
    ckpt = convert_kit_weights(tmp_path)
    state = torch.load(ckpt, weights_only=True)['state_dict']
    config = _tracklet_r50(tmp_path)
    model = MODELS.build(Config.fromfile(config).model)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert unexpected == [] and sorted(missing) == sorted(
        f'mask_head.refine_head.{k}' for k in (
            'coarse_proj.weight', 'coarse_proj.bias', 'query_proj.weight',
            'query_proj.bias', 'time_gain'))
    full = str(tmp_path / 'full.pth')
    torch.save({'state_dict': model.state_dict()}, full)
    folder = shared_path('parity', case)
    info = json.load(open(osp.join(folder, 'case.json')))
    _, frames, out, qids, pairs, masks = run_in_process(
        config, osp.join(folder, 'data'), info['resize_shorter_side'], full)
    npz = np.load(osp.join(folder, 'expected', 'tensors.npz'))
    check_stages(npz, frames, out, qids, pairs, masks)


def test_toy_tracklet_trains():
    from .test_losses import clip_with_gt
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'vmt',
                                   'vmt_r18_toy_tracklet.py'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).train()
    model.bbox_head.label_offset = 1  # clip_with_gt's label 1 of 42
    losses = model.loss(torch.randn(1, 2, 3, 64, 96), clip_with_gt())
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    head = model.mask_head.refine_head
    assert head.query_proj.weight.grad.abs().sum() > 0
    assert head.encoder.layers[0].ffn.layers[1].weight.grad.abs().sum() > 0
