# Copyright (c) mmvmt contributors.
"""``PaddingAwareChannelMapper`` against plain GroupNorm on the image
alone: on a padded map its outputs inside the image are those of mmdet's
``ChannelMapper`` run on the unpadded image (the 1x1 level convs; the
extra 3x3 stride-2 level reads the padding at the image's edge, so its
statistics are not the unpadded ones)."""
import torch
from mmdet.models.necks import ChannelMapper

from mmvmt.models.necks import PaddingAwareChannelMapper, masked_group_norm


def test_masked_group_norm_is_group_norm_of_the_valid_cells():
    gen = torch.Generator().manual_seed(0)
    norm = torch.nn.GroupNorm(4, 8)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5, generator=gen)
        norm.bias.uniform_(-1, 1, generator=gen)
    x = torch.randn(2, 8, 7, 9, generator=gen)
    valid = torch.zeros(2, 7, 9, dtype=torch.bool)
    valid[0, :5, :6] = True
    valid[1] = True
    out = masked_group_norm(x, norm, valid)
    torch.testing.assert_close(out[0, :, :5, :6], norm(x[:1, :, :5, :6])[0])
    torch.testing.assert_close(out[1], norm(x[1:])[0])  # nothing padded


def test_neck_on_padded_maps_matches_the_unpadded_image():
    cfg = dict(in_channels=[4, 6], kernel_size=1, out_channels=32,
               act_cfg=None, norm_cfg=dict(type='GN', num_groups=8),
               num_outs=3)
    torch.manual_seed(0)
    aware = PaddingAwareChannelMapper(**cfg)
    plain = ChannelMapper(**cfg)
    plain.load_state_dict(aware.state_dict())
    # a 40x48 image inside a 64x96 padded input: levels at strides 8, 16
    image = [torch.randn(1, 4, 5, 6), torch.randn(1, 6, 3, 3)]
    padded = [torch.cat([torch.cat([x, torch.randn(1, x.shape[1], x.shape[2],
                                                   size[1] - x.shape[3])],
                                   3),
                         torch.randn(1, x.shape[1], size[0] - x.shape[2],
                                     size[1])], 2)
              for x, size in zip(image, [(8, 12), (4, 6)])]
    mask = torch.ones(1, 64, 96, dtype=torch.bool)
    mask[:, :40, :48] = False
    with torch.no_grad():
        want = plain(image)
        got = aware(padded, mask)
        unmasked = aware(padded)
    for level in range(2):
        h, w = image[level].shape[-2:]
        torch.testing.assert_close(got[level][..., :h, :w], want[level])
    # plain GroupNorm statistics on the padded maps differ
    assert not torch.allclose(unmasked[0][..., :5, :6], want[0], atol=1e-3)
