# Copyright (c) mmvmt contributors.
"""Iterative training and self-correction on toy data with coarse train
labels, against training on the coarse labels alone with the same budget.

Example::

    python tools/analysis_tools/self_correction_rounds.py \
        --work-dir work_dirs/self_correction --rounds 2 --iters 320 \
        --out work_dirs/self_correction.json

Data: toy videos (train ``--train-seed``, 60 val videos ``--val-seed``)
with coarse train labels (``--coarse-train`` of ``make_toy_dataset.py``);
the exact train masks (``train_exact.json``) are only read to score the
labels. Two arms, each ``rounds + 1`` stages of ``--iters`` iterations of
``configs/vmt/vmt_r18_toy.py`` (the toy benchmark's schedule per stage;
stage k > 0 starts from stage k-1's weights, fresh optimizer):

* ``self_correction``: stage 0 trains on the coarse labels; after stage k
  ``tools/misc/self_correct.py`` corrects the current train labels with
  the stage's model, and stage k+1 trains on the corrected ones;
* ``coarse_only``: every stage trains on the coarse labels.

Stage 0 is the same run in both arms (same labels, seed and schedule), so
it is trained once and shared.

After every stage: the val tube-mask AP and tube-boundary AP, and the
quality (tube mask IoU, tube boundary IoU against the exact masks) of the
train labels the next stage uses. Both arms get the same iterations and
schedule; the correction's inference time is reported, not counted as
training. Rerun with the same arguments, it reuses every stage that
finished with the same recipe (``reused``) and redoes the rest.
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Optional

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

from toy_benchmark import CONFIG, RECIPE, curve  # noqa: E402

from mmvmt.utils.atomic_io import check_out_dir, dump_json_atomic  # noqa
from mmvmt.utils.cli_errors import CLIError, run_cli  # noqa: E402

TRAIN_LINE = 'train_dataloader = dict(batch_size={batch}, ' \
    'dataset=dict(data_root=data_root))'
STAGE_LINE = 'train_dataloader = dict(batch_size={batch}, dataset=dict(' \
    'data_root=data_root, ann_file={ann!r}, seg_field={field!r}))'


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/self_correction')
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--iters', type=int, default=320, help='per stage')
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--seed', type=int, default=0, help='training')
    parser.add_argument('--train-seed', type=int, default=0)
    parser.add_argument('--val-seed', type=int, default=1000)
    parser.add_argument('--coarse-seed', type=int, default=0)
    parser.add_argument('--coarse-options', nargs='+', default=[],
                        metavar='KEY=VALUE',
                        help='degradation of the coarse labels (keys: '
                        'mmvmt.datasets.coarse_labels.DEFAULTS)')
    parser.add_argument('--train-videos', type=int, default=60)
    parser.add_argument('--val-videos', type=int, default=60)
    parser.add_argument('--frames', type=int, default=8)
    parser.add_argument('--iou-thr', type=float, default=0.5)
    parser.add_argument('--frame-iou-thr', type=float, default=0.5)
    parser.add_argument('--arms', nargs='+',
                        default=['self_correction', 'coarse_only'],
                        choices=['self_correction', 'coarse_only'])
    parser.add_argument('--out', help='write the report (json)')
    return parser.parse_args(argv)


def run(cmd: list, log_path: str, what: str) -> None:
    with open(log_path, 'w') as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT,
                              cwd=ROOT)
    if proc.returncode != 0:
        raise CLIError(f'{what} failed (exit {proc.returncode}): see '
                       f'{log_path}')


def write_recipe(args, data: str, work: str, ann: str, field: str,
                 load_from) -> str:
    """The stage's config: the toy benchmark recipe on ``ann``/``field``,
    starting from ``load_from``."""
    os.makedirs(work, exist_ok=True)
    # beside the work dir: tools/train.py dumps the expanded config into
    # the work dir under the recipe's name
    config = f'{work}_recipe.py'
    recipe = RECIPE.format(
        config=CONFIG, data=data + '/', batch=args.batch, iters=args.iters,
        val_every=args.iters, warmup=max(1, args.iters // 20),
        drop=int(args.iters * 0.8), seed=args.seed)
    old = TRAIN_LINE.format(batch=args.batch)
    assert old in recipe, 'toy_benchmark.RECIPE changed'
    recipe = recipe.replace(old, STAGE_LINE.format(
        batch=args.batch, ann=ann, field=field))
    recipe += f'load_from = {load_from!r}\n'
    if not (osp.isfile(config) and open(config).read() == recipe):
        with open(config, 'w') as f:
            f.write(recipe)
    return config


def latest_run(work: str) -> list:
    """Logged records of the newest run in ``work`` (older ones, e.g. of
    an interrupted experiment, are left out)."""
    runs = sorted(glob.glob(osp.join(work, '*', 'vis_data',
                                     'scalars.json')))
    if not runs:
        return []
    with open(runs[-1]) as f:
        return [json.loads(line) for line in f if line.strip()]


def train_stage(args, data: str, work: str, ann: str, field: str,
                load_from) -> dict:
    recipe_before = open(f'{work}_recipe.py').read() if osp.isfile(
        f'{work}_recipe.py') else None
    config = write_recipe(args, data, work, ann, field, load_from)
    ckpt = osp.join(work, f'iter_{args.iters}.pth')
    points = curve(latest_run(work))
    if recipe_before == open(config).read() and osp.isfile(ckpt) and \
            points and points[-1]['iter'] == args.iters:
        # the same recipe finished before (an interrupted experiment)
        return dict(wall_s=None, train_s=points[-1]['train_s'],
                    mask_AP=points[-1]['mask_AP'],
                    boundary_AP=points[-1]['boundary_AP'], ckpt=ckpt,
                    reused=True)
    tic = time.perf_counter()
    run([sys.executable, osp.join(ROOT, 'tools', 'train.py'), config,
         '--work-dir', work], osp.join(work, 'train.log'), f'training {work}')
    points = curve(latest_run(work))
    if not points:
        raise CLIError(f'no validation result in {work}: see train.log')
    return dict(wall_s=round(time.perf_counter() - tic, 1),
                train_s=points[-1]['train_s'],
                mask_AP=points[-1]['mask_AP'],
                boundary_AP=points[-1]['boundary_AP'],
                ckpt=ckpt)


def correct(args, data: str, labels: str, ckpt: str, out: str) -> dict:
    report = out.replace('.json', '_report.json')
    tic = time.perf_counter()
    run([sys.executable, osp.join(ROOT, 'tools', 'misc', 'self_correct.py'),
         CONFIG, ckpt, '--ann-file', labels, '--img-dir',
         osp.join(data, 'JPEGImages'), '--out', out, '--report', report,
         '--iou-thr', str(args.iou_thr), '--frame-iou-thr',
         str(args.frame_iou_thr)], out.replace('.json', '.log'),
        f'self-correction {out}')
    with open(report) as f:
        frames = json.load(f)['frames']
    return dict(frames=frames, correct_s=round(time.perf_counter() - tic, 1))


def quality(labels: str, field: str, exact: list) -> dict:
    from mmvmt.datasets.self_correction import label_quality
    with open(labels) as f:
        anns = json.load(f)['annotations']
    q = label_quality(anns, exact, field)
    return dict(label_mask_iou=round(q['mask_iou'], 4),
                label_boundary_iou=round(q['boundary_iou'], 4))


def run_arm(args, arm: str, data: str, exact: list,
            first: Optional[dict] = None) -> list:
    """The stages of one arm; ``first`` is a finished stage 0 (the same
    run for both arms: same labels, seed and schedule)."""
    labels, field, ckpt, stages = osp.join(data, 'train.json'), \
        'segmentations', None, []
    for k in range(args.rounds + 1):
        work = osp.join(args.work_dir, arm, f'stage{k}')
        if k == 0 and first is not None:
            stage = dict(first)
        else:
            stage = dict(stage=k, iters=(k + 1) * args.iters,
                         **quality(labels, field, exact))
            stage.update(train_stage(args, data, work, labels, field, ckpt))
        ckpt = stage.pop('ckpt')
        stage['ckpt_path'] = ckpt
        if arm == 'self_correction' and k < args.rounds:
            new = osp.join(args.work_dir, arm, f'labels_round{k + 1}.json')
            stage.update(correct(args, data, labels, ckpt, new))
            labels, field = new, 'segmentations_refined'
        stages.append(stage)
        print(f'{arm} stage {k}: ' + ', '.join(
            f'{key} {val}' for key, val in stage.items()
            if key not in ('stage', 'frames', 'ckpt_path')), flush=True)
    return stages


def main(argv=None) -> int:
    args = parse_args(argv)
    args.work_dir = osp.abspath(args.work_dir)  # paths go into configs
    if args.out:
        check_out_dir(args.out)
    if args.rounds < 1 or args.iters < 1:
        raise CLIError('--rounds and --iters must be at least 1')
    from mmvmt.datasets.coarse_labels import DEFAULTS, parse_coarse_options
    try:
        coarse = dict(DEFAULTS, **parse_coarse_options(args.coarse_options),
                      seed=args.coarse_seed)
    except ValueError as err:
        raise CLIError(str(err))
    data = osp.abspath(osp.join(args.work_dir, 'data'))
    if not osp.isfile(osp.join(data, 'train_exact.json')):
        from mmvmt.datasets.coarse_labels import coarsen_train_split
        from mmvmt.datasets.toy_generator import make_toy_dataset
        make_toy_dataset(data, args.train_seed, args.train_videos,
                         args.frames, num_val_videos=args.val_videos,
                         val_seed=args.val_seed)
        coarsen_train_split(data, **coarse)
    with open(osp.join(data, 'train.json')) as f:
        made = json.load(f).get('info', {}).get('coarse_options')
    if made != coarse:
        raise CLIError(f'{data} holds coarse labels made with '
                       f'{made or "unrecorded options"}, not {coarse}: use '
                       'another --work-dir')
    with open(osp.join(data, 'train_exact.json')) as f:
        exact = json.load(f)['annotations']
    report = dict(vars(args), arms={})
    first = None
    for arm in args.arms:
        report['arms'][arm] = run_arm(args, arm, data, exact, first)
        first = dict(report['arms'][arm][0], ckpt=report['arms'][arm][0][
            'ckpt_path'])
        first.pop('frames', None)
        first.pop('correct_s', None)
    if args.out:
        dump_json_atomic(report, args.out, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
