# Copyright (c) mmvmt contributors.
"""Peak memory and time of windowed inference against video length.

Each length runs in a fresh process (peak RSS only grows), streaming a
synthetic video of N frames made from a real clip (resized so that its
shorter side is ``--height``, played forwards and backwards) through
:func:`mmvmt.apis.iter_video_predictions` and a results collector, as
``demo/video_demo.py --clip-len`` does. ``--whole`` runs the released
whole-video path instead, for contrast.

Example::

    python tools/analysis_tools/long_video_benchmark.py \
        configs/vmt/vmt_r50.py CKPT --frames 100 300 1000 --clip-len 10

Reports per length: seconds, frames per second, the peak RSS and its growth
over the RSS after the model was loaded, and the ratio of the largest to the
smallest peak (1.0 = flat).
"""
import argparse
import json
import os.path as osp
import resource
import subprocess
import sys
import time
from typing import Iterator

import cv2
import numpy as np

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_VIDEO = osp.join(ROOT, 'tests', 'data', 'carphone_12f.mp4')


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_video(source: str, num_frames: int,
                    height: int) -> Iterator[np.ndarray]:
    """``num_frames`` frames of ``source`` at shorter side ``height``,
    ping-pong looped, generated one at a time."""
    from mmvmt.apis import read_video
    clip = read_video(source)
    h, w = clip[0].shape[:2]
    scale = height / min(h, w)
    size = (round(w * scale), round(h * scale))
    clip = [cv2.resize(f, size, interpolation=cv2.INTER_LINEAR) for f in clip]
    order = list(range(len(clip))) + list(range(len(clip) - 2, 0, -1))
    for t in range(num_frames):
        yield clip[order[t % len(order)]].copy()


def run_child(args) -> dict:
    """One length in this process; returns the measurements."""
    import torch

    from mmvmt.apis import (init_model, iter_video_predictions,
                            predict_frames)
    from mmvmt.evaluation.functional import TubeCollector
    torch.manual_seed(0)
    model = init_model(args.config, args.checkpoint, args.device)
    rss_model = peak_rss_mib()
    frames = synthetic_video(args.video, args.child, args.height)
    collector = TubeCollector(args.child)
    tic = time.perf_counter()
    if args.whole:
        frames = list(frames)
        track = predict_frames(model, frames, args.height)
        for t, sample in enumerate(track):
            collector.add(t, sample.pred_track_instances)
    else:
        for t, _, inst in iter_video_predictions(model, frames,
                                                 args.clip_len, args.overlap,
                                                 args.height):
            collector.add(t, inst)
    seconds = time.perf_counter() - tic
    json.dumps(collector.results())  # serialising counts in the peak
    peak = peak_rss_mib()
    return dict(frames=args.child, seconds=round(seconds, 1),
                fps=round(args.child / seconds, 3),
                peak_rss_mib=round(peak, 1),
                rss_after_model_mib=round(rss_model, 1),
                growth_mib=round(peak - rss_model, 1),
                tracks=len(collector.tubes))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?',
                        help='weights (random weights when left out)')
    parser.add_argument('--frames', type=int, nargs='+',
                        default=[100, 300, 1000])
    parser.add_argument('--height', type=int, default=360,
                        help='shorter side of the frames and the test '
                        'resize (360 = the released test size)')
    parser.add_argument('--clip-len', type=int, default=10)
    parser.add_argument('--overlap', type=int, default=2)
    parser.add_argument('--whole', action='store_true',
                        help='whole video as one clip (released path)')
    parser.add_argument('--video', default=DEFAULT_VIDEO,
                        help='real clip the frames are made from')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', help='also write the report (json)')
    parser.add_argument('--child', type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.child is not None:
        print('RESULT ' + json.dumps(run_child(args)), flush=True)
        return
    from mmvmt.utils.cli import report_json
    rows = []
    forwarded = list(argv or sys.argv[1:])
    for num in args.frames:
        cmd = [sys.executable, __file__, *forwarded, '--child', str(num)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        lines = [ln for ln in proc.stdout.splitlines()
                 if ln.startswith('RESULT ')]
        if proc.returncode != 0 or not lines:
            sys.exit(f'run with {num} frames failed:\n{proc.stderr[-3000:]}')
        rows.append(json.loads(lines[-1][len('RESULT '):]))
        print(rows[-1], flush=True)
    peaks = [r['peak_rss_mib'] for r in rows]
    report_json(dict(
        config=args.config, mode='whole' if args.whole else
        f'clip_len={args.clip_len} overlap={args.overlap}',
        height=args.height, runs=rows,
        peak_ratio_max_over_min=round(max(peaks) / min(peaks), 3)),
        args.out)


if __name__ == '__main__':
    main()
