# Copyright (c) mmvmt contributors.
"""SeqFormer's clip sampling for training."""
import random
from typing import Dict, List, Optional

from mmdet.datasets.transforms import BaseFrameSample

from mmvmt.registry import TRANSFORMS


def seqformer_frame_ids(video_length: int,
                        num_frames: int,
                        near_range: int,
                        rng: random.Random,
                        anchor: Optional[int] = None) -> List[int]:
    """Frame indices of one training clip, sorted.

    An anchor frame, one frame 1..``near_range`` before and one after it
    (where the video has them), and the remaining frames drawn at random
    from outside that window (or from anywhere, then with repetition, when
    the video is too short). No frame repeats unless the video is shorter
    than the clip.

    Args:
        video_length (int): Frames in the video (>= 1).
        num_frames (int): Frames per clip.
        near_range (int): Window of the near frames.
        rng (random.Random): Random source.
        anchor (int, optional): The anchor frame (the sampler's frame
            index); random when None.

    Returns:
        list[int]: ``num_frames`` sorted indices in ``[0, video_length)``.
    """
    if anchor is None:
        anchor = rng.randrange(video_length)
    chosen = [anchor]
    before = [i for i in range(anchor - near_range, anchor) if i >= 0]
    after = [
        i for i in range(anchor + 1, anchor + near_range + 1)
        if i < video_length
    ]
    for near in (before, after):
        if near and len(chosen) < num_frames:
            chosen.append(rng.choice(near))
    rest = num_frames - len(chosen)
    far = [
        i for i in range(video_length)
        if abs(i - anchor) > near_range and i not in chosen
    ]
    if len(far) >= rest:
        chosen += rng.sample(far, rest)
    else:
        pool = [i for i in range(video_length) if i not in chosen]
        if len(pool) >= rest:
            chosen += rng.sample(pool, rest)
        else:
            chosen += pool + rng.choices(range(video_length),
                                         k=rest - len(pool))
    return sorted(chosen[:num_frames])


@TRANSFORMS.register_module()
class SeqFormerFrameSample(BaseFrameSample):
    """Sample a training clip of ``num_frames`` frames from a video.

    The anchor is ``key_frame_id`` when the dataset was indexed with a
    ``(video, frame)`` pair (:class:`VideoFrameSampler`), random otherwise.

    Args:
        num_frames (int): Frames per clip. Defaults to 5.
        near_range (int): Window of the near frames. Defaults to 3.
        collect_video_keys (list[str]): Video keys copied to the frames.
    """

    def __init__(self,
                 num_frames: int = 5,
                 near_range: int = 3,
                 collect_video_keys: List[str] = ['video_id',
                                                  'video_length']):
        super().__init__(collect_video_keys=collect_video_keys)
        self.num_frames = num_frames
        self.near_range = near_range

    def transform(self, video_infos: dict) -> Optional[Dict[str, List]]:
        ids = seqformer_frame_ids(video_infos['video_length'],
                                  self.num_frames, self.near_range,
                                  random.Random(random.random()),
                                  video_infos.get('key_frame_id'))
        return self.prepare_data(video_infos, ids)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_frames={self.num_frames}, '
                f'near_range={self.near_range})')
