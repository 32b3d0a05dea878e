# Copyright (c) mmvmt contributors.
"""Python API: build a VMT model and run it on a user's video."""
import glob
import os.path as osp
from typing import Iterator, List, Optional, Sequence, Union

import cv2
import numpy as np
import torch
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.config import Config

from mmvmt.datasets.transforms import ShortSideResize
from mmvmt.registry import MODELS
from mmvmt.utils import register_all_modules
from mmvmt.utils.cli_errors import UserInputError

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp')


class VideoInputError(ValueError, UserInputError):
    """A video that cannot be read, with the reason."""


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: str = 'cpu') -> torch.nn.Module:
    """Build a VMT model from a config and load its weights strictly.

    Args:
        config (str | Config): Config file or object.
        checkpoint (str, optional): mmvmt checkpoint (convert released VMT
            files first). Defaults to None (random weights).
        device (str): ``'cpu'`` or ``'cuda'``. Defaults to ``'cpu'``.

    Returns:
        nn.Module: The model in eval mode, with ``cfg`` attached.

    Raises:
        CLIError: A missing checkpoint or one that does not fit the config
            (a ValueError).
        CheckpointReadError: An unreadable checkpoint.
        UnsafeCheckpointError: A checkpoint outside the allow-list.
    """
    from mmvmt.utils.cli import load_weights_strict
    register_all_modules()
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        load_weights_strict(model, checkpoint)
    model.cfg = cfg
    return model.to(device).eval()


def iter_frames(video: Union[str, Sequence[np.ndarray]]
                ) -> Iterator[np.ndarray]:
    """Frames (BGR uint8) of an mp4/avi file, a folder of images (sorted by
    name) or a list of arrays, one at a time (nothing else is held).

    Raises:
        VideoInputError: A missing path, an empty folder, an undecodable
            file or frame, or frames of different sizes (raised when the
            offending frame is reached).
    """
    shape = None
    count = 0
    for frame in _raw_frames(video):
        if shape is None:
            shape = frame.shape
        elif frame.shape != shape:
            raise VideoInputError(
                f'frames of different sizes: frame {count} is '
                f'{frame.shape}, frame 0 is {shape}')
        count += 1
        yield frame
    if count == 0:
        raise VideoInputError('the video has no frames')


def _raw_frames(video: Union[str, Sequence[np.ndarray]]
                ) -> Iterator[np.ndarray]:
    if not isinstance(video, str):
        yield from video
    elif osp.isdir(video):
        files = sorted(f for f in glob.glob(osp.join(video, '*'))
                       if f.lower().endswith(IMAGE_EXTS))
        if not files:
            raise VideoInputError(f'no image frames in folder {video}')
        for f in files:
            img = cv2.imread(f, cv2.IMREAD_COLOR)
            if img is None:
                raise VideoInputError(f'cannot decode frame {f}')
            yield img
    elif osp.isfile(video):
        cap = cv2.VideoCapture(video)
        try:
            ok, img = cap.read()
            if not ok:
                raise VideoInputError(f'cannot decode any frame of {video}')
            while ok:
                yield img
                ok, img = cap.read()
        finally:
            cap.release()
    else:
        raise VideoInputError(f'video not found: {video}')


def read_video(video: Union[str, Sequence[np.ndarray]]) -> List[np.ndarray]:
    """All frames of a video (see :func:`iter_frames`) as a list."""
    return list(iter_frames(video))


def _test_short_side(cfg: Config) -> int:
    for step in cfg.test_dataloader.dataset.pipeline:
        for t in step.get('transforms', [step]):
            if t.get('type') == 'ShortSideResize':
                return t.get('short_side', 360)
    return 360


@torch.no_grad()
def predict_frames(model: torch.nn.Module, frames: Sequence[np.ndarray],
                   short_side: Optional[int] = None) -> TrackDataSample:
    """Run VMT on a list of frames as one clip.

    Args:
        model (nn.Module): From :func:`init_model`.
        frames (Sequence[np.ndarray]): T frames (H, W, 3) BGR uint8 of one
            size.
        short_side (int, optional): Test resize; the config's by default.

    Returns:
        :obj:`TrackDataSample`: per frame ``pred_track_instances`` at the
        original size (see :meth:`VMT.predict`).
    """
    resize = ShortSideResize(
        short_side=short_side or _test_short_side(model.cfg),
        backend='pillow')
    imgs, samples = [], []
    for t, frame in enumerate(frames):
        res = resize(dict(img=frame, img_shape=frame.shape[:2]))
        imgs.append(torch.from_numpy(res['img']).permute(2, 0, 1))
        sample = DetDataSample()
        sample.set_metainfo(
            dict(img_id=t, frame_id=t, video_id=0,
                 ori_shape=frame.shape[:2], img_shape=res['img_shape'],
                 video_length=len(frames), ori_video_length=len(frames)))
        samples.append(sample)
    track = TrackDataSample()
    track.video_data_samples = samples
    data = model.data_preprocessor(
        dict(inputs=[torch.stack(imgs)], data_samples=[track]), False)
    return model.predict(data['inputs'], data['data_samples'])[0]


def inference_video(model: torch.nn.Module,
                    video: Union[str, Sequence[np.ndarray]],
                    short_side: Optional[int] = None,
                    clip_len: Optional[int] = None,
                    overlap: int = 2) -> TrackDataSample:
    """Segment and track the instances of a video.

    Args:
        model (nn.Module): From :func:`init_model`.
        video (str | list[np.ndarray]): mp4 path, frame folder or frames.
        short_side (int, optional): Test resize; the config's by default.
        clip_len (int, optional): Window length for long videos (see
            :func:`iter_video_predictions`); None runs the whole video as
            one clip, as released.
        overlap (int): Frames shared by consecutive windows. Defaults to 2.

    Returns:
        :obj:`TrackDataSample`: per frame ``pred_track_instances`` at the
        original size (see :meth:`VMT.predict`).
    """
    if clip_len is None:
        return predict_frames(model, read_video(video), short_side)
    from .windowed_inference import iter_video_predictions
    samples = []
    for t, frame, inst in iter_video_predictions(model, video, clip_len,
                                                 overlap, short_side):
        sample = DetDataSample(metainfo=dict(
            frame_id=t, video_id=0, ori_shape=frame.shape[:2]))
        sample.pred_track_instances = inst
        samples.append(sample)
    track = TrackDataSample()
    track.video_data_samples = samples
    return track
