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
import os.path as osp
import sys
from typing import Iterator, Optional, Tuple

import cv2
import numpy as np
from mmdet.structures import DetDataSample
from tqdm import tqdm

from mmvmt.apis import (init_model, iter_video_predictions, predict_frames,
                        read_video)
from mmvmt.apis.windowed_inference import check_window
from mmvmt.evaluation.functional import TubeCollector
from mmvmt.registry import VISUALIZERS
from mmvmt.utils.atomic_io import OutputError, atomic_outputs
from mmvmt.utils.cli_errors import CLIError, run_cli


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


def open_writer(path: str, fps: float, size: Tuple[int, int]):
    """An OpenCV ``mp4v`` writer for ``path``; it must open."""
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             size)
    if not writer.isOpened():
        writer.release()
        raise OutputError(f'OpenCV cannot write a video with the extension '
                          f'of this output (try .mp4): {path}')
    return writer


def count_written_frames(path: str) -> int:
    """Frames of a written video (container metadata, else by reading)."""
    cap = cv2.VideoCapture(path)
    try:
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if count <= 0:
            count = 0
            while cap.grab():
                count += 1
        return count
    finally:
        cap.release()


def write_outputs(model, args, video_tmp: str, json_tmp: Optional[str]) -> int:
    """Draw every predicted frame into ``video_tmp`` and the tubes into
    ``json_tmp``; checks that the video holds every frame.

    Returns:
        int: The number of frames.
    """
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
    writer = None
    try:
        for t, frame, inst in tqdm(
                predictions(model, args), desc='frames', unit='frame'):
            if writer is None:
                height, width = frame.shape[:2]
                writer = open_writer(video_tmp, args.fps, (width, height))
            # (VideoWriter.write reports nothing: checked after release)
            writer.write(draw(visualizer, frame, inst, args.score_thr))
            collector.add(t, inst)
    finally:
        if writer is not None:
            writer.release()
    num_frames = collector.num_frames
    written = count_written_frames(video_tmp)
    if written != num_frames:
        raise OutputError(f'the video {args.out} is incomplete: {written} '
                          f'of {num_frames} frames were written (disk full?)')
    if json_tmp:
        with open(json_tmp, 'w') as f:
            json.dump(collector.results(), f)
    return num_frames


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
    if args.clip_len is not None:
        check_window(args.clip_len, args.overlap)
    if not osp.isfile(args.config):
        raise CLIError(f'config file not found: {args.config}')
    outputs = [args.out] + ([args.out_json] if args.out_json else [])
    # both outputs are moved into place only once both are complete
    with atomic_outputs(*outputs) as tmps:
        model = init_model(args.config, args.checkpoint, args.device)
        num_frames = write_outputs(model, args, tmps[0],
                                   tmps[1] if args.out_json else None)
    print(f'{num_frames} frames written to {args.out}' +
          (f', results to {args.out_json}' if args.out_json else ''))
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
