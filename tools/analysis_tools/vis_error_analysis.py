# Copyright (c) mmvmt contributors.
"""What limits a result file's Tube-Mask AP: wrong classes, tubes not
found, or small objects (``mmvmt/evaluation/functional/error_analysis.py``).

Example::

    python tools/test.py CONFIG CKPT --format-only --work-dir work_dirs/res
    python tools/analysis_tools/vis_error_analysis.py data/toy/val.json \
        work_dirs/res/results.json --out work_dirs/errors.json
"""
import argparse
import sys

from mmvmt.evaluation.functional.error_analysis import (AREA_EDGES,
                                                        analyse_errors)
from mmvmt.utils.atomic_io import check_out_dir, dump_json_atomic
from mmvmt.utils.cli_errors import CLIError, run_cli


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('gt', help='GT json (YouTube-VIS format)')
    parser.add_argument('results', help='result json (list of tubes)')
    parser.add_argument(
        '--area-edges', type=float, nargs='+', default=list(AREA_EDGES),
        help='size buckets: edges of the mean per-frame GT area in pixels')
    parser.add_argument('--out', help='write the figures to this json')
    return parser.parse_args(argv)


def format_report(rep: dict) -> str:
    """The figures of :func:`analyse_errors` as a few lines of text."""
    lines = [f'{"":<15} {"mask AP":>8} {"AP50":>6} {"AR100":>6}   '
             f'{"boundary AP":>11} {"AP50":>6} {"AR100":>6}']
    for name, key in (('per class', 'per_class'),
                      ('class-agnostic', 'class_agnostic')):
        m, b = rep[key]['mask'], rep[key]['boundary']
        lines.append(f'{name:<15} {m["AP"]:8.3f} {m["AP50"]:6.3f} '
                     f'{m["AR100"]:6.3f}   {b["AP"]:11.3f} {b["AP50"]:6.3f} '
                     f'{b["AR100"]:6.3f}')
    lines.append(
        f'{rep["tubes"]} GT tubes: best tube IoU of any result (any class) '
        f'median {rep["median_best_iou"]:.3f}; >= 0.5 for '
        f'{rep["found_50"]:.0%}, >= 0.75 for {rep["found_75"]:.0%}; '
        f'that result has the right class for {rep["class_ok"]:.0%}')
    lines.append('by mean per-frame GT area (pixels):')
    for row in rep['by_area']:
        low, high = row['area']
        high = 'inf' if high is None else f'{high:g}'
        lines.append(
            f'  [{low:g}, {high}): {row["num"]} tubes, median best IoU '
            f'{row["median_best_iou"]:.3f}, >= 0.5 for {row["found_50"]:.0%}'
            f', right class {row["class_ok"]:.0%}')
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.out:
        check_out_dir(args.out)
    edges = args.area_edges
    if any(e <= 0 for e in edges) or list(edges) != sorted(set(edges)):
        raise CLIError('--area-edges must be positive and increasing')
    rep = analyse_errors(args.gt, args.results, edges)
    print(format_report(rep))
    if args.out:
        dump_json_atomic(rep, args.out, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
