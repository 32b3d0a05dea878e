# Copyright (c) mmvmt contributors.
"""Convert a released VMT checkpoint to an mmvmt (mmengine) checkpoint.

Example::

    python tools/model_converters/vmt_to_mmvmt.py vmt_r50.pth \
        checkpoints/vmt_r50_mmvmt.pth --arch r50

The output is a slim checkpoint ``{'state_dict': ..., 'meta': ...}`` that
loads with torch's default ``weights_only=True``.
"""
import argparse
import os
import os.path as osp
import sys

import torch

from mmvmt.models.utils import ARCHS, convert_vmt_state_dict, detect_arch


def load_released(path: str) -> dict:
    """Load ``{'model': state_dict}`` (plain tensors) safely."""
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except FileNotFoundError:
        raise SystemExit(f'error: checkpoint not found: {path}')
    except Exception as err:  # unpickling / zip errors
        raise SystemExit(f'error: cannot read {path} as a weights-only '
                         f'torch checkpoint: {err}')
    if isinstance(ckpt, dict) and 'model' in ckpt:
        ckpt = ckpt['model']
    if not isinstance(ckpt, dict) or not all(
            isinstance(v, torch.Tensor) for v in ckpt.values()):
        raise SystemExit(f'error: {path} holds no VMT state dict '
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
        raise SystemExit(f'error: {args.src} looks like a '
                         f'{detect_arch(state_dict)} checkpoint, not '
                         f'{args.arch}')
    converted, dropped, unmapped = convert_vmt_state_dict(
        state_dict, arch, log=print)
    if unmapped:
        print(f'error: {len(unmapped)} keys were not mapped:',
              file=sys.stderr)
        for key in unmapped:
            print(f'  {key}', file=sys.stderr)
        return 1
    out_dir = osp.dirname(osp.abspath(args.dst))
    if not osp.isdir(out_dir):
        raise SystemExit(f'error: output directory does not exist: '
                         f'{out_dir}')
    tmp = args.dst + '.tmp'
    torch.save(
        dict(state_dict=converted,
             meta=dict(arch=arch, source=osp.basename(args.src))), tmp)
    os.replace(tmp, args.dst)
    print(f'{arch}: {len(state_dict)} released keys -> {len(converted)} '
          f'mmvmt keys ({len(dropped)} dropped on purpose, 0 unmapped); '
          f'written to {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
