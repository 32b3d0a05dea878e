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


class TubeMatchCost(BaseMatchCost):
    """Base of the clip-level box costs.

    ``pred_instances.bboxes`` (num_queries, T, 4) and
    ``gt_instances.bboxes`` (num_gts, T, 4), normalised (cx, cy, w, h).
    With ``mask_absent`` and ``gt_instances.valid`` (num_gts, T) only frames
    where the GT is visible count, averaged over their number.

    Args:
        mask_absent (bool): Ignore frames where the GT is absent.
            Defaults to True.
        weight (float): Cost weight. Defaults to 1.
    """

    def __init__(self, mask_absent: bool = True, weight: float = 1.) -> None:
        super().__init__(weight=weight)
        self.mask_absent = mask_absent

    def frame_weights(self, gt_instances: InstanceData,
                      num_frames: int) -> Tensor:
        """(num_gts, T) float weights of the frames."""
        valid = gt_instances.get('valid', None)
        if valid is None or not self.mask_absent:
            return gt_instances.bboxes.new_ones(len(gt_instances),
                                                num_frames)
        return valid.float()


@TASK_UTILS.register_module()
class TubeL1Cost(TubeMatchCost):
    """L1 distance between the per-frame boxes of two tubes.

    Without ``mask_absent`` all frames count, absent ones with a zero GT
    box: SeqFormer's ``torch.cdist`` over the flattened T x 4 vectors.
    """

    def __call__(self,
                 pred_instances: InstanceData,
                 gt_instances: InstanceData,
                 img_meta: Optional[dict] = None,
                 **kwargs) -> Tensor:
        pred, gt = pred_instances.bboxes, gt_instances.bboxes
        if not self.mask_absent:
            return torch.cdist(pred.flatten(1), gt.flatten(1), p=1) * \
                self.weight
        valid = self.frame_weights(gt_instances, pred.shape[1])  # (G, T)
        dist = (pred[:, None] - gt[None]).abs().sum(-1)  # (Q, G, T)
        cost = (dist * valid[None]).sum(-1) / valid.sum(-1).clamp(min=1)
        return cost * self.weight


@TASK_UTILS.register_module()
class TubeGIoUCost(TubeMatchCost):
    """Negative GIoU averaged over the frames of a tube."""

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
        valid = self.frame_weights(gt_instances, num_frames)[None]
        cost = -(giou * valid).sum(-1) / valid.sum(-1).clamp(min=1)
        return cost * self.weight
