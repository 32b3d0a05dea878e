# Copyright (c) mmvmt contributors.
"""Hooks of the training tests: every rank writes a digest of its final
weights; a run is killed after a given iteration."""
import hashlib
import os
import os.path as osp

from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmvmt.registry import HOOKS


@HOOKS.register_module()
class WeightDigestHook(Hook):
    """Write ``rank{r}.init.sha256`` and ``rank{r}.sha256``, digests of the
    parameters before and after training (buffers such as BN running
    statistics are per rank)."""

    @staticmethod
    def _write(runner, name: str) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        digest = hashlib.sha256()
        for key, value in sorted(model.named_parameters()):
            digest.update(key.encode())
            digest.update(value.detach().cpu().contiguous().numpy().tobytes())
        with open(osp.join(runner.work_dir, name), 'w') as f:
            f.write(digest.hexdigest())

    def before_train(self, runner) -> None:
        self._write(runner, f'rank{get_rank()}.init.sha256')

    def after_run(self, runner) -> None:
        self._write(runner, f'rank{get_rank()}.sha256')


@HOOKS.register_module()
class KillAtIterHook(Hook):
    """End the process abruptly (as a kill does: no cleanup, exit code 3)
    right after iteration ``at`` (1-based) and its checkpoint."""
    priority = 'LOWEST'

    def __init__(self, at: int) -> None:
        self.at = at

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if runner.iter + 1 == self.at:
            os._exit(3)
