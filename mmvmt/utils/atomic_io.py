# Copyright (c) mmvmt contributors.
"""Outputs that appear whole or not at all.

Every file a CLI of mmvmt writes goes through a temporary file in the same
folder that is moved into place (``os.replace``, atomic on POSIX) only once
it is complete; on any error the temporary file is removed, so a failure
(bad input found late, a full disk, an encoder that cannot write) never
leaves a half-written output behind. Torch-free.
"""
import contextlib
import json
import os
import os.path as osp
import tempfile
from typing import Any, Iterator, List, Sequence

import numpy as np

from .cli_errors import UserInputError


class OutputError(OSError, UserInputError):
    """An output that cannot be written, with the reason."""


def check_out_dir(path: str) -> str:
    """The folder ``path`` will be written in; it must exist.

    Raises:
        OutputError: The folder does not exist.
    """
    out_dir = osp.dirname(osp.abspath(path))
    if not osp.isdir(out_dir):
        raise OutputError(f'output directory does not exist: {out_dir}')
    return out_dir


def temp_path_beside(path: str) -> str:
    """A new empty temporary file next to ``path`` with the same
    extension (encoders such as OpenCV's choose the format by it)."""
    fd, tmp = tempfile.mkstemp(
        dir=check_out_dir(path),
        prefix='.' + osp.basename(path) + '.',
        suffix=osp.splitext(path)[1])
    os.close(fd)
    return tmp


def remove_quietly(paths: Sequence[str]) -> None:
    """Remove the files that exist among ``paths``."""
    for path in paths:
        if osp.exists(path):
            os.remove(path)


@contextlib.contextmanager
def atomic_outputs(*paths: str) -> Iterator[List[str]]:
    """Temporary paths for several outputs, all moved into place together
    when the block ends without error (none of them otherwise).

    Example::

        with atomic_outputs('a.mp4', 'a.json') as (video_tmp, json_tmp):
            ...  # write both temporary files

    Args:
        *paths (str): Final output paths.

    Yields:
        list[str]: One temporary path per output, in the same order.
    """
    tmps: List[str] = []
    try:
        for path in paths:
            tmps.append(temp_path_beside(path))
        yield tmps
        for tmp, path in zip(tmps, paths):
            os.replace(tmp, path)
    finally:
        remove_quietly(tmps)


@contextlib.contextmanager
def atomic_open(path: str, mode: str = 'w') -> Iterator[Any]:
    """``open(path, mode)`` that only replaces ``path`` once the block
    completes (``mode`` is ``'w'`` or ``'wb'``)."""
    with atomic_outputs(path) as (tmp, ):
        with open(tmp, mode) as f:
            yield f


def dump_json_atomic(obj: Any, path: str, **kwargs) -> None:
    """``json.dump(obj)`` to ``path`` atomically (kwargs go to json.dump)."""
    with atomic_open(path) as f:
        json.dump(obj, f, **kwargs)


def imwrite_atomic(path: str, image: np.ndarray) -> None:
    """Encode ``image`` (BGR uint8) by the extension of ``path`` with
    OpenCV and write it atomically.

    Raises:
        OutputError: OpenCV cannot encode the image in that format.
    """
    import cv2
    ok, data = cv2.imencode(osp.splitext(path)[1] or '.png', image)
    if not ok:
        raise OutputError(f'OpenCV cannot write an image as {path}')
    with atomic_open(path, 'wb') as f:
        f.write(data.tobytes())
