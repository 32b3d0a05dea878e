# Copyright (c) mmvmt contributors.
"""Crop decoding and boundary extraction against full-frame pycocotools /
OpenCV computations (the reference's own operations)."""
import cv2
import numpy as np
import pycocotools.mask as mask_utils
import pytest

from mmvmt.evaluation.functional.rle_crop import (decode_crop, fg_runs,
                                                  fill_crops_t, rle_counts)
from mmvmt.evaluation.functional.tube_iou import (boundary_width,
                                                  mask_boundaries,
                                                  mask_boundary)


def random_masks(seed, num=40):
    rng = np.random.default_rng(seed)
    for _ in range(num):
        h, w = rng.integers(5, 90, size=2)
        m = np.zeros((h, w), np.uint8)
        for _ in range(rng.integers(1, 4)):
            cy, cx = rng.integers(0, h), rng.integers(0, w)
            ry, rx = rng.integers(1, max(2, h // 2)), rng.integers(
                1, max(2, w // 2))
            cv2.ellipse(m, (int(cx), int(cy)), (int(rx), int(ry)),
                        float(rng.uniform(0, 180)), 0, 360, 1, -1)
        if rng.random() < 0.2:
            m[:] = 1  # touches every border
        if rng.random() < 0.1:
            m[:] = 0
        yield m


def reference_boundary(mask):
    """The reference's recipe: pad 1 px, erode d times (3x3), crop."""
    h, w = mask.shape
    d = boundary_width(h, w)
    padded = cv2.copyMakeBorder(mask, 1, 1, 1, 1, cv2.BORDER_CONSTANT,
                                value=0)
    eroded = cv2.erode(padded, np.ones((3, 3), np.uint8),
                       iterations=d)[1:h + 1, 1:w + 1]
    return mask - eroded


@pytest.mark.parametrize('seed', [0, 1])
def test_decode_crop_equals_pycocotools(seed):
    rng = np.random.default_rng(100 + seed)
    for m in random_masks(seed):
        rle = mask_utils.encode(np.asfortranarray(m))
        full = mask_utils.decode(rle)
        assert rle_counts(rle['counts']).sum() == m.size
        for _ in range(5):
            h, w = m.shape
            y0, x0 = rng.integers(0, h), rng.integers(0, w)
            y1, x1 = rng.integers(y0 + 1, h + 1), rng.integers(x0 + 1, w + 1)
            np.testing.assert_array_equal(
                decode_crop(rle, y0, y1, x0, x1), full[y0:y1, x0:x1])


@pytest.mark.parametrize('seed', [2, 3])
def test_boundary_equals_reference_recipe(seed):
    for m in random_masks(seed):
        rle = mask_utils.encode(np.asfortranarray(m))
        size, area, crop = mask_boundary(rle)
        expected = reference_boundary(m)
        assert size == m.shape
        assert area == int(expected.sum())
        got = np.zeros_like(m)
        if crop is not None:
            y0, x0, band = crop
            got[y0:y0 + band.shape[0], x0:x0 + band.shape[1]] = band
        np.testing.assert_array_equal(got, expected)


def test_batched_decode_and_boundaries_mix_sizes():
    """One batch of masks of many frame sizes (and empty masks) gives, mask
    by mask, the crops pycocotools decodes and the reference's bands."""
    masks = list(random_masks(4, num=30)) + [np.ones((300, 7), np.uint8)]
    rles = [mask_utils.encode(np.asfortranarray(m)) for m in masks]
    rng = np.random.default_rng(7)
    boxes = []
    for m in masks:
        h, w = m.shape
        y0, x0 = rng.integers(0, h), rng.integers(0, w)
        boxes.append((int(y0), int(rng.integers(y0 + 1, h + 1)), int(x0),
                      int(rng.integers(x0 + 1, w + 1))))
    present = [i for i, m in enumerate(masks) if m.any()]
    crops = fill_crops_t(fg_runs([rles[i] for i in present]),
                         [boxes[i] for i in present])
    for i, crop in zip(present, crops):
        y0, y1, x0, x1 = boxes[i]
        np.testing.assert_array_equal(crop.T, masks[i][y0:y1, x0:x1])
    for m, (size, area, crop) in zip(masks, mask_boundaries(rles)):
        expected = reference_boundary(m)
        assert size == m.shape and area == int(expected.sum())
        got = np.zeros_like(m)
        if crop is not None:
            y0, x0, band = crop
            got[y0:y0 + band.shape[0], x0:x0 + band.shape[1]] = band
        np.testing.assert_array_equal(got, expected)
