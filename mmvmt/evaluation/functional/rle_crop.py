# Copyright (c) mmvmt contributors.
"""Decode a COCO compressed RLE into a crop of the mask, without building
the full frame.

COCO RLEs run down the columns (Fortran order) and alternate background /
foreground counts. The compressed string packs each count in 5-bit chunks
(``char - 48``; bit 0x20 = more chunks follow, bit 0x10 of the last chunk =
sign) and stores counts from the fourth on as differences to the count two
places before. Both steps vectorise with numpy, and the crop is filled with
a difference array, so the cost grows with the number of runs and the crop
area instead of the frame area.
"""
import numpy as np


def rle_counts(counts: bytes) -> np.ndarray:
    """Uncompressed run lengths of a compressed COCO RLE string.

    Args:
        counts (bytes): The ``counts`` field (ASCII).

    Returns:
        np.ndarray: (num_runs,) int64 run lengths, background first.
    """
    chunks = np.frombuffer(counts, dtype=np.uint8).astype(np.int64) - 48
    if chunks.size == 0:
        return np.zeros(0, dtype=np.int64)
    last = (chunks & 0x20) == 0
    ends = np.flatnonzero(last)
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    # position of each chunk inside its count -> shift 5*j
    group = np.repeat(np.arange(ends.size), ends - starts + 1)
    pos = np.arange(chunks.size) - starts[group]
    vals = np.add.reduceat((chunks & 0x1f) << (5 * pos), starts)
    # sign extension from bit 0x10 of the last chunk
    neg = (chunks[ends] & 0x10) != 0
    vals[neg] -= np.left_shift(1, 5 * (pos[ends[neg]] + 1))
    # counts [3:] are deltas to the count two places before
    if vals.size > 3:
        vals[1::2] = np.cumsum(vals[1::2])
        vals[2::2] = np.cumsum(vals[2::2])
    return vals


def decode_crop(rle: dict, y0: int, y1: int, x0: int,
                x1: int) -> np.ndarray:
    """Decode rows ``y0:y1`` and columns ``x0:x1`` of an RLE mask.

    Args:
        rle (dict): Compressed RLE with ``size`` (h, w) and ``counts``.
        y0, y1, x0, x1 (int): The crop, inside the frame.

    Returns:
        np.ndarray: (y1 - y0, x1 - x0) uint8 mask, equal to
        ``pycocotools.mask.decode(rle)[y0:y1, x0:x1]``.
    """
    h = int(rle['size'][0])
    counts = rle['counts']
    if isinstance(counts, str):
        counts = counts.encode('ascii')
    runs = rle_counts(counts)
    ch, cw = y1 - y0, x1 - x0
    bounds = np.cumsum(runs)
    fg_start = bounds[0:-1:2]
    fg_end = bounds[1::2]
    q_start = _crop_index(fg_start, h, y0, ch, x0, cw)
    q_end = _crop_index(fg_end, h, y0, ch, x0, cw)
    # foreground runs are sorted and disjoint: the crop is alternating
    # background/foreground pieces between consecutive crop indices
    edges = np.empty(2 * q_start.size + 2, dtype=np.int64)
    edges[0], edges[-1] = 0, ch * cw
    edges[1:-1:2], edges[2:-1:2] = q_start, q_end
    values = np.zeros(edges.size - 1, dtype=np.uint8)
    values[1::2] = 1
    flat = np.repeat(values, np.diff(edges))
    return flat.reshape(cw, ch).T


def _crop_index(p: np.ndarray, h: int, y0: int, ch: int, x0: int,
                cw: int) -> np.ndarray:
    """Map frame flat (column-major) indices onto crop flat indices.

    The map is monotone and clips pixels outside the crop onto the next
    crop pixel, so a run ``[s, e)`` of the frame covers exactly the crop
    pixels ``[q(s), q(e))``.
    """
    x = p // h
    y = p - x * h
    q = (np.clip(x, x0, x0 + cw) - x0) * ch + np.clip(y - y0, 0, ch)
    q[x < x0] = 0
    q[x >= x0 + cw] = ch * cw
    return q
