# Copyright (c) mmvmt contributors.
"""Train the toy config from scratch and score it on held-out toy videos,
in one command: the honest toy benchmark of docs/training.md.

Example::

    python tools/analysis_tools/toy_benchmark.py --work-dir work_dirs/bench \
        --iters 420 --val-every 105 --seeds 0 1

For each training seed: generates (once) the toy data (train videos from
``--train-seed``, 60 val videos from ``--val-seed``, never seen in
training), trains ``configs/vmt/vmt_r18_toy.py`` for ``--iters``
iterations (iteration-based: linear warm-up, then x0.1 at 80% of the
iterations; ``--config`` trains a variant of it), validates every
``--val-every`` iterations, and prints
``mask_AP``, ``boundary_AP`` and the training wall time (validation
excluded) with the AP-vs-time curve. ``--out`` writes it all as json.
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

from mmvmt.utils.atomic_io import check_out_dir, dump_json_atomic  # noqa
from mmvmt.utils.cli_errors import CLIError, run_cli  # noqa: E402

CONFIG = osp.join(ROOT, 'configs', 'vmt', 'vmt_r18_toy.py')
RECIPE = '''_base_ = [{config!r}]
# toy benchmark recipe (tools/analysis_tools/toy_benchmark.py)
data_root = {data!r}
train_dataloader = dict(batch_size={batch}, dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'val.json')
test_evaluator = val_evaluator
train_cfg = dict(_delete_=True, type='ResumableIterBasedTrainLoop',
                 max_iters={iters}, val_interval={val_every})
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end={warmup}),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end={iters},
         milestones=[{drop}], gamma=0.1)
]
default_hooks = dict(
    logger=dict(interval=5, log_metric_by_epoch=False),
    checkpoint=dict(by_epoch=False, interval={iters}, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
randomness = dict(seed={seed})
'''


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/toy_benchmark')
    parser.add_argument('--config', default=CONFIG,
                        help='toy config to train (default vmt_r18_toy.py)')
    parser.add_argument('--iters', type=int, default=420)
    parser.add_argument('--val-every', type=int, default=105)
    parser.add_argument('--batch', type=int, default=2, help='clips/step')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1],
                        help='training seeds')
    parser.add_argument('--train-seed', type=int, default=0)
    parser.add_argument('--val-seed', type=int, default=1000)
    parser.add_argument('--train-videos', type=int, default=60)
    parser.add_argument('--val-videos', type=int, default=60)
    parser.add_argument('--out', help='write the report (json)')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='passed on to tools/train.py')
    return parser.parse_args(argv)


def scalars(work_dir: str) -> list:
    """The records of the run's ``vis_data/scalars.json``."""
    records = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            records += [json.loads(line) for line in f if line.strip()]
    return records


def curve(records: list) -> list:
    """(iteration, training seconds so far, mask_AP, boundary_AP) at every
    validation; training seconds add up the logged (window-averaged)
    iteration times, so validation is not counted."""
    out, train_s, last_step = [], 0.0, 0
    for rec in records:
        if 'loss' in rec and 'time' in rec:
            train_s += rec['time'] * (rec['step'] - last_step)
            last_step = rec['step']
        elif 'hqvis/mask_AP' in rec:
            out.append(dict(iter=rec['step'], train_s=round(train_s, 1),
                            mask_AP=rec['hqvis/mask_AP'],
                            boundary_AP=rec['hqvis/boundary_AP']))
            if 'hqvis/temporal_flicker' in rec:
                out[-1]['temporal_flicker'] = rec['hqvis/temporal_flicker']
    return out


def run_seed(args, data: str, seed: int) -> dict:
    work = osp.join(args.work_dir, f'seed{seed}')
    os.makedirs(work, exist_ok=True)
    config = osp.join(work, 'recipe.py')
    with open(config, 'w') as f:
        f.write(RECIPE.format(
            config=osp.abspath(args.config), data=data + '/',
            batch=args.batch,
            iters=args.iters, val_every=args.val_every,
            warmup=max(1, args.iters // 20), drop=int(args.iters * 0.8),
            seed=seed))
    tic = time.perf_counter()
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'train.py'), config,
           '--work-dir', work]
    if args.cfg_options:
        cmd += ['--cfg-options', *args.cfg_options]
    with open(osp.join(work, 'train.log'), 'w') as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT,
                              cwd=ROOT)
    wall = time.perf_counter() - tic
    if proc.returncode != 0:
        raise CLIError(f'training seed {seed} failed (exit '
                       f'{proc.returncode}): see {work}/train.log')
    points = curve(scalars(work))
    if not points:
        raise CLIError(f'no validation result in {work}: see train.log')
    return dict(seed=seed, wall_s=round(wall, 1), curve=points,
                **{k: points[-1][k]
                   for k in ('mask_AP', 'boundary_AP', 'train_s',
                             'temporal_flicker') if k in points[-1]})


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.out:
        check_out_dir(args.out)
    if args.val_every > args.iters:
        raise CLIError('--val-every must not exceed --iters')
    if not osp.isfile(args.config):
        raise CLIError(f'config file not found: {args.config}')
    data = osp.abspath(osp.join(args.work_dir, 'data'))
    if not osp.isfile(osp.join(data, 'val.json')):
        from mmvmt.datasets.toy_generator import make_toy_dataset
        make_toy_dataset(data, args.train_seed, args.train_videos,
                         num_val_videos=args.val_videos,
                         val_seed=args.val_seed)
    runs = []
    for seed in args.seeds:
        runs.append(run_seed(args, data, seed))
        run = runs[-1]
        print(f'seed {seed}: mask_AP {run["mask_AP"]:.3f} boundary_AP '
              f'{run["boundary_AP"]:.3f} train {run["train_s"]:.0f} s '
              f'(wall incl. validation {run["wall_s"]:.0f} s)')
        for p in run['curve']:
            print(f'  iter {p["iter"]:5d}  {p["train_s"]:7.1f} s  mask_AP '
                  f'{p["mask_AP"]:.3f}  boundary_AP {p["boundary_AP"]:.3f}')
    report = dict(config=args.config, iters=args.iters, batch=args.batch,
                  train_seed=args.train_seed, val_seed=args.val_seed,
                  val_videos=args.val_videos, runs=runs)
    if args.out:
        dump_json_atomic(report, args.out, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
