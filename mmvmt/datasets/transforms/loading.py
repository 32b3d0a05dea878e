# Copyright (c) mmvmt contributors.
"""Loading one frame, with errors that name the frame."""
from typing import Optional

from mmcv.transforms import LoadImageFromFile

from mmvmt.registry import TRANSFORMS
from mmvmt.utils.cli_errors import UserInputError


class FrameReadError(UserInputError, OSError):
    """A frame file that is missing or cannot be decoded."""


@TRANSFORMS.register_module()
class LoadFrameFromFile(LoadImageFromFile):
    """mmcv's :class:`LoadImageFromFile` (same arguments, same pixels)
    whose failures are one :class:`FrameReadError` naming the file.

    mmcv raises ``FileNotFoundError`` for a missing file, a decoder-specific
    error (``PIL.UnidentifiedImageError``, ``OSError``) or a bare
    ``AssertionError`` for a corrupt one. With ``ignore_empty=True`` such
    frames still give None, as in mmcv.
    """

    def transform(self, results: dict) -> Optional[dict]:
        """Load ``results['img_path']`` (see :class:`LoadImageFromFile`).

        Raises:
            FrameReadError: The frame is missing or cannot be decoded.
        """
        path = results['img_path']
        try:
            return super().transform(results)
        except FileNotFoundError:
            raise FrameReadError(f'frame file not found: {path}') from None
        except Exception as err:  # noqa: BLE001 (decoders raise anything)
            raise FrameReadError(
                f'cannot decode frame {path} ({type(err).__name__}: '
                f'{str(err) or "corrupt or not an image"})') from None
