# Copyright (c) mmvmt contributors.
"""The training step of :class:`VMT`: targets, per-layer matching, the mask
branch on the matched queries, and the criterion (our reconstruction of
VMT's unreleased training, following SeqFormer; ``docs/training.md``)."""
from typing import Dict, List, Optional, Tuple

import torch
from mmdet.structures import TrackSampleList
from mmengine.structures import InstanceData
from torch import Tensor

from ..losses import clip_tubes


class VMTLossMixin:
    """:meth:`loss` and the padding helpers of :class:`VMT`.

    The detector orchestrates: it builds the GT tubes of every clip
    (:func:`clip_tubes`, labels shifted to logit indices by
    ``bbox_head.label_offset``, absent frames valid or not by
    ``train_cfg.mask_absent``), matches every decoder layer with
    ``self.assigner`` (:meth:`match`), runs the mask branch on the matched
    queries (mask features once per clip; the full cascade on the last
    layer, the coarse head on the others) and passes predictions, targets
    and matches to ``self.criterion``, which holds only losses.
    """

    @staticmethod
    def image_sizes(inputs: Tensor,
                    data_samples: TrackSampleList) -> List[Tuple[int, int]]:
        """(h, w) of every clip's image inside the padded input (the first
        frame's ``img_shape``; a clip's frames share one size)."""
        height, width = inputs.shape[-2:]
        return [tuple(track[0].metainfo.get('img_shape', (height, width))[:2])
                for track in data_samples]

    @staticmethod
    def padding_masks(inputs: Tensor,
                      data_samples: TrackSampleList) -> Optional[Tensor]:
        """(bs*T, H, W) bool, True on padding; None if nothing is padded."""
        num_clips, num_frames, _, height, width = inputs.shape
        masks = inputs.new_zeros((num_clips * num_frames, height, width),
                                 dtype=torch.bool)
        for b, track in enumerate(data_samples):
            for t in range(num_frames):
                img_h, img_w = track[t].metainfo.get('img_shape',
                                                     (height, width))[:2]
                masks[b * num_frames + t, img_h:] = True
                masks[b * num_frames + t, :, img_w:] = True
        return masks if masks.any() else None

    def match(self, cls_logits: Tensor, boxes: Tensor,
              gt: InstanceData) -> Tuple[Tensor, Tensor]:
        """Hungarian matching of one clip at one decoder layer.

        Args:
            cls_logits (Tensor): (num_queries, num_logits).
            boxes (Tensor): (T, num_queries, 4) normalised cxcywh.
            gt (:obj:`InstanceData`): Tubes from :func:`clip_tubes`.

        Returns:
            tuple[Tensor]: matched query indices and GT indices, (n,) each.
        """
        if len(gt) == 0:
            empty = torch.zeros(0, dtype=torch.long, device=boxes.device)
            return empty, empty
        pred = InstanceData(scores=cls_logits.detach(),
                            bboxes=boxes.detach().transpose(0, 1))
        with torch.no_grad():
            result = self.assigner.assign(pred, gt)
        q_idx = torch.nonzero(result.gt_inds > 0).squeeze(-1)
        return q_idx, result.gt_inds[q_idx] - 1

    def loss(self, inputs: Tensor, data_samples: TrackSampleList,
             **kwargs) -> Dict[str, Tensor]:
        """Losses of a batch of clips (see :class:`VMTCriterion`).

        Args:
            inputs (Tensor): (bs, T, 3, H, W) padded clips.
            data_samples (list[:obj:`TrackDataSample`]): GT of every frame
                (``gt_instances`` with ``bboxes``, ``labels``, ``masks``,
                ``instances_ids``).

        Returns:
            dict[str, Tensor]: The losses.
        """
        if self.criterion is None or self.assigner is None:
            raise RuntimeError('this VMT config cannot train: it needs '
                               'model.criterion and model.train_cfg.assigner')
        num_clips = inputs.shape[0]
        frames = inputs.flatten(0, 1)
        out = self.forward_clip(frames, num_clips,
                                self.padding_masks(inputs, data_samples))
        gts = [
            clip_tubes(track, tuple(frames.shape[-2:]), frames.device,
                       self.bbox_head.label_offset,
                       self.train_cfg['mask_absent'])
            for track in data_samples
        ]
        sizes = self.image_sizes(inputs, data_samples)
        num_layers = out['all_cls'].shape[0]
        all_matches = [[
            self.match(out['all_cls'][layer][b], out['all_boxes'][layer][b],
                       gts[b]) for b in range(num_clips)
        ] for layer in range(num_layers)]
        all_mask_preds: List[List[dict]] = [[] for _ in range(num_layers)]
        for b in range(num_clips):
            mask_feats = None  # computed once per clip, for every layer
            for layer in range(num_layers):
                q_idx = all_matches[layer][b][0]
                if len(q_idx) == 0:
                    all_mask_preds[layer].append({})
                    continue
                if mask_feats is None:
                    mask_feats = self.clip_mask_features(out, b)
                all_mask_preds[layer].append(
                    self.forward_mask_branch(
                        out, frames, b, q_idx, sizes[b], layer=layer,
                        mask_feats=mask_feats,
                        full=layer == num_layers - 1))
        return self.criterion(out['all_cls'], out['all_boxes'],
                              all_mask_preds, gts, all_matches)
