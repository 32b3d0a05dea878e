# Copyright (c) mmvmt contributors.
"""Training losses of VMT (our reconstruction; VMT released no training
code).

Detection and coarse masks follow SeqFormer's released training code
(per-decoder-layer Hungarian matching on whole clips; sigmoid focal class
loss; L1 + GIoU over the frames; focal + dice on the stride-4 masks;
auxiliary losses on every decoder layer but the last). VMT's refinement
losses only survive as weight names (``loss_mask_refine``,
``loss_mask_dice_refine``, ``loss_mask_bound_refine``, ``loss_refine``,
``loss_mask_sem``, ``loss_mask_sem_dice``); how each is computed here is
documented in ``docs/training.md`` and in :class:`VMTCriterion`.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.structures.bbox import bbox_cxcywh_to_xyxy
from mmdet.utils import reduce_mean
from mmengine.model import BaseModule
from mmengine.structures import InstanceData
from torch import Tensor

from mmvmt.registry import MODELS
from .incoherence_targets import incoherence_targets
from .tube_targets import downsample_masks, image_part

Match = Tuple[Tensor, Tensor]
COARSE_MASK_LOSSES = ('loss_mask', 'loss_dice')
REFINE_MASK_LOSSES = ('loss_refine', 'loss_mask_refine',
                      'loss_mask_dice_refine', 'loss_mask_bound_refine',
                      'loss_mask_sem', 'loss_mask_sem_dice')
# optional terms of the tracklet refinement, with the prediction each needs
TRACKLET_LOSSES = dict(loss_incoherence='incoherence',
                       loss_incoherence_dice='incoherence',
                       loss_node='node_logits')


def _focal(weight: float) -> dict:
    return dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
                loss_weight=weight)


def _dice(weight: float) -> dict:
    # naive dice with eps 1: 1 - (2 sum(pt) + 1) / (sum(p) + sum(t) + 1),
    # the DETR / SeqFormer dice
    return dict(type='DiceLoss', use_sigmoid=True, activate=True,
                naive_dice=True, eps=1.0, loss_weight=weight)


@MODELS.register_module()
class VMTCriterion(BaseModule):
    """Losses of VMT from predictions, targets and matches (no model).

    Normalisation (SeqFormer): every loss is a sum over the matched GT
    tubes of the batch divided by ``num_inst``, the number of GT tubes
    all-reduced over the processes and at least 1. Per tube:

    - ``loss_cls``: sigmoid focal loss over all queries and logits (one-hot
      at the matched queries' GT logit, zeros elsewhere), summed.
    - ``loss_bbox``: L1 of (cx, cy, w, h) summed over coordinates and
      averaged over the tube's valid frames; ``loss_giou``: ``1 - GIoU``
      averaged over the valid frames (``valid`` comes with the targets:
      every frame in SeqFormer's mode).
    - ``loss_mask`` / ``loss_dice``: focal loss averaged over all pixels of
      the tube's ``pred_masks`` (stride 4, all frames) / naive dice, against
      the GT masks area-averaged to that size and thresholded at 0.5.

    Last decoder layer only (the full mask branch runs there):
    ``loss_refine`` (focal, ``pred_masks_inc``, stride 2),
    ``loss_mask_refine`` + ``loss_mask_dice_refine`` (``pred_masks_refine``,
    full resolution), ``loss_mask_bound_refine`` (BCE of the refined masks
    on the boundary band, averaged over the band's pixels of the clip) and
    ``loss_mask_sem`` + ``loss_mask_sem_dice`` (focal + dice, one term per
    clip, of the instance-union map ``1 - prod(1 - sigmoid(mask_L4))``
    against the union of the clip's GT masks). The other layers get
    ``d{layer}.``-prefixed detection and coarse mask losses.

    Every mask term is computed on the cells of its map that cover the
    clip's image (:func:`image_part`, from the targets' ``img_shape`` and
    ``pad_shape``), so padding added by a larger clip of the batch changes
    no loss (our choice: SeqFormer averages over the padded map).

    Optional, for :class:`TrackletRefineHead` (None = not computed; each
    needs its prediction, else a ``ValueError``): ``loss_incoherence``
    (BCE averaged over the pixels of the tube's ``incoherence`` logits,
    stride 4) and ``loss_incoherence_dice`` (naive dice) against
    :func:`incoherence_targets` of the GT at the refinement's stride 2;
    ``loss_node``: L1 between ``sigmoid(node_logits)`` and the stride-2 GT,
    averaged over the tube's refined nodes (``node_mask``).

    Args:
        loss_cls, loss_bbox, loss_giou, loss_mask, loss_dice, loss_refine,
        loss_mask_refine, loss_mask_dice_refine, loss_mask_bound_refine,
        loss_mask_sem, loss_mask_sem_dice (dict): Loss configs (mmdet
            ``FocalLoss``, ``L1Loss``, ``GIoULoss``, ``DiceLoss``,
            ``CrossEntropyLoss``); their ``loss_weight`` defaults are the
            released VMT parser's.
        loss_incoherence, loss_incoherence_dice, loss_node (dict,
            optional): Configs of the optional terms. Defaults to None.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 loss_cls: dict = _focal(2.0),
                 loss_bbox: dict = dict(type='L1Loss', loss_weight=5.0),
                 loss_giou: dict = dict(type='GIoULoss', loss_weight=2.0),
                 loss_mask: dict = _focal(2.0),
                 loss_dice: dict = _dice(5.0),
                 loss_refine: dict = _focal(2.0),
                 loss_mask_refine: dict = _focal(2.0),
                 loss_mask_dice_refine: dict = _dice(5.0),
                 loss_mask_bound_refine: dict = dict(
                     type='CrossEntropyLoss', use_sigmoid=True,
                     loss_weight=5.0),
                 loss_mask_sem: dict = _focal(1.0),
                 loss_mask_sem_dice: dict = _dice(1.0),
                 loss_incoherence: Optional[dict] = None,
                 loss_incoherence_dice: Optional[dict] = None,
                 loss_node: Optional[dict] = None,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        cfgs = dict(loss_cls=loss_cls, loss_bbox=loss_bbox,
                    loss_giou=loss_giou, loss_mask=loss_mask,
                    loss_dice=loss_dice, loss_refine=loss_refine,
                    loss_mask_refine=loss_mask_refine,
                    loss_mask_dice_refine=loss_mask_dice_refine,
                    loss_mask_bound_refine=loss_mask_bound_refine,
                    loss_mask_sem=loss_mask_sem,
                    loss_mask_sem_dice=loss_mask_sem_dice)
        for name, cfg in cfgs.items():
            setattr(self, name, MODELS.build(cfg))
        optional = dict(loss_incoherence=loss_incoherence,
                        loss_incoherence_dice=loss_incoherence_dice,
                        loss_node=loss_node)
        self.optional_losses = tuple(n for n, c in optional.items()
                                     if c is not None)
        for name, cfg in optional.items():
            setattr(self, name, None if cfg is None else MODELS.build(cfg))

    @staticmethod
    def num_instances(gts: Sequence[InstanceData], device) -> float:
        """GT tubes of the batch, all-reduced (mean) over processes, >= 1."""
        num = torch.tensor(float(sum(len(g) for g in gts)), device=device)
        return reduce_mean(num).clamp(min=1).item()

    def detection_losses(self, cls_logits: Tensor, boxes: Tensor,
                         gts: Sequence[InstanceData], matches: List[Match],
                         num_inst: float) -> Dict[str, Tensor]:
        """Class, L1 and GIoU losses of one decoder layer.

        Args:
            cls_logits (Tensor): (bs, num_queries, num_logits).
            boxes (Tensor): (bs, T, num_queries, 4), normalised cxcywh.
            gts (list[:obj:`InstanceData`]): Targets of each clip
                (:func:`clip_tubes`: ``labels`` are logit indices).
            matches (list[tuple]): Per clip (query indices, GT indices).
            num_inst (float): See :meth:`num_instances`.
        """
        target = torch.zeros_like(cls_logits)
        preds, tgts, frame_w = [], [], []
        for b, ((q_idx, g_idx), gt) in enumerate(zip(matches, gts)):
            target[b, q_idx, gt.labels[g_idx]] = 1
            preds.append(boxes[b][:, q_idx].transpose(0, 1))  # (n, T, 4)
            tgts.append(gt.bboxes[g_idx])
            valid = gt.valid[g_idx].float()
            frame_w.append(valid / valid.sum(1, keepdim=True).clamp(min=1))
        num_logits = cls_logits.shape[-1]
        losses = dict(loss_cls=self.loss_cls(
            cls_logits.reshape(-1, num_logits),
            target.reshape(-1, num_logits),
            avg_factor=num_inst))
        pred = torch.cat(preds).flatten(0, 1)  # (n * T, 4)
        tgt = torch.cat(tgts).flatten(0, 1)
        weight = torch.cat(frame_w).flatten()  # (n * T,)
        if pred.numel() == 0:
            zero = boxes.sum() * 0
            return dict(losses, loss_bbox=zero, loss_giou=zero)
        losses['loss_bbox'] = self.loss_bbox(
            pred, tgt, weight[:, None].expand_as(pred), avg_factor=num_inst)
        losses['loss_giou'] = self.loss_giou(
            bbox_cxcywh_to_xyxy(pred), bbox_cxcywh_to_xyxy(tgt), weight,
            avg_factor=num_inst)
        return losses

    @staticmethod
    def _target(gt_masks: Tensor, size: Sequence[int]) -> Tensor:
        return (downsample_masks(gt_masks, size) > 0.5).float()

    def _focal_dice(self, focal, dice, pred: Tensor, target: Tensor,
                    num_inst: float) -> Tuple[Tensor, Tensor]:
        """Per-row mean focal (summed over rows) and dice, / num_inst.

        ``pred``/``target`` are (rows, ...): one row per tube (or clip).
        """
        pred, target = pred.flatten(1), target.flatten(1)
        return (focal(pred, target, avg_factor=num_inst * pred.shape[1]),
                dice(pred, target, avg_factor=num_inst))

    def mask_losses(self, mask_preds: List[dict], gts: Sequence[InstanceData],
                    matches: List[Match], num_inst: float,
                    full: bool) -> Dict[str, Tensor]:
        """Mask losses of one decoder layer.

        Args:
            mask_preds (list[dict]): Per clip, the mask branch outputs of
                the matched queries in match order: ``pred_masks``
                (T, n, h4, w4); with ``full`` also ``pred_masks_inc``,
                ``pred_masks_refine``, ``mask_L4`` (T, n, ...) logits and
                ``band`` (T, h2, w2) bool. Empty dict when n == 0.
            gts, matches, num_inst: See :meth:`detection_losses`.
            full (bool): Whether the refinement losses are computed.
        """
        losses: Dict[str, Tensor] = {}

        def add(name: str, value: Tensor) -> None:
            losses[name] = losses[name] + value if name in losses else value

        for res, (_, g_idx), gt in zip(mask_preds, matches, gts):
            if len(g_idx) == 0:
                continue
            gt_masks = gt.masks[g_idx]  # (n, T, H, W)

            def tube_rows(logits: Tensor) -> Tuple[Tensor, Tensor]:
                rows = logits.transpose(0, 1)  # (n, T, h, w)
                target = self._target(gt_masks, rows.shape[-2:])
                return image_part(rows, gt), image_part(target, gt)

            focal, dice = self._focal_dice(self.loss_mask, self.loss_dice,
                                           *tube_rows(res['pred_masks']),
                                           num_inst)
            add('loss_mask', focal)
            add('loss_dice', dice)
            if not full:
                continue
            pred_inc, tgt_inc = tube_rows(res['pred_masks_inc'])
            add('loss_refine', self.loss_refine(
                pred_inc.flatten(1), tgt_inc.flatten(1),
                avg_factor=num_inst * pred_inc[0].numel()))
            pred_ref, tgt_ref = tube_rows(res['pred_masks_refine'])
            focal, dice = self._focal_dice(self.loss_mask_refine,
                                           self.loss_mask_dice_refine,
                                           pred_ref, tgt_ref, num_inst)
            add('loss_mask_refine', focal)
            add('loss_mask_dice_refine', dice)
            band = image_part(F.interpolate(
                res['band'][:, None].float(),
                size=res['pred_masks_refine'].shape[-2:])[:, 0] > 0, gt)
            band_w = band.float() / band.sum().clamp(min=1)  # (T, h, w)
            add('loss_mask_bound_refine', self.loss_mask_bound_refine(
                pred_ref, tgt_ref, band_w[None].expand_as(pred_ref),
                avg_factor=num_inst))
            l4 = res['mask_L4']  # (T, n, h4, w4)
            union_prob = 1 - (1 - l4.sigmoid()).prod(1)  # (T, h4, w4)
            union_logit = torch.logit(union_prob.clamp(1e-6, 1 - 1e-6))
            union_gt = self._target(gt.masks.amax(0), l4.shape[-2:])
            focal, dice = self._focal_dice(
                self.loss_mask_sem, self.loss_mask_sem_dice,
                image_part(union_logit, gt)[None],
                image_part(union_gt, gt)[None], num_inst)
            add('loss_mask_sem', focal)
            add('loss_mask_sem_dice', dice)
            for name, value in self.tracklet_losses(res, gt_masks, gt,
                                                    num_inst).items():
                add(name, value)
        return losses

    def tracklet_losses(self, res: dict, gt_masks: Tensor, gt: InstanceData,
                        num_inst: float) -> Dict[str, Tensor]:
        """The optional terms (see the class docstring) of one clip.

        Args:
            res (dict): Mask branch outputs of the matched queries.
            gt_masks (Tensor): (n, T, H, W) their GT masks.
            gt (:obj:`InstanceData`): The clip's tubes (for the image
                part of the maps).
            num_inst (float): See :meth:`num_instances`.
        """
        used = {TRACKLET_LOSSES[n] for n in self.optional_losses}
        for name in self.optional_losses:
            if TRACKLET_LOSSES[name] not in res:
                raise ValueError(
                    f'model.criterion.{name} is set but the mask branch '
                    f'gives no {TRACKLET_LOSSES[name]!r} (see the refine '
                    "head's node_source / writeback)")
        for key in sorted(set(TRACKLET_LOSSES.values()) - used):
            if key in res:
                names = [n for n, k in TRACKLET_LOSSES.items() if k == key]
                raise ValueError(
                    f'the mask branch gives {key!r} but no loss uses it: '
                    f'set model.criterion.{" or ".join(names)}')
        losses = {}
        if not self.optional_losses:
            return losses
        gt2 = self._target(gt_masks, res['mask_L2'].shape[-2:])
        if 'incoherence' in res:
            inc = image_part(res['incoherence'].transpose(0, 1),
                             gt).flatten(1)  # (n, T*s4)
            tgt = image_part(incoherence_targets(
                gt2, res['incoherence'].shape[-2:]), gt).flatten(1)
            if self.loss_incoherence is not None:
                losses['loss_incoherence'] = self.loss_incoherence(
                    inc, tgt, avg_factor=num_inst * inc.shape[1])
            if self.loss_incoherence_dice is not None:
                losses['loss_incoherence_dice'] = self.loss_incoherence_dice(
                    inc, tgt, avg_factor=num_inst)
        if 'node_logits' in res:
            probs = image_part(res['node_logits'].transpose(0, 1),
                               gt).sigmoid().flatten(1)
            nodes = image_part(res['node_mask'].transpose(0, 1),
                               gt).flatten(1).float()
            weight = nodes / nodes.sum(1, keepdim=True).clamp(min=1)
            losses['loss_node'] = self.loss_node(
                probs, image_part(gt2, gt).flatten(1), weight,
                avg_factor=num_inst)
        return losses

    def forward(self, all_cls: Tensor, all_boxes: Tensor,
                all_mask_preds: List[List[dict]],
                gts: Sequence[InstanceData],
                all_matches: List[List[Match]]) -> Dict[str, Tensor]:
        """All losses of a batch of clips.

        Args:
            all_cls (Tensor): (num_layers, bs, num_queries, num_logits).
            all_boxes (Tensor): (num_layers, bs, T, num_queries, 4),
                normalised (cx, cy, w, h).
            all_mask_preds (list[list[dict]]): Per layer and clip, see
                :meth:`mask_losses` (the last layer's are full).
            gts (list[:obj:`InstanceData`]): Per clip, from
                :func:`clip_tubes`.
            all_matches (list[list[tuple]]): Per layer and clip, (query
                indices, GT indices).

        Returns:
            dict[str, Tensor]: last-layer losses and ``d{l}.loss_*`` of the
            other layers. A loss with no matched tube anywhere is 0 with
            the graph of the predictions.
        """
        num_inst = self.num_instances(gts, all_cls.device)
        num_layers = all_cls.shape[0]
        zero = all_cls.sum() * 0
        losses: Dict[str, Tensor] = {}
        for layer in range(num_layers):
            last = layer == num_layers - 1
            layer_losses = self.detection_losses(
                all_cls[layer], all_boxes[layer], gts, all_matches[layer],
                num_inst)
            masks = self.mask_losses(all_mask_preds[layer], gts,
                                     all_matches[layer], num_inst, last)
            names = COARSE_MASK_LOSSES + (
                REFINE_MASK_LOSSES + self.optional_losses if last else ())
            layer_losses.update({n: masks.get(n, zero) for n in names})
            prefix = '' if last else f'd{layer}.'
            losses.update({prefix + k: v for k, v in layer_losses.items()})
        return losses
