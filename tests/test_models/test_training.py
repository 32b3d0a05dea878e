# Copyright (c) mmvmt contributors.
"""Training runs of the toy config: a killed run resumed (iteration- and
epoch-based, randomness on) repeats the uninterrupted one; two-process
(gloo) training."""
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch

from mmvmt.datasets.toy_generator import make_toy_dataset
from ..conftest import ROOT

CONFIG = osp.join(ROOT, 'configs', 'vmt', 'vmt_r18_toy.py')


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy'))
    make_toy_dataset(root, seed=0, num_videos=4, num_frames=3,
                     size=(64, 96), num_val_videos=2)
    return root


NO_EVAL = [
    'val_dataloader=None', 'val_cfg=None', 'val_evaluator=None',
    'test_dataloader=None', 'test_cfg=None', 'test_evaluator=None',
    'randomness.deterministic=True', 'default_hooks.logger.interval=1',
    'log_processor.window_size=1'
]


def iteration_options(root, max_iters, loop='ResumableIterBasedTrainLoop'):
    """Short iteration-based runs of the toy config, with all of its
    randomness (shuffling, flips, frame sampling)."""
    return [
        f'train_dataloader.dataset.data_root={root}/',
        'train_cfg._delete_=True', f'train_cfg.type={loop}',
        f'train_cfg.max_iters={max_iters}', 'train_cfg.val_interval=1000',
        'default_hooks.checkpoint.by_epoch=False',
        'default_hooks.checkpoint.interval=2',
        'log_processor.by_epoch=False', 'param_scheduler.0.by_epoch=False',
        *NO_EVAL
    ]


def epoch_options(root, max_epochs):
    """Short epoch-based runs (2 iterations an epoch), randomness on."""
    return [
        f'train_dataloader.dataset.data_root={root}/',
        f'train_cfg.max_epochs={max_epochs}', 'train_cfg.val_interval=1000',
        'default_hooks.checkpoint.interval=1', *NO_EVAL
    ]


def with_hooks(tmp_path, name, hooks):
    """The toy config with ``custom_hooks`` (from tests/.../dist_hooks)."""
    config = tmp_path / f'{name}.py'
    config.write_text(
        f'_base_ = [{CONFIG!r}]\n'
        "custom_imports = dict(imports=['tests.test_models.dist_hooks'], "
        'allow_failed_imports=False)\n'
        f'custom_hooks = {hooks!r}\n')
    return str(config)


def run_train(work_dir, options, extra=(), config=CONFIG, returncode=0):
    proc = subprocess.run(
        [sys.executable,
         osp.join(ROOT, 'tools', 'train.py'), config, '--work-dir',
         work_dir, *extra, '--cfg-options', *options],
        capture_output=True, text=True, cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=ROOT))
    assert proc.returncode == returncode, proc.stderr[-3000:]


def losses(work_dir):
    out = {}
    for path in glob.glob(osp.join(work_dir, '*', 'vis_data',
                                   'scalars.json')):
        for line in open(path):
            rec = json.loads(line)
            if 'loss' in rec:
                out[rec.get('step', rec['iter'])] = rec['loss']
    return out


RNG = dict(type='RNGStateHook')


def test_resume_after_a_kill_repeats_the_straight_run(toy_root, tmp_path):
    """Iteration-based, randomness on: a run killed after iteration 3 and
    resumed from iter_2.pth gives the straight run's losses at 3 and 4;
    without the random states restored after mmengine's skip (plain
    IterBasedTrainLoop) it does not."""
    straight = str(tmp_path / 'straight')
    run_train(straight, iteration_options(toy_root, 4))
    killed = str(tmp_path / 'killed')
    kill = with_hooks(tmp_path, 'kill', [RNG, dict(type='KillAtIterHook',
                                                   at=3)])
    run_train(killed, iteration_options(toy_root, 4), config=kill,
              returncode=3)
    assert osp.isfile(osp.join(killed, 'iter_2.pth'))
    assert not osp.exists(osp.join(killed, 'iter_4.pth'))
    plain = str(tmp_path / 'plain')
    shutil.copytree(killed, plain)
    run_train(killed, iteration_options(toy_root, 4), extra=['--resume'])
    run_train(plain, iteration_options(toy_root, 4, 'IterBasedTrainLoop'),
              extra=['--resume'])
    a, b, c = losses(straight), losses(killed), losses(plain)
    assert set(a) == {1, 2, 3, 4} and {3, 4} <= set(b)
    for it in (3, 4):
        assert abs(a[it] - b[it]) <= 1e-5 * abs(a[it]), (it, a[it], b[it])
    assert any(abs(a[it] - c[it]) > 1e-3 * abs(a[it]) for it in (3, 4))
    assert a[1] != a[4]  # it trained


def test_epoch_resume_after_a_mid_epoch_kill(toy_root, tmp_path):
    """Epoch-based (2 iterations an epoch): killed in the middle of epoch 3,
    resumed from epoch_2.pth, epoch 3 repeats the straight run's losses;
    resuming a checkpoint without the random states does not."""
    straight = str(tmp_path / 'straight')
    run_train(straight, epoch_options(toy_root, 3))
    killed = str(tmp_path / 'killed')
    kill = with_hooks(tmp_path, 'kill', [RNG, dict(type='KillAtIterHook',
                                                   at=5)])
    run_train(killed, epoch_options(toy_root, 3), config=kill, returncode=3)
    assert osp.isfile(osp.join(killed, 'epoch_2.pth'))
    fresh = str(tmp_path / 'fresh')  # same checkpoint, states removed
    os.makedirs(fresh)
    ckpt = torch.load(osp.join(killed, 'epoch_2.pth'))
    del ckpt['rng_states']
    torch.save(ckpt, osp.join(fresh, 'epoch_2.pth'))
    run_train(killed, epoch_options(toy_root, 3), extra=['--resume'])
    run_train(fresh, epoch_options(toy_root, 3),
              extra=['--resume', osp.join(fresh, 'epoch_2.pth')])
    a, b, c = losses(straight), losses(killed), losses(fresh)
    assert {5, 6} <= set(a) and {5, 6} <= set(b) and {5, 6} <= set(c)
    for it in (5, 6):
        assert abs(a[it] - b[it]) <= 1e-5 * abs(a[it]), (it, a[it], b[it])
    assert any(abs(a[it] - c[it]) > 1e-3 * abs(a[it]) for it in (5, 6))


def test_two_process_gloo_training(toy_root, tmp_path):
    """Two gloo processes: both ranks end with identical weights, the
    weights changed, and the loss fell."""
    work_dir = str(tmp_path / 'dist')
    config = with_hooks(tmp_path, 'dist',
                        [RNG, dict(type='WeightDigestHook')])
    options = iteration_options(toy_root, 6) + [
        'train_dataloader.batch_size=1',
        'train_dataloader.sampler.shuffle=False',
        'train_dataloader.dataset.pipeline.1.transforms.2.prob=0.0'
    ]
    env = dict(os.environ, PYTHON=sys.executable, PORT='29533',
               PYTHONPATH=ROOT, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), config, '2',
         '--work-dir', work_dir, '--cfg-options', *options],
        capture_output=True, text=True, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]

    def digest(name):
        return open(osp.join(work_dir, name)).read()

    assert digest('rank0.sha256') == digest('rank1.sha256')
    assert digest('rank0.init.sha256') == digest('rank1.init.sha256')
    assert digest('rank0.sha256') != digest('rank0.init.sha256')
    loss = losses(work_dir)
    assert set(loss) == set(range(1, 7))
    assert loss[5] + loss[6] < loss[1] + loss[2], loss
