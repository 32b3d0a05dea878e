# Copyright (c) mmvmt contributors.
"""A save that dies half-way (a full disk) leaves no truncated checkpoint,
keeps ``last_checkpoint`` on the previous one, and auto-resume continues
from it."""
import os
import os.path as osp

import pytest
from mmengine.fileio import LocalBackend

from ...tiny_runner import tiny_runner


def runner(work_dir, max_epochs, hook='AtomicCheckpointHook', resume=False):
    return tiny_runner(work_dir, dict(by_epoch=True, max_epochs=max_epochs),
                       dict(type=hook, interval=1, max_keep_ckpts=1),
                       length=4, resume=resume)


def fail_second_save(monkeypatch):
    """``LocalBackend.put`` writes half of the second file it is given,
    then raises as a full disk does."""
    real_put = LocalBackend.put
    calls = []

    def put(self, obj, filepath):
        calls.append(filepath)
        if len(calls) == 2:
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            raise OSError(28, 'No space left on device')
        return real_put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', put)


@pytest.mark.parametrize('hook', ['AtomicCheckpointHook', 'CheckpointHook'])
def test_crash_mid_save_then_resume(tmp_path, monkeypatch, hook):
    work_dir = str(tmp_path / hook)
    with monkeypatch.context() as patch:
        fail_second_save(patch)
        with pytest.raises(OSError, match='No space'):
            runner(work_dir, 3, hook).train()
    names = sorted(os.listdir(work_dir))
    last = open(osp.join(work_dir, 'last_checkpoint')).read()
    if hook == 'CheckpointHook':
        # mmengine's own hook (what the configs used before): the old
        # checkpoint was deleted first and a truncated epoch_2.pth is left
        assert 'epoch_2.pth' in names and 'epoch_1.pth' not in names
        assert last.endswith('epoch_1.pth')
        return
    assert 'epoch_2.pth' not in names, names
    assert not [n for n in names if n.endswith('.part')], names
    assert last == osp.join(work_dir, 'epoch_1.pth') and osp.isfile(last)
    resumed = runner(work_dir, 3, resume=True)
    resumed.train()
    assert resumed.epoch == 3
    assert sorted(n for n in os.listdir(work_dir)
                  if n.endswith('.pth')) == ['epoch_3.pth']
    assert open(osp.join(work_dir, 'last_checkpoint')).read().endswith(
        'epoch_3.pth')
