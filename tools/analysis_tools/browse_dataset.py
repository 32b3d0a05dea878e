# Copyright (c) mmvmt contributors.
"""Render training clips as the model sees them (after the pipeline).

Example::

    python tools/analysis_tools/browse_dataset.py configs/vmt/vmt_r18_toy.py \
        --output-dir work_dirs/browse --num-clips 8 --not-show

Each clip becomes one PNG with its frames side by side; every GT instance is
drawn (mask, box, ``class #id``) in a colour derived from its instance id, so
the same object has the same colour in every frame.
"""
import argparse
import os
import os.path as osp
import sys

import cv2
import numpy as np
from mmengine.config import Config

from mmvmt.registry import DATASETS
from mmvmt.utils import register_all_modules
from mmvmt.utils.atomic_io import imwrite_atomic
from mmvmt.utils.cli_errors import CLIError, run_cli
from mmvmt.visualization import id_colour as rgb_id_colour


def id_colour(instance_id: int) -> tuple:
    """BGR colour of an instance id (the visualizer's colours)."""
    return rgb_id_colour(instance_id)[::-1]


def render_clip(inputs, track, classes) -> np.ndarray:
    """(T, 3, H, W) uint8 BGR + GT -> one image with the frames side by
    side."""
    frames = []
    for t in range(inputs.shape[0]):
        img = inputs[t].permute(1, 2, 0).numpy().copy()
        gt = track[t].gt_instances
        masks = gt.masks.to_ndarray() if len(gt) else []
        boxes = gt.bboxes.numpy() if len(gt) else []
        for k in range(len(gt)):
            inst_id = int(gt.instances_ids[k])
            col = np.array(id_colour(inst_id), np.float32)
            m = masks[k] > 0
            img[m] = (0.5 * img[m] + 0.5 * col).astype(np.uint8)
            x1, y1, x2, y2 = (int(v) for v in boxes[k])
            cv2.rectangle(img, (x1, y1), (x2, y2), id_colour(inst_id), 1)
            cv2.putText(img, f'{classes[int(gt.labels[k])]} #{inst_id}',
                        (x1, max(y1 - 2, 8)), cv2.FONT_HERSHEY_SIMPLEX, 0.3,
                        id_colour(inst_id), 1, cv2.LINE_AA)
        frames.append(img)
    return np.concatenate(frames, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--output-dir', required=True)
    parser.add_argument('--num-clips', type=int, default=8)
    parser.add_argument(
        '--not-show', action='store_true',
        help='only write images (nothing is shown in any case)')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    register_all_modules()
    if not osp.isfile(args.config):
        raise CLIError(f'config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    np.random.seed(args.seed)
    import random
    random.seed(args.seed)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    classes = dataset.metainfo['classes']
    os.makedirs(args.output_dir, exist_ok=True)
    for i in range(min(args.num_clips, len(dataset))):
        item = dataset[i]
        image = render_clip(item['inputs'], item['data_samples'], classes)
        path = osp.join(args.output_dir, f'clip_{i:03d}.png')
        imwrite_atomic(path, image)
    print(f'{min(args.num_clips, len(dataset))} clips rendered to '
          f'{args.output_dir}')


if __name__ == '__main__':
    sys.exit(run_cli(main))
