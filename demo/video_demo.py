# Copyright (c) mmvmt contributors.
"""Run VMT on a video (mp4 or a folder of frames) and write an overlay video
and a YouTube-VIS results json.

Example::

    python demo/video_demo.py demo.mp4 configs/vmt/vmt_r50.py CKPT \
        --out out.mp4 --out-json results.json --device cpu --score-thr 0.3

Without ``--clip-len`` the whole video is one clip (the released
behaviour; memory grows with its length). With ``--clip-len N --overlap K``
frames are read, predicted in overlapping windows, linked and written as a
stream, so memory stays flat however long the video is.
"""
import argparse
import json
import os
import os.path as osp
import sys
import tempfile
from typing import Iterator, Tuple

import cv2
import numpy as np
from mmdet.structures import DetDataSample
from tqdm import tqdm

from mmvmt.apis import (VideoInputError, init_model, iter_video_predictions,
                        predict_frames, read_video)
from mmvmt.apis.windowed_inference import check_window
from mmvmt.evaluation.functional import TubeCollector
from mmvmt.registry import VISUALIZERS


def draw(visualizer, frame: np.ndarray, inst,
         score_thr: float) -> np.ndarray:
    """One BGR overlay frame: masks, outlines, boxes and ``class id |
    score`` labels in per-id colours (:class:`VMTLocalVisualizer`)."""
    sample = DetDataSample()
    sample.pred_track_instances = inst[inst.masks.flatten(1).any(1)]
    visualizer.add_datasample(
        'frame', frame[..., ::-1], sample, draw_gt=False,
        pred_score_thr=score_thr)
    return np.ascontiguousarray(visualizer.get_image()[..., ::-1])


def predictions(model, args) -> Iterator[Tuple[int, np.ndarray, object]]:
    """(frame index, frame, pred_track_instances), in frame order."""
    if args.clip_len is None:
        frames = read_video(args.video)
        track = predict_frames(model, frames, args.short_side)
        for t, frame in enumerate(frames):
            yield t, frame, track[t].pred_track_instances
    else:
        yield from iter_video_predictions(model, args.video, args.clip_len,
                                          args.overlap, args.short_side)


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
    parser.add_argument(
        '--clip-len',
        type=int,
        help='window length for long videos (default: the whole video)')
    parser.add_argument(
        '--overlap',
        type=int,
        default=2,
        help='frames shared by consecutive windows (with --clip-len)')
    args = parser.parse_args(argv)
    tmp_paths, writer = [], None
    try:
        if args.clip_len is not None:
            check_window(args.clip_len, args.overlap)
        out_tmp = atomic_path(args.out)
        tmp_paths.append(out_tmp)
        json_tmp = atomic_path(args.out_json) if args.out_json else None
        if json_tmp:
            tmp_paths.append(json_tmp)
        model = init_model(args.config, args.checkpoint, args.device)
        classes = model.cfg.get('toy_classes', None) or \
            model.cfg.test_dataloader.dataset.get('metainfo', {}).get(
                'classes', None)
        if classes is None:
            from mmvmt.datasets import YTVIS2019_CLASSES as classes
        visualizer = VISUALIZERS.build(
            dict(type='VMTLocalVisualizer', name='mmvmt_video_demo',
                 line_width=2))
        visualizer.dataset_meta = dict(classes=classes)
        collector = TubeCollector(0)
        for t, frame, inst in tqdm(
                predictions(model, args), desc='frames', unit='frame'):
            if writer is None:
                height, width = frame.shape[:2]
                writer = cv2.VideoWriter(out_tmp,
                                         cv2.VideoWriter_fourcc(*'mp4v'),
                                         args.fps, (width, height))
            writer.write(draw(visualizer, frame, inst, args.score_thr))
            collector.add(t, inst)
        num_frames = collector.num_frames
        writer.release()
        writer = None
        os.replace(out_tmp, args.out)
        if json_tmp:
            with open(json_tmp, 'w') as f:
                json.dump(collector.results(), f)
            os.replace(json_tmp, args.out_json)
    except (VideoInputError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    finally:
        if writer is not None:
            writer.release()
        for path in tmp_paths:
            if osp.exists(path):
                os.remove(path)
    print(f'{num_frames} frames written to {args.out}' +
          (f', results to {args.out_json}' if args.out_json else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
