# Copyright (c) mmvmt contributors.
"""A learned detector of each instance's incoherent (error-prone) pixels
(our reconstruction after Mask Transfiner's incoherence head; VMT released
none)."""
import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmvmt.registry import MODELS


@MODELS.register_module()
class IncoherenceHead(BaseModule):
    """Per-instance incoherence logits at stride 4.

    Input per frame and instance: the mask features M4 (``mask_dims``
    channels), the high-resolution features G4' (``hires_channels``) and
    the instance's inc-stage probability ``sigmoid(L4)`` (1 channel), all
    detached (the head's loss trains only the head, as Mask Transfiner's
    head reads a detached RoI feature). Layers: 3x3 conv to
    ``feat_channels``, ReLU, 3x3 conv, ReLU, 1x1 conv to one logit. The
    first conv is linear, so its shared part (M4, G4') is convolved once
    per frame and only the probability channel per instance.

    Args:
        mask_dims (int): Channels of M4. Defaults to 8.
        hires_channels (int): Channels of G4'. Defaults to 64.
        feat_channels (int): Hidden channels. Defaults to 32.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 mask_dims: int = 8,
                 hires_channels: int = 64,
                 feat_channels: int = 32,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.shared_channels = mask_dims + hires_channels
        self.conv1 = nn.Conv2d(self.shared_channels + 1, feat_channels, 3,
                               padding=1)
        self.conv2 = nn.Conv2d(feat_channels, feat_channels, 3, padding=1)
        self.conv_logits = nn.Conv2d(feat_channels, 1, 1)

    def forward(self, mask4: Tensor, g4: Tensor, logit4: Tensor) -> Tensor:
        """Incoherence logits of every instance.

        Args:
            mask4 (Tensor): (T, mask_dims, h4, w4) mask features M4.
            g4 (Tensor): (T, hires_channels, h4, w4) features G4'.
            logit4 (Tensor): (T, n, h4, w4) inc-stage logits L4.

        Returns:
            Tensor: (T, n, h4, w4) incoherence logits.
        """
        num_frames, num_insts, h4, w4 = logit4.shape
        shared_in = torch.cat([mask4, g4], 1).detach()
        weight = self.conv1.weight
        shared = F.conv2d(shared_in, weight[:, :self.shared_channels],
                          self.conv1.bias, padding=1)  # (T, C, h4, w4)
        out = []
        for i in range(num_insts):  # one instance at a time: flat memory
            own = F.conv2d(logit4[:, i:i + 1].detach().sigmoid(),
                           weight[:, self.shared_channels:], None, padding=1)
            x = F.relu(self.conv2(F.relu(shared + own)))
            out.append(self.conv_logits(x))
        if not out:
            return logit4.new_zeros(num_frames, 0, h4, w4)
        return torch.cat(out, 1)
