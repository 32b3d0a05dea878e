# Copyright (c) mmvmt contributors.
"""Run VMT on a video (mp4 or a folder of frames) and write an overlay video
and a YouTube-VIS results json.

Example::

    python demo/video_demo.py demo.mp4 configs/vmt/vmt_r50.py CKPT \
        --out out.mp4 --out-json results.json --device cpu --score-thr 0.3
"""
import argparse
import json
import os
import os.path as osp
import sys
import tempfile

import cv2
import numpy as np
from tqdm import tqdm

from mmvmt.apis import VideoInputError, inference_video, init_model, \
    read_video
from mmvmt.evaluation.metrics.hq_ytvis_metric import encode_rle
from mmvmt.visualization import draw_mask_overlay, id_colour


def draw(frame: np.ndarray, inst, classes, score_thr: float) -> np.ndarray:
    img = frame.copy()
    for k in range(len(inst)):
        score = float(inst.scores[k])
        if score < score_thr:
            continue
        mask = inst.masks[k].numpy().astype(np.uint8)
        if not mask.any():
            continue
        label = int(inst.labels[k])
        name = classes[label] if 0 <= label < len(classes) else str(label)
        draw_mask_overlay(img, mask,
                          id_colour(int(inst.instances_id[k]))[::-1],
                          f'{name} {score:.2f}', thickness=2,
                          font_scale=0.5, label_gap=4,
                          label_min_y=12)
    return img


def results_json(track, num_frames: int) -> list:
    """One YouTube-VIS result per (instance, class) pair, score order."""
    tubes = {}
    for t in range(num_frames):
        inst = track[t].pred_track_instances
        for k in range(len(inst)):
            i = int(inst.instances_id[k])
            tube = tubes.setdefault(
                i, dict(video_id=0, score=float(inst.scores[k]),
                        category_id=int(inst.labels[k]) + 1,
                        segmentations=[None] * num_frames))
            tube['segmentations'][t] = encode_rle(inst.masks[k].numpy())
    return sorted(tubes.values(), key=lambda r: -r['score'])


def atomic_path(path: str) -> str:
    out_dir = osp.dirname(osp.abspath(path))
    if not osp.isdir(out_dir):
        raise VideoInputError(f'output directory does not exist: {out_dir}')
    fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=osp.splitext(path)[1])
    os.close(fd)
    return tmp


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('video', help='mp4/avi file or folder of frames')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', required=True, help='overlay video (mp4)')
    parser.add_argument('--out-json', help='YouTube-VIS results json')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--short-side', type=int, help='test resize')
    parser.add_argument('--fps', type=float, default=10.0)
    args = parser.parse_args(argv)
    tmp_paths = []
    try:
        out_tmp = atomic_path(args.out)
        tmp_paths.append(out_tmp)
        json_tmp = atomic_path(args.out_json) if args.out_json else None
        if json_tmp:
            tmp_paths.append(json_tmp)
        frames = read_video(args.video)
        model = init_model(args.config, args.checkpoint, args.device)
        track = inference_video(model, frames, args.short_side)
        classes = model.cfg.get('toy_classes', None) or \
            model.cfg.test_dataloader.dataset.get('metainfo', {}).get(
                'classes', None)
        if classes is None:
            from mmvmt.datasets import YTVIS2019_CLASSES as classes
        height, width = frames[0].shape[:2]
        writer = cv2.VideoWriter(out_tmp, cv2.VideoWriter_fourcc(*'mp4v'),
                                 args.fps, (width, height))
        for t in tqdm(range(len(frames)), desc='writing frames'):
            writer.write(
                draw(frames[t], track[t].pred_track_instances, classes,
                     args.score_thr))
        writer.release()
        os.replace(out_tmp, args.out)
        if json_tmp:
            with open(json_tmp, 'w') as f:
                json.dump(results_json(track, len(frames)), f)
            os.replace(json_tmp, args.out_json)
    except (VideoInputError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    finally:
        for path in tmp_paths:
            if osp.exists(path):
                os.remove(path)
    print(f'{len(frames)} frames written to {args.out}' +
          (f', results to {args.out_json}' if args.out_json else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
