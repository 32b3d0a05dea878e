# Copyright (c) mmvmt contributors.
"""Training runs of the toy config: deterministic resume and two-process
(gloo) training."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from mmvmt.datasets.toy_generator import make_toy_dataset
from ..conftest import ROOT

CONFIG = osp.join(ROOT, 'configs', 'vmt', 'vmt_r18_toy.py')


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy'))
    make_toy_dataset(root, seed=0, num_videos=6, num_frames=3,
                     size=(64, 96), val_every=3)
    return root


def iteration_options(root, max_iters):
    """Short, deterministic iteration-based runs of the toy config."""
    return [
        f'train_dataloader.dataset.data_root={root}/',
        'train_dataloader.sampler.shuffle=False',
        'train_dataloader.dataset.pipeline.1.transforms.2.prob=0.0',
        'train_cfg._delete_=True', 'train_cfg.type=IterBasedTrainLoop',
        f'train_cfg.max_iters={max_iters}', 'train_cfg.val_interval=1000',
        'default_hooks.checkpoint.by_epoch=False',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1', 'log_processor.window_size=1',
        'log_processor.by_epoch=False', 'param_scheduler.0.by_epoch=False',
        'randomness.deterministic=True', 'val_dataloader=None',
        'val_cfg=None', 'val_evaluator=None', 'test_dataloader=None',
        'test_cfg=None', 'test_evaluator=None'
    ]


def run_train(work_dir, options, extra=()):
    proc = subprocess.run(
        [sys.executable,
         osp.join(ROOT, 'tools', 'train.py'), CONFIG, '--work-dir',
         work_dir, *extra, '--cfg-options', *options],
        capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]


def losses(work_dir):
    out = {}
    for path in glob.glob(osp.join(work_dir, '*', 'vis_data',
                                   'scalars.json')):
        for line in open(path):
            rec = json.loads(line)
            if 'loss' in rec:
                out[rec['iter']] = rec['loss']
    return out


def test_resume_reproduces_uninterrupted_losses(toy_root, tmp_path):
    straight = str(tmp_path / 'straight')
    run_train(straight, iteration_options(toy_root, 4))
    interrupted = str(tmp_path / 'interrupted')
    run_train(interrupted, iteration_options(toy_root, 2))
    assert osp.isfile(osp.join(interrupted, 'iter_2.pth'))
    run_train(interrupted, iteration_options(toy_root, 4), extra=['--resume'])
    a, b = losses(straight), losses(interrupted)
    assert set(a) == {1, 2, 3, 4} and {3, 4} <= set(b)
    for it in (3, 4):
        assert abs(a[it] - b[it]) <= 1e-5 * abs(a[it]), (it, a[it], b[it])
    assert a[1] != a[4]  # it trained


def test_two_process_gloo_training_keeps_ranks_identical(toy_root, tmp_path):
    work_dir = str(tmp_path / 'dist')
    config = tmp_path / 'dist_cfg.py'
    config.write_text(
        f'_base_ = [{CONFIG!r}]\n'
        "custom_imports = dict(imports=['tests.test_models.dist_hooks'], "
        'allow_failed_imports=False)\n'
        "custom_hooks = [dict(type='WeightDigestHook')]\n")
    options = iteration_options(toy_root, 2) + [
        'train_dataloader.batch_size=1'
    ]
    env = dict(os.environ, PYTHON=sys.executable, PORT='29533',
               PYTHONPATH=ROOT, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), str(config), '2',
         '--work-dir', work_dir, '--cfg-options', *options],
        capture_output=True, text=True, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    digests = [open(osp.join(work_dir, f'rank{r}.sha256')).read()
               for r in (0, 1)]
    assert digests[0] == digests[1]
