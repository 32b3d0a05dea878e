# Copyright (c) mmvmt contributors.
"""Test (and evaluate) a VMT model: ``python tools/test.py CONFIG CKPT``.

Run on a folder of videos in YouTube-VIS layout and only write the
results (``WORK_DIR/results.json`` + ``submission_file.zip``)::

    python tools/test.py configs/vmt/vmt_r50.py CKPT \
        --data-root path/to/data --ann-file valid.json --format-only \
        --work-dir work_dirs/run
"""
import argparse
import sys

from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmvmt.evaluation.metrics import AtomicDumpResults
from mmvmt.utils import register_all_modules
from mmvmt.utils.cli_errors import CLIError, run_cli
from mmvmt.utils.cli import (add_common_args, apply_test_data_overrides,
                             init_cpu_distributed, load_config,
                             load_weights_strict)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a VMT model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file (mmvmt format)')
    parser.add_argument(
        '--out', help='dump the raw predictions to this pickle file')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory (inside the work dir) where painted frames are saved')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--data-root',
        help='test on this YouTube-VIS style folder (JPEGImages/ + json)')
    parser.add_argument(
        '--ann-file',
        default='valid.json',
        help='json inside --data-root (default valid.json)')
    parser.add_argument(
        '--short-side', type=int, help='test resize of the shorter side')
    parser.add_argument(
        '--format-only',
        action='store_true',
        help='only write WORK_DIR/results.json and submission_file.zip')
    add_common_args(parser)
    return parser.parse_args()


def enable_visualization(cfg, args: argparse.Namespace) -> None:
    """Switch the visualization hook on for ``--show`` / ``--show-dir``."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise CLIError('--show/--show-dir need a "visualization" '
                       'hook in default_hooks')
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        hook['test_out_dir'] = args.show_dir


def main() -> None:
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = load_config(args)
    apply_test_data_overrides(cfg, args)
    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    dump_metric = None
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise CLIError('--out must be a .pkl or .pickle file')
        dump_metric = AtomicDumpResults(out_file_path=args.out)
    # weights are loaded strictly below, not through cfg.load_from
    cfg.load_from = None
    init_cpu_distributed(cfg)
    runner = (Runner.from_cfg(cfg)
              if 'runner_type' not in cfg else RUNNERS.build(cfg))
    load_weights_strict(runner.model, args.checkpoint)
    if dump_metric is not None:
        runner.test_evaluator.metrics.append(dump_metric)
    runner.test()


if __name__ == '__main__':
    sys.exit(run_cli(main))
