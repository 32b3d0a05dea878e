# Copyright (c) mmvmt contributors.
"""Turn one image repeated T times into a pseudo video clip."""
from typing import List, Optional, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
import torch
from mmdet.structures.mask import BitmapMasks, mask2bbox

from mmvmt.registry import TRANSFORMS
from .video_checks import keep_instances


def motion_blur_kernel(size: int, angle: float) -> np.ndarray:
    """A normalised line kernel of ``size`` pixels at ``angle`` degrees."""
    kernel = np.zeros((size, size), dtype=np.float32)
    kernel[size // 2] = 1
    rot = cv2.getRotationMatrix2D((size / 2 - 0.5, size / 2 - 0.5), angle, 1)
    kernel = cv2.warpAffine(kernel, rot, (size, size))
    return kernel / max(kernel.sum(), 1e-6)


@TRANSFORMS.register_module()
class PseudoClipAugment(BaseTransform):
    """Make a clip from T copies of one image (COCO pseudo videos).

    Every copy but one (the original) gets its own random perspective
    warp, rotation and translation (image and masks warped alike, boxes
    recomputed from the masks, instances that leave the frame dropped from
    it), brightness and hue/saturation shifts and, sometimes, motion blur;
    then the frames are shuffled. The defaults are SeqFormer's imgaug
    settings (spec section 9.1), re-implemented with OpenCV.

    Place it after the ``TransformBroadcaster`` that loads the frames (with
    ``LoadTrackAnnotations(with_mask=True)``) and before the clip-shared
    augmentation.

    Args:
        perspective (float): Std of the corner shifts, fraction of the
            size. Defaults to 0.08.
        rotate (float): Max rotation in degrees. Defaults to 20.
        translate (float): Max shift, fraction of the size. Defaults to 0.1.
        brightness (int): Max added intensity. Defaults to 40.
        hue_sat (int): Max hue / saturation shift. Defaults to 5.
        blur_prob (float): Probability of motion blur. Defaults to 0.25.
        blur_kernels (tuple[int]): Motion blur sizes. Defaults to (9, 11).
        shuffle (bool): Shuffle the frame order. Defaults to True.
    """

    def __init__(self,
                 perspective: float = 0.08,
                 rotate: float = 20.,
                 translate: float = 0.1,
                 brightness: int = 40,
                 hue_sat: int = 5,
                 blur_prob: float = 0.25,
                 blur_kernels: Tuple[int, ...] = (9, 11),
                 shuffle: bool = True) -> None:
        self.perspective = perspective
        self.rotate = rotate
        self.translate = translate
        self.brightness = brightness
        self.hue_sat = hue_sat
        self.blur_prob = blur_prob
        self.blur_kernels = blur_kernels
        self.shuffle = shuffle

    def random_homography(self, height: int, width: int) -> np.ndarray:
        """(3, 3) perspective zoom-in followed by rotation + translation."""
        size = np.array([width, height], dtype=np.float32)
        corners = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32)
        inward = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], np.float32)
        shift = np.abs(np.random.normal(0, self.perspective, (4, 2)))
        src = (corners + inward * np.minimum(shift, 0.25)) * size
        persp = cv2.getPerspectiveTransform(src.astype(np.float32),
                                            (corners * size).astype(
                                                np.float32))
        angle = np.random.uniform(-self.rotate, self.rotate)
        affine = np.eye(3)
        affine[:2] = cv2.getRotationMatrix2D(
            (width / 2, height / 2), angle, 1.0)
        affine[:2, 2] += np.random.uniform(-self.translate, self.translate,
                                           2) * size
        return affine @ persp

    def photometric(self, img: np.ndarray) -> np.ndarray:
        """Brightness, hue/saturation and motion blur of a BGR image."""
        img = img.astype(np.int16) + np.random.randint(
            -self.brightness, self.brightness + 1)
        hsv = cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8),
                           cv2.COLOR_BGR2HSV).astype(np.int16)
        dh, ds = np.random.randint(-self.hue_sat, self.hue_sat + 1, 2)
        hsv[..., 0] = (hsv[..., 0] + dh) % 180
        hsv[..., 1] = np.clip(hsv[..., 1] + ds, 0, 255)
        img = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR)
        if np.random.rand() < self.blur_prob:
            kernel = motion_blur_kernel(
                int(np.random.choice(self.blur_kernels)),
                np.random.uniform(0, 360))
            img = cv2.filter2D(img, -1, kernel)
        return img

    def augment_frame(self, results: dict, t: int) -> None:
        """Warp frame ``t`` (image, masks, boxes) in place."""
        img = results['img'][t]
        height, width = img.shape[:2]
        mat = self.random_homography(height, width)
        results['img'][t] = self.photometric(
            cv2.warpPerspective(img, mat, (width, height),
                                flags=cv2.INTER_LINEAR))
        masks = results['gt_masks'][t]
        if not isinstance(masks, BitmapMasks):
            masks = masks.to_bitmap()  # polygons
        warped = np.stack([
            cv2.warpPerspective(m, mat, (width, height),
                                flags=cv2.INTER_NEAREST)
            for m in masks.masks
        ]) if len(masks) else masks.masks
        results['gt_masks'][t] = BitmapMasks(warped, height, width)
        boxes = mask2bbox(torch.from_numpy(warped)).numpy()
        results['gt_bboxes'][t] = boxes.astype(results['gt_bboxes'][t].dtype)
        keep_instances(results, t, warped.reshape(len(warped), -1).any(1))

    def transform(self, results: dict) -> Optional[dict]:
        num_frames = len(results['img'])
        original = np.random.randint(num_frames)
        for t in range(num_frames):
            if t != original:
                self.augment_frame(results, t)
        if self.shuffle:
            order: List[int] = np.random.permutation(num_frames).tolist()
            for key, value in results.items():
                if isinstance(value, list) and len(value) == num_frames:
                    results[key] = [value[i] for i in order]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(perspective={self.perspective}, '
                f'rotate={self.rotate}, translate={self.translate}, '
                f'brightness={self.brightness}, hue_sat={self.hue_sat}, '
                f'blur_prob={self.blur_prob})')
