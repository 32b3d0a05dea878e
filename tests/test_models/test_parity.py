# Copyright (c) mmvmt contributors.
"""Parity with the original VMT (R50) on the shared parity kit.

The pseudo-weights are regenerated with the kit's ``make_weights.py``,
converted with ``tools/model_converters/vmt_to_mmvmt.py`` and run through
the user path ``tools/test.py configs/vmt/vmt_r50.py CKPT --data-root ...
--format-only``; ``results.json`` and the intermediate tensors are compared
with the original's within the kit's tolerances.
"""
import json
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest

from ..conftest import ROOT, shared_path
from .parity_utils import (check_close, check_results_through_tools_test,
                           check_stages, convert_kit_weights, run_in_process)

CONFIG = osp.join(ROOT, 'configs', 'vmt', 'vmt_r50.py')
CASES = ['tiny', 'small', 'medium']


@pytest.fixture(scope='module')
def parity_ckpt(tmp_path_factory):
    """Pseudo-weights of the kit, converted to mmvmt."""
    return convert_kit_weights(tmp_path_factory.mktemp('parity_weights'))


def case_info(case):
    folder = shared_path('parity', case)
    return folder, json.load(open(osp.join(folder, 'case.json')))


@pytest.mark.parametrize('case', CASES)
def test_results_json_through_tools_test(case, parity_ckpt, tmp_path):
    folder, info = case_info(case)
    check_results_through_tools_test(
        CONFIG, parity_ckpt, osp.join(folder, 'data'),
        info['resize_shorter_side'],
        osp.join(folder, 'expected', 'results.json'), str(tmp_path / case))


@pytest.mark.parametrize('case', CASES)
def test_tensors_stage_by_stage(case, parity_ckpt):
    folder, info = case_info(case)
    npz = np.load(osp.join(folder, 'expected', 'tensors.npz'))
    _, frames, out, qids, pairs, masks = run_in_process(
        CONFIG, osp.join(folder, 'data'), info['resize_shorter_side'],
        parity_ckpt)
    for key, ours in (('backbone_C1_conv1', out['hires']),
                      ('backbone_C2_layer1', out['c2'])):
        check_close(npz, key, ours.numpy(), 1e-3, 1e-4)
    check_stages(npz, frames, out, qids, pairs, masks)


def test_tools_test_evaluates_both_aps(parity_ckpt, tmp_path):
    """GT = the original's small-case tubes: our tubes match them, so both
    Tube-Mask AP and Tube-Boundary AP are close to 1 and get printed."""
    import pycocotools.mask as mask_utils
    import shutil
    folder, info = case_info('small')
    root = tmp_path / 'data'
    shutil.copytree(osp.join(folder, 'data'), root)
    gt = json.load(open(root / 'valid.json'))
    expected = json.load(
        open(osp.join(folder, 'expected', 'results.json')))
    gt['annotations'] = [
        dict(id=i + 1, video_id=r['video_id'], category_id=r['category_id'],
             iscrowd=0, segmentations=r['segmentations'],
             areas=[int(mask_utils.area(dict(size=s['size'],
                                             counts=s['counts'].encode())))
                    for s in r['segmentations']])
        for i, r in enumerate(expected)
    ]
    with open(root / 'valid.json', 'w') as f:
        json.dump(gt, f)
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'test.py'), CONFIG, parity_ckpt,
        '--data-root',
        str(root), '--work-dir',
        str(tmp_path / 'run')
    ], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    mask_ap = float(re.search(r'hqvis/mask_AP: ([\d.]+)', log).group(1))
    boundary_ap = float(
        re.search(r'hqvis/boundary_AP: ([\d.]+)', log).group(1))
    assert mask_ap > 0.9 and boundary_ap > 0.9, (mask_ap, boundary_ap)


def test_wrong_architecture_checkpoint_is_reported(parity_ckpt, tmp_path):
    folder, _ = case_info('tiny')
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'test.py'),
        osp.join(ROOT, 'configs', 'vmt', 'vmt_r101.py'), parity_ckpt,
        '--data-root',
        osp.join(folder, 'data'), '--format-only', '--work-dir',
        str(tmp_path / 'run')
    ], capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'does not fit this config' in proc.stderr
    assert not osp.exists(tmp_path / 'run' / 'results.json')


def test_show_dir_paints_frames(parity_ckpt, tmp_path):
    folder, info = case_info('tiny')
    work_dir = tmp_path / 'run'
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'test.py'), CONFIG, parity_ckpt,
        '--data-root',
        osp.join(folder, 'data'), '--format-only', '--short-side', '64',
        '--work-dir',
        str(work_dir), '--show-dir', 'painted'
    ], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    painted = sorted(
        p for p in work_dir.rglob('*.jpg') if 'painted' in str(p))
    assert len(painted) == 2, painted
