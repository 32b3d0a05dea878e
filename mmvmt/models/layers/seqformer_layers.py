# Copyright (c) mmvmt contributors.
"""SeqFormer decoder: one instance query per object plus one box query per
frame, with temporal attention weights over the frames.

Follows `SeqFormer <https://arxiv.org/abs/2112.08275>`_ as used by
`VMT <https://arxiv.org/abs/2207.14012>`_.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks.transformer import FFN, MultiheadAttention
from mmcv.ops import MultiScaleDeformableAttention
from mmdet.models.layers import (DeformableDetrTransformerDecoder,
                                 DeformableDetrTransformerDecoderLayer,
                                 inverse_sigmoid)
from mmengine.model import xavier_init
from torch import Tensor, nn

from mmvmt.registry import MODELS
from .ms_deform_attn import DeformSampleMixin


@MODELS.register_module()
class SeqFormerCrossAttention(DeformSampleMixin,
                              MultiScaleDeformableAttention):
    """Deformable cross-attention with two output projections.

    The sampled vector is projected by ``output_proj`` (the per-frame
    message to the instance query) and by ``output_proj_box`` (the message
    to the frame's box query). No residual and no dropout are applied here:
    the decoder layer does both explicitly.
    """

    def init_weights(self) -> None:
        """Deformable-DETR init plus xavier for ``output_proj_box``.

        The parent's ``__init__`` calls this before ``output_proj_box``
        exists, so the layer is created here on first use.
        """
        super().init_weights()
        if not hasattr(self, 'output_proj_box'):
            self.output_proj_box = nn.Linear(self.embed_dims,
                                             self.embed_dims)
        xavier_init(self.output_proj_box, distribution='uniform', bias=0.)

    def forward(self,
                query: Tensor,
                value: Tensor,
                reference_points: Tensor,
                spatial_shapes: Tensor,
                level_start_index: Tensor,
                key_padding_mask: Optional[Tensor] = None,
                **kwargs) -> Tuple[Tensor, Tensor]:
        """Sample the memory around the references of each box query.

        Args:
            query (Tensor): Box queries with positions, (bs, num_queries,
                dim); they alone predict offsets and weights.
            value (Tensor): Frame memory, (bs, num_value, dim).
            reference_points (Tensor): (bs, num_queries, num_levels, 2) as
                normalised (x, y), or (..., 4) as normalised (cx, cy, w, h).
            spatial_shapes (Tensor): (num_levels, 2) as (h, w).
            level_start_index (Tensor): (num_levels,).
            key_padding_mask (Tensor, optional): (bs, num_value), True at
                padding.

        Returns:
            tuple[Tensor]: instance message and box message, each
            (bs, num_queries, dim).
        """
        sampled = self.deform_sample(query, value, reference_points,
                                     spatial_shapes, level_start_index,
                                     key_padding_mask)
        return self.output_proj(sampled), self.output_proj_box(sampled)


@MODELS.register_module()
class SeqFormerDecoderLayer(DeformableDetrTransformerDecoderLayer):
    """Decoder layer with one instance query and T per-frame box queries.

    Order (post-norm, residuals explicit): instance self-attention; box
    self-attention per frame (shared weights); deformable cross-attention per
    frame driven by the box queries; box FFN; temporal softmax over the
    frames weighting the per-frame instance messages; instance FFN.

    ``norms`` are (after self-attn, after cross-attn, after FFN) for the
    instance path and ``norms_box`` the same for the box path.
    """

    def _init_layers(self) -> None:
        super()._init_layers()
        self.cross_attn = SeqFormerCrossAttention(**self.cross_attn_cfg)
        self.self_attn_box = MultiheadAttention(**self.self_attn_cfg)
        self.ffn_box = FFN(**self.ffn_cfg)
        self.norms_box = nn.ModuleList([
            build_norm_layer(self.norm_cfg, self.embed_dims)[1]
            for _ in range(3)
        ])
        self.time_attention_weights = nn.Linear(self.embed_dims, 1)
        drop = self.cross_attn_cfg.get('dropout', 0.1)
        self.dropout = nn.Dropout(drop)
        self.dropout_box = nn.Dropout(drop)

    def forward(self,
                query: Tensor,
                box_query: Tensor,
                query_pos: Tensor,
                value: Tensor,
                reference_points: Tensor,
                spatial_shapes: Tensor,
                level_start_index: Tensor,
                key_padding_mask: Optional[Tensor] = None,
                **kwargs) -> Tuple[Tensor, Tensor]:
        """Update instance and box queries.

        Args:
            query (Tensor): Instance queries, (bs, num_queries, dim).
            box_query (Tensor): Box queries, (bs, num_frames, num_queries,
                dim).
            query_pos (Tensor): (bs, num_queries, dim), shared by frames.
            value (Tensor): Encoder memory, (bs * num_frames, num_value,
                dim).
            reference_points (Tensor): (bs * num_frames, num_queries,
                num_levels, 2 or 4), normalised.
            spatial_shapes (Tensor): (num_levels, 2).
            level_start_index (Tensor): (num_levels,).
            key_padding_mask (Tensor, optional): (bs * num_frames,
                num_value).

        Returns:
            tuple[Tensor]:

            - query (Tensor): (bs, num_queries, dim).
            - box_query (Tensor): (bs, num_frames, num_queries, dim).
        """
        bs, num_frames, num_queries, dim = box_query.shape
        query = self.self_attn(
            query=query,
            key=query,
            value=query,
            query_pos=query_pos,
            key_pos=query_pos)
        query = self.norms[0](query)

        box = box_query.flatten(0, 1)
        box_pos = query_pos[:, None].expand(-1, num_frames, -1,
                                            -1).flatten(0, 1)
        box = self.self_attn_box(
            query=box, key=box, value=box, query_pos=box_pos,
            key_pos=box_pos)
        box = self.norms_box[0](box)

        inst_msg, box_msg = self.cross_attn(
            query=box + box_pos,
            value=value,
            reference_points=reference_points,
            spatial_shapes=spatial_shapes,
            level_start_index=level_start_index,
            key_padding_mask=key_padding_mask)
        box = self.norms_box[1](box + self.dropout_box(box_msg))
        box = self.norms_box[2](self.ffn_box(box))
        box = box.view(bs, num_frames, num_queries, dim)

        inst_msg = inst_msg.view(bs, num_frames, num_queries, dim)
        time_weight = F.softmax(self.time_attention_weights(box), dim=1)
        msg = (inst_msg * time_weight).sum(1)
        query = self.norms[1](query + self.dropout(msg))
        query = self.norms[2](self.ffn(query))
        return query, box


@MODELS.register_module()
class SeqFormerDecoder(DeformableDetrTransformerDecoder):
    """Stack of :class:`SeqFormerDecoderLayer` with per-frame iterative box
    refinement of the box queries."""

    def _init_layers(self) -> None:
        self.layers = nn.ModuleList([
            SeqFormerDecoderLayer(**self.layer_cfg)
            for _ in range(self.num_layers)
        ])
        self.embed_dims = self.layers[0].embed_dims
        if self.post_norm_cfg is not None:
            raise ValueError('SeqFormerDecoder has no post norm; set '
                             'post_norm_cfg=None')

    def forward(self,
                query: Tensor,
                query_pos: Tensor,
                value: Tensor,
                reference_points: Tensor,
                spatial_shapes: Tensor,
                level_start_index: Tensor,
                valid_ratios: Tensor,
                reg_branches: nn.ModuleList,
                key_padding_mask: Optional[Tensor] = None,
                **kwargs) -> Tuple[Tensor, Tensor, Tensor]:
        """Run all layers.

        Args:
            query (Tensor): Initial content, (bs, num_queries, dim); also the
                initial box query of every frame.
            query_pos (Tensor): (bs, num_queries, dim).
            value (Tensor): Memory, (bs * num_frames, num_value, dim).
            reference_points (Tensor): Initial references, normalised (x, y),
                (bs, num_frames, num_queries, 2).
            spatial_shapes (Tensor): (num_levels, 2).
            level_start_index (Tensor): (num_levels,).
            valid_ratios (Tensor): (bs * num_frames, num_levels, 2).
            reg_branches (nn.ModuleList): One box MLP per layer, applied to
                the box queries.
            key_padding_mask (Tensor, optional): (bs * num_frames,
                num_value).

        Returns:
            tuple[Tensor]:

            - hs (Tensor): instance queries after each layer,
              (num_layers, bs, num_queries, dim).
            - hs_box (Tensor): box queries after each layer,
              (num_layers, bs, num_frames, num_queries, dim).
            - references (Tensor): the references each layer received,
              (num_layers, bs, num_frames, num_queries, 2 or 4) as a list
              (first entry 2-d, the rest 4-d (cx, cy, w, h)), detached.
        """
        bs, num_frames = reference_points.shape[:2]
        box = query[:, None].expand(-1, num_frames, -1, -1)
        hs, hs_box, refs_in = [], [], []
        for lid, layer in enumerate(self.layers):
            refs_in.append(reference_points)
            ref = reference_points.flatten(0, 1)
            if ref.shape[-1] == 4:
                ratios = torch.cat([valid_ratios, valid_ratios], -1)
            else:
                ratios = valid_ratios
            ref_input = ref[:, :, None] * ratios[:, None]
            query, box = layer(
                query,
                box,
                query_pos,
                value,
                ref_input,
                spatial_shapes,
                level_start_index,
                key_padding_mask=key_padding_mask)
            delta = reg_branches[lid](box)
            reference_points = refine_boxes(delta, reference_points).detach()
            hs.append(query)
            hs_box.append(box)
        return torch.stack(hs), torch.stack(hs_box), refs_in


def refine_boxes(delta: Tensor, reference: Tensor) -> Tensor:
    """Iterative box refinement step.

    Args:
        delta (Tensor): Box MLP output, (..., 4) in logit space.
        reference (Tensor): Previous references, normalised, (..., 2) as
            (x, y) or (..., 4) as (cx, cy, w, h).

    Returns:
        Tensor: New boxes, normalised (cx, cy, w, h), (..., 4).
    """
    if reference.shape[-1] == 4:
        return (delta + inverse_sigmoid(reference)).sigmoid()
    xy = delta[..., :2] + inverse_sigmoid(reference)
    return torch.cat([xy, delta[..., 2:]], -1).sigmoid()
