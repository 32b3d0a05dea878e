# Copyright (c) mmvmt contributors.
"""The converter maps every released key of R50, R101 and Swin-L onto the
mmvmt model built from the matching config, with nothing missing."""
import csv
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from mmvmt.models.utils import convert_vmt_state_dict, detect_arch
from mmvmt.registry import MODELS
from ..conftest import ROOT, shared_path

ARCH_CONFIG = {
    'r50': 'vmt_r50.py',
    'r101': 'vmt_r101.py',
    'swin-l': 'vmt_swin-l.py'
}


def pseudo_checkpoint(arch):
    """Random tensors with exactly the released keys/shapes/dtypes."""
    path = shared_path('parity', 'keys', f'vmt_{arch}_keys.tsv')
    state = {}
    gen = torch.Generator().manual_seed(0)
    with open(path) as f:
        for row in csv.DictReader(f, delimiter='\t'):
            shape = [int(s) for s in row['shape'].split('x')]
            if row['dtype'] == 'int64':
                state[row['key']] = torch.randint(0, 100, shape,
                                                  generator=gen)
            else:
                state[row['key']] = torch.randn(shape, generator=gen)
    # the released decoder bbox_embed is a copy of detr.bbox_embed
    for key in list(state):
        if key.startswith('detr.transformer.decoder.bbox_embed.'):
            state[key] = state[key.replace(
                'detr.transformer.decoder.bbox_embed.', 'detr.bbox_embed.')]
    return state


@pytest.mark.parametrize('arch', sorted(ARCH_CONFIG))
def test_all_released_keys_map_and_load_strictly(arch):
    state = pseudo_checkpoint(arch)
    expected_len = {'r50': 819, 'r101': 1074, 'swin-l': 913}[arch]
    assert len(state) == expected_len
    assert detect_arch(state) == arch
    converted, dropped, unmapped = convert_vmt_state_dict(state, arch)
    assert unmapped == []
    assert len(dropped) == 48  # 36 duplicate bbox_embed + 12 output_proj_box
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'vmt', ARCH_CONFIG[arch]))
    model = MODELS.build(cfg.model)
    own = model.state_dict()
    assert set(own) == set(converted)
    for key, value in converted.items():
        assert own[key].shape == value.shape, key
    model.load_state_dict(converted, strict=True)
    if arch != 'swin-l':
        torch.testing.assert_close(
            model.backbone.conv1.weight,
            state['detr.backbone.0.body.conv1.weight'])
    # the decoder's norms are renumbered: VMT norm2 (after self-attn)
    torch.testing.assert_close(
        model.decoder.layers[3].norms[0].weight,
        state['detr.transformer.decoder.layers.3.norm2.weight'])
    torch.testing.assert_close(
        model.mask_head.fuse_branches[3][4].bias,
        state['conv_norm_relus_fuse_all_4.4.bias'])


def test_cli_reports_wrong_arch_and_bad_files(tmp_path):
    tool = osp.join(ROOT, 'tools', 'model_converters', 'vmt_to_mmvmt.py')
    src = tmp_path / 'r101.pth'
    torch.save({'model': pseudo_checkpoint('r101')}, src)
    proc = subprocess.run(
        [sys.executable, tool, str(src), str(tmp_path / 'o.pth'), '--arch',
         'r50'], capture_output=True, text=True)
    assert proc.returncode != 0 and 'r101' in proc.stderr
    assert not (tmp_path / 'o.pth').exists()
    proc = subprocess.run(
        [sys.executable, tool, str(tmp_path / 'missing.pth'),
         str(tmp_path / 'o.pth')], capture_output=True, text=True)
    assert proc.returncode != 0 and 'not found' in proc.stderr
