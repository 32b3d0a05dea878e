# Copyright (c) mmvmt contributors.
"""Convert a released VMT checkpoint to an mmvmt (mmengine) checkpoint.

Example::

    python tools/model_converters/vmt_to_mmvmt.py vmt_r50.pth \
        checkpoints/vmt_r50_mmvmt.pth --arch r50

The output is a slim checkpoint ``{'state_dict': ..., 'meta': ...}`` that
loads with torch's default ``weights_only=True``.
"""
import argparse
import os.path as osp
import sys

import torch

from mmvmt.models.utils import ARCHS, convert_vmt_state_dict, detect_arch
from mmvmt.utils.atomic_io import atomic_outputs
from mmvmt.utils.cli_errors import CLIError, run_cli
from mmvmt.utils.safe_load import load_checkpoint_file


def load_released(path: str) -> dict:
    """Load ``{'model': state_dict}`` (plain tensors) safely."""
    if not osp.isfile(path):
        raise CLIError(f'checkpoint not found: {path}')
    ckpt = load_checkpoint_file(path, map_location='cpu')
    if isinstance(ckpt, dict) and 'model' in ckpt:
        ckpt = ckpt['model']
    if not isinstance(ckpt, dict) or not all(
            isinstance(v, torch.Tensor) for v in ckpt.values()):
        raise CLIError(f'{path} holds no VMT state dict '
                       "(expected {'model': {name: tensor}})")
    return ckpt


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='released VMT checkpoint')
    parser.add_argument('dst', help='output mmvmt checkpoint')
    parser.add_argument(
        '--arch', choices=ARCHS, help='architecture (guessed if omitted)')
    args = parser.parse_args(argv)
    state_dict = load_released(args.src)
    arch = args.arch or detect_arch(state_dict)
    if args.arch and detect_arch(state_dict) != args.arch:
        raise CLIError(f'{args.src} looks like a '
                       f'{detect_arch(state_dict)} checkpoint, not '
                       f'{args.arch}')
    converted, dropped, unmapped = convert_vmt_state_dict(
        state_dict, arch, log=print)
    if unmapped:
        raise CLIError(f'{len(unmapped)} keys of {args.src} have no mmvmt '
                       f'name for {arch} (not a released VMT checkpoint?), '
                       f'e.g. {unmapped[:5]}')
    with atomic_outputs(args.dst) as (tmp, ):
        torch.save(
            dict(state_dict=converted,
                 meta=dict(arch=arch, source=osp.basename(args.src))), tmp)
    print(f'{arch}: {len(state_dict)} released keys -> {len(converted)} '
          f'mmvmt keys ({len(dropped)} dropped on purpose, 0 unmapped); '
          f'written to {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
