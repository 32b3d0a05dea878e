# Copyright (c) mmvmt contributors.
"""Checks on a whole clip after the per-frame transforms."""
from mmcv.transforms import BaseTransform

from mmvmt.registry import TRANSFORMS


class VideoFormatError(ValueError):
    """A clip that the model cannot take, with the reason."""


@TRANSFORMS.register_module()
class CheckFrameSizes(BaseTransform):
    """Raise one clear error when the frames of a clip differ in size.

    VMT processes a clip as one (T, 3, H, W) tensor, so every frame must
    have the same size (before and after resizing). Place it after the
    ``TransformBroadcaster`` and before ``PackTrackInputs``.
    """

    def transform(self, results: dict) -> dict:
        shapes = [tuple(img.shape[:2]) for img in results['img']]
        ori = results.get('ori_shape', shapes)
        if len(set(shapes)) > 1 or len(set(map(tuple, ori))) > 1:
            paths = results.get('img_path', [''] * len(shapes))
            sizes = ', '.join(f'{p} {tuple(s)}'
                              for p, s in zip(paths, ori))
            raise VideoFormatError(
                f'video {results.get("video_id", ["?"])[0]}: all frames '
                f'must have the same size, got {sizes}')
        return results
