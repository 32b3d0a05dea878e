# Copyright (c) mmvmt contributors.
"""Ground-truth tubes of a clip from its per-frame annotations."""
import math
from typing import List

import torch
from mmdet.structures import TrackDataSample
from mmengine.structures import InstanceData
from torch import Tensor


def clip_tubes(track: TrackDataSample,
               pad_shape: tuple,
               device: torch.device,
               label_offset: int = 0,
               mask_absent: bool = True) -> InstanceData:
    """Group a clip's per-frame GT instances into tubes by instance id.

    An instance visible in any frame of the clip becomes a tube; frames
    where it is absent get a zero box and an empty mask.

    Args:
        track (:obj:`TrackDataSample`): The clip; each frame has
            ``gt_instances`` with ``bboxes`` (xyxy pixels), ``labels``
            (0-based dataset labels), ``masks`` (BitmapMasks) and
            ``instances_ids``.
        pad_shape (tuple): (H, W) of the padded input batch.
        device (torch.device): Output device.
        label_offset (int): Added to the dataset labels to give the class
            logit index (``VMTHead.label_offset``: 1 for the released
            42-logit heads, whose logit c is category id c). Defaults to 0.
        mask_absent (bool): ``valid`` marks the frames where the instance
            is visible (True) or every frame, so that absent frames are
            matched and supervised with their zero box as in SeqFormer
            (False). Defaults to True.

    Returns:
        :obj:`InstanceData`: ``labels`` (G,) logit indices, ``bboxes``
        (G, T, 4) normalised (cx, cy, w, h) by each frame's image size
        (``img_shape``, not the padded size), ``visible`` (G, T) bool,
        ``valid`` (G, T) bool (see ``mask_absent``) and ``masks``
        (G, T, H, W) float at the padded size (the image at the top left);
        metainfo ``img_shape`` (the first frame's; a clip's frames share
        one size) and ``pad_shape``.
    """
    frames = [track[t] for t in range(len(track))]
    num_frames = len(frames)
    ids: List[int] = []
    for frame in frames:
        for i in frame.gt_instances.instances_ids.tolist():
            if i not in ids:
                ids.append(i)
    num = len(ids)
    height, width = pad_shape
    labels = torch.zeros(num, dtype=torch.long, device=device)
    boxes = torch.zeros(num, num_frames, 4, device=device)
    valid = torch.zeros(num, num_frames, dtype=torch.bool, device=device)
    masks = torch.zeros(num, num_frames, height, width, device=device)
    row = {i: k for k, i in enumerate(ids)}
    for t, frame in enumerate(frames):
        gt = frame.gt_instances
        if len(gt) == 0:
            continue
        img_h, img_w = frame.metainfo['img_shape'][:2]
        scale = torch.tensor([img_w, img_h, img_w, img_h],
                             dtype=torch.float32, device=device)
        xyxy = gt.bboxes.tensor if hasattr(gt.bboxes, 'tensor') else \
            gt.bboxes
        xyxy = xyxy.to(device).float() / scale
        cxcywh = torch.cat([(xyxy[:, :2] + xyxy[:, 2:]) / 2,
                            xyxy[:, 2:] - xyxy[:, :2]], -1)
        frame_masks = gt.masks.to_tensor(torch.float32, device) if hasattr(
            gt.masks, 'to_tensor') else gt.masks.float().to(device)
        for j, inst_id in enumerate(gt.instances_ids.tolist()):
            k = row[inst_id]
            labels[k] = gt.labels[j] + label_offset
            boxes[k, t] = cxcywh[j]
            valid[k, t] = True
            mh, mw = frame_masks.shape[-2:]
            masks[k, t, :mh, :mw] = frame_masks[j]
    img_shape = tuple(frames[0].metainfo.get('img_shape', pad_shape)[:2])
    return InstanceData(
        metainfo=dict(img_shape=img_shape, pad_shape=tuple(pad_shape)),
        labels=labels,
        bboxes=boxes,
        visible=valid,
        valid=valid if mask_absent else torch.ones_like(valid),
        masks=masks)


def image_part(maps: Tensor, tubes: InstanceData) -> Tensor:
    """The cells of maps of the padded input that cover the clip's image.

    A map of h x w cells over the padded (H, W) input keeps its top-left
    ``ceil(img_h * h / H) x ceil(img_w * w / W)`` cells, so a clip's mask
    losses do not depend on how far a batch pads it.

    Args:
        maps (Tensor): (..., h, w) predictions or targets.
        tubes (:obj:`InstanceData`): Output of :func:`clip_tubes`; without
            ``img_shape`` / ``pad_shape`` metainfo the maps are returned
            whole.

    Returns:
        Tensor: (..., rows, cols) view of ``maps``.
    """
    if 'img_shape' not in tubes.metainfo:
        return maps
    (pad_h, pad_w), (img_h, img_w) = tubes.pad_shape, tubes.img_shape
    rows = math.ceil(img_h * maps.shape[-2] / pad_h)
    cols = math.ceil(img_w * maps.shape[-1] / pad_w)
    return maps[..., :rows, :cols]


def downsample_masks(masks: Tensor, size: tuple) -> Tensor:
    """Area-average GT masks to a prediction's size, (..., H, W) float."""
    lead = masks.shape[:-2]
    out = torch.nn.functional.adaptive_avg_pool2d(
        masks.reshape(-1, 1, *masks.shape[-2:]), size)
    return out.reshape(*lead, *size)
