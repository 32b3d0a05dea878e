# Copyright (c) mmvmt contributors.
from .safe_load import (UnsafeCheckpointError,
                        allow_mmengine_checkpoint_types,
                        patch_mmengine_checkpoint_loader,
                        setup_secure_checkpoint_loading)
from .setup_env import register_all_modules

__all__ = [
    'register_all_modules', 'setup_secure_checkpoint_loading',
    'allow_mmengine_checkpoint_types', 'patch_mmengine_checkpoint_loader',
    'UnsafeCheckpointError'
]
