# Copyright (c) mmvmt contributors.
"""Checks on a whole clip after the per-frame transforms."""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmvmt.registry import TRANSFORMS
from mmvmt.utils.cli_errors import UserInputError


class VideoFormatError(ValueError, UserInputError):
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


# per-frame keys with one entry per instance (besides ``gt_masks``)
INSTANCE_KEYS = ('gt_bboxes', 'gt_bboxes_labels', 'gt_instances_ids',
                 'gt_ignore_flags')


def keep_instances(results: dict, t: int, keep: np.ndarray) -> None:
    """Keep only the instances ``keep`` (bool, (n,)) in frame ``t``."""
    for key in INSTANCE_KEYS:
        if key in results:
            results[key][t] = results[key][t][keep]
    if 'gt_masks' in results:
        results['gt_masks'][t] = results['gt_masks'][t][np.nonzero(keep)[0]]


@TRANSFORMS.register_module()
class FilterClipInstances(BaseTransform):
    """Drop invisible instances per frame; resample unusable clips.

    In every frame, instances whose mask is empty (cropped or warped out,
    although their box may still overlap the frame) are removed, so an
    instance counts as present only where it is visible. The clip is then
    rejected (None: the dataset draws another sample) when the number of
    distinct instances visible in any frame is below ``min_instances`` or
    above ``max_instances`` (SeqFormer resamples COCO images with 0 or more
    than 25 instances).

    Args:
        min_instances (int): Defaults to 1.
        max_instances (int): Defaults to 25.
    """

    def __init__(self, min_instances: int = 1, max_instances: int = 25):
        self.min_instances = min_instances
        self.max_instances = max_instances

    def transform(self, results: dict) -> Optional[dict]:
        ids = set()
        for t in range(len(results['gt_instances_ids'])):
            if 'gt_masks' in results:
                masks = results['gt_masks'][t].to_ndarray()
                visible = masks.reshape(len(masks), -1).any(1) if len(
                    masks) else np.zeros(0, bool)  # (a frame can be empty)
                keep_instances(results, t, visible)
            ids.update(np.asarray(results['gt_instances_ids'][t]).tolist())
        if not self.min_instances <= len(ids) <= self.max_instances:
            return None
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(min_instances='
                f'{self.min_instances}, max_instances={self.max_instances})')
