#!/usr/bin/env python
"""The kit's ``time_forward.py`` for the original R101 or Swin-L model.

    VMT_SRC=... python time_forward_arch.py --arch swin-l RUN_DIR W.pth \
        [--repeat 3]
"""
import argparse
import os
import runpy
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arch_env  # noqa: E402

if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--arch', choices=sorted(arch_env.BACKBONE),
                        required=True)
    known, rest = parser.parse_known_args()
    arch_env.setup(known.arch)
    sys.argv = ['time_forward.py'] + rest
    runpy.run_path(os.path.join(arch_env.RUNNER, 'time_forward.py'),
                   run_name='__main__')
