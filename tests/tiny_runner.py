# Copyright (c) mmvmt contributors.
"""A one-layer model and a tiny dataset for tests of mmengine Runner
behaviour (checkpoints, resume) that do not need VMT itself."""
import torch
from mmengine.model import BaseModel
from torch import nn
from torch.utils.data import Dataset


class TinyData(Dataset):
    """``inputs = (i, i)``, ``target = 2 i`` for ``i < length``."""

    def __init__(self, length: int = 8) -> None:
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, idx: int) -> dict:
        x = torch.full((2, ), float(idx))
        return dict(inputs=x, target=x.sum().reshape(1))


class TinyModel(BaseModel):
    """Linear regression with a squared loss."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 1)

    def forward(self, inputs, target, mode='tensor'):
        inputs = torch.stack(inputs) if isinstance(inputs, list) else inputs
        target = torch.stack(target) if isinstance(target, list) else target
        loss = ((self.fc(inputs) - target)**2).mean()
        return dict(loss=loss) if mode == 'loss' else [loss]


def tiny_runner(work_dir: str, train_cfg: dict, checkpoint: dict,
                length: int = 8, resume: bool = False,
                default_scope: str = 'mmvmt'):
    """An mmengine Runner training :class:`TinyModel` on
    :class:`TinyData` (batch 2, no shuffling, SGD, seed 0).

    The experiment name is unique: mmengine reuses the default scope of a
    runner created in the same second under the same (timestamp) name.
    """
    import uuid

    from mmengine.runner import Runner
    return Runner(
        model=TinyModel(),
        work_dir=work_dir,
        train_dataloader=dict(
            dataset=TinyData(length),
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=2,
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=train_cfg,
        default_hooks=dict(checkpoint=checkpoint),
        resume=resume,
        randomness=dict(seed=0),
        default_scope=default_scope,
        experiment_name=f'tiny-{uuid.uuid4().hex}')
