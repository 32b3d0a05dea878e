# Copyright (c) mmvmt contributors.
"""Ground truth of incoherent regions: Mask Transfiner's information loss
of a mask under down- and up-sampling (``vmt-paper-refinement.md`` 2.4)."""
from typing import Sequence

import torch.nn.functional as F
from torch import Tensor


def incoherence_targets(masks: Tensor, low_size: Sequence[int],
                        threshold: float = 0.01) -> Tensor:
    """Where a mask loses information when represented at ``low_size``.

    With ``M`` the binary mask at its own (high) resolution and every
    resize bilinear (``align_corners=False``): ``M_s`` = M resized to
    ``low_size``, ``M_r`` = M_s resized back, ``R = |M - M_r|``; the target
    is ``resize(R, low_size) > threshold`` (VMT's helper: strictly greater
    than 0.01). In mmvmt ``M`` is the GT at the refinement's stride 2 and
    ``low_size`` the stride-4 size of the incoherence head, so the target
    marks the pixels a stride-4 mask cannot represent.

    Args:
        masks (Tensor): (..., H, W) binary masks, float.
        low_size (Sequence[int]): (h, w) of the target.
        threshold (float): Defaults to 0.01.

    Returns:
        Tensor: (..., h, w) float 0/1 target.
    """
    lead, (height, width) = masks.shape[:-2], masks.shape[-2:]
    m = masks.reshape(-1, 1, height, width).float()
    small = F.interpolate(m, size=tuple(low_size), mode='bilinear',
                          align_corners=False)
    back = F.interpolate(small, size=(height, width), mode='bilinear',
                         align_corners=False)
    lost = F.interpolate((m - back).abs(), size=tuple(low_size),
                         mode='bilinear', align_corners=False)
    return (lost > threshold).float().reshape(*lead, *low_size)
