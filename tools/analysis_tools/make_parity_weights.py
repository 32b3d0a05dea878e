# Copyright (c) mmvmt contributors.
"""Deterministic pseudo-weights in the released VMT checkpoint layout, for
R50, R101 and Swin-L.

Example::

    python tools/analysis_tools/make_parity_weights.py --arch swin-l \
        --seed 0 --out vmt_swin-l_seed0.pth

The file is ``{'model': state_dict}`` with the original model's keys (819
R50, 1074 R101, 913 Swin-L entries, the lists in
``../shared/parity/keys/``), plain tensors only, so it loads with
``weights_only=True`` in both the original code and mmvmt. It prints the
key count, a ``content_sha256`` over sorted key names, shapes and raw
little-endian bytes (independent of torch's serialisation), and the file's
sha256. The bytes do not depend on the output name (saved through a memory
buffer).

The rule is the parity kit's ``make_weights.py`` (``--arch r50`` gives its
content hash), extended to the other backbones:

* every key has its own ``torch.Generator`` seeded with
  ``(seed * 1_000_003 + crc32(key)) mod 2**63`` and draws ``z ~ N(0, 1)``
  once;
* ResNet frozen BN: weight ``1 + 0.1z`` (``bn3``: ``0.25 (1 + 0.1z)``),
  bias and running mean ``0.1z``, running var ``1 + 0.1|z|``;
* layer/group norms (every key with ``.norm``, the input projections'
  GroupNorm; for Swin also its block, patch-embedding, patch-merging and
  stage norms): weight ``1 + 0.1z``, bias ``0.1z``;
* 4-d weights ``z sqrt(2 / fan_in)``, other matrices ``z / sqrt(fan_in)``
  (Swin's relative-position bias tables included, fan_in = heads), other
  biases ``0.1z``, ``query_embed`` and ``level_embed`` ``z``;
* Swin's ``relative_position_index`` buffers are not random: the index of
  the relative offset inside a 12 x 12 window, as Swin defines it;
* the kit's special cases, unchanged: class heads (x2 weights, bias
  ``-log(99) + 0.5z``, rows 0 and 41 at -10), box heads (last layer x0.1,
  first head's size bias -1.5), decoder instance-path output projections
  x0.25, dynamic-head controllers (last layer x0.5, coordinate-weight rows
  x0.001, final-bias offsets +1.0 / -0.5 / -1.0), the refinement fusion
  convs' two relative-coordinate input channels x0.001;
* ``detr.transformer.decoder.bbox_embed.*`` are copies of
  ``detr.bbox_embed.*`` (one module under two names in the original).
"""
import argparse
import hashlib
import io
import math
import sys
import zlib
from typing import Dict, List, Tuple

import torch

from mmvmt.utils.atomic_io import atomic_open
from mmvmt.utils.cli_errors import run_cli

COORD_SCALE = 0.001
FINAL_BIAS = {'controller': 1.0, 'controller_inc': -0.5,
              'controller_refine': -1.0}
DEC_DAMP = 0.25
DEC_DAMPED = ('.self_attn.out_proj.weight', '.cross_attn.output_proj.weight',
              '.linear2.weight')
CTRL_CIN = {'controller': 10, 'controller_inc': 11, 'controller_refine': 11}
RESNET_BLOCKS = {'r50': (3, 4, 6, 3), 'r101': (3, 4, 23, 3)}
SWIN_L = dict(embed_dims=192, depths=(2, 2, 18, 2), heads=(6, 12, 24, 48),
              window=12)
NUM_KEYS = {'r50': 819, 'r101': 1074, 'swin-l': 913}

Shape = Tuple[int, ...]


class _Keys:
    """Collects (key, shape, dtype) in the order the layers are declared."""

    def __init__(self) -> None:
        self.items: List[Tuple[str, Shape, torch.dtype]] = []

    def add(self, key: str, *shape: int, dtype=torch.float32) -> None:
        self.items.append((key, tuple(shape), dtype))

    def lin(self, p: str, out: int, inp: int) -> None:
        self.add(p + '.weight', out, inp)
        self.add(p + '.bias', out)

    def conv(self, p: str, out: int, inp: int, k: int, bias=True) -> None:
        self.add(p + '.weight', out, inp, k, k)
        if bias:
            self.add(p + '.bias', out)

    def norm(self, p: str, c: int) -> None:
        self.add(p + '.weight', c)
        self.add(p + '.bias', c)

    def bn(self, p: str, c: int) -> None:
        for leaf in ('weight', 'bias', 'running_mean', 'running_var'):
            self.add(f'{p}.{leaf}', c)

    def mha(self, p: str, dim: int) -> None:
        self.add(p + '.in_proj_weight', 3 * dim, dim)
        self.add(p + '.in_proj_bias', 3 * dim)
        self.lin(p + '.out_proj', dim, dim)


def _resnet(keys: _Keys, blocks: Tuple[int, ...]) -> List[int]:
    b = 'detr.backbone.0.body'
    keys.conv(f'{b}.conv1', 64, 3, 7, bias=False)
    keys.bn(f'{b}.bn1', 64)
    inp = 64
    for li, (nb, w) in enumerate(zip(blocks, (64, 128, 256, 512)), start=1):
        for j in range(nb):
            p = f'{b}.layer{li}.{j}'
            keys.conv(p + '.conv1', w, inp, 1, bias=False)
            keys.bn(p + '.bn1', w)
            keys.conv(p + '.conv2', w, w, 3, bias=False)
            keys.bn(p + '.bn2', w)
            keys.conv(p + '.conv3', 4 * w, w, 1, bias=False)
            keys.bn(p + '.bn3', 4 * w)
            if j == 0:
                keys.conv(p + '.downsample.0', 4 * w, inp, 1, bias=False)
                keys.bn(p + '.downsample.1', 4 * w)
            inp = 4 * w
    return [512, 1024, 2048]


def _swin(keys: _Keys) -> List[int]:
    b, c = 'detr.backbone.0.body', SWIN_L['embed_dims']
    win = SWIN_L['window']
    keys.conv(f'{b}.patch_embed.proj', c, 3, 4)
    keys.norm(f'{b}.patch_embed.norm', c)
    dims = [c * 2**i for i in range(4)]
    for i, (depth, heads) in enumerate(zip(SWIN_L['depths'],
                                           SWIN_L['heads'])):
        d = dims[i]
        for j in range(depth):
            p = f'{b}.layers.{i}.blocks.{j}'
            keys.norm(p + '.norm1', d)
            keys.add(p + '.attn.relative_position_bias_table',
                     (2 * win - 1)**2, heads)
            keys.add(p + '.attn.relative_position_index', win * win,
                     win * win, dtype=torch.int64)
            keys.lin(p + '.attn.qkv', 3 * d, d)
            keys.lin(p + '.attn.proj', d, d)
            keys.norm(p + '.norm2', d)
            keys.lin(p + '.mlp.fc1', 4 * d, d)
            keys.lin(p + '.mlp.fc2', d, 4 * d)
        if i < 3:
            p = f'{b}.layers.{i}.downsample'
            keys.add(p + '.reduction.weight', 2 * d, 4 * d)
            keys.norm(p + '.norm', 4 * d)
    for i, d in enumerate(dims):
        keys.norm(f'{b}.norm{i}', d)
    return dims[1:]


def key_shapes(arch: str) -> List[Tuple[str, Shape, torch.dtype]]:
    """Every (key, shape, dtype) of the original model's state_dict."""
    keys = _Keys()
    chans = _swin(keys) if arch == 'swin-l' else _resnet(
        keys, RESNET_BLOCKS[arch])
    d = 256
    for lvl, ch in enumerate(chans):
        keys.conv(f'detr.input_proj.{lvl}.0', d, ch, 1)
        keys.norm(f'detr.input_proj.{lvl}.1', d)
    keys.conv('detr.input_proj.3.0', d, chans[-1], 3)
    keys.norm('detr.input_proj.3.1', d)
    keys.add('detr.query_embed.weight', 300, 2 * d)
    t = 'detr.transformer'
    keys.add(f'{t}.level_embed', 4, d)
    keys.lin(f'{t}.reference_points', 2, d)

    def msda(p: str) -> None:
        keys.lin(p + '.sampling_offsets', 256, d)
        keys.lin(p + '.attention_weights', 128, d)
        for n in ('value_proj', 'output_proj', 'output_proj_box'):
            keys.lin(f'{p}.{n}', d, d)

    for i in range(6):
        p = f'{t}.encoder.layers.{i}'
        msda(p + '.self_attn')
        keys.norm(p + '.norm1', d)
        keys.lin(p + '.linear1', 1024, d)
        keys.lin(p + '.linear2', d, 1024)
        keys.norm(p + '.norm2', d)
    for i in range(6):
        p = f'{t}.decoder.layers.{i}'
        msda(p + '.cross_attn')
        keys.mha(p + '.self_attn', d)
        keys.mha(p + '.self_attn_box', d)
        for n in ('norm1', 'norm1_box', 'norm2', 'norm2_box', 'norm3',
                  'norm3_box'):
            keys.norm(f'{p}.{n}', d)
        for s in ('', '_box'):
            keys.lin(f'{p}.linear1{s}', 1024, d)
            keys.lin(f'{p}.linear2{s}', d, 1024)
        keys.lin(p + '.time_attention_weights', 1, d)
    for i in range(6):
        for pre in ('detr.bbox_embed', f'{t}.decoder.bbox_embed'):
            keys.lin(f'{pre}.{i}.layers.0', d, d)
            keys.lin(f'{pre}.{i}.layers.1', d, d)
            keys.lin(f'{pre}.{i}.layers.2', 4, d)
        keys.lin(f'detr.class_embed.{i}', 42, d)
    for name, nparam in (('controller', 169), ('controller_inc', 177),
                         ('controller_refine', 177)):
        keys.lin(f'{name}.layers.0', d, d)
        keys.lin(f'{name}.layers.1', d, d)
        keys.lin(f'{name}.layers.2', nparam, d)
    keys.conv('mask_head.lay1', 64, 256, 3)
    keys.conv('mask_head.lay2', 8, 64, 3)
    for n in ('lay3', 'lay4', 'dcn'):
        keys.conv(f'mask_head.{n}', 256, 256, 3)
    hr = 192 if arch == 'swin-l' else 256
    keys.conv('lay_hr1', hr, 256, 3)
    keys.conv('lay1_h', 64, hr, 3)
    keys.conv('lay2_h', 8, 64, 3)
    keys.conv('lay_hr1_c', 64, 64, 1)
    if arch == 'swin-l':
        keys.conv('lay_compress', 64, 192, 1)
    keys.conv('conv_norm_relus_fuse_img.0', 32, 3, 3)
    keys.conv('conv_norm_relus_fuse_img.2', 64, 32, 1)
    keys.conv('conv_norm_relus_fuse_img.4', 64, 64, 1)
    for k in range(1, 5):
        keys.conv(f'conv_norm_relus_fuse_all_{k}.0', 32, 69, 3)
        keys.conv(f'conv_norm_relus_fuse_all_{k}.2', 32, 32, 1)
        keys.conv(f'conv_norm_relus_fuse_all_{k}.4', 11, 32, 1)
    for i in range(3):
        p = f'encoder.layers.{i}'
        keys.mha(p + '.self_attn', 64)
        keys.lin(p + '.linear1', 2048, 64)
        keys.lin(p + '.linear2', 64, 2048)
        keys.norm(p + '.norm1', 64)
        keys.norm(p + '.norm2', 64)
    return keys.items


def relative_position_index(win: int) -> torch.Tensor:
    """Swin's index of the relative offset between two window positions.

    Returns:
        Tensor: (win*win, win*win) int64, ``(dy + win - 1) * (2 win - 1) +
        (dx + win - 1)`` for positions i, j in row-major window order with
        ``(dy, dx) = pos_i - pos_j``.
    """
    ys, xs = torch.meshgrid(torch.arange(win), torch.arange(win),
                            indexing='ij')
    ys, xs = ys.flatten(), xs.flatten()
    dy = ys[:, None] - ys[None, :] + win - 1
    dx = xs[:, None] - xs[None, :] + win - 1
    return dy * (2 * win - 1) + dx


def _bias(key: str, z: torch.Tensor) -> torch.Tensor:
    x = 0.1 * z
    if key.startswith('detr.class_embed.'):
        x = -math.log(99.0) + 0.5 * z
        x[0] = -10.0
        x[41] = -10.0
    if key == 'detr.bbox_embed.0.layers.2.bias':
        x[2:] = -1.5
    for name, offset in FINAL_BIAS.items():
        if key == f'{name}.layers.2.bias':
            x[-1] += offset
    return x


def _matrix(key: str, z: torch.Tensor) -> torch.Tensor:
    x = z / math.sqrt(z.shape[-1])
    if key.startswith('detr.class_embed.'):
        x = 2.0 * x
    if key.startswith('detr.transformer.decoder.layers.') and \
            key.endswith(DEC_DAMPED):
        x = DEC_DAMP * x
    if key.startswith('detr.bbox_embed.') and '.layers.2.' in key:
        x = 0.1 * x
    for name, cin in CTRL_CIN.items():
        if key == f'{name}.layers.2.weight':
            x = 0.5 * x
            for o in range(8):
                x[o * cin:o * cin + 2] *= COORD_SCALE
    return x


def make_tensor(key: str, shape: Shape, seed: int) -> torch.Tensor:
    """The pseudo-weight of one float key (see the module docstring)."""
    g = torch.Generator().manual_seed(
        (seed * 1_000_003 + zlib.crc32(key.encode())) % (2**63))
    z = torch.randn(shape, generator=g, dtype=torch.float32)
    leaf = key.rsplit('.', 1)[-1]
    backbone_bn = key.startswith('detr.backbone.') and (
        '.bn' in key or '.downsample.1.' in key)
    is_norm = ('.norm' in key or (key.startswith('detr.input_proj.')
                                  and '.1.' in key)) and not backbone_bn
    if backbone_bn:
        if leaf == 'weight':
            return (1 + 0.1 * z) * (0.25 if '.bn3.' in key else 1.0)
        if leaf == 'running_var':
            return 1 + 0.1 * z.abs()
        return 0.1 * z
    if is_norm:
        return 1 + 0.1 * z if leaf == 'weight' else 0.1 * z
    if key in ('detr.query_embed.weight', 'detr.transformer.level_embed'):
        return z
    if leaf in ('bias', 'in_proj_bias'):
        return _bias(key, z)
    if len(shape) == 4:
        x = z * math.sqrt(2.0 / (shape[1] * shape[2] * shape[3]))
        if key.startswith('conv_norm_relus_fuse_all_') and \
                key.endswith('.0.weight'):
            x[:, 67:69] *= COORD_SCALE
        return x
    return _matrix(key, z)


def make_state_dict(arch: str, seed: int) -> Dict[str, torch.Tensor]:
    """All tensors of the original checkpoint, keys sorted."""
    alias = 'detr.transformer.decoder.bbox_embed.'
    items = key_shapes(arch)
    sd = {}
    for key, shape, dtype in items:
        if key.startswith(alias):
            continue
        if dtype == torch.int64:
            sd[key] = relative_position_index(SWIN_L['window'])
        else:
            sd[key] = make_tensor(key, shape, seed)
    for key, _, _ in items:
        if key.startswith(alias):
            sd[key] = sd[key.replace(alias, 'detr.bbox_embed.')].clone()
    return {k: sd[k].contiguous() for k in sorted(sd)}


def content_sha256(sd: Dict[str, torch.Tensor]) -> str:
    """sha256 over sorted key names, shapes and little-endian raw bytes."""
    h = hashlib.sha256()
    for k in sorted(sd):
        v = sd[k].numpy()
        h.update(k.encode())
        h.update(str(tuple(v.shape)).encode())
        h.update(v.astype(v.dtype.newbyteorder('<')).tobytes())
    return h.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--arch', choices=sorted(NUM_KEYS), default='r50')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    sd = make_state_dict(args.arch, args.seed)
    assert len(sd) == NUM_KEYS[args.arch], len(sd)
    buf = io.BytesIO()
    torch.save({'model': sd}, buf)
    data = buf.getvalue()
    with atomic_open(args.out, 'wb') as f:
        f.write(data)
    print(f'keys={len(sd)} numel={sum(v.numel() for v in sd.values())}')
    print(f'content_sha256={content_sha256(sd)}')
    print(f'file_sha256={hashlib.sha256(data).hexdigest()}')


if __name__ == '__main__':
    sys.exit(run_cli(main))
