# Copyright (c) mmvmt contributors.
"""Checkpoints that survive a crash or a full disk."""
import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook

from mmvmt.registry import HOOKS
from mmvmt.utils.atomic_io import atomic_open


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's :class:`CheckpointHook` whose periodic checkpoints and
    ``last_checkpoint`` file are never left half-written.

    mmengine writes ``epoch_N.pth`` in place, then ``last_checkpoint``, and
    deletes checkpoints beyond ``max_keep_ckpts`` *before* saving the new
    one, so a crash or a full disk during a save leaves a truncated file or
    a ``last_checkpoint`` naming a deleted one, and ``--resume`` then fails.
    Here the checkpoint is saved as ``.epoch_N.pth.part`` in the same folder
    and renamed when complete (atomic on POSIX), ``last_checkpoint`` is
    replaced atomically after that, and old checkpoints are deleted last.
    A failed save removes its partial file and leaves the previous
    checkpoint and ``last_checkpoint`` as they were.

    Only local output folders are handled this way; other file backends
    (and best-checkpoint saving) behave as in mmengine. Arguments as for
    :class:`CheckpointHook`.
    """

    def _save_checkpoint_with_step(self, runner, step: int,
                                   meta: dict) -> None:
        """Save checkpoint ``step`` atomically, then prune old ones."""
        if not isinstance(self.file_backend, LocalBackend):
            return super()._save_checkpoint_with_step(runner, step, meta)
        stale = None
        if self.max_keep_ckpts > 0 and not (
                self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                stale = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = osp.join(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        part_name = f'.{filename}.part'
        part = osp.join(self.out_dir, part_name)
        try:
            runner.save_checkpoint(
                self.out_dir,
                part_name,
                self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler,
                meta=meta,
                by_epoch=self.by_epoch,
                backend_args=self.backend_args,
                **self.args)
            if not is_main_process():
                return
            os.replace(part, self.last_ckpt)
        finally:
            if is_main_process() and osp.exists(part):
                os.remove(part)
        with atomic_open(osp.join(runner.work_dir, 'last_checkpoint')) as f:
            f.write(self.last_ckpt)
        if stale is not None:
            old = osp.join(self.out_dir, self.filename_tmpl.format(stale))
            if osp.isfile(old):
                os.remove(old)
