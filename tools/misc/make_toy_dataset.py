# Copyright (c) mmvmt contributors.
"""Write the bundled toy video instance segmentation dataset.

Example::

    python tools/misc/make_toy_dataset.py --out data/toy --seed 0 \
        --videos 60 --val-videos 60 --frames 8 --size 128x192

Train videos come from ``--seed``, val videos from ``--val-seed`` (default
seed + 1000). Prints the share of annotated track-frames where the object
is absent.
"""
import argparse
import json
import time

from mmvmt.datasets.toy_generator import make_toy_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/toy')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--videos', type=int, default=60, help='train')
    parser.add_argument('--val-videos', type=int, default=60)
    parser.add_argument('--val-seed', type=int, help='default: seed + 1000')
    parser.add_argument('--frames', type=int, default=8)
    parser.add_argument('--size', default='128x192', help='HxW')
    args = parser.parse_args()
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


if __name__ == '__main__':
    main()
