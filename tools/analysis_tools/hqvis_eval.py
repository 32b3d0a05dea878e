# Copyright (c) mmvmt contributors.
"""Evaluate a YouTube-VIS result file with Tube-Mask AP and Tube-Boundary AP.

Example::

    python tools/analysis_tools/hqvis_eval.py GT.json RESULTS.json \
        --iou-types segm boundary --out metrics.json --workers 2
"""
import argparse
import sys
import warnings

from mmvmt.evaluation.functional import STAT_NAMES, HQVISEvaluator
from mmvmt.utils.atomic_io import check_out_dir, dump_json_atomic
from mmvmt.utils.cli_errors import run_cli

_ROWS = [('Average Precision', 'AP', '0.50:0.95', 'all', 100),
         ('Average Precision', 'AP', '0.50', 'all', 100),
         ('Average Precision', 'AP', '0.75', 'all', 100),
         ('Average Precision', 'AP', '0.50:0.95', 'small', 100),
         ('Average Precision', 'AP', '0.50:0.95', 'medium', 100),
         ('Average Precision', 'AP', '0.50:0.95', 'large', 100),
         ('Average Recall', 'AR', '0.50:0.95', 'all', 1),
         ('Average Recall', 'AR', '0.50:0.95', 'all', 10),
         ('Average Recall', 'AR', '0.50:0.95', 'all', 100),
         ('Average Recall', 'AR', '0.50:0.95', 'small', 100),
         ('Average Recall', 'AR', '0.50:0.95', 'medium', 100),
         ('Average Recall', 'AR', '0.50:0.95', 'large', 100)]


def format_table(title: str, stats: dict) -> str:
    """COCO-style summary table of the 12 statistics."""
    lines = [title]
    for name, (long, short, iou, area, dets) in zip(STAT_NAMES, _ROWS):
        lines.append(f' {long:<18} ({short}) @[ IoU={iou:<9} | '
                     f'area={area:>6s} | maxDets={dets:>3d} ] = '
                     f'{stats[name]:0.3f}')
    return '\n'.join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='HQ-YTVIS Tube-Mask AP / Tube-Boundary AP')
    parser.add_argument('gt', help='GT json (YouTube-VIS format)')
    parser.add_argument('results', help='result json (list of tubes)')
    parser.add_argument(
        '--iou-types',
        nargs='+',
        default=['segm', 'boundary'],
        choices=['segm', 'boundary'],
        help='segm = Tube-Mask AP, boundary = Tube-Boundary AP')
    parser.add_argument('--out', help='write the statistics to this json')
    parser.add_argument(
        '--workers', type=int, default=0, help='processes over videos')
    parser.add_argument(
        '--strict',
        action='store_true',
        help='reject inputs the reference evaluator silently accepts '
        '(unknown categories, frame-count or size mismatches)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    names = {'segm': 'mask', 'boundary': 'boundary'}
    titles = {'segm': 'Tube-Mask AP (segm)',
              'boundary': 'Tube-Boundary AP (boundary)'}
    if args.out:
        check_out_dir(args.out)  # before the work, not after
    with warnings.catch_warnings():
        warnings.simplefilter('always')
        evaluator = HQVISEvaluator(
            args.gt, args.results, workers=args.workers, strict=args.strict)
        metrics = {}
        # boundary first, then segm, as the reference script does
        for iou_type in sorted(args.iou_types, reverse=False):
            metrics[names[iou_type]] = evaluator.evaluate(iou_type)
    for iou_type in args.iou_types:
        print(format_table(titles[iou_type], metrics[names[iou_type]]))
    if args.out:
        dump_json_atomic(metrics, args.out, indent=1)
        print(f'metrics written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
