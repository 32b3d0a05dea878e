# Copyright (c) mmvmt contributors.
"""One training sample per frame of every video (SeqFormer's epoch)."""
import math
from typing import Iterator, List, Optional, Sized, Tuple

import torch
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from mmvmt.registry import DATA_SAMPLERS


def video_lengths(dataset: Sized) -> List[int]:
    """Frames per video of a video dataset or a concatenation of them."""
    if hasattr(dataset, 'datasets'):
        return [n for d in dataset.datasets for n in video_lengths(d)]
    if hasattr(dataset, 'full_init'):
        dataset.full_init()
    return [
        int(dataset.get_data_info(i)['video_length'])
        for i in range(len(dataset))
    ]


@DATA_SAMPLERS.register_module()
class VideoFrameSampler(Sampler):
    """Yield ``(video, frame)`` for every frame of every video.

    SeqFormer counts one training sample per frame (the frame is the clip's
    anchor), so a long video is seen more often than a short one and a
    COCO image (a one-frame video) once. Unlike mmdet's
    ``TrackImgSampler`` this works on :class:`VideoConcatDataset` (global
    video indices). Distributed like mmengine's ``DefaultSampler``: the
    shuffled list is padded to a multiple of the world size and split.

    Args:
        dataset (Sized): A video dataset or :class:`VideoConcatDataset`.
        shuffle (bool): Defaults to True.
        seed (int, optional): Shuffle seed (synced across ranks).
        round_up (bool): Pad so that every rank gets the same number.
            Defaults to True.
    """

    def __init__(self,
                 dataset: Sized,
                 shuffle: bool = True,
                 seed: Optional[int] = None,
                 round_up: bool = True) -> None:
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.round_up = round_up
        self.epoch = 0
        self.pairs = [(v, f)
                      for v, length in enumerate(video_lengths(dataset))
                      for f in range(length)]
        total = len(self.pairs)
        if round_up:
            self.num_samples = math.ceil(total / self.world_size)
            self.total_size = self.num_samples * self.world_size
        else:
            self.num_samples = math.ceil(
                (total - self.rank) / self.world_size)
            self.total_size = total

    def __iter__(self) -> Iterator[Tuple[int, int]]:
        if self.shuffle:
            gen = torch.Generator()
            gen.manual_seed(self.seed + self.epoch)
            order = torch.randperm(len(self.pairs), generator=gen).tolist()
        else:
            order = list(range(len(self.pairs)))
        if self.round_up and order:
            order = (order * math.ceil(self.total_size / len(order))
                     )[:self.total_size]
        return iter(
            [self.pairs[i] for i in order[self.rank:self.total_size:
                                          self.world_size]])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Reshuffle for ``epoch`` (called by the runner)."""
        self.epoch = epoch
