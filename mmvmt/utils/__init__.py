# Copyright (c) mmvmt contributors.
"""Utilities. The torch-dependent members (secure checkpoint loading,
module registration) are imported on first use, so that torch-free modules
of this package (:mod:`.atomic_io`, :mod:`.cli_errors`) stay light."""
_LAZY = {
    'UnsafeCheckpointError': 'safe_load',
    'CheckpointReadError': 'safe_load',
    'allow_mmengine_checkpoint_types': 'safe_load',
    'patch_mmengine_checkpoint_loader': 'safe_load',
    'setup_secure_checkpoint_loading': 'safe_load',
    'register_all_modules': 'setup_env',
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        module = importlib.import_module(f'{__name__}.{_LAZY[name]}')
        return getattr(module, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
