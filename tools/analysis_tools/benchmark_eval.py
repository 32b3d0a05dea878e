# Copyright (c) mmvmt contributors.
"""Time the HQ-YTVIS evaluator on a GT/result pair, phase by phase.

Example::

    python tools/analysis_tools/benchmark_eval.py GT.json RESULTS.json \
        --repeat 3 [--ref-time 4.3] [--workers 2]

Phases: ``load`` (JSON parsing, RLE conversion, areas), ``decode`` and
``boundary`` (boundary extraction, split by profiling one serial run),
``iou`` (tube IoU matrices and matching), ``accumulate`` (precision/recall
tables and summary). Prints the best end-to-end time over the repeats and,
with ``--ref-time``, the speed-up against that reference time.
"""
import argparse
import cProfile
import pstats
import sys
import time
import warnings

from mmvmt.evaluation.functional import HQVISEvaluator
from mmvmt.utils.atomic_io import check_out_dir
from mmvmt.utils.cli import report_json
from mmvmt.utils.cli_errors import run_cli


def run_once(gt: str, results: str, workers: int) -> dict:
    tic = time.perf_counter()
    evaluator = HQVISEvaluator(gt, results, workers=workers)
    for iou_type in ('boundary', 'segm'):
        evaluator.evaluate(iou_type)
    timings = dict(evaluator.timings)
    timings['total'] = time.perf_counter() - tic
    return timings


def phase_split(gt: str, results: str) -> dict:
    """Split one serial run into decode / boundary / IoU via cProfile."""
    prof = cProfile.Profile()
    prof.enable()
    run_once(gt, results, 0)
    prof.disable()
    stats = pstats.Stats(prof).stats
    cum = {}
    names = {
        'fg_runs': 'decode', 'fill_crops_t': 'decode',
        'mask_boundaries': 'boundary', 'tube_iou_matrix': 'iou',
        'apply_boundary_iou': 'iou', 'match_video': 'matching',
        'accumulate': 'accumulate', 'group_tubes': 'load'
    }
    for (path, _, func), (_, _, _, ct, _) in stats.items():
        if func in names and 'mmvmt' in path:
            cum[names[func]] = cum.get(names[func], 0.0) + ct
    # boundary includes decode; iou includes the (lazy) boundaries
    return {
        'load': cum.get('load', 0.0),
        'decode': cum.get('decode', 0.0),
        'boundary': cum.get('boundary', 0.0) - cum.get('decode', 0.0),
        'iou': cum.get('iou', 0.0) - cum.get('boundary', 0.0),
        'matching': cum.get('matching', 0.0),
        'accumulate': cum.get('accumulate', 0.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('gt')
    parser.add_argument('results')
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--workers', type=int, default=0)
    parser.add_argument('--ref-time', type=float, help='reference seconds')
    parser.add_argument('--out', help='write the numbers to this json')
    args = parser.parse_args()
    if args.out:
        check_out_dir(args.out)  # before the measurement, not after
    warnings.simplefilter('ignore')
    runs = [run_once(args.gt, args.results, args.workers)
            for _ in range(args.repeat)]
    best = min(runs, key=lambda r: r['total'])
    split = phase_split(args.gt, args.results)
    report = {'best_total_s': best['total'], 'runs_s': [r['total'] for r in
                                                        runs],
              'workers': args.workers, 'phases_s (profiled, serial)': split}
    if args.ref_time:
        report['ref_time_s'] = args.ref_time
        report['speedup'] = args.ref_time / best['total']
    report_json(report, args.out)


if __name__ == '__main__':
    sys.exit(run_cli(main))
