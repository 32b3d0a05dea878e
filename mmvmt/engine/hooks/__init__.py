# Copyright (c) mmvmt contributors.
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .rng_state_hook import (RNGStateHook, capture_rng_states,
                             restore_rng_states)

__all__ = [
    'AtomicCheckpointHook', 'RNGStateHook', 'capture_rng_states',
    'restore_rng_states'
]
