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
