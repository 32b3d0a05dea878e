# Copyright (c) mmvmt contributors.
"""Training losses of VMT (our reconstruction; VMT released no training
code).

Detection and coarse masks follow SeqFormer's released training code
(per-decoder-layer Hungarian matching on whole clips; sigmoid focal class
loss; L1 + GIoU over the frames; focal + dice on the stride-4 masks;
auxiliary losses on decoder layers 0-4). VMT's refinement losses only
survive as weight names (``loss_mask_refine``, ``loss_mask_dice_refine``,
``loss_mask_bound_refine``, ``loss_refine``, ``loss_mask_sem``,
``loss_mask_sem_dice``); how each is computed here is documented in
``docs/training.md`` and in :class:`VMTCriterion`.
"""
from typing import Dict, List

import torch
import torch.nn.functional as F
from mmdet.models.losses.focal_loss import py_sigmoid_focal_loss
from mmdet.structures import TrackSampleList
from mmdet.structures.bbox import bbox_cxcywh_to_xyxy, bbox_overlaps
from mmdet.utils import reduce_mean
from mmengine.model import BaseModule
from mmengine.structures import InstanceData
from torch import Tensor

from mmvmt.registry import MODELS, TASK_UTILS
from .tube_targets import clip_tubes, downsample_masks


def dice_loss(pred: Tensor, target: Tensor) -> Tensor:
    """Sum over instances of ``1 - dice`` (pred are logits), (N, ...)."""
    pred = pred.sigmoid().flatten(1)
    target = target.flatten(1)
    num = 2 * (pred * target).sum(1)
    den = pred.sum(1) + target.sum(1)
    return (1 - (num + 1) / (den + 1)).sum()


def focal_mask_loss(pred: Tensor, target: Tensor) -> Tensor:
    """Sigmoid focal loss averaged over pixels, summed over instances."""
    loss = py_sigmoid_focal_loss(pred.flatten(1), target.flatten(1), None, 2.0,
                              0.25, 'none')
    return loss.mean(1).sum()


@MODELS.register_module()
class VMTCriterion(BaseModule):
    """Matcher and losses for VMT training.

    Args:
        assigner (dict): Hungarian assigner with clip-level costs
            (``FocalLossCost``, ``TubeL1Cost``, ``TubeGIoUCost``).
        loss_weights (dict): Weight of every loss (names of the released
            VMT parser). Defaults to the released values.
        mask_absent (bool): Box losses only on frames where the GT is
            visible (True) or, as SeqFormer, also on absent frames with a
            zero box (False). Defaults to True.
        refine_layers (str): ``'last'``: the full mask branch (inc, refine,
            band, union) runs on the last decoder layer only; the auxiliary
            layers get the coarse masks. Defaults to ``'last'``.
    """

    def __init__(self,
                 assigner: dict,
                 loss_weights: Dict[str, float] = dict(
                     loss_cls=2.0,
                     loss_bbox=5.0,
                     loss_giou=2.0,
                     loss_mask=2.0,
                     loss_dice=5.0,
                     loss_refine=2.0,
                     loss_mask_refine=2.0,
                     loss_mask_dice_refine=5.0,
                     loss_mask_bound_refine=5.0,
                     loss_mask_sem=1.0,
                     loss_mask_sem_dice=1.0),
                 mask_absent: bool = True,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.assigner = TASK_UTILS.build(assigner)
        self.weights = dict(loss_weights)
        self.mask_absent = mask_absent

    # -- matching --------------------------------------------------------
    def match(self, cls_logits: Tensor, boxes: Tensor,
              gt: InstanceData) -> tuple:
        """Hungarian matching of one clip.

        Args:
            cls_logits (Tensor): (num_queries, num_classes).
            boxes (Tensor): (T, num_queries, 4) normalised cxcywh.
            gt (:obj:`InstanceData`): Tubes from :func:`clip_tubes`.

        Returns:
            tuple[Tensor]: matched query indices and GT indices.
        """
        if len(gt) == 0:
            empty = torch.zeros(0, dtype=torch.long, device=boxes.device)
            return empty, empty
        pred = InstanceData(scores=cls_logits, bboxes=boxes.transpose(0, 1))
        with torch.no_grad():
            result = self.assigner.assign(pred, gt)
        q_idx = torch.nonzero(result.gt_inds > 0).squeeze(-1)
        return q_idx, result.gt_inds[q_idx] - 1

    # -- losses ----------------------------------------------------------
    def detection_losses(self, cls_logits: Tensor, boxes: Tensor,
                         matches: list, gts: List[InstanceData],
                         num_inst: float) -> Dict[str, Tensor]:
        """Class, L1 and GIoU losses of one decoder layer (all clips)."""
        num_classes = cls_logits.shape[-1]
        target = torch.zeros_like(cls_logits)
        l1 = giou = cls_logits.new_zeros(())
        for b, ((q_idx, g_idx), gt) in enumerate(zip(matches, gts)):
            target[b, q_idx, gt.labels[g_idx]] = 1
            if len(q_idx) == 0:
                continue
            pred = boxes[b][:, q_idx].transpose(0, 1)  # (n, T, 4)
            tgt = gt.bboxes[g_idx]
            valid = gt.valid[g_idx].float() if self.mask_absent else \
                torch.ones_like(gt.valid[g_idx], dtype=torch.float)
            frames = valid.sum(1).clamp(min=1)
            l1 = l1 + ((pred - tgt).abs().sum(-1) * valid).sum(1).div(
                frames).sum()
            g = torch.stack([
                bbox_overlaps(
                    bbox_cxcywh_to_xyxy(pred[:, t]),
                    bbox_cxcywh_to_xyxy(tgt[:, t]),
                    mode='giou',
                    is_aligned=True) for t in range(pred.shape[1])
            ], 1)
            giou = giou + ((1 - g) * valid).sum(1).div(frames).sum()
        loss_cls = py_sigmoid_focal_loss(
            cls_logits.reshape(-1, num_classes), target.reshape(
                -1, num_classes), None, 2.0, 0.25, 'sum') / num_inst
        return dict(
            loss_cls=loss_cls * self.weights['loss_cls'],
            loss_bbox=l1 / num_inst * self.weights['loss_bbox'],
            loss_giou=giou / num_inst * self.weights['loss_giou'])

    def mask_losses(self, model, out: dict, frames: Tensor, matches: list,
                    gts: List[InstanceData], layer: int, full: bool,
                    num_inst: float) -> Dict[str, Tensor]:
        """Mask losses of one decoder layer.

        Coarse stage (every layer): focal + dice on ``pred_masks``
        (stride 4) against the GT downsampled by area averaging. With
        ``full`` (last layer) also: ``loss_refine`` = focal on the stride-2
        ``pred_masks_inc``; ``loss_mask_refine`` + ``loss_mask_dice_refine``
        on the full-resolution ``pred_masks_refine``;
        ``loss_mask_bound_refine`` = BCE of the refined masks on the
        boundary band only; ``loss_mask_sem`` + ``loss_mask_sem_dice`` =
        focal + dice of the instance-union map ``1 - prod(1 - sigmoid(L4))``
        (the map the band is built from) against the GT union.
        """
        zero = frames.new_zeros(())
        losses = {k: zero for k in ('loss_mask', 'loss_dice')}
        if full:
            losses.update({k: zero for k in (
                'loss_refine', 'loss_mask_refine', 'loss_mask_dice_refine',
                'loss_mask_bound_refine', 'loss_mask_sem',
                'loss_mask_sem_dice')})
        for b, ((q_idx, g_idx), gt) in enumerate(zip(matches, gts)):
            if len(q_idx) == 0:
                continue
            if full:
                res = model.forward_masks(out, frames, b, q_idx, layer=layer)
            else:
                res = model.forward_coarse_masks(out, frames, b, q_idx,
                                                 layer=layer)
            gt_masks = gt.masks[g_idx].transpose(0, 1)  # (T, n, H, W)

            def target(size):
                return (downsample_masks(gt_masks, size) > 0.5).float()

            pred = res['pred_masks']
            tgt = target(pred.shape[-2:])
            losses['loss_mask'] = losses['loss_mask'] + focal_mask_loss(
                pred.transpose(0, 1), tgt.transpose(0, 1))
            losses['loss_dice'] = losses['loss_dice'] + dice_loss(
                pred.transpose(0, 1), tgt.transpose(0, 1))
            if not full:
                continue
            inc = res['pred_masks_inc']
            losses['loss_refine'] = losses['loss_refine'] + focal_mask_loss(
                inc.transpose(0, 1),
                target(inc.shape[-2:]).transpose(0, 1))
            ref = res['pred_masks_refine']
            tgt_ref = target(ref.shape[-2:])
            losses['loss_mask_refine'] = losses['loss_mask_refine'] + \
                focal_mask_loss(ref.transpose(0, 1),
                                tgt_ref.transpose(0, 1))
            losses['loss_mask_dice_refine'] = \
                losses['loss_mask_dice_refine'] + dice_loss(
                    ref.transpose(0, 1), tgt_ref.transpose(0, 1))
            band = F.interpolate(res['band'][:, None].float(),
                                 size=ref.shape[-2:])[:, 0] > 0
            if band.any():
                bce = F.binary_cross_entropy_with_logits(
                    ref, tgt_ref, reduction='none')  # (T, n, h, w)
                per_inst = (bce * band[:, None]).sum((0, 2, 3)) / \
                    band.sum().clamp(min=1)
                losses['loss_mask_bound_refine'] = \
                    losses['loss_mask_bound_refine'] + per_inst.sum()
            l4 = res['mask_L4']  # (T, n, s4h, s4w) logits
            union_prob = 1 - (1 - l4.sigmoid()).prod(1)  # (T, s4h, s4w)
            union_gt = (downsample_masks(gt.masks.transpose(0, 1).amax(1),
                                         l4.shape[-2:]) > 0.5).float()
            union_logit = torch.logit(union_prob.clamp(1e-6, 1 - 1e-6))
            losses['loss_mask_sem'] = losses['loss_mask_sem'] + \
                focal_mask_loss(union_logit[None], union_gt[None])
            losses['loss_mask_sem_dice'] = losses['loss_mask_sem_dice'] + \
                dice_loss(union_logit[None], union_gt[None])
        return {
            k: v / num_inst * self.weights[k]
            for k, v in losses.items()
        }

    def forward(self, model, out: dict, frames: Tensor,
                data_samples: TrackSampleList) -> Dict[str, Tensor]:
        """All losses of a batch of clips.

        Args:
            model (:obj:`VMT`): The model (its mask branch is run on the
                matched queries of every decoder layer).
            out (dict): :meth:`VMT.forward_clip` outputs.
            frames (Tensor): (bs * T, 3, H, W) normalised input.
            data_samples (list[:obj:`TrackDataSample`]): GT clips.

        Returns:
            dict[str, Tensor]: last-layer losses and ``d{l}.loss_*`` of the
            auxiliary layers.
        """
        pad_shape = tuple(frames.shape[-2:])
        gts = [clip_tubes(track, pad_shape, frames.device)
               for track in data_samples]
        num_inst = reduce_mean(
            frames.new_tensor(float(sum(len(g) for g in gts))))
        num_inst = num_inst.clamp(min=1).item()
        num_layers = out['all_cls'].shape[0]
        losses: Dict[str, Tensor] = {}
        for layer in range(num_layers):
            cls_logits = out['all_cls'][layer]
            boxes = out['all_boxes'][layer]
            matches = [
                self.match(cls_logits[b], boxes[b], gt)
                for b, gt in enumerate(gts)
            ]
            last = layer == num_layers - 1
            layer_losses = self.detection_losses(cls_logits, boxes, matches,
                                                 gts, num_inst)
            layer_losses.update(
                self.mask_losses(model, out, frames, matches, gts, layer,
                                 last, num_inst))
            prefix = '' if last else f'd{layer}.'
            losses.update({prefix + k: v for k, v in layer_losses.items()})
        return losses
