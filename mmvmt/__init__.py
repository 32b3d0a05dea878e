# Copyright (c) mmvmt contributors.
"""mmvmt: Video Mask Transfiner as an OpenMMLab library."""
import mmcv
import mmdet
import mmengine
from mmengine.utils import digit_version

from .utils.safe_load import setup_secure_checkpoint_loading
from .version import (__version__, mmcv_maximum_version, mmcv_minimum_version,
                      mmengine_minimum_version, version_info)

_mmcv = digit_version(mmcv.__version__)
assert (digit_version(mmcv_minimum_version) <= _mmcv <
        digit_version(mmcv_maximum_version)), (
            f'mmcv=={mmcv.__version__} is used but incompatible. Please '
            f'install mmcv>={mmcv_minimum_version}, <{mmcv_maximum_version}.')
assert digit_version(mmengine.__version__) >= digit_version(
    mmengine_minimum_version), (
        f'mmengine=={mmengine.__version__} is used but incompatible. '
        f'Please install mmengine>={mmengine_minimum_version}.')
assert digit_version(mmdet.__version__) >= digit_version('3.3.0'), (
    f'mmdet=={mmdet.__version__} is used but mmvmt needs mmdet>=3.3.0.')

# torch >= 2.6 loads checkpoints with weights_only=True: allow-list exactly
# what mmengine checkpoints contain (see mmvmt/utils/safe_load.py).
setup_secure_checkpoint_loading()

__all__ = ['__version__', 'version_info']
