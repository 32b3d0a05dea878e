# Copyright (c) mmvmt contributors.
"""``VMTMaskHead(coord_unit=u)`` divides every coordinate input of the mask
branch by ``u``: checked as an exact reparametrisation. Coordinates enter
linearly (the first dynamic conv of the coarse and inc heads, the first
conv of the fusion branches; the refine head's dynamic conv sees the fused
maps only), so a head with unit ``u`` whose coordinate weights
are ``u`` times larger must give the outputs of the released head (unit 1)."""
import torch

from .test_incoherence import mask_head_inputs
from .test_vmt import small_model

UNIT = 64.0
COORD_CHANNELS = (0, 1)  # relative (dx, dy) come first in their inputs


def scale_coordinate_weights(head, unit: float) -> None:
    """Multiply by ``unit`` every weight that a coordinate channel meets."""
    with torch.no_grad():
        for dyn in (head.coarse_head, head.inc_head):
            # generated w0 is (channels, in_channels) row-major at the
            # start of the parameter vector: entry c * in + j meets input j
            last = dyn.controller.layers[-1]
            rows = [c * dyn.in_channels + j for c in range(dyn.channels)
                    for j in COORD_CHANNELS]
            last.weight[rows] *= unit
            last.bias[rows] *= unit
        hc = head.fuse_branches[0][0].in_channels - 5
        for branch in head.fuse_branches:
            # fusion input [feats (hc), 3 instance maps, x, y]
            branch[0].weight[:, hc + 3:] *= unit


def test_coord_unit_reparametrises_the_coordinate_weights():
    head = small_model().mask_head
    assert head.coord_unit == 1.0  # the released default
    inputs = mask_head_inputs(num_insts=4, embed_dims=256, seed=1,
                              box_size=0.3)
    with torch.no_grad():
        released = head(*inputs)
        head.coord_unit = UNIT
        rescaled_inputs_only = head(*inputs)
        scale_coordinate_weights(head, UNIT)
        rescaled = head(*inputs)
    for key in ('mask_L8', 'mask_L4', 'mask_L2', 'pred_masks_refine'):
        torch.testing.assert_close(rescaled[key], released[key],
                                   rtol=1e-4, atol=1e-4)
    assert torch.equal(rescaled['band'], released['band'])
    # the unit does change the head's function when the weights stay
    diff = (rescaled_inputs_only['mask_L8'] - released['mask_L8']).abs()
    assert diff.max() > 1e-2
