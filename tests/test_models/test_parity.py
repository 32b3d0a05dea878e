# Copyright (c) mmvmt contributors.
"""Parity with the original VMT (R50) on the shared parity kit.

The pseudo-weights are regenerated with the kit's ``make_weights.py``,
converted with ``tools/model_converters/vmt_to_mmvmt.py`` and run through
the user path ``tools/test.py configs/vmt/vmt_r50.py CKPT --data-root ...
--format-only``; ``results.json`` and the intermediate tensors are compared
with the original's within the kit's tolerances.
"""
import argparse
import json
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmvmt.registry import DATASETS, MODELS
from mmvmt.utils.cli import apply_test_data_overrides, load_weights_strict
from ..conftest import ROOT, shared_path
from .parity_utils import close, compare_results

CONFIG = osp.join(ROOT, 'configs', 'vmt', 'vmt_r50.py')
CASES = ['tiny', 'small', 'medium']


@pytest.fixture(scope='module')
def parity_ckpt(tmp_path_factory):
    """Pseudo-weights of the kit, converted to mmvmt."""
    kit = shared_path('parity')
    tmp = tmp_path_factory.mktemp('parity_weights')
    raw = str(tmp / 'vmt_r50_seed0.pth')
    proc = subprocess.run([
        sys.executable,
        osp.join(kit, 'make_weights.py'), '--seed', '0', '--out', raw
    ], capture_output=True, text=True, check=True)
    expected = json.load(open(osp.join(kit, 'weights.json')))
    digest = re.search(r'content_sha256=(\w+)', proc.stdout).group(1)
    assert digest == expected['public_weights_seed0']['content_sha256']
    out = str(tmp / 'vmt_r50_mmvmt.pth')
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'model_converters', 'vmt_to_mmvmt.py'), raw,
        out, '--arch', 'r50'
    ], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert '0 unmapped' in proc.stdout
    return out


def case_info(case):
    folder = shared_path('parity', case)
    return folder, json.load(open(osp.join(folder, 'case.json')))


@pytest.mark.parametrize('case', CASES)
def test_results_json_through_tools_test(case, parity_ckpt, tmp_path):
    folder, info = case_info(case)
    work_dir = str(tmp_path / case)
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'test.py'), CONFIG, parity_ckpt,
        '--data-root',
        osp.join(folder, 'data'), '--format-only', '--short-side',
        str(info['resize_shorter_side']), '--work-dir', work_dir
    ], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    actual = json.load(open(osp.join(work_dir, 'results.json')))
    expected = json.load(
        open(osp.join(folder, 'expected', 'results.json')))
    compare_results(actual, expected)
    assert osp.isfile(osp.join(work_dir, 'submission_file.zip'))


def _expected(npz, key, ours):
    """Full expected array, or its stored sub-grid with ours sub-sampled.

    The stride is inferred from the shapes: in the kit the stored
    ``<key>_sub_stride`` does not always belong to ``<key>_sub`` (small:
    ``input_sub`` is a stride-8 grid while ``input_sub_stride`` says 2).
    """
    if key in npz.files:
        return npz[key], ours
    sub = npz[key + '_sub']
    height, width = ours.shape[-2:]
    strides = [
        s for s in range(1, max(height, width) + 1)
        if -(-height // s) == sub.shape[-2] and -(-width // s) == sub.shape[-1]
    ]
    assert strides, (key, ours.shape, sub.shape)
    stored = int(npz[key + '_sub_stride'])
    stride = stored if stored in strides else strides[0]
    return sub, ours[..., ::stride, ::stride]


def run_in_process(case, ckpt):
    folder, info = case_info(case)
    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = '/tmp'
    apply_test_data_overrides(
        cfg,
        argparse.Namespace(
            data_root=osp.join(folder, 'data'),
            ann_file='valid.json',
            short_side=info['resize_shorter_side'],
            format_only=True))
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    model = MODELS.build(cfg.model).eval()
    load_weights_strict(model, ckpt)
    item = dataset[0]
    with torch.no_grad():
        data = model.data_preprocessor(
            dict(inputs=[item['inputs']],
                 data_samples=[item['data_samples']]), False)
        frames = data['inputs'][0]
        out = model.forward_clip(frames, 1)
        query_ids, pair_q, pair_c, pair_s = model.bbox_head.select_instances(
            out['all_cls'][-1][0])
        masks = model.forward_mask_branch(out, frames, 0, query_ids,
                                          tuple(frames.shape[-2:]))
    return frames, out, query_ids, (pair_q, pair_c, pair_s), masks


@pytest.mark.parametrize('case', CASES)
def test_tensors_stage_by_stage(case, parity_ckpt):
    folder, info = case_info(case)
    npz = np.load(osp.join(folder, 'expected', 'tensors.npz'))
    frames, out, qids, pairs, masks = run_in_process(case, parity_ckpt)
    # input: bit-exact preprocessing
    assert list(frames.shape) == npz['input_shape'].tolist()
    exp, ours = _expected(npz, 'input', frames.numpy())
    close(ours, exp, atol=0)
    # backbone and encoder memory
    for key, ours in (('backbone_C1_conv1', out['hires']),
                      ('backbone_C2_layer1', out['c2'])):
        exp, ours = _expected(npz, key, ours.numpy())
        close(ours, exp, atol=1e-3, rtol=1e-4)
    memory = out['memory'].numpy()  # (T, sum_hw, C): tokens x channels
    exp, ours = _expected(npz, 'memory', memory)
    close(ours, exp, atol=1e-3, rtol=1e-4)
    # decoder outputs of the last layer
    close(out['all_cls'][-1][0].numpy(), npz['pred_logits_all'], 1e-3,
          1e-4)
    close(out['all_boxes'][-1][0].numpy(), npz['pred_boxes_all'], 1e-4)
    refs = np.stack([r[0].numpy() for r in out['references'][1:]] +
                    [out['all_boxes'][-1][0].numpy()])
    close(refs, npz['inter_references'], 1e-4)
    close(out['hs'][-1][0].numpy(), npz['hs_last'], 1e-3, 1e-4)
    # selection: same queries and (query, class) pairs, scores within 1e-4
    assert sorted(qids.tolist()) == sorted(npz['sel_query_ids'].tolist())
    pair_q, pair_c, pair_s = pairs
    flat = (pair_q * 42 + pair_c).tolist()
    assert flat == npz['topk10_flat_idx'].tolist()
    close(pair_s.numpy(), npz['topk10_scores'], 1e-4)
    # mask stages, aligned by query id (the original uses set order)
    order = [qids.tolist().index(q) for q in npz['sel_query_ids'].tolist()]
    for key in ('mask_L8', 'mask_L4', 'mask_L2', 'pred_masks',
                'pred_masks_inc', 'pred_masks_refine'):
        ours = masks[key][:, order].transpose(0, 1).numpy()
        exp, ours = _expected(npz, key, ours)
        close(ours, exp, atol=1e-3, rtol=1e-4)
    band = masks['band'].numpy()
    assert (band == npz['band_s2'].astype(bool)).all()
    assert band.reshape(band.shape[0], -1).sum(1).tolist() == \
        npz['n_points'].tolist()
    # final probabilities at the original size
    ori = tuple(npz['orig_hw'].tolist())
    prob = torch.nn.functional.interpolate(
        masks['pred_masks_refine'], size=ori, mode='bilinear',
        align_corners=False).sigmoid()[:, order].transpose(0, 1).numpy()
    exp, ours = _expected(npz, 'final_prob', prob)
    close(ours, exp, atol=1e-4)


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
