# Copyright (c) mmvmt contributors.
"""mmvmt: Video Mask Transfiner as an OpenMMLab library.

Importing the package is light (no torch): the dependency versions are read
from the installed distributions, and the secure checkpoint loading is set
up as soon as mmengine's runner (which every checkpoint load goes through)
is imported.
"""
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _installed_version
from typing import Optional

from ._after_import import call_after_import
from .version import (__version__, mmcv_maximum_version, mmcv_minimum_version,
                      mmdet_version, mmengine_minimum_version,
                      parse_version_info, version_info)


def _check(dist: str, lowest: str, below: Optional[str] = None) -> None:
    try:
        found = _installed_version(dist)
    except PackageNotFoundError:
        raise ImportError(f'mmvmt needs {dist}>={lowest}, which is not '
                          'installed') from None
    ok = parse_version_info(found) >= parse_version_info(lowest) and (
        below is None or parse_version_info(found) < parse_version_info(below))
    bound = f'>={lowest}' + (f', <{below}' if below else '')
    assert ok, (f'{dist}=={found} is used but incompatible. Please install '
                f'{dist}{bound}.')


_check('mmcv', mmcv_minimum_version, mmcv_maximum_version)
_check('mmengine', mmengine_minimum_version)
_check('mmdet', mmdet_version)


def _secure_checkpoint_loading() -> None:
    # torch >= 2.6 loads checkpoints with weights_only=True: allow-list
    # exactly what mmengine checkpoints contain (mmvmt/utils/safe_load.py).
    from .utils.safe_load import setup_secure_checkpoint_loading
    setup_secure_checkpoint_loading()


call_after_import('mmengine.runner', _secure_checkpoint_loading)

__all__ = ['__version__', 'version_info']
