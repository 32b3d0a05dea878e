# Copyright (c) mmvmt contributors.
"""Random states saved with every checkpoint and restored on resume, so
that a resumed run draws the same clips, flips, frame samples, dropout
masks and refinement point subsets as an uninterrupted one."""
import logging
import random
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmvmt.registry import HOOKS

STATE_KEY = 'rng_states'


def capture_rng_states() -> dict:
    """Python's, numpy's and torch's (CPU and every CUDA device's) global
    random states; only types the checkpoint allow-list accepts."""
    states = dict(
        python=random.getstate(),
        numpy=np.random.get_state(),
        torch=torch.get_rng_state())
    if torch.cuda.is_available():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict) -> None:
    """Set the global random states captured by :func:`capture_rng_states`.
    """
    version, internal, gauss = states['python']
    random.setstate((version, tuple(internal), gauss))
    np.random.set_state(tuple(states['numpy']))
    torch.set_rng_state(states['torch'])
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states['cuda'])


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the global random states in each checkpoint (``rng_states``)
    and restore them when a checkpoint is loaded.

    mmengine stores only the seed, so a resumed run re-seeds and draws other
    random numbers than the run it continues. With this hook an epoch-based
    run resumed from ``epoch_N.pth`` repeats exactly what the uninterrupted
    run did after epoch N (the samplers are re-seeded per epoch by
    mmengine). mmengine's ``IterBasedTrainLoop`` skips the trained batches
    by loading them, which draws random numbers again; use
    :class:`ResumableIterBasedTrainLoop`, which restores the states a
    second time after the skip. The restored states are also kept in the
    message hub (``resumed_rng_states``) for that loop.
    """
    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Add the current random states to ``checkpoint``."""
        checkpoint[STATE_KEY] = capture_rng_states()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Restore the random states saved in ``checkpoint``, if any."""
        states: Optional[dict] = checkpoint.get(STATE_KEY)
        if states is None:
            print_log('the checkpoint holds no random states (saved without '
                      'RNGStateHook): the run continues with fresh ones',
                      logger='current', level=logging.WARNING)
            return
        restore_rng_states(states)
        runner.message_hub.update_info('resumed_rng_states', states)
