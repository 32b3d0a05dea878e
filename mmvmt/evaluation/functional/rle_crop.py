# Copyright (c) mmvmt contributors.
"""Decode COCO compressed RLEs into crops of their masks, many at once,
without building full frames.

COCO RLEs run down the columns (Fortran order) and alternate background /
foreground counts. The compressed string packs each count in 5-bit chunks
(``char - 48``; bit 0x20 = more chunks follow, bit 0x10 of the last chunk =
sign) and stores counts from the fourth on as differences to the count two
places before. Both steps vectorise with numpy over the concatenation of
many strings, and all crops are filled by one ``np.repeat`` into a shared
buffer, so the cost grows with the total number of runs and crop pixels and
not with the number of masks (a per-mask numpy pipeline costs ~0.2 ms of
call overhead per mask, more than the pixel work of a typical object).

Crops are laid out column by column (``(width, height)`` C-order, i.e. the
transposed crop), which is the order the RLE runs come in; callers that need
``(height, width)`` take ``.T``, a view.
"""
from typing import List, NamedTuple, Sequence, Tuple

import numpy as np

# (y0, y1, x0, x1) of a crop inside its frame
CropBox = Tuple[int, int, int, int]


def _segmented_cumsum(vals: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Cumulative sums restarting where ``first`` is True (``first[0]``
    must be True)."""
    cs = np.cumsum(vals)
    base = (cs - vals)[first]
    return cs - base[np.cumsum(first) - 1]


def _positions_in_groups(sizes: np.ndarray) -> np.ndarray:
    """``[0..sizes[0]), [0..sizes[1]), ...`` concatenated (int64)."""
    ends = np.cumsum(sizes)
    return np.arange(ends[-1] if ends.size else 0) - np.repeat(
        ends - sizes, sizes)


def rle_counts_many(
        strings: Sequence[bytes]) -> Tuple[np.ndarray, np.ndarray,
                                           np.ndarray]:
    """Uncompressed run lengths of several compressed COCO RLE strings.

    Args:
        strings (Sequence[bytes]): Non-empty ``counts`` fields (ASCII).

    Returns:
        tuple[np.ndarray]: ``runs`` (num_runs,) int64 run lengths of all
        strings concatenated (each background first), ``owner``
        (num_runs,) int64 index of the string each run belongs to, and
        ``local`` (num_runs,) int64 position of each run in its string.
    """
    # chunk values (chars are >= 48 by construction of the format)
    chunks = np.frombuffer(b''.join(strings), dtype=np.uint8) - np.uint8(48)
    if chunks.size == 0:
        return (np.zeros(0, np.int64), ) * 3
    final = chunks < 0x20  # no continuation bit: the last chunk of a count
    ends = np.flatnonzero(final)
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    num_chunks = ends - starts + 1
    low = (chunks & 0x1f).astype(np.int64)
    vals = low[starts]
    # most counts are one or two chunks: add the further chunks in a few
    # passes over the counts that have them
    for j in range(1, int(num_chunks.max())):
        more = np.flatnonzero(num_chunks > j)
        vals[more] |= low[starts[more] + j] << (5 * j)
    # sign extension from bit 0x10 of the last chunk
    neg = np.flatnonzero(chunks[ends] & 0x10)
    vals[neg] -= np.left_shift(1, 5 * num_chunks[neg])
    # a count never straddles two strings: each ends with a final chunk
    lengths = np.fromiter(map(len, strings), np.int64, len(strings))
    counts_so_far = np.cumsum(final)[np.cumsum(lengths) - 1]
    per_string = np.diff(counts_so_far, prepend=0)
    owner = np.repeat(np.arange(len(strings)), per_string)
    local = _positions_in_groups(per_string)
    # counts from the fourth on are deltas to the count two places before:
    # running sums over the odd (from 1) and even (from 2) positions
    odd = (local & 1).astype(bool)
    for start, sel in ((1, np.flatnonzero(odd)),
                       (2, np.flatnonzero(~odd & (local >= 2)))):
        if sel.size:
            vals[sel] = _segmented_cumsum(vals[sel], local[sel] == start)
    return vals, owner, local


def valid_rle_strings(strings: Sequence[bytes],
                      pixels: np.ndarray) -> np.ndarray:
    """Which strings are complete compressed COCO RLEs of their frame.

    A string is valid when every character is a 6-bit chunk (``'0'`` to
    ``'o'``), it ends with the last chunk of a count, no count has more
    than 13 chunks (65 bits), every decoded run is >= 0 and the runs add up
    to the frame's pixel count. pycocotools decodes any string without
    these checks.

    Args:
        strings (Sequence[bytes]): ``counts`` fields (ASCII).
        pixels (np.ndarray): (n,) int64 ``height * width`` of each frame.

    Returns:
        np.ndarray: (n,) bool.
    """
    n = len(strings)
    pixels = np.asarray(pixels, dtype=np.int64)
    lengths = np.fromiter(map(len, strings), np.int64, n)
    ok = lengths > 0
    data = np.frombuffer(b''.join(strings), dtype=np.uint8)
    owner = np.repeat(np.arange(n), lengths)
    ok[owner[(data < 48) | (data > 111)]] = False
    last = np.cumsum(lengths) - 1
    ok[ok] = data[last[ok]] < 48 + 0x20
    sel = np.flatnonzero(ok)
    if sel.size:
        chunks = np.frombuffer(b''.join(strings[i] for i in sel),
                               dtype=np.uint8) - np.uint8(48)
        ends = np.flatnonzero(chunks < 0x20)
        sub_owner = np.repeat(np.arange(sel.size), lengths[sel])[ends]
        too_long = np.diff(ends, prepend=-1) > 13
        ok[sel[np.unique(sub_owner[too_long])]] = False
    sel = np.flatnonzero(ok)
    if sel.size:
        runs, run_owner, _ = rle_counts_many([strings[i] for i in sel])
        negative = np.bincount(run_owner, runs < 0, minlength=sel.size)
        total = np.bincount(run_owner, runs.astype(np.float64),
                            minlength=sel.size)
        ok[sel] = (negative == 0) & (total == pixels[sel])
    ok[(lengths == 0) & (pixels == 0)] = True
    return ok


def rle_counts(counts: bytes) -> np.ndarray:
    """Uncompressed run lengths of one compressed COCO RLE string.

    Args:
        counts (bytes): The ``counts`` field (ASCII).

    Returns:
        np.ndarray: (num_runs,) int64 run lengths, background first.
    """
    return rle_counts_many([counts])[0]


class FgRuns(NamedTuple):
    """Foreground runs of several masks in frame flat (column-major)
    coordinates.

    Attributes:
        start (np.ndarray): (num_runs,) int64 first pixel of each run.
        end (np.ndarray): (num_runs,) int64 one past its last pixel.
        owner (np.ndarray): (num_runs,) int64 index of the mask.
        heights (np.ndarray): (num_masks,) int64 frame height of each mask.
    """
    start: np.ndarray
    end: np.ndarray
    owner: np.ndarray
    heights: np.ndarray


def fg_runs(rles: Sequence[dict]) -> FgRuns:
    """Foreground runs of compressed RLE masks (sorted, disjoint per mask).

    Args:
        rles (Sequence[dict]): Compressed RLEs with ``size`` (h, w) and
            non-empty ``counts`` (bytes or str).
    """
    strings = [r['counts'].encode('ascii') if isinstance(r['counts'], str)
               else r['counts'] for r in rles]
    runs, owner, local = rle_counts_many(strings)
    ends = _segmented_cumsum(runs, local == 0)
    # foreground runs are the odd ones: [ends - runs, ends)
    fg = np.flatnonzero(local & 1)
    heights = np.array([int(r['size'][0]) for r in rles], dtype=np.int64)
    return FgRuns(ends[fg] - runs[fg], ends[fg], owner[fg], heights)


def select_masks(runs: FgRuns, lo: int, hi: int) -> FgRuns:
    """The runs of masks ``lo:hi`` (renumbered from 0)."""
    a, b = np.searchsorted(runs.owner, [lo, hi])
    return FgRuns(runs.start[a:b], runs.end[a:b], runs.owner[a:b] - lo,
                  runs.heights[lo:hi])


def erode_runs_vertically(runs: FgRuns, radius: np.ndarray) -> FgRuns:
    """Erode each mask by a ``(2r+1) x 1`` vertical segment, on the runs.

    Pixels outside the frame count as background, so a piece ``[y0, y1)``
    of a column becomes ``[y0 + r, y1 - r)``.

    Args:
        runs (FgRuns): The masks' runs.
        radius (np.ndarray): (num_masks,) int64 erosion radius per mask.
    """
    h = runs.heights[runs.owner]
    first_col = runs.start // h
    num_cols = (runs.end - 1) // h - first_col + 1
    # split the runs that wrap over several columns into one piece each
    piece = np.repeat(np.arange(runs.start.size), num_cols)
    col = first_col[piece] + _positions_in_groups(num_cols)
    hp, owner = h[piece], runs.owner[piece]
    start = np.maximum(runs.start[piece], col * hp) + radius[owner]
    end = np.minimum(runs.end[piece], (col + 1) * hp) - radius[owner]
    keep = end > start
    return FgRuns(start[keep], end[keep], owner[keep], runs.heights)


def fill_crops_t(runs: FgRuns,
                 boxes: Sequence[CropBox]) -> List[np.ndarray]:
    """Rasterise a crop of each mask from its runs, transposed.

    Args:
        runs (FgRuns): The masks' runs.
        boxes (Sequence[CropBox]): Per mask ``(y0, y1, x0, x1)``, inside
            the frame and non-empty.

    Returns:
        list[np.ndarray]: Per mask a C-contiguous ``(x1 - x0, y1 - y0)``
        uint8 array (the transposed crop); all are views into one buffer.
    """
    box = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    ch, cw = box[:, 1] - box[:, 0], box[:, 3] - box[:, 2]
    offsets = np.zeros(box.shape[0] + 1, dtype=np.int64)
    np.cumsum(ch * cw, out=offsets[1:])
    who = runs.owner
    params = (runs.heights[who], box[who, 0], ch[who], box[who, 2], cw[who])
    q_start = _crop_index(runs.start, *params) + offsets[who]
    q_end = _crop_index(runs.end, *params) + offsets[who]
    # runs are sorted and disjoint inside each crop and the crops are
    # consecutive: the buffer alternates background/foreground pieces
    # between consecutive indices
    edges = np.empty(2 * q_start.size + 2, dtype=np.int64)
    edges[0], edges[-1] = 0, offsets[-1]
    edges[1:-1:2], edges[2:-1:2] = q_start, q_end
    values = np.zeros(edges.size - 1, dtype=np.uint8)
    values[1::2] = 1
    flat = np.repeat(values, np.diff(edges))
    return [
        flat[offsets[i]:offsets[i + 1]].reshape(int(cw[i]), int(ch[i]))
        for i in range(box.shape[0])
    ]


def decode_crop(rle: dict, y0: int, y1: int, x0: int,
                x1: int) -> np.ndarray:
    """Decode rows ``y0:y1`` and columns ``x0:x1`` of one RLE mask.

    Returns:
        np.ndarray: (y1 - y0, x1 - x0) uint8 mask (a transposed view), equal
        to ``pycocotools.mask.decode(rle)[y0:y1, x0:x1]``.
    """
    return fill_crops_t(fg_runs([rle]), [(y0, y1, x0, x1)])[0].T


def _crop_index(p: np.ndarray, h: np.ndarray, y0: np.ndarray,
                ch: np.ndarray, x0: np.ndarray,
                cw: np.ndarray) -> np.ndarray:
    """Map frame flat (column-major) indices onto crop flat indices.

    The map is monotone and clips pixels outside the crop onto the next
    crop pixel, so a run ``[s, e)`` of the frame covers exactly the crop
    pixels ``[q(s), q(e))``. All arguments are per-index arrays.
    """
    x = p // h
    y = p - x * h
    q = (np.clip(x, x0, x0 + cw) - x0) * ch + np.clip(y - y0, 0, ch)
    q[x < x0] = 0
    over = x >= x0 + cw
    q[over] = (ch * cw)[over]
    return q
