# Copyright (c) mmvmt contributors.
"""An iteration-based training loop whose resume repeats the uninterrupted
run exactly."""
import logging

from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop

from mmvmt.registry import LOOPS
from .hooks.rng_state_hook import restore_rng_states


@LOOPS.register_module()
class ResumableIterBasedTrainLoop(IterBasedTrainLoop):
    """mmengine's :class:`IterBasedTrainLoop` that, after skipping the
    batches a resumed run has already trained on, restores the random
    states of the checkpoint (``resumed_rng_states``, set by
    :class:`RNGStateHook`): skipping loads those batches again, which draws
    random numbers (flips, frame sampling) the uninterrupted run had drawn
    before saving. Arguments as for :class:`IterBasedTrainLoop`.
    """

    def run(self):
        """Launch training (mmengine's loop, plus the restore)."""
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        if self._iter > 0:
            print_log(
                f'Advance dataloader {self._iter} steps to skip data '
                'that has already been trained',
                logger='current',
                level=logging.WARNING)
            for _ in range(self._iter):
                next(self.dataloader_iterator)
            states = self.runner.message_hub.get_info('resumed_rng_states')
            if states is not None:
                restore_rng_states(states)
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            data_batch = next(self.dataloader_iterator)
            self.run_iter(data_batch)
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None
                    and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0
                         or self._iter == self._max_iters)):
                self.runner.val_loop.run()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model
