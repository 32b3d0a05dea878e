# Copyright (c) mmvmt contributors.
"""Secure checkpoint loading for mmengine 0.10.7 on torch >= 2.6.

torch >= 2.6 loads pickles with ``weights_only=True`` by default. mmengine's
Runner checkpoints contain a few non-tensor objects (the message hub's
``HistoryBuffer`` with numpy arrays and scalars, and the buffer's statistics
methods pickled as ``getattr(HistoryBuffer, 'mean')``), so ``--resume`` and
``load_checkpoint`` fail with ``UnpicklingError``.

Instead of a blanket ``weights_only=False`` (which lets a checkpoint run
arbitrary code), :func:`allow_mmengine_checkpoint_types` allow-lists exactly
the types those checkpoints contain. ``builtins.getattr`` is not allowed as
such: it is mapped to :func:`_history_buffer_getattr`, which only resolves the
registered statistics methods of ``HistoryBuffer``. Any other global in a
pickle is still refused by torch's weights-only unpickler, before anything is
executed; :func:`patch_mmengine_checkpoint_loader` turns that refusal into one
clear error naming the file.
"""
import functools
import pickle
from typing import Any, Callable, List, Tuple, Union

import numpy as np
import torch

_PATCHED_ATTR = '_mmvmt_safe_load_patched'


class UnsafeCheckpointError(pickle.UnpicklingError):
    """Raised when a checkpoint would construct a non allow-listed object."""


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """A ``getattr`` that only resolves ``HistoryBuffer`` statistics methods.

    mmengine pickles ``HistoryBuffer._statistics_methods`` (a dict of
    functions) by reference, i.e. as ``getattr(HistoryBuffer, 'mean')``.

    Args:
        obj (Any): The object the pickle asks an attribute of.
        name (str): The attribute name.

    Returns:
        Any: The statistics method.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    allowed = set(HistoryBuffer._statistics_methods) | {
        'min', 'max', 'mean', 'current'
    }
    if obj is not HistoryBuffer or name not in allowed:
        raise UnsafeCheckpointError(
            f'checkpoint asks for getattr({obj!r}, {name!r}); only '
            f'HistoryBuffer statistics methods {sorted(allowed)} are allowed')
    return getattr(HistoryBuffer, name)


def _safe_globals() -> List[Union[Callable, Tuple[Callable, str]]]:
    """The exact set of globals found in mmengine Runner checkpoints."""
    from mmengine.logging.history_buffer import HistoryBuffer
    multiarray = np.core.multiarray
    entries: List[Union[Callable, Tuple[Callable, str]]] = [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        (_history_buffer_getattr, 'builtins.getattr'),
    ]
    # numpy 1.x writes ``numpy.core``, numpy 2.x ``numpy._core``: accept both
    # spellings so checkpoints written under either version load.
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        entries.append((multiarray._reconstruct, f'{module}._reconstruct'))
        entries.append((multiarray.scalar, f'{module}.scalar'))
    # numpy dtype classes (e.g. ``numpy.dtypes.Float64DType``) are pickled
    # when dtypes are stored.
    for dtype in (np.float64, np.float32, np.float16, np.int64, np.int32,
                  np.int16, np.int8, np.uint8, np.bool_):
        dtype_cls = type(np.dtype(dtype))
        entries.append(
            (dtype_cls, f'numpy.dtypes.{dtype_cls.__name__}'))
    return entries


def allow_mmengine_checkpoint_types() -> None:
    """Allow-list the types of mmengine Runner checkpoints in ``torch.load``.

    Idempotent; affects only ``weights_only=True`` loading (the default).
    """
    torch.serialization.add_safe_globals(_safe_globals())


def _wrap_loader(load_fn: Callable) -> Callable:

    @functools.wraps(load_fn)
    def load_checkpoint(cls, filename, *args, **kwargs):
        try:
            return load_fn(filename, *args, **kwargs)
        except pickle.UnpicklingError as err:
            raise UnsafeCheckpointError(
                f'Refusing to load checkpoint {filename!r}: it contains '
                'objects outside the allow-list of mmvmt (only tensors, '
                'plain containers, numpy arrays/scalars and mmengine '
                'HistoryBuffer are accepted). Nothing from the file was '
                f'executed. Details: {err}') from None

    return classmethod(load_checkpoint)


def patch_mmengine_checkpoint_loader() -> None:
    """Make mmengine report refused checkpoints with one clear error.

    ``mmengine.runner.checkpoint.CheckpointLoader.load_checkpoint`` is the
    single entry used by ``load_checkpoint``, ``_load_checkpoint``,
    ``Runner.load_checkpoint`` and ``Runner.resume``. Idempotent.
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    if getattr(CheckpointLoader, _PATCHED_ATTR, False):
        return
    CheckpointLoader.load_checkpoint = _wrap_loader(
        CheckpointLoader.load_checkpoint)
    setattr(CheckpointLoader, _PATCHED_ATTR, True)


def setup_secure_checkpoint_loading() -> None:
    """Allow-list mmengine checkpoint types and patch the loader."""
    allow_mmengine_checkpoint_types()
    patch_mmengine_checkpoint_loader()
