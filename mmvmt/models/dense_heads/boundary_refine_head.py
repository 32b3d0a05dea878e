# Copyright (c) mmvmt contributors.
"""Refinement of the features on the boundary band of the predicted
instances with a transformer over the band's points (VMT's refinement
stage)."""
import math
from typing import List, Optional

import torch
import torch.nn.functional as F
from mmdet.models.layers import (DetrTransformerEncoderLayer,
                                 SinePositionalEncoding)
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmvmt.models.layers import ChunkedFFN
from mmvmt.registry import MODELS

_LAPLACIAN = [[-1., -1., -1.], [-1., 8., -1.], [-1., -1., -1.]]


def boundary_band(union: Tensor, dilation: int = 3) -> Tensor:
    """Band around the edges of a binary map: two dilated Laplacians.

    ``B1 = lap(U) != 0`` and ``B = lap(B1) != 0`` with the 3x3 Laplacian
    at dilation 3 and zero padding, so image borders count as edges. All
    values are small integers, so the test is exact.

    Args:
        union (Tensor): Binary map, (num_frames, 1, H, W), float.
        dilation (int): Laplacian dilation. Defaults to 3.

    Returns:
        Tensor: (num_frames, H, W) bool band.
    """
    kernel = union.new_tensor(_LAPLACIAN).view(1, 1, 3, 3)
    edge = F.conv2d(union, kernel, padding=dilation, dilation=dilation)
    edge = (edge != 0).to(union.dtype)
    band = F.conv2d(edge, kernel, padding=dilation, dilation=dilation)
    return band[:, 0] != 0


@MODELS.register_module()
class RefineEncoderLayer(DetrTransformerEncoderLayer):
    """Post-norm encoder layer whose self-attention runs through
    ``F.scaled_dot_product_attention`` (no dense P x P weight matrix is
    materialised). Parameters are those of
    :class:`mmdet.models.layers.DetrTransformerEncoderLayer`; the FFN is a
    :class:`ChunkedFFN`."""

    def _init_layers(self) -> None:
        super()._init_layers()
        self.ffn = ChunkedFFN(**self.ffn_cfg)

    def forward(self, query: Tensor, query_pos: Tensor,
                key_padding_mask: Optional[Tensor] = None,
                **kwargs) -> Tensor:
        """Encode the tokens.

        Args:
            query (Tensor): (bs, num_tokens, dim).
            query_pos (Tensor): (bs, num_tokens, dim), added to q and k.
            key_padding_mask (Tensor, optional): Not supported (None).

        Returns:
            Tensor: (bs, num_tokens, dim).
        """
        if key_padding_mask is not None:
            raise ValueError('RefineEncoderLayer takes no padding mask')
        mha = self.self_attn.attn
        bs, num, dim = query.shape
        heads = mha.num_heads
        w_q, w_k, w_v = mha.in_proj_weight.chunk(3)
        b_q, b_k, b_v = mha.in_proj_bias.chunk(3)
        qk = query + query_pos
        q = F.linear(qk, w_q, b_q).view(bs, num, heads, -1).transpose(1, 2)
        k = F.linear(qk, w_k, b_k).view(bs, num, heads, -1).transpose(1, 2)
        v = F.linear(query, w_v, b_v).view(bs, num, heads,
                                           -1).transpose(1, 2)
        out = F.scaled_dot_product_attention(
            q, k, v, dropout_p=mha.dropout if self.training else 0.)
        out = mha.out_proj(out.transpose(1, 2).reshape(bs, num, dim))
        query = query + self.self_attn.dropout_layer(
            self.self_attn.proj_drop(out))
        query = self.norms[0](query)
        query = self.ffn(query)
        return self.norms[1](query)


@MODELS.register_module()
class BoundaryRefineHead(BaseModule):
    """Transformer over the points of the boundary band.

    The features at the band's points (row-major order, at most
    ``max_points`` per frame; above that a random subset: fresh at every
    training step, from a generator seeded with ``seed`` at inference,
    unless permutations are injected) become
    tokens with a 2-D sine positional code of the full map; three post-norm
    encoder layers refine them and the result is added back to the map
    (residual).

    Args:
        embed_dims (int): Feature channels. Defaults to 64.
        num_layers (int): Encoder layers. Defaults to 3.
        num_heads (int): Attention heads. Defaults to 4.
        feedforward_channels (int): FFN width. Defaults to 2048.
        dropout (float): FFN and residual dropout. Defaults to 0.1.
        attn_drop (float, optional): Dropout on the attention weights;
            ``dropout`` when None. Note that PyTorch's fused CPU attention
            has no dropout, so a non-zero value makes CPU training
            materialise the P x P weights (about 20 GB for a 2-frame clip
            at 12000 points). Defaults to None.
        max_points (int): Point cap per frame. Defaults to 12000.
        train_max_points (int, optional): Point cap per frame in training
            (a fresh random subset each step, as above); ``max_points``
            when None (the release has no training code: our option, after
            Mask Transfiner's training-only node sampling). Defaults to
            None.
        temporal (bool): False (released VMT): each frame is refined on its
            own. True: the union bands of all frames of the clip form one
            sequence, with a fixed sine code of the frame index added to
            the positions; no instance identity, untrained, cost quadratic
            in the clip's points. This is not the paper's refinement: see
            :class:`TrackletRefineHead`. Defaults to False.
        seed (int): Seed of the point subset above the cap at inference
            (the same subset for the same points; the original draws an
            unseeded one). In training a fresh subset is drawn from torch's
            global RNG at every step. Defaults to 0.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 embed_dims: int = 64,
                 num_layers: int = 3,
                 num_heads: int = 4,
                 feedforward_channels: int = 2048,
                 dropout: float = 0.1,
                 attn_drop: Optional[float] = None,
                 max_points: int = 12000,
                 train_max_points: Optional[int] = None,
                 temporal: bool = False,
                 seed: int = 0,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.embed_dims = embed_dims
        self.max_points = max_points
        self.train_max_points = train_max_points
        self.temporal = temporal
        self.seed = seed
        layer_cfg = dict(
            self_attn_cfg=dict(
                embed_dims=embed_dims,
                num_heads=num_heads,
                attn_drop=dropout if attn_drop is None else attn_drop,
                dropout_layer=dict(type='Dropout', drop_prob=dropout),
                batch_first=True),
            ffn_cfg=dict(
                embed_dims=embed_dims,
                feedforward_channels=feedforward_channels,
                ffn_drop=dropout))
        self.encoder = nn.Module()
        self.encoder.layers = nn.ModuleList(
            [RefineEncoderLayer(**layer_cfg) for _ in range(num_layers)])
        self.positional_encoding = SinePositionalEncoding(
            num_feats=embed_dims // 2, normalize=True)

    def select_points(self, band: Tensor,
                      perm: Optional[Tensor] = None,
                      cap: Optional[int] = None) -> Tensor:
        """Flat indices of the band's points (row-major), capped.

        Args:
            band (Tensor): (H, W) bool.
            perm (Tensor, optional): Permutation of the points to use above
                the cap (tests inject the original's).
            cap (int, optional): Point cap; when None, the cap in force:
                ``train_max_points`` in training if set, else
                ``max_points``.

        Returns:
            Tensor: (num_points,) long flat indices.
        """
        if cap is None:
            cap = self.train_max_points if (
                self.training and self.train_max_points is not None) \
                else self.max_points
        idx = band.flatten().nonzero()[:, 0]
        if idx.numel() <= cap:
            # the original permutes here too, which only changes the float
            # summation order of the attention
            return idx
        if perm is None and self.training:
            # a fresh subset every training step, from torch's global RNG
            # (seeded by the runner, saved with the checkpoint)
            perm = torch.randperm(idx.numel(), device=idx.device)
        elif perm is None:
            gen = torch.Generator().manual_seed(self.seed)
            perm = torch.randperm(idx.numel(), generator=gen)
        return idx[perm.to(idx.device)[:cap]]

    def _encode(self, tokens: Tensor, pos: Tensor) -> Tensor:
        for layer in self.encoder.layers:
            tokens = layer(tokens, pos)
        return tokens

    def forward(self,
                feats: Tensor,
                band: Tensor,
                point_perms: Optional[List[Tensor]] = None) -> Tensor:
        """Refine the features on the band.

        Args:
            feats (Tensor): (num_frames, embed_dims, H, W).
            band (Tensor): (num_frames, H, W) bool.
            point_perms (list[Tensor], optional): Per-frame permutations
                used above the cap.

        Returns:
            Tensor: (num_frames, embed_dims, H, W) in channels-last memory,
            ``feats`` plus the encoder output at the band's points.
        """
        num_frames, dim, h, w = feats.shape
        # points as rows: gathers and scatter-adds touch whole rows, and the
        # result comes out channels-last, the layout the fusion convolves
        pos = self.positional_encoding(
            None, input=feats[:1]).flatten(2)[0].T.contiguous()  # (HW, dim)
        out = feats.permute(0, 2, 3, 1).clone(
            memory_format=torch.contiguous_format).view(
                num_frames, h * w, dim)
        indices = [
            self.select_points(band[t],
                               None if point_perms is None else
                               point_perms[t]) for t in range(num_frames)
        ]
        if self.temporal:
            tokens = torch.cat([out[t][i] for t, i in enumerate(indices)])
            tpos = torch.cat([
                pos[i] + frame_code(t, num_frames, dim, feats)
                for t, i in enumerate(indices)
            ])
            if tokens.numel():
                refined = self._encode(tokens[None], tpos[None])[0]
                start = 0
                for t, i in enumerate(indices):
                    out[t][i] += refined[start:start + i.numel()]
                    start += i.numel()
        else:
            for t, i in enumerate(indices):
                if i.numel():
                    out[t][i] += self._encode(out[t][i][None],
                                              pos[i][None])[0]
        return out.view(num_frames, h, w, dim).permute(0, 3, 1, 2)


def frame_code(t: int, num_frames: int, dim: int, like: Tensor) -> Tensor:
    """1-D sine code of the normalised frame index, (dim,)."""
    pos = (t + 1) / (num_frames + 1e-6) * 2 * math.pi
    dim_t = torch.arange(dim, dtype=torch.float32, device=like.device)
    dim_t = 10000**(2 * (dim_t // 2) / dim)
    code = pos / dim_t
    return torch.where(
        torch.arange(dim, device=like.device) % 2 == 0, code.sin(),
        code.cos()).to(like.dtype)
