# Copyright (c) mmvmt contributors.
"""Clip preprocessor normalising exactly as torchvision's
``ToTensor`` + ``Normalize`` (what the released VMT inference does)."""
from typing import Dict

from mmdet.models.data_preprocessors import TrackDataPreprocessor

from mmvmt.registry import MODELS


@MODELS.register_module()
class VMTDataPreprocessor(TrackDataPreprocessor):
    """:class:`TrackDataPreprocessor` with optional unit scaling.

    With ``unit_scale=True`` the uint8 frames are first divided by 255 (in
    float32) and ``mean``/``std`` are given in [0, 1] units, so the result is
    bit-identical to ``(x / 255 - mean) / std`` of the original code
    (mmdet's ``(x - 255 * mean) / (255 * std)`` differs in the last bits,
    enough to flip mask pixels sitting at the 0.5 threshold).

    Args:
        unit_scale (bool): Divide by 255 before normalising. Defaults to
            True.
        **kwargs: Arguments of :class:`TrackDataPreprocessor`.
    """

    def __init__(self, unit_scale: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.unit_scale = unit_scale

    def forward(self, data: dict, training: bool = False) -> Dict:
        """Normalise, pad and stack the clips (see the class docstring)."""
        if self.unit_scale:
            data = dict(data)
            data['inputs'] = [img.float() / 255 for img in data['inputs']]
        return super().forward(data, training)
