# Copyright (c) mmvmt contributors.
"""mmdet's ``ChannelMapper`` whose GroupNorm statistics ignore padding."""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet.models.necks import ChannelMapper
from torch import Tensor, nn

from mmvmt.registry import MODELS


def resize_padding_mask(padding_mask: Tensor,
                        size: Tuple[int, int]) -> Tensor:
    """(N, H, W) bool padding mask -> (N, h, w) by nearest resizing (the
    masks of the transformer's levels and of the neck's GroupNorm)."""
    return F.interpolate(padding_mask[None].float(),
                         size=size).to(torch.bool)[0]


def masked_group_norm(x: Tensor, norm: nn.GroupNorm, valid: Tensor) -> Tensor:
    """GroupNorm whose mean and variance are taken over valid cells only.

    Args:
        x (Tensor): (N, C, h, w).
        norm (nn.GroupNorm): Supplies groups, eps and the affine weights.
        valid (Tensor): (N, h, w) bool, True inside the image.

    Returns:
        Tensor: (N, C, h, w), every cell normalised with its group's
        statistics over the valid cells (equal to ``norm(x)`` when all
        cells are valid).
    """
    num, channels, height, width = x.shape
    groups = x.reshape(num, norm.num_groups, -1, height * width)
    weight = valid.reshape(num, 1, 1, height * width).to(x.dtype)
    count = weight.sum(-1, keepdim=True).clamp(min=1) * groups.shape[2]
    mean = (groups * weight).sum((2, 3), keepdim=True) / count
    var = ((groups - mean)**2 * weight).sum((2, 3), keepdim=True) / count
    out = ((groups - mean) * torch.rsqrt(var + norm.eps)).reshape(
        num, channels, height, width)
    if norm.affine:
        out = out * norm.weight.view(1, -1, 1, 1) + \
            norm.bias.view(1, -1, 1, 1)
    return out


@MODELS.register_module()
class PaddingAwareChannelMapper(ChannelMapper):
    """``ChannelMapper`` (same layers and weights) that, given the padding
    mask of a padded batch, takes its GroupNorm statistics over the image
    cells only, so the outputs inside a frame's image do not depend on how
    far the batch pads it. Without a mask it is ``ChannelMapper``.

    Args: see mmdet's ``ChannelMapper``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for module in [*self.convs, *(self.extra_convs or [])]:
            if module.order != ('conv', 'norm', 'act') or \
                    module.with_explicit_padding:
                raise ValueError('PaddingAwareChannelMapper needs '
                                 "order=('conv', 'norm', 'act') and no "
                                 'explicit padding layer')

    def _run(self, module: ConvModule, x: Tensor,
             padding_mask: Tensor) -> Tensor:
        out = module.conv(x)
        if module.with_norm and isinstance(module.norm, nn.GroupNorm):
            valid = ~resize_padding_mask(padding_mask, out.shape[-2:])
            out = masked_group_norm(out, module.norm, valid)
        elif module.with_norm:
            out = module.norm(out)
        return module.activate(out) if module.with_activation else out

    def forward(self,
                inputs: Tuple[Tensor],
                padding_mask: Optional[Tensor] = None) -> Tuple[Tensor]:
        """Map every level to ``out_channels`` (+ the extra levels).

        Args:
            inputs (tuple[Tensor]): (N, C_l, h_l, w_l) backbone levels.
            padding_mask (Tensor, optional): (N, H, W) bool at input
                resolution, True at padding; each level's cells are taken
                from it by nearest resizing (as the transformer's masks).
                None: plain ``ChannelMapper``.

        Returns:
            tuple[Tensor]: (N, out_channels, h_l, w_l) per output level.
        """
        if padding_mask is None:
            return super().forward(inputs)
        assert len(inputs) == len(self.convs)
        outs = [self._run(conv, x, padding_mask)
                for conv, x in zip(self.convs, inputs)]
        for i, conv in enumerate(self.extra_convs or []):
            outs.append(self._run(conv, inputs[-1] if i == 0 else outs[-1],
                                  padding_mask))
        return tuple(outs)
