# Copyright (c) mmvmt contributors.
"""Clip-level match costs for SeqFormer/VMT's Hungarian matching: boxes of
all frames of a tube at once."""
from typing import Optional

import torch
from mmdet.models.task_modules.assigners.match_cost import BaseMatchCost
from mmdet.structures.bbox import bbox_cxcywh_to_xyxy, bbox_overlaps
from mmengine.structures import InstanceData
from torch import Tensor

from mmvmt.registry import TASK_UTILS


def _frame_mask(gt: InstanceData, num_frames: int) -> Tensor:
    valid = gt.get('valid', None)
    if valid is None:
        return gt.bboxes.new_ones(len(gt), num_frames)
    return valid.float()


@TASK_UTILS.register_module()
class TubeL1Cost(BaseMatchCost):
    """L1 distance between the per-frame boxes of two tubes.

    ``pred_instances.bboxes`` (num_queries, T, 4) and
    ``gt_instances.bboxes`` (num_gts, T, 4), normalised (cx, cy, w, h).
    With ``gt_instances.valid`` (num_gts, T) only frames where the GT is
    visible count and the sum is divided by their number (``mask_absent``);
    otherwise all frames count, absent ones with a zero GT box (SeqFormer's
    behaviour, as ``torch.cdist`` over the flattened T x 4 vectors).

    Args:
        mask_absent (bool): Ignore frames where the GT is absent.
            Defaults to True.
        weight (float): Cost weight. Defaults to 1.
    """

    def __init__(self, mask_absent: bool = True, weight: float = 1.) -> None:
        super().__init__(weight=weight)
        self.mask_absent = mask_absent

    def __call__(self,
                 pred_instances: InstanceData,
                 gt_instances: InstanceData,
                 img_meta: Optional[dict] = None,
                 **kwargs) -> Tensor:
        pred, gt = pred_instances.bboxes, gt_instances.bboxes
        num_frames = pred.shape[1]
        if not self.mask_absent:
            return torch.cdist(pred.flatten(1), gt.flatten(1), p=1) * \
                self.weight
        valid = _frame_mask(gt_instances, num_frames)  # (G, T)
        dist = (pred[:, None] - gt[None]).abs().sum(-1)  # (Q, G, T)
        cost = (dist * valid[None]).sum(-1) / valid.sum(-1).clamp(min=1)
        return cost * self.weight


@TASK_UTILS.register_module()
class TubeGIoUCost(BaseMatchCost):
    """Negative GIoU averaged over the frames of a tube.

    Args:
        mask_absent (bool): Average over frames where the GT is visible
            only. Defaults to True.
        weight (float): Cost weight. Defaults to 1.
    """

    def __init__(self, mask_absent: bool = True, weight: float = 1.) -> None:
        super().__init__(weight=weight)
        self.mask_absent = mask_absent

    def __call__(self,
                 pred_instances: InstanceData,
                 gt_instances: InstanceData,
                 img_meta: Optional[dict] = None,
                 **kwargs) -> Tensor:
        pred = bbox_cxcywh_to_xyxy(pred_instances.bboxes)  # (Q, T, 4)
        gt = bbox_cxcywh_to_xyxy(gt_instances.bboxes)  # (G, T, 4)
        num_frames = pred.shape[1]
        giou = torch.stack([
            bbox_overlaps(pred[:, t], gt[:, t], mode='giou')
            for t in range(num_frames)
        ], -1)  # (Q, G, T)
        if self.mask_absent:
            valid = _frame_mask(gt_instances, num_frames)[None]
        else:
            valid = torch.ones_like(giou)
        cost = -(giou * valid).sum(-1) / valid.sum(-1).clamp(min=1)
        return cost * self.weight
