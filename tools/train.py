# Copyright (c) mmvmt contributors.
"""Train a VMT model: ``python tools/train.py CONFIG [--resume [CKPT]]``."""
import argparse
import sys

from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmvmt.utils import register_all_modules
from mmvmt.utils.cli_errors import CLIError, run_cli
from mmvmt.utils.cli import (add_common_args, init_cpu_distributed,
                             load_config)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a VMT model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the real total batch size')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint; without a path, resume from the '
        'latest checkpoint in the work directory')
    add_common_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = load_config(args)

    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise CLIError('--auto-scale-lr needs '
                           'auto_scale_lr.base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    init_cpu_distributed(cfg)
    runner = (Runner.from_cfg(cfg)
              if 'runner_type' not in cfg else RUNNERS.build(cfg))
    runner.train()


if __name__ == '__main__':
    sys.exit(run_cli(main))
