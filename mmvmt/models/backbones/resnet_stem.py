# Copyright (c) mmvmt contributors.
"""ResNet that also returns the raw stem convolution output."""
from typing import Tuple

from mmdet.models.backbones import ResNet
from torch import Tensor

from mmvmt.registry import MODELS


@MODELS.register_module()
class ResNetWithStem(ResNet):
    """mmdet's ResNet returning ``(stem, C2, C3, C4, C5)``.

    VMT feeds the output of ``conv1`` (taken right after the 7x7 convolution,
    **before** ``bn1``/ReLU/max-pool) into its refinement stage as the
    stride-2 high-resolution feature. Parameter names are those of mmdet's
    ResNet (torchvision layout), so released weights load unchanged.

    Args:
        out_stem (bool): Prepend the raw stem output to the outputs.
            Defaults to True.
        **kwargs: Arguments of :class:`mmdet.models.backbones.ResNet`.
    """

    def __init__(self, out_stem: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        if self.deep_stem and out_stem:
            raise ValueError('out_stem needs the single-conv stem '
                             '(deep_stem=False)')
        self.out_stem = out_stem

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Run the backbone.

        Args:
            x (Tensor): Images, (N, 3, H, W).

        Returns:
            tuple[Tensor]: With ``out_stem``: the raw stem conv output
            (N, 64, ceil(H/2), ceil(W/2)) followed by the stages selected by
            ``out_indices`` (e.g. C2..C5, strides 4..32).
        """
        if self.deep_stem:
            x = self.stem(x)
            stem = x
        else:
            x = self.conv1(x)
            stem = x
            x = self.norm1(x)
            x = self.relu(x)
        x = self.maxpool(x)
        outs = [stem] if self.out_stem else []
        for i, layer_name in enumerate(self.res_layers):
            x = getattr(self, layer_name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
