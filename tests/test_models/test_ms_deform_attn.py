# Copyright (c) mmvmt contributors.
"""The sparse CPU deformable attention equals mmcv's PyTorch path."""
import pytest
import torch
from mmcv.ops.multi_scale_deform_attn import \
    multi_scale_deformable_attn_pytorch

from mmvmt.models.layers.ms_deform_attn import deform_attn_sparse


@pytest.mark.parametrize('shapes,num_queries', [
    ([(9, 11), (5, 6), (3, 3), (1, 2)], 40),
    ([(1, 1)], 7),
    ([(6, 13), (2, 1)], 25),
])
def test_sparse_deform_attn_equals_grid_sample(shapes, num_queries):
    gen = torch.Generator().manual_seed(len(shapes) + num_queries)
    bs, heads, dims, points = 2, 3, 5, 4
    levels = len(shapes)
    value = torch.randn(bs, sum(h * w for h, w in shapes), heads, dims,
                        generator=gen)
    # many samples fall outside the maps (down to -0.6 / up to 1.6), some
    # exactly on pixel centres and borders
    loc = torch.rand(bs, num_queries, heads, levels, points, 2,
                     generator=gen) * 2.2 - 0.6
    loc[0, :3] = 0.0
    loc[1, :3] = 1.0
    weights = torch.rand(bs, num_queries, heads, levels * points,
                         generator=gen).softmax(-1).view(
                             bs, num_queries, heads, levels, points)
    expected = multi_scale_deformable_attn_pytorch(value,
                                                   torch.tensor(shapes), loc,
                                                   weights)
    got = deform_attn_sparse(value, shapes, loc, weights)
    assert got.shape == (bs, num_queries, heads * dims)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_cuda_without_mmcv_kernel_uses_pytorch_path(monkeypatch):
    """A missing CUDA kernel (simulated: this mmcv has none on a CPU
    machine anyway) sends CUDA tensors to mmcv's PyTorch path; the probe
    runs and logs once."""
    from mmvmt.models.layers import ms_deform_attn as mod
    probes, logs = [], []
    monkeypatch.setattr(mod, 'mmcv_has_cuda_ops',
                        lambda: probes.append(1) or False)
    monkeypatch.setattr(mod, 'print_log',
                        lambda msg, **kw: logs.append(msg))
    mod.cuda_kernel_available.cache_clear()
    try:
        for grad in (True, False, False):
            assert mod.select_deform_attn_impl(True, grad) == 'pytorch'
        assert len(probes) == 1 and len(logs) == 1
        assert 'without CUDA ops' in logs[0]
        # CPU choices do not depend on the kernel
        assert mod.select_deform_attn_impl(False, True) == 'pytorch'
        assert mod.select_deform_attn_impl(False, False) == 'sparse'
        # with the kernel, CUDA tensors use it (and nothing is logged)
        mod.cuda_kernel_available.cache_clear()
        monkeypatch.setattr(mod, 'mmcv_has_cuda_ops', lambda: True)
        assert mod.select_deform_attn_impl(True, False) == 'mmcv_cuda'
        assert len(logs) == 1
    finally:
        mod.cuda_kernel_available.cache_clear()
