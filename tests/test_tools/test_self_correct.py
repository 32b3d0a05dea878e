# Copyright (c) mmvmt contributors.
"""tools/misc/self_correct.py as a user runs it: corrected labels that the
dataset reads back, a model run, and nothing written on bad input."""
import json
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config

from mmvmt.datasets.coarse_labels import coarsen_train_split, decode
from mmvmt.datasets.hq_ytvis import HQYTVISDataset
from mmvmt.datasets.self_correction import label_quality
from mmvmt.datasets.toy_generator import TOY_CLASSES, make_toy_dataset
from ..bad_inputs import (TOY_CONFIG, assert_one_line_error, run_tool,
                          toy_checkpoint)
from ..conftest import ROOT

SCRIPT = osp.join('tools', 'misc', 'self_correct.py')


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp('toy_coarse'))
    make_toy_dataset(folder, seed=0, num_videos=3, num_frames=3,
                     size=(64, 96), num_val_videos=1)
    coarsen_train_split(folder, seed=0)
    return folder


def exact_as_predictions(folder: str, path: str) -> str:
    """Predictions that are the exact train masks (score 1)."""
    exact = json.load(open(osp.join(folder, 'train_exact.json')))
    results = [dict(video_id=a['video_id'], category_id=a['category_id'],
                    score=1.0, segmentations=a['segmentations'])
               for a in exact['annotations']]
    with open(path, 'w') as f:
        json.dump(results, f)
    return path


def test_exact_predictions_correct_the_labels(toy, tmp_path):
    preds = exact_as_predictions(toy, str(tmp_path / 'preds.json'))
    out, report = str(tmp_path / 'refined.json'), str(tmp_path / 'r.json')
    proc = run_tool(SCRIPT, '--predictions', preds, '--ann-file',
                    osp.join(toy, 'train.json'), '--out', out, '--report',
                    report, '--iou-thr', '0.3', '--frame-iou-thr', '0.3')
    assert proc.returncode == 0, proc.stderr[-3000:]
    coarse = json.load(open(osp.join(toy, 'train.json')))
    exact = json.load(open(osp.join(toy, 'train_exact.json')))
    refined = json.load(open(out))
    assert refined['videos'] == coarse['videos']
    assert refined['categories'] == coarse['categories']
    for r, c in zip(refined['annotations'], coarse['annotations']):
        assert r['id'] == c['id']
        assert r['segmentations'] == c['segmentations']  # kept
    before = label_quality(coarse['annotations'], exact['annotations'])
    after = label_quality(refined['annotations'], exact['annotations'],
                          'segmentations_refined')
    frames = json.load(open(report))['frames']
    assert frames['replaced'] > 0
    assert after['mask_iou'] > before['mask_iou']
    if frames['replaced'] == sum(v for k, v in frames.items()
                                 if k != 'absent'):
        assert after['mask_iou'] == 1.0
    # the dataset reads the corrected masks and their boxes
    ds = HQYTVISDataset(ann_file=out, data_prefix=dict(
        img_path=osp.join(toy, 'JPEGImages')),
        seg_field='segmentations_refined', metainfo=dict(
            classes=TOY_CLASSES), test_mode=True, lazy_init=False)
    by_id = {a['id']: a for a in refined['annotations']}
    checked = 0
    for index in range(len(ds)):
        for frame in ds.get_data_info(index)['images']:
            for inst in frame['instances']:
                ann = by_id[inst['instance_id']]
                seg = ann['segmentations_refined'][frame['frame_id']]
                assert inst['mask'] == seg
                mask = decode(seg)
                ys, xs = np.nonzero(mask)
                assert inst['bbox'] == [xs.min(), ys.min(), xs.max() + 1,
                                        ys.max() + 1]
                checked += 1
    assert checked > 0


def test_model_run_writes_labels(toy, tmp_path):
    ckpt = toy_checkpoint(str(tmp_path / 'toy.pth'))
    out = str(tmp_path / 'refined.json')
    proc = run_tool(SCRIPT, TOY_CONFIG, ckpt, '--ann-file',
                    osp.join(toy, 'train.json'), '--out', out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    refined = json.load(open(out))
    assert all(len(a['segmentations_refined']) == 3
               for a in refined['annotations'])
    assert 'replaced=' in proc.stdout and 'absent=' in proc.stdout


def test_unknown_video_in_predictions_writes_nothing(toy, tmp_path):
    preds = exact_as_predictions(toy, str(tmp_path / 'preds.json'))
    results = json.load(open(preds))
    results[0]['video_id'] = 999
    json.dump(results, open(preds, 'w'))
    out, report = tmp_path / 'refined.json', tmp_path / 'r.json'
    proc = run_tool(SCRIPT, '--predictions', preds, '--ann-file',
                    osp.join(toy, 'train.json'), '--out', str(out),
                    '--report', str(report))
    assert_one_line_error(proc, 'video 999')
    assert not out.exists() and not report.exists()
    assert os.listdir(tmp_path) == ['preds.json']


def test_checkpoint_of_another_config_writes_nothing(toy, tmp_path):
    ckpt = toy_checkpoint(str(tmp_path / 'toy.pth'))
    out = tmp_path / 'refined.json'
    proc = run_tool(SCRIPT, osp.join(ROOT, 'configs', 'vmt', 'vmt_r50.py'),
                    ckpt, '--ann-file', osp.join(toy, 'train.json'),
                    '--out', str(out))
    assert_one_line_error(proc, 'does not fit this config')
    assert not out.exists()


def test_missing_frame_writes_nothing(toy, tmp_path):
    import shutil
    copy = str(tmp_path / 'copy')
    shutil.copytree(toy, copy)
    video = json.load(open(osp.join(copy, 'train.json')))['videos'][1]
    os.remove(osp.join(copy, 'JPEGImages', video['file_names'][2]))
    out = tmp_path / 'refined.json'
    proc = run_tool(SCRIPT, TOY_CONFIG, toy_checkpoint(
        str(tmp_path / 'toy.pth')), '--ann-file',
        osp.join(copy, 'train.json'), '--out', str(out))
    assert_one_line_error(proc, video['file_names'][2])
    assert not out.exists()


def test_needs_a_model_or_predictions(toy, tmp_path):
    proc = run_tool(SCRIPT, '--ann-file', osp.join(toy, 'train.json'),
                    '--out', str(tmp_path / 'x.json'))
    assert_one_line_error(proc, 'CONFIG and CKPT, or --predictions')


def test_make_toy_dataset_coarse_train(tmp_path):
    out = tmp_path / 'toy'
    proc = run_tool(osp.join('tools', 'misc', 'make_toy_dataset.py'),
                    '--out', str(out), '--videos', '2', '--val-videos', '1',
                    '--frames', '3', '--size', '64x96', '--coarse-train')
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'coarse train labels: tube mask IoU' in proc.stdout
    assert sorted(os.listdir(out)) == ['JPEGImages', 'train.json',
                                       'train_exact.json', 'val.json']


@pytest.mark.parametrize('args,needle', [
    (['--coarse-options', 'tolerance=2'], 'needs --coarse-train'),
    (['--coarse-train', '--coarse-options', 'tol=2'], "unknown coarse option"),
    (['--size', '64x'], '--size must be HxW'),
])
def test_make_toy_dataset_bad_arguments(tmp_path, args, needle):
    out = tmp_path / 'toy'
    proc = run_tool(osp.join('tools', 'misc', 'make_toy_dataset.py'),
                    '--out', str(out), '--videos', '1', '--val-videos', '1',
                    '--frames', '2', *args)
    assert_one_line_error(proc, needle)
    assert not out.exists()


def test_rounds_stage_config(tmp_path):
    """A stage's recipe keeps the toy benchmark's batch and data root and
    trains on the given labels from the given weights."""
    import importlib.util
    path = osp.join(ROOT, 'tools', 'analysis_tools',
                    'self_correction_rounds.py')
    spec = importlib.util.spec_from_file_location('rounds', path)
    rounds = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rounds)
    args = rounds.parse_args(['--iters', '40', '--batch', '3'])
    config = rounds.write_recipe(args, '/data/toy', str(tmp_path / 's1'),
                                 '/w/labels_round1.json',
                                 'segmentations_refined', '/w/iter_40.pth')
    cfg = Config.fromfile(config)
    train = cfg.train_dataloader
    assert train.batch_size == 3
    assert train.dataset.data_root == '/data/toy/'
    assert train.dataset.ann_file == '/w/labels_round1.json'
    assert train.dataset.seg_field == 'segmentations_refined'
    assert train.dataset.type == 'HQYTVISDataset'  # merged with the base
    assert cfg.load_from == '/w/iter_40.pth'
    assert cfg.train_cfg.max_iters == 40 and cfg.train_cfg.val_interval == 40
    assert cfg.val_evaluator.ann_file == '/data/toy/val.json'


def test_rounds_script_end_to_end(tmp_path):
    """Two rounds on two tiny videos, work dir given relative to the
    checkout: corrected labels feed stages 1 and 2 of the self-correction
    arm (round 2 corrects round 1's labels, away from the frames), the
    coarse ones the other arm, stage 0 is shared."""
    work = tmp_path / 'rounds'
    proc = run_tool(
        osp.join('tools', 'analysis_tools', 'self_correction_rounds.py'),
        '--work-dir', osp.relpath(str(work), ROOT), '--rounds', '2',
        '--iters', '2', '--train-videos', '2', '--val-videos', '1',
        '--frames', '3', '--out', str(tmp_path / 'report.json'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.load(open(tmp_path / 'report.json'))
    sc, co = report['arms']['self_correction'], report['arms']['coarse_only']
    assert [s['iters'] for s in sc] == [2, 4, 6] == [s['iters'] for s in co]
    stage2 = Config.fromfile(
        str(work / 'self_correction' / 'stage2_recipe.py'))
    assert stage2.train_dataloader.dataset.ann_file.endswith(
        'labels_round2.json')
    assert 'frames' in sc[0] and 'frames' not in co[0]
    assert co[0]['mask_AP'] == sc[0]['mask_AP']  # the shared stage 0
    stage1 = Config.fromfile(
        str(work / 'self_correction' / 'stage1_recipe.py'))
    assert stage1.train_dataloader.dataset.ann_file == str(
        work / 'self_correction' / 'labels_round1.json')
    assert stage1.train_dataloader.dataset.seg_field == \
        'segmentations_refined'
    assert stage1.load_from == str(work / 'self_correction' / 'stage0' /
                                   'iter_2.pth')
    coarse1 = Config.fromfile(
        str(work / 'coarse_only' / 'stage1_recipe.py'))
    assert coarse1.train_dataloader.dataset.seg_field == 'segmentations'
    assert coarse1.load_from == stage1.load_from
    assert sc[0]['label_mask_iou'] == co[0]['label_mask_iou'] < 1.0
    # run again with the same arguments: every stage is reused
    proc = run_tool(
        osp.join('tools', 'analysis_tools', 'self_correction_rounds.py'),
        '--work-dir', str(work), '--rounds', '2', '--iters', '2',
        '--train-videos', '2', '--val-videos', '1', '--frames', '3',
        '--out', str(tmp_path / 'again.json'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    again = json.load(open(tmp_path / 'again.json'))['arms']
    for arm, stages in report['arms'].items():
        for old, new in zip(stages, again[arm]):
            assert new.get('reused') or new['stage'] == 0, (arm, new)
            assert new['mask_AP'] == old['mask_AP']


def test_rounds_script_bad_arguments(tmp_path):
    proc = run_tool(
        osp.join('tools', 'analysis_tools', 'self_correction_rounds.py'),
        '--work-dir', str(tmp_path), '--rounds', '0')
    assert_one_line_error(proc, '--rounds and --iters must be at least 1')
    proc = run_tool(
        osp.join('tools', 'analysis_tools', 'self_correction_rounds.py'),
        '--work-dir', str(tmp_path), '--coarse-options', 'p_lag=2')
    assert_one_line_error(proc, 'p_lag=2 out of range')


def test_rounds_script_refuses_data_of_other_coarse_options(tmp_path):
    """A work dir whose data was made with other coarse options is not
    reused silently."""
    data = tmp_path / 'data'
    make_toy_dataset(str(data), seed=0, num_videos=1, num_frames=2,
                     size=(64, 96), num_val_videos=1)
    coarsen_train_split(str(data), seed=0, tolerance=3.0)
    proc = run_tool(
        osp.join('tools', 'analysis_tools', 'self_correction_rounds.py'),
        '--work-dir', str(tmp_path), '--iters', '1', '--rounds', '1')
    assert_one_line_error(proc, 'made with', 'use another --work-dir')
