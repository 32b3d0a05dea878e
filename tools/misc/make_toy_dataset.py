# Copyright (c) mmvmt contributors.
"""Write the bundled toy video instance segmentation dataset.

Example::

    python tools/misc/make_toy_dataset.py --out data/toy --seed 0 \
        --videos 60 --val-videos 60 --frames 8 --size 128x192

Train videos come from ``--seed``, val videos from ``--val-seed`` (default
seed + 1000). Prints the share of annotated track-frames where the object
is absent.

``--coarse-train`` makes ``train.json`` YouTube-VIS-like coarse (see
``mmvmt/datasets/coarse_labels.py``; seed ``--coarse-seed``, default
``--seed``) and keeps the exact train masks in ``train_exact.json``, which
no config reads; val stays exact. ``coco.json`` (first train frames, exact
polygons) is not written then, so nothing exact is left for training.
``--coarse-options KEY=VALUE ...`` changes the degradation (keys and
defaults: ``DEFAULTS`` there, e.g. ``tolerance=3 max_radius=2``).
"""
import argparse
import json
import sys
import time

from mmvmt.datasets.coarse_labels import parse_coarse_options
from mmvmt.datasets.toy_generator import make_toy_dataset
from mmvmt.utils.cli_errors import CLIError, run_cli


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/toy')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--videos', type=int, default=60, help='train')
    parser.add_argument('--val-videos', type=int, default=60)
    parser.add_argument('--val-seed', type=int, help='default: seed + 1000')
    parser.add_argument('--frames', type=int, default=8)
    parser.add_argument('--size', default='128x192', help='HxW')
    parser.add_argument('--coarse-train', action='store_true',
                        help='coarse train.json, exact train_exact.json')
    parser.add_argument('--coarse-seed', type=int)
    parser.add_argument('--coarse-options', nargs='+', default=[],
                        metavar='KEY=VALUE',
                        help='degradation options of --coarse-train')
    args = parser.parse_args(argv)
    try:
        coarse_options = parse_coarse_options(args.coarse_options)
    except ValueError as err:
        raise CLIError(str(err))
    if coarse_options and not args.coarse_train:
        raise CLIError('--coarse-options needs --coarse-train')
    try:
        height, width = (int(v) for v in args.size.lower().split('x'))
    except ValueError:
        raise SystemExit(f'error: --size must be HxW, got {args.size!r}')
    if args.videos < 1 or args.frames < 1 or min(height, width) < 32:
        raise SystemExit('error: need >= 1 video, >= 1 frame and frames of '
                         'at least 32x32')
    tic = time.perf_counter()
    paths = make_toy_dataset(args.out, args.seed, args.videos, args.frames,
                             (height, width), args.val_videos, args.val_seed)
    if args.coarse_train:
        from mmvmt.datasets.coarse_labels import coarsen_train_split
        quality = coarsen_train_split(
            args.out,
            args.seed if args.coarse_seed is None else args.coarse_seed,
            **coarse_options)
        paths.update(coco='(not written)')
        print(f'coarse train labels: tube mask IoU '
              f'{quality["mask_iou"]:.3f}, tube boundary IoU '
              f'{quality["boundary_iou"]:.3f} against the exact ones in '
              f'{args.out}/train_exact.json')
    stats = []
    for split in ('train', 'val'):
        with open(paths[split]) as f:
            anns = json.load(f)['annotations']
        segs = [s for a in anns for s in a['segmentations']]
        absent = sum(s is None for s in segs) / max(len(segs), 1)
        stats.append(f'{split}: {len(anns)} tracks, {absent:.1%} of '
                     'track-frames absent')
    print(f'toy dataset written to {args.out} ({paths["train"]}, '
          f'{paths["val"]}, {paths["coco"]}) in '
          f'{time.perf_counter() - tic:.1f} s; ' + '; '.join(stats))
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
