# Copyright (c) mmvmt contributors.
"""Per-stage inference time and peak memory of a VMT model on a random or
real clip.

Example::

    python tools/analysis_tools/benchmark.py configs/vmt/vmt_r50.py CKPT \
        --clip 5,360,640 --repeat 3

Stages: ``backbone`` (+ input projection), ``encoder``, ``decoder`` (+
heads), ``mask_heads`` (mask features and the three dynamic heads),
``refinement`` (boundary-point transformer) and ``fusion`` (the dilated
69-channel branches). Peak memory is the process's peak RSS (CPU) or
``torch.cuda.max_memory_allocated`` (GPU).
"""
import argparse
import sys
import resource
import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Dict

import torch
from mmengine.config import Config

from mmvmt.registry import MODELS
from mmvmt.utils import register_all_modules
from mmvmt.utils.atomic_io import check_out_dir
from mmvmt.utils.cli import load_weights_strict, report_json
from mmvmt.utils.cli_errors import run_cli

STAGES = ('backbone', 'encoder', 'decoder', 'mask_heads', 'refinement',
          'fusion')


class StageTimer:
    """Accumulates wall time of wrapped callables per stage."""

    def __init__(self, device: torch.device) -> None:
        self.times: Dict[str, float] = defaultdict(float)
        self.device = device

    def _sync(self) -> None:
        if self.device.type == 'cuda':
            torch.cuda.synchronize()

    @contextmanager
    def stage(self, name: str):
        self._sync()
        tic = time.perf_counter()
        yield
        self._sync()
        self.times[name] += time.perf_counter() - tic

    def wrap(self, obj, attr: str, name: str) -> None:
        func = getattr(obj, attr)

        def timed(*args, **kwargs):
            with self.stage(name):
                return func(*args, **kwargs)

        setattr(obj, attr, timed)


def instrument(model, timer: StageTimer) -> None:
    """Time the stages without changing what the model computes."""
    timer.wrap(model, 'extract_feat', 'backbone')
    timer.wrap(model.encoder, 'forward', 'encoder')
    timer.wrap(model.decoder, 'forward', 'decoder')
    timer.wrap(model.bbox_head, 'forward', 'decoder')
    timer.wrap(model.mask_head.refine_head, 'forward', 'refinement')
    if hasattr(model.mask_head.refine_head, 'forward_instance'):
        # TrackletRefineHead: one refinement per instance
        timer.wrap(model.mask_head.refine_head, 'forward_instance',
                   'refinement')
    timer.wrap(model.mask_head, 'fuse', 'fusion')
    timer.wrap(model.mask_head, 'forward', 'mask_head_total')


def load_video(cfg, args, model) -> torch.Tensor:
    """First video of a data folder, preprocessed: (T, 3, H, W)."""
    from mmvmt.registry import DATASETS
    from mmvmt.utils.cli import apply_test_data_overrides
    args.format_only = False
    apply_test_data_overrides(cfg, args)
    item = DATASETS.build(cfg.test_dataloader.dataset)[0]
    data = model.data_preprocessor(
        dict(inputs=[item['inputs']], data_samples=[item['data_samples']]),
        False)
    return data['inputs'][0]


def peak_memory_mb(device: torch.device) -> float:
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?', help='weights (optional)')
    parser.add_argument(
        '--clip', default='5,360,640', help='T,H,W of a random clip')
    parser.add_argument(
        '--data-root',
        help='use the first video of this YouTube-VIS folder (JPEGImages/ '
        '+ --ann-file) through the config\'s test pipeline')
    parser.add_argument('--ann-file', default='valid.json')
    parser.add_argument('--short-side', type=int)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', help='write the numbers to this json')
    args = parser.parse_args()
    if args.out:
        check_out_dir(args.out)  # before the measurement, not after
    register_all_modules()
    device = torch.device(args.device)
    cfg = Config.fromfile(args.config)
    model = MODELS.build(cfg.model)
    if args.checkpoint:
        load_weights_strict(model, args.checkpoint)
    model = model.to(device).eval()
    if args.data_root:
        frames = load_video(cfg, args, model)
    else:
        num_frames, height, width = (int(v) for v in args.clip.split(','))
        gen = torch.Generator().manual_seed(0)
        frames = torch.randn(num_frames, 3, height, width, generator=gen)
    frames = frames.to(device)
    num_frames, _, height, width = frames.shape
    timer = StageTimer(device)
    instrument(model, timer)
    runs = []
    with torch.no_grad():
        for _ in range(args.repeat):
            timer.times.clear()
            with timer.stage('total'):
                out = model.forward_clip(frames, 1)
                qids = model.bbox_head.select_instances(
                    out['all_cls'][-1][0], model.test_cfg['num_select'])[0]
                model.forward_mask_branch(out, frames, 0, qids,
                                          tuple(frames.shape[-2:]))
            times = dict(timer.times)
            times['mask_heads'] = times.pop('mask_head_total') - \
                times.get('refinement', 0.0) - times.get('fusion', 0.0)
            runs.append(times)
    best = min(runs, key=lambda r: r['total'])
    report = dict(
        clip=[num_frames, height, width],
        device=str(device),
        threads=torch.get_num_threads(),
        best_total_s=best['total'],
        stages_s={k: best.get(k, 0.0) for k in STAGES},
        all_totals_s=[r['total'] for r in runs],
        peak_memory_mb=peak_memory_mb(device))
    report_json(report, args.out)


if __name__ == '__main__':
    sys.exit(run_cli(main))
