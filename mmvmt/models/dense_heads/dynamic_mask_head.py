# Copyright (c) mmvmt contributors.
"""Dynamic (CondInst-like) mask head whose 1x1 conv weights are generated
per instance from its query."""
from typing import List, Tuple

import torch
import torch.nn.functional as F
from mmdet.models.layers import MLP
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmvmt.registry import MODELS


def relative_coords(centers: Tensor,
                    height: int,
                    width: int,
                    stride: int,
                    unit: float = 1.0) -> Tensor:
    """Offsets from every map location to each instance's reference point.

    VMT uses raw pixel offsets (``unit=1``); CondInst divides them by a
    size, which ``unit`` allows.

    Args:
        centers (Tensor): Reference points (x, y) in input pixels,
            (num_frames, num_insts, 2).
        height (int): Map height.
        width (int): Map width.
        stride (int): Map stride in input pixels; location ``i`` sits at
            ``stride * i + stride // 2``.
        unit (float): Input pixels per unit of the offsets. Defaults to 1.

    Returns:
        Tensor: (num_frames, num_insts, 2, height, width) with channels
        ``(ref_x - loc_x, ref_y - loc_y) / unit``.
    """
    dev = centers.device
    xs = torch.arange(0, width * stride, stride, dtype=torch.float32,
                      device=dev) + stride // 2
    ys = torch.arange(0, height * stride, stride, dtype=torch.float32,
                      device=dev) + stride // 2
    dx = centers[..., 0, None, None] - xs[None, None, None, :]
    dy = centers[..., 1, None, None] - ys[None, None, :, None]
    if unit != 1.0:
        dx, dy = dx / unit, dy / unit
    num_frames, num_insts = centers.shape[:2]
    return torch.stack([
        dx.expand(num_frames, num_insts, height, width),
        dy.expand(num_frames, num_insts, height, width)
    ], 2)


@MODELS.register_module()
class DynamicMaskHead(BaseModule):
    """Controller MLP + three dynamic 1x1 convolutions (ReLU between).

    The controller maps an instance query to the parameters
    ``[w0 | w1 | w2 | b0 | b1 | b2]`` of convolutions ``in -> c -> c -> 1``
    (row-major weight blocks), the layout of VMT/SeqFormer/CondInst.

    Args:
        in_channels (int): Input channels of the first dynamic conv.
        channels (int): Hidden channels. Defaults to 8.
        embed_dims (int): Query dimension. Defaults to 256.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int = 8,
                 embed_dims: int = 256,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.channels = channels
        self.weight_nums = [in_channels * channels, channels * channels,
                            channels]
        self.bias_nums = [channels, channels, 1]
        self.num_params = sum(self.weight_nums) + sum(self.bias_nums)
        self.controller = MLP(embed_dims, embed_dims, self.num_params, 3)

    def init_weights(self) -> None:
        """SeqFormer's controller initialisation: xavier-uniform weights,
        zero biases."""
        super().init_weights()
        for layer in self.controller.layers:
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)

    def parse_params(self, params: Tensor) -> Tuple[List[Tensor],
                                                    List[Tensor]]:
        """Split generated parameters into conv weights and biases.

        Args:
            params (Tensor): (num_insts, num_params).

        Returns:
            tuple[list[Tensor]]: weights (num_insts * out, in, 1, 1) and
            biases (num_insts * out,) of the three convs.
        """
        num_insts = params.shape[0]
        splits = torch.split_with_sizes(params,
                                        self.weight_nums + self.bias_nums, 1)
        outs = [self.channels, self.channels, 1]
        ins = [self.in_channels, self.channels, self.channels]
        weights = [
            w.reshape(num_insts * o, i, 1, 1)
            for w, o, i in zip(splits[:3], outs, ins)
        ]
        biases = [b.reshape(num_insts * o) for b, o in zip(splits[3:], outs)]
        return weights, biases

    def forward(self, inst_feats: Tensor, queries: Tensor) -> Tensor:
        """Predict mask logits.

        Args:
            inst_feats (Tensor): Per-instance inputs, (num_frames, num_insts,
                in_channels, H, W).
            queries (Tensor): Instance queries, (num_insts, embed_dims); the
                same parameters serve every frame (a tube).

        Returns:
            Tensor: Mask logits, (num_frames, num_insts, H, W).
        """
        num_frames, num_insts, _, h, w = inst_feats.shape
        weights, biases = self.parse_params(self.controller(queries))
        x = inst_feats.reshape(num_frames, -1, h, w)
        for i, (weight, bias) in enumerate(zip(weights, biases)):
            x = F.conv2d(x, weight, bias, groups=num_insts)
            if i < 2:
                x = F.relu(x, inplace=True)
        return x.reshape(num_frames, num_insts, h, w)
