# Copyright (c) mmvmt contributors.
"""Shorter-side resize as torchvision's ``Resize(int)`` does it."""
from typing import Optional, Tuple

from mmdet.datasets.transforms import Resize

from mmvmt.registry import TRANSFORMS


def short_side_size(width: int, height: int, short: int,
                    max_size: Optional[int] = None) -> Tuple[int, int]:
    """Output (w, h) of torchvision ``Resize(short, max_size)``.

    The shorter side becomes ``short`` and the longer one
    ``int(short * long / short_in)`` (truncated); with ``max_size`` the
    longer side is capped and the shorter scaled down to match.
    """
    small, large = (width, height) if width <= height else (height, width)
    new_small, new_large = short, int(short * large / small)
    if max_size is not None and new_large > max_size:
        new_small, new_large = int(max_size * new_small / new_large), max_size
    return ((new_small, new_large) if width <= height else
            (new_large, new_small))


@TRANSFORMS.register_module()
class ShortSideResize(Resize):
    """Resize so that the shorter side is ``short_side`` (no max by default).

    The released VMT inference resizes with PIL (bilinear with PIL's
    antialiasing) through torchvision ``Resize(360)``; ``backend='pillow'``
    reproduces it bit for bit. Boxes, masks and segmentation maps follow
    like in mmdet's :class:`Resize`.

    Args:
        short_side (int): Target shorter side. Defaults to 360.
        max_size (int, optional): Cap of the longer side. Defaults to None.
        backend (str): ``'pillow'`` or ``'cv2'``. Defaults to ``'pillow'``.
        interpolation (str): Defaults to ``'bilinear'``.
        **kwargs: Further :class:`Resize` arguments (``clip_object_border``).
    """

    def __init__(self,
                 short_side: int = 360,
                 max_size: Optional[int] = None,
                 backend: str = 'pillow',
                 interpolation: str = 'bilinear',
                 **kwargs) -> None:
        super().__init__(
            scale=(short_side, short_side),
            keep_ratio=False,
            backend=backend,
            interpolation=interpolation,
            **kwargs)
        self.short_side = short_side
        self.max_size = max_size

    def transform(self, results: dict) -> dict:
        h, w = results['img'].shape[:2]
        results['scale'] = short_side_size(w, h, self.short_side,
                                           self.max_size)
        self._resize_img(results)
        self._resize_bboxes(results)
        self._resize_masks(results)
        self._resize_seg(results)
        self._record_homography_matrix(results)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(short_side={self.short_side}, '
                f'max_size={self.max_size}, backend={self.backend})')
