# Copyright (c) mmvmt contributors.
"""Parity of VMT-R101 and VMT-Swin-L with the original code.

The cases in ``tests/data/parity_<arch>/<case>/`` were recorded by running
the original SysCV/vmt code (``tests/data/parity_runner/``, README there)
on the parity kit's frames with the pseudo-weights of
``tools/analysis_tools/make_parity_weights.py --arch <arch> --seed 0``.
Here those weights are regenerated (content hash checked), converted with
``tools/model_converters/vmt_to_mmvmt.py --arch <arch>``, run through
``tools/test.py configs/vmt/vmt_<arch>.py CKPT --format-only`` and, in
process, compared stage by stage with the kit's tolerances.
"""
import json
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ..conftest import ROOT, shared_path
from .parity_utils import (check_close, check_results_through_tools_test,
                           check_stages, run_in_process)

ARCHS = ('r101', 'swin-l')
CASES = [(arch, case) for arch in ARCHS for case in ('tiny', 'small')]


def case_dir(arch: str, case: str) -> str:
    return osp.join(ROOT, 'tests', 'data', f'parity_{arch}', case)


def config_of(arch: str) -> str:
    return osp.join(ROOT, 'configs', 'vmt', f'vmt_{arch}.py')


def _convert(arch: str, tmp) -> str:
    """Pseudo-weights of one architecture, regenerated and converted."""
    raw, out = str(tmp / 'original.pth'), str(tmp / 'mmvmt.pth')
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'analysis_tools', 'make_parity_weights.py'),
        '--arch', arch, '--seed', '0', '--out', raw
    ], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    digest = re.search(r'content_sha256=(\w+)', proc.stdout).group(1)
    for case in ('tiny', 'small'):
        info = json.load(open(osp.join(case_dir(arch, case), 'case.json')))
        assert digest == info['weights']['content_sha256'], case
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'model_converters', 'vmt_to_mmvmt.py'), raw,
        out, '--arch', arch
    ], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '0 unmapped' in proc.stdout
    return out


@pytest.fixture(scope='module')
def ckpts(tmp_path_factory):
    """``ckpts(arch)``: the converted pseudo-weights, made once per arch."""
    made = {}

    def get(arch: str) -> str:
        if arch not in made:
            made[arch] = _convert(arch, tmp_path_factory.mktemp(arch))
        return made[arch]

    return get


def _case(arch: str, case: str):
    folder = case_dir(arch, case)
    info = json.load(open(osp.join(folder, 'case.json')))
    return folder, info, shared_path('parity', case, 'data')


@pytest.mark.parametrize('arch,case', CASES)
def test_results_json_through_tools_test(arch, case, ckpts, tmp_path):
    ckpt = ckpts(arch)
    folder, info, data = _case(arch, case)
    check_results_through_tools_test(
        config_of(arch), ckpt, data, info['resize_shorter_side'],
        osp.join(folder, 'expected', 'results.json'), str(tmp_path / 'run'))


@pytest.mark.parametrize('arch,case', CASES)
def test_tensors_stage_by_stage(arch, case, ckpts):
    ckpt = ckpts(arch)
    folder, info, data = _case(arch, case)
    npz = np.load(osp.join(folder, 'expected', 'tensors.npz'))
    model, frames, out, qids, pairs, masks = run_in_process(
        config_of(arch), data, info['resize_shorter_side'], ckpt)
    with torch.no_grad():
        levels = model.backbone(frames)
    names = ['C2_layer1', 'C3_layer2', 'C4_layer3', 'C5_layer4']
    if arch == 'swin-l':  # stages 0-3 after their norms; no stem
        assert len(levels) == 4
        with torch.no_grad():
            hires = model.mask_head.lay_compress(
                F.interpolate(out['c2'], scale_factor=2, mode='nearest'))
        check_close(npz, 'hires', hires.numpy(), 1e-3, 1e-4)
    else:  # raw stem conv (stride 2), layer1-4
        names = ['C1_conv1'] + names
    assert len(levels) == len(names)
    for name, level in zip(names, levels):
        check_close(npz, 'backbone_' + name, level.numpy(), 1e-3, 1e-4)
    check_stages(npz, frames, out, qids, pairs, masks)
