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
    Frames where ``gt_instances.valid`` (num_gts, T) is False do not count;
    the detector decides what is valid (``VMT`` ``train_cfg.mask_absent``:
    the frames where the GT is visible, or every frame as in SeqFormer).
    Without ``valid`` every frame counts.

    Args:
        weight (float): Cost weight. Defaults to 1.
    """

    @staticmethod
    def frame_weights(gt_instances: InstanceData,
                      num_frames: int) -> Tensor:
        """(num_gts, T) float weights of the frames."""
        valid = gt_instances.get('valid', None)
        if valid is None:
            return gt_instances.bboxes.new_ones(len(gt_instances),
                                                num_frames)
        return valid.float()


@TASK_UTILS.register_module()
class TubeL1Cost(TubeMatchCost):
    """Distance between the concatenated per-frame boxes of two tubes.

    SeqFormer's "L1" box cost is ``torch.cdist`` over the flattened
    T x 4 (cx, cy, w, h) vectors with cdist's default ``p=2`` (a Euclidean
    distance, despite the name); that is the default here. ``p=1`` gives
    the sum of absolute differences. Frames that are not ``valid`` are left
    out of the vectors (with every frame valid this is exactly
    ``torch.cdist(pred.flatten(1), gt.flatten(1), p)``).

    Args:
        p (float): Norm of the distance. Defaults to 2.0 (SeqFormer).
        weight (float): Cost weight. Defaults to 1.
    """

    def __init__(self, p: float = 2.0, weight: float = 1.) -> None:
        super().__init__(weight=weight)
        self.p = p

    def __call__(self,
                 pred_instances: InstanceData,
                 gt_instances: InstanceData,
                 img_meta: Optional[dict] = None,
                 **kwargs) -> Tensor:
        """(num_queries, num_gts) weighted cost."""
        pred, gt = pred_instances.bboxes, gt_instances.bboxes
        valid = self.frame_weights(gt_instances, pred.shape[1])  # (G, T)
        if bool(valid.all()):
            dist = torch.cdist(pred.flatten(1), gt.flatten(1), p=self.p)
        else:
            diff = (pred[:, None] - gt[None]) * valid[None, :, :, None]
            dist = torch.linalg.vector_norm(diff.flatten(2), ord=self.p,
                                            dim=-1)
        return dist * self.weight


@TASK_UTILS.register_module()
class TubeGIoUCost(TubeMatchCost):
    """Negative GIoU averaged over the (valid) frames of a tube."""

    def __call__(self,
                 pred_instances: InstanceData,
                 gt_instances: InstanceData,
                 img_meta: Optional[dict] = None,
                 **kwargs) -> Tensor:
        """(num_queries, num_gts) weighted cost."""
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
