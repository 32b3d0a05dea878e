# Copyright (c) mmvmt contributors.
"""Multi-scale deformable attention with a faster CPU inference path.

mmcv has no CPU kernel for deformable attention; its PyTorch fallback
samples every level with ``grid_sample`` and stacks all samples before the
weighted sum. Here, without autograd, the bilinear sampling and the
attention-weighted sum are one sparse matrix (CSR, 4 corners x levels x
points non-zeros per query and head) times the value matrix, which is the
same sum computed in one pass. With autograd or on CUDA mmcv's paths are
used.
"""
import warnings
from typing import List, Optional, Sequence, Tuple

import torch
from mmcv.ops import MultiScaleDeformableAttention
from mmcv.ops.multi_scale_deform_attn import (
    MultiScaleDeformableAttnFunction, multi_scale_deformable_attn_pytorch)
from mmdet.models.layers import (DeformableDetrTransformerEncoder,
                                 DeformableDetrTransformerEncoderLayer)
from torch import Tensor, nn

from mmvmt.registry import MODELS



def deform_attn_sparse(value: Tensor, spatial_shapes: Sequence[Tuple[int,
                                                                     int]],
                       locations: Tensor, weights: Tensor) -> Tensor:
    """Deformable attention as one sparse-dense product.

    Bilinear sampling with zero padding and ``align_corners=False`` (pixel
    ``x = loc_x * W - 0.5``), exactly the sampling of ``grid_sample`` used
    by the reference implementation.

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
    bs, num_value, heads, dims = value.shape
    num_queries, levels = locations.shape[1], locations.shape[3]
    dev = value.device
    shapes = torch.tensor(spatial_shapes, device=dev, dtype=torch.int32)
    hgt = shapes[:, 0].view(levels, 1)
    wid = shapes[:, 1].view(levels, 1)
    starts = torch.cat([shapes.new_zeros(1), (shapes[:, 0] *
                                              shapes[:, 1]).cumsum(0)[:-1]])
    # (bs, heads, queries, levels, points)
    loc = locations.permute(0, 2, 1, 3, 4, 5)
    attw = weights.permute(0, 2, 1, 3, 4)
    x = loc[..., 0] * wid - 0.5
    y = loc[..., 1] * hgt - 0.5
    x0f, y0f = x.floor(), y.floor()
    fx, fy = x - x0f, y - y0f
    x0, y0 = x0f.to(torch.int32), y0f.to(torch.int32)
    x1, y1 = x0 + 1, y0 + 1
    wx0 = (1 - fx) * ((x0 >= 0) & (x0 < wid))
    wx1 = fx * ((x1 >= 0) & (x1 < wid))
    wy0 = (1 - fy) * ((y0 >= 0) & (y0 < hgt)) * attw
    wy1 = fy * ((y1 >= 0) & (y1 < hgt)) * attw
    block = (torch.arange(bs * heads, device=dev, dtype=torch.int32) *
             num_value).view(bs, heads, 1, 1, 1)
    base = block + starts.view(levels, 1)
    row0 = base + y0.clamp(min=0).minimum(hgt - 1) * wid
    row1 = base + y1.clamp(min=0).minimum(hgt - 1) * wid
    col0 = x0.clamp(min=0).minimum(wid - 1)
    col1 = x1.clamp(min=0).minimum(wid - 1)
    cols = torch.empty(loc.shape[:-1] + (4, ), dtype=torch.int32, device=dev)
    vals = torch.empty(loc.shape[:-1] + (4, ), dtype=value.dtype, device=dev)
    cols[..., 0] = row0 + col0
    cols[..., 1] = row0 + col1
    cols[..., 2] = row1 + col0
    cols[..., 3] = row1 + col1
    vals[..., 0] = wy0 * wx0
    vals[..., 1] = wy0 * wx1
    vals[..., 2] = wy1 * wx0
    vals[..., 3] = wy1 * wx1
    rows = bs * heads * num_queries
    per_row = cols[0, 0, 0].numel()
    crow = torch.arange(
        0, rows * per_row + 1, per_row, device=dev, dtype=torch.int32)
    with warnings.catch_warnings():  # "sparse CSR support is in beta"
        warnings.simplefilter('ignore')
        matrix = torch.sparse_csr_tensor(
            crow,
            cols.reshape(-1),
            vals.reshape(-1),
            size=(rows, bs * heads * num_value),
            check_invariants=False)
    dense = value.permute(0, 2, 1, 3).reshape(bs * heads * num_value, dims)
    out = matrix @ dense
    return out.view(bs, heads, num_queries, dims).permute(0, 2, 1, 3).reshape(
        bs, num_queries, heads * dims)


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
        if key_padding_mask is not None:
            value = value.masked_fill(key_padding_mask[..., None], 0.0)
        value = value.view(bs, num_value, self.num_heads, -1)
        offsets = self.sampling_offsets(query).view(
            bs, num_query, self.num_heads, self.num_levels, self.num_points, 2)
        weights = self.attention_weights(query).view(
            bs, num_query, self.num_heads, self.num_levels * self.num_points)
        weights = weights.softmax(-1).view(bs, num_query, self.num_heads,
                                           self.num_levels, self.num_points)
        if reference_points.shape[-1] == 2:
            normalizer = torch.stack(
                [spatial_shapes[..., 1], spatial_shapes[..., 0]], -1)
            locations = reference_points[:, :, None, :, None, :] + \
                offsets / normalizer[None, None, None, :, None, :]
        elif reference_points.shape[-1] == 4:
            locations = reference_points[:, :, None, :, None, :2] + \
                offsets / self.num_points * \
                reference_points[:, :, None, :, None, 2:] * 0.5
        else:
            raise ValueError('reference_points must end in 2 or 4, got '
                             f'{reference_points.shape[-1]}')
        if value.is_cuda:
            return MultiScaleDeformableAttnFunction.apply(
                value, spatial_shapes, level_start_index, locations, weights,
                self.im2col_step)
        if torch.is_grad_enabled():
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
    :class:`VMTDeformableAttention` (identical parameters)."""

    def _init_layers(self) -> None:
        super()._init_layers()
        self.self_attn = VMTDeformableAttention(**self.self_attn_cfg)


@MODELS.register_module()
class VMTTransformerEncoder(DeformableDetrTransformerEncoder):
    """mmdet's deformable encoder built from :class:`VMTEncoderLayer`;
    VMT runs it on every frame independently (frames in the batch axis)."""

    def _init_layers(self) -> None:
        self.layers = nn.ModuleList(
            [VMTEncoderLayer(**self.layer_cfg) for _ in range(self.num_layers)])
        self.embed_dims = self.layers[0].embed_dims
