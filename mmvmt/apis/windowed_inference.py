# Copyright (c) mmvmt contributors.
"""Long videos in bounded memory: overlapping windows, linked tracks.

The released VMT runs a whole video as one clip, so memory grows with the
video length. Here frames are read lazily, VMT runs on windows of
``clip_len`` frames that share ``overlap`` frames with the previous window,
instances are linked across windows by :class:`WindowLinker`, and each frame
is handed to the caller as soon as no later window can change it. At most
``clip_len + stride`` frames and two windows' predictions are held at once.

Schedule: windows start at 0, stride, 2 * stride, ... with
``stride = clip_len - overlap``; the last window is moved back so that it
also has ``clip_len`` frames (it then shares more than ``overlap`` frames).
A frame is reported from the latest window that contains it.
"""
from collections import deque
from typing import Iterator, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.structures import InstanceData

from mmvmt.models.trackers import WindowLinker
from .inference import VideoInputError, iter_frames, predict_frames


def check_window(clip_len: int, overlap: int) -> None:
    """Raise :class:`VideoInputError` (a ValueError) unless ``2 <= clip_len``
    and ``1 <= overlap < clip_len``."""
    if clip_len < 2:
        raise VideoInputError(f'clip_len must be at least 2, got {clip_len}')
    if not 1 <= overlap < clip_len:
        raise VideoInputError('overlap must be at least 1 and less than '
                              f'clip_len ({clip_len}), got {overlap}')


def _set_track_ids(inst: InstanceData, ids: dict) -> InstanceData:
    """Replace ``inst.instances_id`` (window rows) by the track ids of its
    rows (``ids``: row -> track id), in place; ``inst`` is this window's
    own prediction, so no copy of its masks is needed."""
    inst.instances_id = torch.as_tensor(
        [ids[k] for k in range(len(inst))], dtype=torch.long)
    return inst


@torch.no_grad()
def iter_video_predictions(
    model: torch.nn.Module,
    video: Union[str, Sequence[np.ndarray]],
    clip_len: int,
    overlap: int = 2,
    short_side: Optional[int] = None,
    linker: Optional[WindowLinker] = None
) -> Iterator[Tuple[int, np.ndarray, InstanceData]]:
    """Predict a video window by window, yielding frames in order.

    Args:
        model (nn.Module): From :func:`init_model`.
        video (str | list[np.ndarray]): mp4 path, frame folder or frames
            (an iterator of frames is consumed lazily).
        clip_len (int): Frames per window. A video of at most ``clip_len``
            frames is one window: exactly the whole-video result.
        overlap (int): Frames shared by consecutive windows, used to link
            instances. Defaults to 2.
        short_side (int, optional): Test resize; the config's by default.
        linker (WindowLinker, optional): Defaults to ``WindowLinker()``.

    Yields:
        tuple: ``(frame index, frame (H, W, 3) BGR uint8,
        pred_track_instances)`` with ``masks`` (k, H, W) bool, ``scores``,
        ``labels``, ``bboxes`` and track ids in ``instances_id``.
    """
    check_window(clip_len, overlap)
    linker = linker or WindowLinker()
    linker.reset()
    stride = clip_len - overlap
    reader = iter_frames(video)
    frames = deque()  # (index, frame) from the previous window's start on
    num_read = 0
    prev = None  # (start, [InstanceData with track ids] per frame)
    start = 0
    while True:
        for frame in reader:
            frames.append((num_read, frame))
            num_read += 1
            if num_read >= start + clip_len:
                break
        if prev is not None and num_read == prev[0] + len(prev[1]):
            break  # the video ended inside the previous window
        start = max(min(start, num_read - clip_len), 0)
        clip = [f for i, f in frames if i >= start]
        track = predict_frames(model, clip, short_side)
        cur = [s.pred_track_instances for s in track]
        shared = [] if prev is None else prev[1][start - prev[0]:]
        ids = linker.link(shared, cur)
        cur = [_set_track_ids(inst, ids) for inst in cur]
        if prev is not None:
            yield from _emit(frames, prev, start)
        while frames and frames[0][0] < start:
            frames.popleft()
        prev = (start, cur)
        start += stride
    yield from _emit(frames, prev, prev[0] + len(prev[1]))


def _emit(frames: deque, window: tuple,
          end: int) -> Iterator[Tuple[int, np.ndarray, InstanceData]]:
    """The window's frames before ``end`` (the next window's start)."""
    first, preds = window
    images = dict(frames)
    for t in range(first, end):
        yield t, images[t], preds[t - first]
