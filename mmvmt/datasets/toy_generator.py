# Copyright (c) mmvmt contributors.
"""A small synthetic video instance segmentation dataset in HQ-YTVIS format.

Five categories of objects with curved, detailed boundaries (Fourier
blobs, rounded stars, rings with a hole, crescents and thick worms) move,
rotate and deform over textured backgrounds. A category is told by its
shape and by a texture that moves and turns with the object; colours are
random per object, so colour says nothing about the category. Objects
occlude each other, pass behind an opaque pillar (unannotated foreground)
and enter or leave the frame; visible masks are annotated, and a frame where
an object is not visible (out of the frame, fully occluded, or fewer than
``_MIN_AREA`` pixels) has a ``None`` mask. Every video is generated from its
own generator seeded with ``(seed, video index)``, so the output is
deterministic per seed.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np
import pycocotools.mask as mask_utils

from mmvmt.utils.atomic_io import dump_json_atomic

TOY_CLASSES = ('blob', 'star', 'ring', 'crescent', 'worm')
_MIN_AREA = 8
# how an object moves: stays in view, enters or leaves through a border
_MOTIONS = ('stay', 'enter', 'leave')
_MOTION_P = (0.5, 0.25, 0.25)
# radius of a disc that holds any object, in units of its size (worms)
_EXTENT = 1.7


def _radial(theta: np.ndarray, cat: int, phase: float,
            coeffs: np.ndarray) -> np.ndarray:
    """Relative radius of the outline at angles ``theta``."""
    if cat == 0:  # blob: a few Fourier harmonics, slowly changing
        r = 1 + sum(c * np.cos((k + 2) * theta + phase * (k + 1))
                    for k, c in enumerate(coeffs))
    elif cat == 1:  # rounded 5-point star, breathing
        r = 1 + (0.32 + 0.08 * np.sin(phase)) * np.cos(5 * theta)
    else:
        r = 1 + 0.06 * np.cos(3 * theta + phase)
    return r


def _shape_mask(height: int, width: int, cat: int,
                centre: Tuple[float, float], size: float, angle: float,
                phase: float, coeffs: np.ndarray) -> np.ndarray:
    """Binary mask (uint8) of one object in one frame."""
    mask = np.zeros((height, width), np.uint8)
    cx, cy = centre
    theta = np.linspace(0, 2 * np.pi, 96, endpoint=False)

    def outline(scale, dx=0.0, dy=0.0):
        r = size * scale * _radial(theta, cat, phase, coeffs)
        xs = cx + dx + r * np.cos(theta + angle)
        ys = cy + dy + r * np.sin(theta + angle)
        return np.round(np.stack([xs, ys], 1) * 4).astype(np.int32)

    if cat == 4:  # worm: a thick sinusoidal stroke
        t = np.linspace(-1, 1, 40)
        xs = t * size * 1.6
        ys = np.sin(3 * t + phase) * size * 0.45
        ca, sa = np.cos(angle), np.sin(angle)
        pts = np.stack([cx + ca * xs - sa * ys, cy + sa * xs + ca * ys], 1)
        pts = np.round(pts * 4).astype(np.int32)
        # (the thickness is in whole pixels, ``shift`` only applies to the
        # points)
        cv2.polylines(mask, [pts], False, 1, max(2, int(size * 0.35)),
                      cv2.LINE_8, shift=2)
        return mask
    cv2.fillPoly(mask, [outline(1.0)], 1, cv2.LINE_8, shift=2)
    if cat == 2:  # ring: punch a hole
        cv2.fillPoly(mask, [outline(0.5)], 0, cv2.LINE_8, shift=2)
    elif cat == 3:  # crescent: remove an offset disc
        off = size * 0.55
        cv2.fillPoly(mask, [outline(0.9, off * np.cos(angle),
                                    off * np.sin(angle))], 0, cv2.LINE_8,
                     shift=2)
    return mask


def _texture(rng: np.random.Generator, height: int, width: int,
             cells: int) -> np.ndarray:
    """Smooth random texture in [0, 1], (H, W)."""
    grid = rng.random((cells, cells)).astype(np.float32)
    return cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)


def _background(rng: np.random.Generator, height: int,
                width: int) -> np.ndarray:
    base = rng.integers(60, 160, size=3)
    tex = _texture(rng, height, width, int(rng.integers(3, 8)))
    fine = _texture(rng, height, width, int(rng.integers(12, 24)))
    img = base[None, None, :] * (0.6 + 0.5 * tex[..., None]) + \
        40 * (fine[..., None] - 0.5)
    return np.clip(img, 0, 255)


def _object_pattern(cat: int, height: int, width: int,
                    centre: Tuple[float, float], angle: float,
                    phase: float) -> np.ndarray:
    """Category texture in [0, 1] in the object's own frame (it moves and
    turns with the object): dots, radial stripes, checks, stripes across,
    stripes along."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    dx, dy = xx - centre[0], yy - centre[1]
    u = np.cos(angle) * dx + np.sin(angle) * dy
    v = -np.sin(angle) * dx + np.cos(angle) * dy
    if cat == 0:
        return 0.5 + 0.5 * np.sin(u * 0.9) * np.sin(v * 0.9)
    if cat == 1:
        return 0.5 + 0.5 * np.sin(np.arctan2(v, u) * 10 + phase)
    if cat == 2:
        return ((np.floor(u / 4) + np.floor(v / 4)) % 2).astype(np.float32)
    if cat == 3:
        return 0.5 + 0.5 * np.sin(u * 1.2)
    return 0.5 + 0.5 * np.sin(v * 1.2)


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    """A saturated BGR colour of random hue (the same for every class)."""
    hsv = np.uint8([[[rng.integers(0, 180), rng.integers(150, 256),
                      rng.integers(150, 256)]]])
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0].astype(np.float64)


def _trajectory(rng: np.random.Generator, motion: str, size: float,
                num_frames: int, height: int,
                width: int) -> Tuple[np.ndarray, np.ndarray]:
    """(start, velocity) of an object's centre in pixels (per frame).

    ``enter``/``leave``: the centre crosses a random border at a random
    frame, moving inward/outward fast enough that the object is completely
    outside the frame a couple of frames before/after.
    """
    if motion == 'stay':
        start = np.array([rng.uniform(0.15, 0.85) * width,
                          rng.uniform(0.15, 0.85) * height])
        direction = rng.uniform(0, 2 * np.pi)
        speed = rng.uniform(0.5, 2.5)
        return start, speed * np.array([np.cos(direction),
                                        np.sin(direction)])
    side = int(rng.integers(0, 4))  # left, right, top, bottom
    along = rng.uniform(0.2, 0.8)
    border = [np.array([0.0, along * height]),
              np.array([float(width), along * height]),
              np.array([along * width, 0.0]),
              np.array([along * width, float(height)])][side]
    inward = [np.array([1.0, 0]), np.array([-1.0, 0]), np.array([0, 1.0]),
              np.array([0, -1.0])][side]
    speed = rng.uniform(0.7, 1.1) * size
    vel = inward * speed * (1 if motion == 'enter' else -1)
    cross = rng.uniform(0, max(num_frames - 1, 1))
    return border - vel * cross, vel


def generate_video(seed: int, index: int, num_frames: int, height: int,
                   width: int) -> Tuple[List[np.ndarray], List[dict]]:
    """Frames and per-object visible masks of one video.

    Returns:
        tuple: frames (list of (H, W, 3) uint8 BGR) and objects (list of
        dicts with ``category_id`` (1-based, :data:`TOY_CLASSES` order)
        and ``masks``, a list of (H, W) uint8 masks or None where the
        object is not visible).
    """
    rng = np.random.default_rng([seed, index])
    num_objects = int(rng.integers(2, 5))
    objects = []
    for _ in range(num_objects):
        cat = int(rng.integers(0, len(TOY_CLASSES)))
        size = float(rng.uniform(0.09, 0.17) * min(height, width) * 1.3)
        motion = _MOTIONS[int(rng.choice(len(_MOTIONS), p=_MOTION_P))]
        start, vel = _trajectory(rng, motion, size, num_frames, height,
                                 width)
        objects.append(
            dict(cat=cat, size=size, pos=start, vel=vel,
                 angle=rng.uniform(0, 2 * np.pi),
                 spin=rng.uniform(-0.15, 0.15),
                 phase=rng.uniform(0, 2 * np.pi),
                 dphase=rng.uniform(0.1, 0.4),
                 coeffs=rng.uniform(-0.15, 0.15, size=3),
                 colour=_random_colour(rng)))
    background = _background(rng, height, width)
    # an opaque pillar in front of every object in half of the videos
    pillar = np.zeros((height, width), bool)
    if rng.random() < 0.5:
        half_w = rng.uniform(0.12, 0.2) * width
        x0 = rng.uniform(0.25, 0.75) * width
        pillar[:, int(x0 - half_w):int(x0 + half_w)] = True
        pillar_paint = _background(rng, height, width) * 0.6
    frames, masks = [], [[] for _ in objects]
    for t in range(num_frames):
        img = background.copy()
        drawn = []
        for obj in objects:
            phase = obj['phase'] + obj['dphase'] * t
            centre = tuple(obj['pos'] + obj['vel'] * t)
            angle = obj['angle'] + obj['spin'] * t
            m = _shape_mask(height, width, obj['cat'], centre,
                            obj['size'] * (1 + 0.1 * np.sin(phase)), angle,
                            phase, obj['coeffs'])
            pattern = _object_pattern(obj['cat'], height, width, centre,
                                      angle, phase)
            paint = obj['colour'][None, None] * (0.55 +
                                                 0.5 * pattern[..., None])
            img = np.where(m[..., None] > 0, paint, img)
            drawn.append(m)
        if pillar.any():
            img = np.where(pillar[..., None], pillar_paint, img)
        for i, m in enumerate(drawn):
            visible = m.copy()
            for above in drawn[i + 1:]:
                visible[above > 0] = 0
            visible[pillar] = 0
            masks[i].append(visible if visible.sum() >= _MIN_AREA else None)
        noise = rng.normal(0, 4, size=img.shape)
        frames.append(np.clip(img + noise, 0, 255).astype(np.uint8))
    return frames, [
        dict(category_id=obj['cat'] + 1, masks=ms)
        for obj, ms in zip(objects, masks)
    ]


def _rle(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask))
    rle['counts'] = rle['counts'].decode('ascii')
    return rle


def _add_coco_image(coco: dict, rel_first: str, objects: List[dict],
                    height: int, width: int) -> None:
    """Append one COCO image (a video's first frame) with polygons."""
    image_id = len(coco['images']) + 1
    coco['images'].append(
        dict(id=image_id, file_name=rel_first, height=height, width=width))
    for obj in objects:
        mask = obj['masks'][0]
        if mask is None:
            continue
        contours, _ = cv2.findContours(mask.astype(np.uint8),
                                       cv2.RETR_EXTERNAL,
                                       cv2.CHAIN_APPROX_SIMPLE)
        polygons = [c.reshape(-1).astype(float).tolist() for c in contours
                    if len(c) >= 3]
        if not polygons:
            continue
        # box and area of the polygons (as in COCO), not of the pixel mask
        rle = mask_utils.merge(
            mask_utils.frPyObjects(polygons, height, width))
        coco['annotations'].append(
            dict(
                id=len(coco['annotations']) + 1,
                image_id=image_id,
                category_id=obj['category_id'],
                segmentation=polygons,
                area=float(mask_utils.area(rle)),
                bbox=[float(v) for v in mask_utils.toBbox(rle)],
                iscrowd=0))


def make_toy_dataset(out: str,
                     seed: int = 0,
                     num_videos: int = 60,
                     num_frames: int = 8,
                     size: Tuple[int, int] = (128, 192),
                     num_val_videos: int = 60,
                     val_seed: Optional[int] = None) -> Dict[str, str]:
    """Write ``out/JPEGImages/<video>/<frame>.jpg``, ``out/train.json``,
    ``out/val.json`` and ``out/coco.json``.

    The ``num_videos`` train videos come from ``seed``, the
    ``num_val_videos`` val videos from their own ``val_seed``, so no val
    video shares a generator with a train video. ``coco.json`` holds the
    first frame of every train video as a COCO instance image with polygon
    masks (a stand-in for COCO in joint training tests and toy runs).

    Args:
        out (str): Output folder.
        seed (int): Seed of the train videos. Defaults to 0.
        num_videos (int): Train videos. Defaults to 60.
        num_frames (int): Frames per video. Defaults to 8.
        size (tuple[int]): (H, W). Defaults to (128, 192).
        num_val_videos (int): Val videos. Defaults to 60.
        val_seed (int, optional): Seed of the val videos. Defaults to
            ``seed + 1000``.

    Returns:
        dict[str, str]: paths of the json files (``train``, ``val``,
        ``coco``).
    """
    height, width = size
    val_seed = seed + 1000 if val_seed is None else val_seed
    categories = [dict(id=i + 1, name=n, supercategory='toy')
                  for i, n in enumerate(TOY_CLASSES)]
    splits = {
        split: dict(info=dict(description=f'mmvmt toy dataset, {split} '
                              f'seed {split_seed}'),
                    licenses=[], categories=categories, videos=[],
                    annotations=[])
        for split, split_seed in (('train', seed), ('val', val_seed))
    }
    coco = dict(info=dict(description='mmvmt toy dataset, first train '
                          f'frames as COCO images, seed {seed}'),
                licenses=[], categories=categories, images=[],
                annotations=[])
    ann_id = 1
    jobs = [('train', seed, i) for i in range(num_videos)] + \
        [('val', val_seed, i) for i in range(num_val_videos)]
    for video_id, (split, split_seed, index) in enumerate(jobs, 1):
        name = f'toy_{split}_{index:04d}'
        frames, objects = generate_video(split_seed, index, num_frames,
                                         height, width)
        os.makedirs(osp.join(out, 'JPEGImages', name), exist_ok=True)
        file_names = []
        for t, frame in enumerate(frames):
            rel = f'{name}/{t:05d}.jpg'
            cv2.imwrite(osp.join(out, 'JPEGImages', rel), frame,
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
            file_names.append(rel)
        splits[split]['videos'].append(
            dict(id=video_id, width=width, height=height, length=num_frames,
                 file_names=file_names))
        if split == 'train':
            _add_coco_image(coco, rel_first=file_names[0], objects=objects,
                            height=height, width=width)
        for obj in objects:
            if all(m is None for m in obj['masks']):
                continue
            segs = [None if m is None else _rle(m) for m in obj['masks']]
            splits[split]['annotations'].append(
                dict(
                    id=ann_id,
                    video_id=video_id,
                    category_id=obj['category_id'],
                    iscrowd=0,
                    height=height,
                    width=width,
                    length=1,
                    segmentations=segs,
                    bboxes=[None if s is None else
                            [float(v) for v in mask_utils.toBbox(s)]
                            for s in segs],
                    areas=[None if s is None else int(mask_utils.area(s))
                           for s in segs]))
            ann_id += 1
    paths = {}
    splits['coco'] = coco
    for split, data in splits.items():
        paths[split] = osp.join(out, f'{split}.json')
        dump_json_atomic(data, paths[split])
    return paths
