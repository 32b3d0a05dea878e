"""Point the parity kit's runner (``vmt_env``) at the original's R101 or
Swin-L entry point, as its evaluation scripts call it:

* r101: ``tools/inference.py --masks --backbone resnet101``
  (``scripts/eval_r101_val.sh``);
* swin-l: ``tools/inference_swin.py --masks --backbone swin_l_p4w12``
  (``scripts/eval_swin_val.sh``), whose ``build_model`` is
  ``models_swin``'s.

Nothing of the original's math is touched.
"""
import argparse
import os
import sys

RUNNER = os.environ.get('PARITY_RUNNER', os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..',
    'shared', 'parity', 'runner'))
BACKBONE = {'r101': 'resnet101', 'swin-l': 'swin_l_p4w12'}


def setup(arch: str):
    """Patch ``vmt_env`` for ``arch``; returns the inference module."""
    sys.path.insert(0, os.path.abspath(RUNNER))
    import vmt_env  # noqa: E402  (VMT_SRC, stubs, math-neutral patches)
    if arch == 'swin-l':
        import tools.inference_swin as inf
        from models_swin import build_model
    else:
        inf = vmt_env.inf
        from models import build_model

    def default_args(extra=()):
        parser = argparse.ArgumentParser('inference script',
                                         parents=[inf.get_args_parser()])
        return parser.parse_args(['--masks', '--backbone', BACKBONE[arch],
                                  '--device', 'cpu', *extra])

    def build_original_model(args=None):
        return build_model(args or default_args())[0]

    vmt_env.inf = inf
    vmt_env.default_args = default_args
    vmt_env.build_original_model = build_original_model
    return inf
