# Copyright (c) mmvmt contributors.
"""Python API: build a VMT model and run it on a user's video."""
import glob
import os.path as osp
from typing import List, Optional, Sequence, Union

import cv2
import numpy as np
import torch
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.config import Config

from mmvmt.datasets.transforms import ShortSideResize
from mmvmt.registry import MODELS
from mmvmt.utils import register_all_modules

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp')


class VideoInputError(ValueError):
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
    """
    from mmvmt.utils.cli import load_weights_strict
    register_all_modules()
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        try:
            load_weights_strict(model, checkpoint)
        except SystemExit as err:  # the CLI helper exits; the API raises
            raise ValueError(str(err)) from None
    model.cfg = cfg
    return model.to(device).eval()


def read_video(video: Union[str, Sequence[np.ndarray]]) -> List[np.ndarray]:
    """Frames (BGR uint8) of an mp4/avi file, a folder of images (sorted by
    name) or a list of arrays; all frames must have the same size."""
    if not isinstance(video, str):
        frames = list(video)
    elif osp.isdir(video):
        files = sorted(f for f in glob.glob(osp.join(video, '*'))
                       if f.lower().endswith(IMAGE_EXTS))
        if not files:
            raise VideoInputError(f'no image frames in folder {video}')
        frames = []
        for f in files:
            img = cv2.imread(f, cv2.IMREAD_COLOR)
            if img is None:
                raise VideoInputError(f'cannot decode frame {f}')
            frames.append(img)
    elif osp.isfile(video):
        cap = cv2.VideoCapture(video)
        frames = []
        while True:
            ok, img = cap.read()
            if not ok:
                break
            frames.append(img)
        cap.release()
        if not frames:
            raise VideoInputError(f'cannot decode any frame of {video}')
    else:
        raise VideoInputError(f'video not found: {video}')
    if not frames:
        raise VideoInputError('the video has no frames')
    sizes = {f.shape for f in frames}
    if len(sizes) > 1:
        raise VideoInputError(f'frames of different sizes: {sorted(sizes)}')
    return frames


def _test_short_side(cfg: Config) -> int:
    for step in cfg.test_dataloader.dataset.pipeline:
        for t in step.get('transforms', [step]):
            if t.get('type') == 'ShortSideResize':
                return t.get('short_side', 360)
    return 360


@torch.no_grad()
def inference_video(model: torch.nn.Module,
                    video: Union[str, Sequence[np.ndarray]],
                    short_side: Optional[int] = None) -> TrackDataSample:
    """Segment and track the instances of a whole video (one clip).

    Args:
        model (nn.Module): From :func:`init_model`.
        video (str | list[np.ndarray]): mp4 path, frame folder or frames.
        short_side (int, optional): Test resize; the config's by default.

    Returns:
        :obj:`TrackDataSample`: per frame ``pred_track_instances`` at the
        original size (see :meth:`VMT.predict`).
    """
    frames = read_video(video)
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
