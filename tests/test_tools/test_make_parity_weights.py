# Copyright (c) mmvmt contributors.
"""tools/analysis_tools/make_parity_weights.py: the kit's R50 weights bit
for bit, the released key lists of R101 and Swin-L, Swin's
relative-position index as mmdet builds it, and its bad input."""
import importlib.util
import json
import os.path as osp
import re

import pytest
import torch

from ..bad_inputs import assert_one_line_error, run_tool
from ..conftest import ROOT, shared_path

SCRIPT = osp.join(ROOT, 'tools', 'analysis_tools', 'make_parity_weights.py')


def load_script():
    spec = importlib.util.spec_from_file_location('make_parity_weights',
                                                  SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_r50_is_the_kits_file(tmp_path):
    """Same content hash and the same file bytes as the kit's generator."""
    proc = run_tool(SCRIPT, '--arch', 'r50', '--out', str(tmp_path / 'w'))
    assert proc.returncode == 0, proc.stderr
    expected = json.load(open(shared_path('parity', 'weights.json')))
    expected = expected['public_weights_seed0']
    assert re.search(r'content_sha256=(\w+)', proc.stdout).group(1) == \
        expected['content_sha256']
    assert re.search(r'file_sha256=(\w+)', proc.stdout).group(1) == \
        expected['file_sha256']


@pytest.mark.parametrize('arch', ['r50', 'r101', 'swin-l'])
def test_keys_shapes_dtypes_are_the_released_lists(arch):
    rows = open(shared_path('parity', 'keys', f'vmt_{arch}_keys.tsv'))
    rows = [line.rstrip('\n').split('\t') for line in rows][1:]
    expected = {key: (shape, dtype) for key, shape, dtype in rows}
    ours = {
        key: ('x'.join(map(str, shape)), str(dtype).replace('torch.', ''))
        for key, shape, dtype in load_script().key_shapes(arch)
    }
    assert ours == expected


def test_relative_position_index_is_mmdets():
    from mmdet.models.backbones.swin import WindowMSA
    msa = WindowMSA(embed_dims=12, num_heads=2, window_size=(12, 12))
    ours = load_script().relative_position_index(12)
    assert torch.equal(ours, msa.relative_position_index)


def test_seed_changes_values_not_keys():
    script = load_script()
    a = script.make_tensor('detr.query_embed.weight', (3, 4), seed=0)
    b = script.make_tensor('detr.query_embed.weight', (3, 4), seed=1)
    assert not torch.equal(a, b)
    assert torch.equal(
        a, script.make_tensor('detr.query_embed.weight', (3, 4), seed=0))


def test_missing_output_folder_is_one_line(tmp_path):
    out = tmp_path / 'no' / 'w.pth'
    proc = run_tool(SCRIPT, '--arch', 'r101', '--out', str(out))
    assert_one_line_error(proc, 'does not exist')
    assert not out.parent.exists()
