# Copyright (c) mmvmt contributors.
"""A small synthetic video instance segmentation dataset in HQ-YTVIS format.

Five categories of textured objects with curved, detailed boundaries
(Fourier blobs, rounded stars, rings with a hole, crescents and thick
worms) move, rotate and deform over textured backgrounds, occlude each other
(visible masks are annotated), and enter or leave the frame. Every video is
generated from its own generator seeded with ``(seed, video index)``, so the
output is deterministic per seed.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Tuple

import cv2
import numpy as np
import pycocotools.mask as mask_utils

TOY_CLASSES = ('blob', 'star', 'ring', 'crescent', 'worm')
# BGR base colours, one per category (plus a texture of its own)
_COLOURS = [(40, 90, 230), (60, 200, 60), (220, 110, 30), (40, 210, 230),
            (200, 60, 200)]
_MIN_AREA = 8


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


def _shape_mask(height: int, width: int, cat: int, centre: Tuple[float,
                                                                  float],
                size: float, angle: float, phase: float,
                coeffs: np.ndarray) -> np.ndarray:
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
        cv2.polylines(mask, [pts], False, 1, max(2, int(size * 0.35)) * 4,
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
                    phase: float) -> np.ndarray:
    """Category texture in [0, 1]: stripes, dots or checks."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    if cat in (0, 3):
        return 0.5 + 0.5 * np.sin(xx * 0.9 + phase) * np.sin(yy * 0.9)
    if cat in (1, 4):
        return 0.5 + 0.5 * np.sin((xx + yy) * 0.7 + phase)
    return ((xx // 4 + yy // 4) % 2).astype(np.float32)


def generate_video(seed: int, index: int, num_frames: int, height: int,
                   width: int) -> Tuple[List[np.ndarray], List[dict]]:
    """Frames and per-object visible masks of one video.

    Returns:
        tuple: frames (list of (H, W, 3) uint8 BGR) and objects (list of
        dicts with ``category_id`` (1-based) and ``masks``, a list of
        (H, W) uint8 masks or None where the object is not visible).
    """
    rng = np.random.default_rng([seed, index])
    num_objects = int(rng.integers(2, 5))
    objects = []
    for _ in range(num_objects):
        cat = int(rng.integers(0, len(TOY_CLASSES)))
        size = float(rng.uniform(0.09, 0.17) * min(height, width) * 1.3)
        enters = rng.random() < 0.3
        start = np.array([rng.uniform(0.15, 0.85) * width,
                          rng.uniform(0.15, 0.85) * height])
        speed = rng.uniform(0.5, 2.5) * (2.0 if enters else 1.0)
        direction = rng.uniform(0, 2 * np.pi)
        vel = speed * np.array([np.cos(direction), np.sin(direction)])
        if enters:  # start outside, moving in
            start = start - vel * num_frames * 0.6
        objects.append(
            dict(cat=cat, size=size, pos=start, vel=vel,
                 angle=rng.uniform(0, 2 * np.pi),
                 spin=rng.uniform(-0.15, 0.15),
                 phase=rng.uniform(0, 2 * np.pi),
                 dphase=rng.uniform(0.1, 0.4),
                 coeffs=rng.uniform(-0.15, 0.15, size=3),
                 shade=rng.uniform(0.8, 1.2)))
    background = _background(rng, height, width)
    frames, masks = [], [[] for _ in objects]
    for t in range(num_frames):
        img = background.copy()
        drawn = []
        for obj in objects:
            phase = obj['phase'] + obj['dphase'] * t
            m = _shape_mask(height, width, obj['cat'],
                            tuple(obj['pos'] + obj['vel'] * t), obj['size'] *
                            (1 + 0.1 * np.sin(phase)),
                            obj['angle'] + obj['spin'] * t, phase,
                            obj['coeffs'])
            colour = np.array(_COLOURS[obj['cat']]) * obj['shade']
            pattern = _object_pattern(obj['cat'], height, width, phase)
            paint = colour[None, None] * (0.65 + 0.45 * pattern[..., None])
            img = np.where(m[..., None] > 0, paint, img)
            drawn.append(m)
        for i, m in enumerate(drawn):
            visible = m.copy()
            for above in drawn[i + 1:]:
                visible[above > 0] = 0
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
                     val_every: int = 5) -> Dict[str, str]:
    """Write ``out/JPEGImages/<video>/<frame>.jpg``, ``out/train.json`` and
    ``out/val.json`` (every ``val_every``-th video is a val video), and
    ``out/coco.json``: the first frame of every train video as a COCO
    instance image with polygon masks (a stand-in for COCO in joint
    training tests and toy runs).

    Returns:
        dict[str, str]: paths of the json files (``train``, ``val``,
        ``coco``).
    """
    height, width = size
    categories = [dict(id=i + 1, name=n, supercategory='toy')
                  for i, n in enumerate(TOY_CLASSES)]
    splits = {s: dict(info=dict(description=f'mmvmt toy dataset, seed '
                                f'{seed}'),
                      licenses=[], categories=categories, videos=[],
                      annotations=[]) for s in ('train', 'val')}
    coco = dict(info=dict(description='mmvmt toy dataset, first train '
                          f'frames as COCO images, seed {seed}'),
                licenses=[], categories=categories, images=[],
                annotations=[])
    ann_id = 1
    for index in range(num_videos):
        split = 'val' if index % val_every == val_every - 1 else 'train'
        name = f'toy_{index:04d}'
        frames, objects = generate_video(seed, index, num_frames, height,
                                         width)
        os.makedirs(osp.join(out, 'JPEGImages', name), exist_ok=True)
        file_names = []
        for t, frame in enumerate(frames):
            rel = f'{name}/{t:05d}.jpg'
            cv2.imwrite(osp.join(out, 'JPEGImages', rel), frame,
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
            file_names.append(rel)
        video_id = index + 1
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
        with open(paths[split] + '.tmp', 'w') as f:
            json.dump(data, f)
        os.replace(paths[split] + '.tmp', paths[split])
    return paths
