# Copyright (c) mmvmt contributors.
"""Secure checkpoint loading for mmengine 0.10.7 on torch >= 2.6.

torch >= 2.6 loads pickles with ``weights_only=True`` by default. mmengine's
Runner checkpoints contain a few non-tensor objects (the message hub's
``HistoryBuffer`` with numpy arrays and scalars, and the buffer's statistics
methods pickled as ``getattr(HistoryBuffer, 'mean')``), so ``--resume`` and
``load_checkpoint`` fail with ``UnpicklingError``.

Instead of loading with weights_only off (which lets a checkpoint run
arbitrary code), :func:`allow_mmengine_checkpoint_types` allow-lists exactly
the types those checkpoints contain. ``builtins.getattr`` is not allowed as
such: it is mapped to :func:`_history_buffer_getattr`, which only resolves the
registered statistics methods of ``HistoryBuffer``; ``builtins.bytes`` (how
pickle protocol 2 writes the empty data of an empty array) is mapped to
:func:`_empty_bytes`, which builds nothing but ``b''``. Any other global in a
pickle is refused by torch's weights-only unpickler before anything is
executed. The allow-list is process-wide (torch keeps one list).

:func:`patch_mmengine_checkpoint_loader` makes every checkpoint source of
mmengine go through it: local files (loaded here with an explicit
``weights_only=True``), ``http(s)://`` and the schemes that resolve to a
URL (``torchvision://``, ``modelzoo://``, ``open-mmlab://``, ``mmcls://``),
whose download mmengine hands to ``torch.hub.load_state_dict_from_url``
with weights_only off (replaced here by the same call with
``weights_only=True``), and the remaining schemes (``s3://``, ``pavi://``),
which call ``torch.load`` with torch's default (``True`` from torch 2.6 on,
enforced by :func:`require_safe_torch`). Unreadable files (truncated, empty,
not a torch checkpoint) and refused ones raise one clear error each.
"""
import functools
import pickle
import re
from typing import Any, Callable, List, Optional, Tuple, Union

import numpy as np
import torch

from .cli_errors import UserInputError

_PATCHED_ATTR = '_mmvmt_safe_load_patched'
SAFE_TORCH = '2.6'


class UnsafeCheckpointError(UserInputError, pickle.UnpicklingError):
    """Raised when a checkpoint would construct a non allow-listed object."""


class CheckpointReadError(UserInputError, ValueError):
    """A checkpoint that cannot be read (missing, truncated, empty, not a
    torch checkpoint, or its download failed)."""


class UnsafeTorchError(UserInputError, RuntimeError):
    """torch is too old to load checkpoints without executing them."""


def torch_version_is_safe(version: str) -> bool:
    """Whether ``torch.load`` of this torch version defaults to
    ``weights_only=True`` (torch >= 2.6; pre-releases of 2.6 are not).

    Args:
        version (str): A torch version string, e.g. ``'2.13.0+cpu'``.
    """
    from torch.torch_version import TorchVersion
    return TorchVersion(version) >= SAFE_TORCH


def require_safe_torch(version: Optional[str] = None) -> None:
    """Refuse to run on a torch whose loaders may execute checkpoints.

    Args:
        version (str, optional): Defaults to the installed torch's.

    Raises:
        UnsafeTorchError: torch older than 2.6.
    """
    version = torch.__version__ if version is None else version
    if not torch_version_is_safe(version):
        raise UnsafeTorchError(
            f'torch {version} is installed; mmvmt needs torch >= '
            f'{SAFE_TORCH}, where torch.load defaults to weights_only=True '
            '(older versions would run code found in a checkpoint). '
            'Install torch>=2.6 (the Makefile installs 2.13.0).')


def _empty_bytes() -> bytes:
    """``builtins.bytes`` as pickle protocol 2 calls it: no argument, for
    the empty data of an empty array (anything else is refused)."""
    return b''


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
        (_empty_bytes, 'builtins.bytes'),
    ]
    # numpy 1.x writes ``numpy.core``, numpy 2.x ``numpy._core``: accept both
    # spellings so checkpoints written under either version load.
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        entries.append((multiarray._reconstruct, f'{module}._reconstruct'))
        entries.append((multiarray.scalar, f'{module}.scalar'))
    # numpy dtype classes (e.g. ``numpy.dtypes.Float64DType``) are pickled
    # when dtypes are stored; uint32 is the key array of numpy's random
    # state (saved by mmvmt's RNGStateHook).
    for dtype in (np.float64, np.float32, np.float16, np.int64, np.int32,
                  np.int16, np.int8, np.uint8, np.uint32, np.bool_):
        dtype_cls = type(np.dtype(dtype))
        entries.append(
            (dtype_cls, f'numpy.dtypes.{dtype_cls.__name__}'))
    return entries


def allow_mmengine_checkpoint_types() -> None:
    """Allow-list the types of mmengine Runner checkpoints in ``torch.load``.

    Idempotent; affects only ``weights_only=True`` loading (the default).
    """
    torch.serialization.add_safe_globals(_safe_globals())


def _refusal(err: pickle.UnpicklingError, name: str) -> UserInputError:
    """An unpickling error of the weights-only loader as one of ours."""
    msg = str(err)
    found = re.search(r'GLOBAL (\S+)', msg) or re.search(
        r"allowlisted via `add_safe_globals`, but got <class '([^']+)'>",
        msg)
    if found:
        return UnsafeCheckpointError(
            f'Refusing to load checkpoint {name!r}: it contains objects '
            'outside the allow-list of mmvmt (only tensors, plain '
            'containers, numpy arrays/scalars and mmengine HistoryBuffer are '
            f'accepted; found {found.group(1).rstrip(".,")}). Nothing from '
            'the file was executed.')
    detail = re.search(r'WeightsUnpickler error:\s*([^\n]*)', msg)
    return CheckpointReadError(
        f'cannot read checkpoint {name!r}: not a torch checkpoint that '
        'loads with weights_only=True (a plain pickle or a corrupt file: '
        f'{(detail.group(1) if detail else msg.splitlines()[0]).strip()})')


def read_error(err: Exception, name: str) -> UserInputError:
    """Turn what ``torch.load`` raises on a bad file into one clear error.

    Args:
        err (Exception): The error of ``torch.load`` (or of a download).
        name (str): The checkpoint's path or URL, for the message.

    Returns:
        UserInputError: :class:`UnsafeCheckpointError` for refused objects,
        else :class:`CheckpointReadError`.
    """
    if isinstance(err, UserInputError):
        return err
    if isinstance(err, pickle.UnpicklingError):
        return _refusal(err, name)
    if isinstance(err, FileNotFoundError):
        return CheckpointReadError(f'checkpoint not found: {name}')
    if isinstance(err, EOFError):
        return CheckpointReadError(f'cannot read checkpoint {name!r}: the '
                                   'file is empty or ends too early')
    first = (str(err).splitlines() or [''])[0][:200]
    return CheckpointReadError(
        f'cannot read checkpoint {name!r}: truncated, corrupt or not a '
        f'torch checkpoint ({type(err).__name__}: {first})')


# what torch.load / torch.hub raise on a missing, truncated, empty or foreign
# file, or a failed download (urllib's errors are OSErrors)
_READ_ERRORS = (pickle.UnpicklingError, RuntimeError, EOFError, KeyError,
                ValueError, IndexError, OSError, AttributeError)


def load_checkpoint_file(filename: Any, map_location=None) -> Any:
    """``torch.load(filename, weights_only=True)`` with one clear error.

    Args:
        filename (str | file): A local path or a binary file object.
        map_location: As for :func:`torch.load`.

    Raises:
        UnsafeCheckpointError: The file holds objects outside the
            allow-list (nothing was executed).
        CheckpointReadError: Missing, truncated, empty or not a checkpoint.
    """
    try:
        return torch.load(filename, map_location=map_location,
                          weights_only=True)
    except _READ_ERRORS as err:
        raise read_error(err, str(filename)) from None


def load_from_local(filename: str, map_location=None) -> Any:
    """mmengine's local scheme, loading with ``weights_only=True``."""
    import os.path as osp
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise CheckpointReadError(f'checkpoint not found: {filename}')
    return load_checkpoint_file(filename, map_location)


def load_url_weights_only(url: str,
                          model_dir: Optional[str] = None,
                          map_location=None,
                          progress: bool = True,
                          check_hash: bool = False,
                          file_name: Optional[str] = None) -> Any:
    """``mmengine.utils.dl_utils.load_url`` (download into torch's hub
    cache, then load) with ``weights_only=True`` and one clear error."""
    try:
        return torch.hub.load_state_dict_from_url(
            url, model_dir=model_dir, map_location=map_location,
            progress=progress, check_hash=check_hash, file_name=file_name,
            weights_only=True)
    except _READ_ERRORS as err:
        raise read_error(err, url) from None


def _wrap_loader(load_fn: Callable) -> Callable:

    @functools.wraps(load_fn)
    def load_checkpoint(cls, filename, *args, **kwargs):
        try:
            return load_fn(filename, *args, **kwargs)
        except _READ_ERRORS as err:
            raise read_error(err, filename) from None

    return classmethod(load_checkpoint)


def patch_mmengine_checkpoint_loader() -> None:
    """Route every checkpoint source of mmengine through the allow-list.

    Registers :func:`load_from_local` for local paths, replaces the
    ``load_url`` that mmengine's ``http(s)://`` loader (and the schemes
    resolving to URLs) calls by :func:`load_url_weights_only`, and wraps
    ``CheckpointLoader.load_checkpoint`` (the single entry of
    ``load_checkpoint``, ``_load_checkpoint``, ``Runner.load_checkpoint``,
    ``Runner.resume`` and ``init_cfg=dict(type='Pretrained')``) so that
    unreadable or refused files raise one clear error. Idempotent.
    """
    from mmengine.runner import checkpoint as mm_checkpoint
    CheckpointLoader = mm_checkpoint.CheckpointLoader
    if getattr(CheckpointLoader, _PATCHED_ATTR, False):
        return
    CheckpointLoader.register_scheme('', load_from_local, force=True)
    mm_checkpoint.load_url = load_url_weights_only
    CheckpointLoader.load_checkpoint = _wrap_loader(
        CheckpointLoader.load_checkpoint)
    setattr(CheckpointLoader, _PATCHED_ATTR, True)


def setup_secure_checkpoint_loading() -> None:
    """Check torch, allow-list mmengine checkpoint types, patch mmengine's
    loaders."""
    require_safe_torch()
    allow_mmengine_checkpoint_types()
    patch_mmengine_checkpoint_loader()
