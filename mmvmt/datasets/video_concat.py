# Copyright (c) mmvmt contributors.
"""Concatenation of video datasets that takes (video, frame) indices."""
from typing import Tuple, Union

from mmengine.dataset import ConcatDataset

from mmvmt.registry import DATASETS


@DATASETS.register_module()
class VideoConcatDataset(ConcatDataset):
    """mmengine's ``ConcatDataset`` that also accepts ``(video, frame)``.

    mmdet's video datasets take a ``(video index, frame index)`` pair (the
    frame becomes the clip's ``key_frame_id``), but ``ConcatDataset`` only
    maps integers. Here the video index is global and is mapped to its
    dataset; the frame index is passed on. Used for joint HQ-YTVIS + COCO
    pseudo-clip training with :class:`VideoFrameSampler`.
    """

    def __getitem__(self, idx: Union[int, Tuple[int, int]]) -> dict:
        frame = None
        if isinstance(idx, tuple):
            idx, frame = idx
        if not self._fully_initialized:
            self.full_init()
        dataset_idx, sample_idx = self._get_ori_dataset_idx(idx)
        dataset = self.datasets[dataset_idx]
        return dataset[sample_idx if frame is None else (sample_idx, frame)]
