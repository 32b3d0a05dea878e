# Copyright (c) mmvmt contributors.
"""Multi-scale deformable attention with a faster CPU inference path.

mmcv has no CPU kernel for deformable attention; its PyTorch fallback
samples every level with ``grid_sample`` and stacks all samples before the
weighted sum. Here, without autograd, the bilinear sampling and the
attention-weighted sum are one sparse matrix (CSR, 4 corners x levels x
points non-zeros per query and head) times the value matrix, which is the
same sum computed in one pass. With autograd mmcv's PyTorch path is used;
on CUDA mmcv's kernel, or, when the installed mmcv was compiled without
CUDA ops, mmcv's PyTorch path (:func:`select_deform_attn_impl`).
"""
import functools
import logging
import warnings
from typing import List, Optional, Sequence, Tuple

import torch
from mmcv.ops import MultiScaleDeformableAttention
from mmcv.ops.multi_scale_deform_attn import (
    MultiScaleDeformableAttnFunction, multi_scale_deformable_attn_pytorch)
from mmdet.models.layers import (DeformableDetrTransformerEncoder,
                                 DeformableDetrTransformerEncoderLayer)
from mmengine.logging import print_log
from torch import Tensor, nn

from mmvmt.registry import MODELS
from .chunked_ffn import ChunkedFFN


def deform_attn_sparse(value: Tensor, spatial_shapes: Sequence[Tuple[int,
                                                                     int]],
                       locations: Tensor, weights: Tensor) -> Tensor:
    """Deformable attention as one sparse-dense product.

    Bilinear sampling with zero padding and ``align_corners=False`` (pixel
    ``x = loc_x * W - 0.5``), exactly the sampling of ``grid_sample`` used
    by the reference implementation. Each level of the value map is padded
    with zeros (one pixel before, two after, in both directions) and the
    pixel coordinates are clamped to ``[-1, size]``: beyond that range all
    four corner weights of a point are zero in ``grid_sample``, and inside
    it every corner lands in the padded map, so no validity masks are
    needed. Each CSR row holds the four corners as four blocks of
    ``levels * points`` contiguous entries, so the matrix is filled by
    contiguous writes.

    Args:
        value (Tensor): (bs, num_value, num_heads, head_dims).
        spatial_shapes (Sequence[tuple]): (h, w) of each level.
        locations (Tensor): (bs, num_queries, num_heads, num_levels,
            num_points, 2), normalised (x, y).
        weights (Tensor): (bs, num_queries, num_heads, num_levels,
            num_points), softmaxed attention weights.

    Returns:
        Tensor: (bs, num_queries, num_heads * head_dims).
    """
    bs, _, heads, dims = value.shape
    num_queries, levels, points = locations.shape[1], locations.shape[
        3], locations.shape[4]
    dev = value.device
    padded_sizes = [(h + 3) * (w + 3) for h, w in spatial_shapes]
    dense = value.new_zeros(bs, heads, sum(padded_sizes), dims)
    src = value.permute(0, 2, 1, 3)
    start = padded_start = 0
    for (h, w), size in zip(spatial_shapes, padded_sizes):
        level = dense[:, :, padded_start:padded_start + size].view(
            bs, heads, h + 3, w + 3, dims)
        level[:, :, 1:h + 1, 1:w + 1] = src[:, :, start:start + h * w].view(
            bs, heads, h, w, dims)
        start += h * w
        padded_start += size
    shapes = torch.tensor(spatial_shapes, device=dev, dtype=value.dtype)
    hgt, wid = shapes[:, 0].view(levels, 1), shapes[:, 1].view(levels, 1)
    # (bs, heads, queries, levels, points)
    loc = locations.permute(0, 2, 1, 3, 4, 5).contiguous()
    attw = weights.permute(0, 2, 1, 3, 4).contiguous()
    x = torch.minimum((loc[..., 0] * wid - 0.5).clamp_(min=-1), wid)
    y = torch.minimum((loc[..., 1] * hgt - 0.5).clamp_(min=-1), hgt)
    x0f, y0f = x.floor(), y.floor()
    fx, fy = x.sub_(x0f), y.sub_(y0f)
    wy0, wy1 = (1 - fy).mul_(attw), fy.mul_(attw)
    wx0 = 1 - fx
    shape = (bs, heads, num_queries, 4, levels, points)
    vals = torch.empty(shape, dtype=value.dtype, device=dev)
    torch.mul(wy0, wx0, out=vals[:, :, :, 0])
    torch.mul(wy0, fx, out=vals[:, :, :, 1])
    torch.mul(wy1, wx0, out=vals[:, :, :, 2])
    torch.mul(wy1, fx, out=vals[:, :, :, 3])
    # flat index of the top-left corner in the padded maps of all blocks
    padded_w = (shapes[:, 1].to(torch.int32) + 3).view(levels, 1)
    level_starts = torch.tensor([0] + padded_sizes[:-1],
                                device=dev).cumsum(0).to(torch.int32)
    block = (torch.arange(bs * heads, device=dev, dtype=torch.int32) *
             dense.shape[2]).view(bs, heads, 1, 1, 1)
    corner = y0f.to(torch.int32).mul_(padded_w).add_(x0f.to(torch.int32))
    corner += block + level_starts.view(levels, 1) + padded_w + 1
    cols = torch.empty(shape, dtype=torch.int32, device=dev)
    cols[:, :, :, 0] = corner
    torch.add(corner, 1, out=cols[:, :, :, 1])
    corner += padded_w
    cols[:, :, :, 2] = corner
    torch.add(corner, 1, out=cols[:, :, :, 3])
    rows = bs * heads * num_queries
    per_row = 4 * levels * points
    crow = torch.arange(
        0, rows * per_row + 1, per_row, device=dev, dtype=torch.int32)
    with warnings.catch_warnings():  # "sparse CSR support is in beta"
        warnings.simplefilter('ignore')
        matrix = torch.sparse_csr_tensor(
            crow,
            cols.view(-1),
            vals.view(-1),
            size=(rows, dense.numel() // dims),
            check_invariants=False)
    out = matrix @ dense.view(-1, dims)
    return out.view(bs, heads, num_queries, dims).permute(0, 2, 1, 3).reshape(
        bs, num_queries, heads * dims)


def mmcv_has_cuda_ops() -> bool:
    """Whether the installed mmcv was compiled with its CUDA ops."""
    from mmcv.ops import get_compiling_cuda_version
    return get_compiling_cuda_version() != 'not available'


@functools.lru_cache(maxsize=1)
def cuda_kernel_available() -> bool:
    """Whether CUDA tensors can use mmcv's deformable attention kernel.

    Decided once per process (the first time a CUDA tensor is seen) and
    logged once when the kernel is missing; ``cache_clear()`` resets it.
    """
    available = mmcv_has_cuda_ops()
    if not available:
        print_log(
            'mmcv was compiled without CUDA ops: multi-scale deformable '
            'attention runs mmcv\'s pure-PyTorch implementation on CUDA '
            '(slower, same results; rebuild mmcv with FORCE_CUDA=1 for the '
            'kernel, see docs/get_started.md)',
            logger='current',
            level=logging.WARNING)
    return available


def select_deform_attn_impl(is_cuda: bool, grad_enabled: bool) -> str:
    """Which implementation of deformable attention a call uses.

    Args:
        is_cuda (bool): Whether the values are CUDA tensors.
        grad_enabled (bool): Whether autograd is recording.

    Returns:
        str: ``'mmcv_cuda'`` (mmcv's kernel), ``'pytorch'`` (mmcv's
        ``grid_sample`` implementation: training on CPU, or CUDA without the
        kernel) or ``'sparse'`` (:func:`deform_attn_sparse`, CPU inference).
    """
    if is_cuda:
        return 'mmcv_cuda' if cuda_kernel_available() else 'pytorch'
    return 'pytorch' if grad_enabled else 'sparse'


class DeformSampleMixin:
    """Offsets, attention weights and sampling shared by the encoder's
    attention and SeqFormer's cross-attention."""

    def deform_sample(self,
                      query: Tensor,
                      value: Tensor,
                      reference_points: Tensor,
                      spatial_shapes: Tensor,
                      level_start_index: Tensor,
                      key_padding_mask: Optional[Tensor] = None) -> Tensor:
        """Sampled and attention-weighted values, before any projection.

        Args:
            query (Tensor): Queries with positions, (bs, num_queries, dim);
                they predict offsets and weights.
            value (Tensor): (bs, num_value, dim), before ``value_proj``.
            reference_points (Tensor): (bs, num_queries, num_levels, 2) as
                normalised (x, y) or (..., 4) as normalised (cx, cy, w, h).
            spatial_shapes (Tensor): (num_levels, 2) as (h, w).
            level_start_index (Tensor): (num_levels,).
            key_padding_mask (Tensor, optional): (bs, num_value), True at
                padding.

        Returns:
            Tensor: (bs, num_queries, dim).
        """
        bs, num_query, _ = query.shape
        num_value = value.shape[1]
        value = self.value_proj(value)
        if key_padding_mask is not None and (torch.is_grad_enabled()
                                             or key_padding_mask.any()):
            # (at inference a mask without padding would only copy value)
            value = value.masked_fill(key_padding_mask[..., None], 0.0)
        value = value.view(bs, num_value, self.num_heads, -1)
        offsets = self.sampling_offsets(query).view(
            bs, num_query, self.num_heads, self.num_levels, self.num_points, 2)
        weights = self.attention_weights(query).view(
            bs, num_query, self.num_heads, self.num_levels * self.num_points)
        weights = weights.softmax(-1).view(bs, num_query, self.num_heads,
                                           self.num_levels, self.num_points)
        if reference_points.shape[-1] == 2:
            # ref + offsets / (w, h) with (points, xy) merged into the last
            # dimension: the same numbers, without broadcasting over a
            # trailing dimension of 2 (slow on CPU)
            levels, points = self.num_levels, self.num_points
            normalizer = torch.stack(
                [spatial_shapes[..., 1], spatial_shapes[..., 0]], -1)
            locations = offsets.view(
                bs, num_query, self.num_heads, levels,
                points * 2) / normalizer[:, None, :].expand(
                    levels, points, 2).reshape(levels, points * 2)
            locations += reference_points[:, :, None, :, None, :].expand(
                bs, num_query, 1, levels, points,
                2).reshape(bs, num_query, 1, levels, points * 2)
            locations = locations.view(offsets.shape)
        elif reference_points.shape[-1] == 4:
            locations = reference_points[:, :, None, :, None, :2] + \
                offsets / self.num_points * \
                reference_points[:, :, None, :, None, 2:] * 0.5
        else:
            raise ValueError('reference_points must end in 2 or 4, got '
                             f'{reference_points.shape[-1]}')
        impl = select_deform_attn_impl(value.is_cuda, torch.is_grad_enabled())
        if impl == 'mmcv_cuda':
            return MultiScaleDeformableAttnFunction.apply(
                value, spatial_shapes, level_start_index, locations, weights,
                self.im2col_step)
        if impl == 'pytorch':
            return multi_scale_deformable_attn_pytorch(
                value, spatial_shapes, locations, weights)
        shapes: List[Tuple[int, int]] = [
            tuple(s) for s in spatial_shapes.tolist()
        ]
        return deform_attn_sparse(value, shapes, locations, weights)


@MODELS.register_module()
class VMTDeformableAttention(DeformSampleMixin, MultiScaleDeformableAttention):
    """mmcv's :class:`MultiScaleDeformableAttention` (same parameters and
    result) with the sparse CPU inference path of
    :func:`deform_attn_sparse`. Batch-first only."""

    def forward(self,
                query: Tensor,
                key: Optional[Tensor] = None,
                value: Optional[Tensor] = None,
                identity: Optional[Tensor] = None,
                query_pos: Optional[Tensor] = None,
                key_padding_mask: Optional[Tensor] = None,
                reference_points: Optional[Tensor] = None,
                spatial_shapes: Optional[Tensor] = None,
                level_start_index: Optional[Tensor] = None,
                **kwargs) -> Tensor:
        """``dropout(output_proj(sample)) + identity``, as mmcv's."""
        if not self.batch_first:
            raise ValueError('VMTDeformableAttention needs batch_first=True')
        value = query if value is None else value
        identity = query if identity is None else identity
        if query_pos is not None:
            query = query + query_pos
        sampled = self.deform_sample(query, value, reference_points,
                                     spatial_shapes, level_start_index,
                                     key_padding_mask)
        return self.dropout(self.output_proj(sampled)) + identity


@MODELS.register_module()
class VMTEncoderLayer(DeformableDetrTransformerEncoderLayer):
    """mmdet's deformable encoder layer using
    :class:`VMTDeformableAttention` and :class:`ChunkedFFN` (identical
    parameters)."""

    def _init_layers(self) -> None:
        super()._init_layers()
        self.self_attn = VMTDeformableAttention(**self.self_attn_cfg)
        self.ffn = ChunkedFFN(**self.ffn_cfg)


@MODELS.register_module()
class VMTTransformerEncoder(DeformableDetrTransformerEncoder):
    """mmdet's deformable encoder built from :class:`VMTEncoderLayer`;
    VMT runs it on every frame independently (frames in the batch axis)."""

    def _init_layers(self) -> None:
        self.layers = nn.ModuleList([
            VMTEncoderLayer(**self.layer_cfg) for _ in range(self.num_layers)
        ])
        self.embed_dims = self.layers[0].embed_dims
