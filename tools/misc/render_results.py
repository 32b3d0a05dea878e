# Copyright (c) mmvmt contributors.
"""Render YouTube-VIS results over the frames of a dataset.

Example::

    python tools/misc/render_results.py data/toy data/toy/val.json \
        work_dirs/toy/results.json work_dirs/toy/render --videos 4

Writes one PNG per video: its frames side by side, every result tube whose
score passes ``--score-thr`` drawn as a translucent mask with its boundary,
in a colour that stays the same across the video, and labelled
``class score``.
"""
import argparse
import os
import os.path as osp
import sys
from collections import defaultdict

import cv2
import numpy as np
import pycocotools.mask as mask_utils

from mmvmt.evaluation.functional.hqvis_data import read_json
from mmvmt.utils.atomic_io import imwrite_atomic
from mmvmt.utils.cli_errors import CLIError, run_cli
from mmvmt.visualization import draw_mask_overlay, id_colour


def draw_frame(img: np.ndarray, tubes: list, t: int, names: dict) -> None:
    for k, tube in enumerate(tubes):
        seg = tube['segmentations'][t] if t < len(
            tube['segmentations']) else None
        if seg is None:
            continue
        mask = mask_utils.decode(
            dict(size=seg['size'], counts=seg['counts'].encode()))
        if mask.shape != img.shape[:2] or not mask.any():
            continue
        label = f'{names.get(tube["category_id"], tube["category_id"])} ' \
                f'{tube["score"]:.2f}'
        draw_mask_overlay(img, mask, id_colour(k)[::-1], label)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('data_root', help='folder with JPEGImages/')
    parser.add_argument('ann_file', help='json listing the videos')
    parser.add_argument('results', help='results.json')
    parser.add_argument('out_dir')
    parser.add_argument('--videos', type=int, default=4)
    parser.add_argument('--score-thr', type=float, default=0.3)
    args = parser.parse_args()
    for path in (args.ann_file, args.results):
        if not osp.isfile(path):
            raise CLIError(f'file not found: {path}')
    gt = read_json(args.ann_file, 'annotation')
    results = read_json(args.results, 'results')
    names = {c['id']: c['name'] for c in gt['categories']}
    by_video = defaultdict(list)
    for res in results:
        if res['score'] >= args.score_thr:
            by_video[res['video_id']].append(res)
    os.makedirs(args.out_dir, exist_ok=True)
    written = []
    for video in gt['videos'][:args.videos]:
        frames = []
        for t, name in enumerate(video['file_names']):
            img = cv2.imread(osp.join(args.data_root, 'JPEGImages', name))
            if img is None:
                raise CLIError(f'cannot read frame {name}')
            draw_frame(img, by_video[video['id']], t, names)
            frames.append(img)
        out = osp.join(args.out_dir, f'video_{video["id"]}.png')
        imwrite_atomic(out, np.concatenate(frames, 1))
        written.append(out)
    print(f'{len(written)} overlay images written to {args.out_dir}')


if __name__ == '__main__':
    sys.exit(run_cli(main))
