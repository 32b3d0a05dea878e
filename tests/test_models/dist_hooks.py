# Copyright (c) mmvmt contributors.
"""A hook used by the distributed training test: every rank writes a
digest of its final weights."""
import hashlib
import os.path as osp

from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmvmt.registry import HOOKS


@HOOKS.register_module()
class WeightDigestHook(Hook):
    """Write ``rank{r}.sha256`` with a digest of the parameters after
    training (buffers such as BN running statistics are per rank)."""

    def after_run(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        digest = hashlib.sha256()
        for key, value in sorted(model.named_parameters()):
            digest.update(key.encode())
            digest.update(value.detach().cpu().contiguous().numpy().tobytes())
        with open(osp.join(runner.work_dir, f'rank{get_rank()}.sha256'),
                  'w') as f:
            f.write(digest.hexdigest())
