# Copyright (c) mmvmt contributors.
"""Secure checkpoint loading on torch >= 2.6 (weights_only=True)."""
import os
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from mmengine.runner import load_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader

import mmvmt  # noqa: F401  (installs the allow-list)
from mmvmt.utils import UnsafeCheckpointError
from ..tiny_runner import TinyModel, tiny_runner


def make_runner(work_dir, max_iters, resume=False):
    return tiny_runner(
        work_dir, dict(by_epoch=False, max_iters=max_iters),
        dict(type='CheckpointHook', interval=2, by_epoch=False),
        resume=resume, default_scope='mmengine')


def test_runner_checkpoint_loads_and_resumes(tmp_path):
    work_dir = str(tmp_path / 'run')
    make_runner(work_dir, 2).train()
    ckpt = osp.join(work_dir, 'iter_2.pth')
    assert osp.isfile(ckpt)
    # plain torch.load with the default weights_only=True works
    data = torch.load(ckpt, map_location='cpu')
    assert 'message_hub' in data and 'optimizer' in data
    # mmengine's loaders work
    assert 'state_dict' in CheckpointLoader.load_checkpoint(ckpt)
    load_checkpoint(TinyModel(), ckpt)
    # and so does resuming
    runner = make_runner(work_dir, 4, resume=True)
    runner.train()
    assert runner.iter == 4
    assert osp.isfile(osp.join(work_dir, 'iter_4.pth'))


class _Evil:

    def __reduce__(self):
        return (os.system, (f'touch {EVIL_MARK}', ))


EVIL_MARK = ''


def test_malicious_pickle_is_refused(tmp_path):
    global EVIL_MARK
    EVIL_MARK = str(tmp_path / 'pwned')
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'meta': _Evil()}, path)
    with pytest.raises(UnsafeCheckpointError, match='allow-list'):
        CheckpointLoader.load_checkpoint(path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)
    assert not osp.exists(EVIL_MARK), 'the payload must not have run'


def test_getattr_is_limited_to_history_buffer(tmp_path):
    from mmvmt.utils.safe_load import _history_buffer_getattr
    from mmengine.logging.history_buffer import HistoryBuffer
    assert _history_buffer_getattr(HistoryBuffer, 'mean') is \
        HistoryBuffer.mean
    with pytest.raises(UnsafeCheckpointError):
        _history_buffer_getattr(os, 'system')
    with pytest.raises(UnsafeCheckpointError):
        _history_buffer_getattr(HistoryBuffer, '__init__')


def test_numpy_payloads_load(tmp_path):
    path = str(tmp_path / 'np.pth')
    torch.save({'a': np.arange(3), 'b': np.float64(2.5)}, path)
    data = torch.load(path)
    assert data['b'] == 2.5 and data['a'].tolist() == [0, 1, 2]


def test_empty_arrays_and_unused_history_buffer_load(tmp_path):
    """Protocol 2 writes the empty data of an empty array as a
    ``builtins.bytes()`` call; a never-updated HistoryBuffer holds two."""
    from mmengine.logging.history_buffer import HistoryBuffer

    from mmvmt.utils.safe_load import _empty_bytes, load_checkpoint_file
    path = str(tmp_path / 'empty.pth')
    torch.save({'hub': HistoryBuffer(), 'e': np.zeros((0, 3))}, path)
    data = load_checkpoint_file(path)
    assert data['e'].shape == (0, 3) and len(data['hub']._log_history) == 0
    with pytest.raises(TypeError):
        _empty_bytes(10 ** 9)  # only the argument-less call is allowed


@pytest.mark.parametrize('version,safe', [
    ('2.13.0+cpu', True), ('2.6.0', True), ('2.6.1+cu124', True),
    ('2.5.1', False), ('2.6.0a0+git1234', False), ('1.13.1', False)])
def test_torch_version_decision(version, safe):
    from mmvmt.utils.safe_load import (UnsafeTorchError, require_safe_torch,
                                       torch_version_is_safe)
    assert torch_version_is_safe(version) is safe
    if safe:
        require_safe_torch(version)
    else:
        with pytest.raises(UnsafeTorchError, match='torch>=2.6'):
            require_safe_torch(version)
