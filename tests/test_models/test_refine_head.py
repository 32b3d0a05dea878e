# Copyright (c) mmvmt contributors.
"""The boundary-point refinement head (per-frame and temporal) and the
token-sliced FFN, against direct computations."""
import pytest
import torch
from mmcv.cnn.bricks.transformer import FFN

from mmvmt.models.dense_heads.boundary_refine_head import (BoundaryRefineHead,
                                                           frame_code)
from mmvmt.models.layers import ChunkedFFN


def test_chunked_ffn_equals_ffn():
    torch.manual_seed(0)
    ffn = FFN(embed_dims=8, feedforward_channels=1 << 16).eval()
    chunked = ChunkedFFN(embed_dims=8, feedforward_channels=1 << 16).eval()
    chunked.load_state_dict(ffn.state_dict())
    x = torch.randn(2, 100, 8)  # 200 tokens, slices of 64
    ident = torch.randn(2, 100, 8)
    with torch.no_grad():
        assert torch.equal(chunked(x), ffn(x))
        assert torch.equal(chunked(x, ident), ffn(x, ident))
    x.requires_grad_(True)
    chunked(x).sum().backward()  # autograd: the whole-tensor path
    assert x.grad is not None and x.grad.shape == x.shape


def expected_refinement(head, feats, band, temporal):
    num_frames, dim, h, w = feats.shape
    pos = head.positional_encoding(None, input=feats[:1]).flatten(2)[0]
    out = feats.flatten(2).clone()
    idx = [band[t].flatten().nonzero()[:, 0] for t in range(num_frames)]
    tokens = [feats[t].flatten(1)[:, i].T for t, i in enumerate(idx)]
    if temporal:
        tpos = [pos[:, i].T + frame_code(t, num_frames, dim, feats)
                for t, i in enumerate(idx)]
        refined = head._encode(torch.cat(tokens)[None],
                               torch.cat(tpos)[None])[0]
        pieces = refined.split([len(i) for i in idx])
    else:
        pieces = [head._encode(tok[None], pos[:, i].T[None])[0]
                  if len(i) else tok for tok, i in zip(tokens, idx)]
    for t, (i, piece) in enumerate(zip(idx, pieces)):
        out[t][:, i] += piece.T
    return out.view(num_frames, dim, h, w)


@pytest.mark.parametrize('temporal', [False, True])
def test_refine_head_matches_direct_computation(temporal):
    torch.manual_seed(1)
    head = BoundaryRefineHead(
        embed_dims=8, num_layers=2, num_heads=2, feedforward_channels=1 << 14,
        temporal=temporal).eval()
    feats = torch.randn(3, 8, 9, 11)
    band = torch.rand(3, 9, 11) < 0.4
    band[2] = False  # a frame without boundary points
    with torch.no_grad():
        got = head(feats, band)
        expected = expected_refinement(head, feats, band, temporal)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert torch.equal(got[:, :, ~band.any(0)],
                       feats[:, :, ~band.any(0)])  # untouched off the band
    # training: gradients reach the input features
    head.train()
    feats.requires_grad_(True)
    head(feats, band).square().sum().backward()
    assert feats.grad is not None and feats.grad[:, :, band[0]].abs().sum() > 0


def test_training_cap_refines_a_fresh_subset_per_frame():
    torch.manual_seed(1)
    head = BoundaryRefineHead(embed_dims=8, num_layers=1, num_heads=2,
                              feedforward_channels=16, dropout=0.0,
                              max_points=1000, train_max_points=7)
    feats = torch.randn(2, 8, 9, 11)
    band = torch.rand(2, 9, 11) < 0.5

    def changed(out):
        return (out != feats).any(1)  # (T, H, W) points that were refined

    head.train()
    with torch.no_grad():
        first, second = changed(head(feats, band)), changed(head(feats, band))
    assert first.flatten(1).sum(1).tolist() == [7, 7]
    assert (first <= band).all() and not torch.equal(first, second)
    head.eval()  # the test-time cap: the whole band
    with torch.no_grad():
        assert torch.equal(changed(head(feats, band)), band)
