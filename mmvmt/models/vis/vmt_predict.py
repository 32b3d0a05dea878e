# Copyright (c) mmvmt contributors.
"""Inference of :class:`VMT`: the released top-k (query, class) selection,
mask branch, resize to the original frame size and per-frame instances."""
from typing import List, Optional

import torch
import torch.nn.functional as F
from mmdet.structures import TrackSampleList
from mmdet.structures.mask import mask2bbox
from mmengine.structures import InstanceData
from torch import Tensor


class VMTPredictMixin:
    """:meth:`predict` of :class:`VMT`."""

    def predict(self,
                inputs: Tensor,
                data_samples: TrackSampleList,
                rescale: bool = True,
                point_perms: Optional[List[Tensor]] = None,
                **kwargs) -> TrackSampleList:
        """Segment and track the instances of a video (batch size 1).

        A padded input (``pad_size_divisor`` > 1) runs the encoder with its
        padding mask, and the masks are cropped to ``img_shape`` before
        being resized to ``ori_shape``; without padding this is the
        released inference.

        Args:
            inputs (Tensor): (1, T, 3, H, W), the whole video by default.
            data_samples (list[:obj:`TrackDataSample`]): One video.
            rescale (bool): Masks at the original frame size (else at
                ``img_shape``). Defaults to True.
            point_perms (list[Tensor], optional): Injected refinement point
                permutations (tests).

        Returns:
            list[:obj:`TrackDataSample`]: Each frame gets
            ``pred_track_instances`` with ``masks`` (k, H0, W0) bool,
            ``scores`` (k,), ``labels`` (k,) 0-based, ``instances_id`` (k,)
            (rank of the (query, class) pair) and ``bboxes`` (k, 4) xyxy,
            for the released top-k (query, class) pairs whose tube is not
            empty, in score order.
        """
        if inputs.dim() != 5 or inputs.shape[0] != 1:
            raise ValueError('VMT.predict takes one clip, (1, T, 3, H, W); '
                             f'got {tuple(inputs.shape)}')
        frames = inputs[0]
        out = self.forward_clip(frames, 1,
                                self.padding_masks(inputs, data_samples))
        query_ids, pair_query, pair_class, pair_score = \
            self.bbox_head.select_instances(out['all_cls'][-1][0],
                                            self.test_cfg['num_select'])
        track = data_samples[0]
        img_h, img_w = self.image_sizes(inputs, data_samples)[0]
        masks = self.forward_mask_branch(out, frames, 0, query_ids,
                                         (img_h, img_w),
                                         point_perms=point_perms)
        ori_h, ori_w = track[0].metainfo.get('ori_shape', (img_h, img_w))
        size = (ori_h, ori_w) if rescale else (img_h, img_w)
        # the image part of the (padded) input, at the masks' resolution
        # (2 * ceil(H / 2) wide: the whole map when nothing is padded)
        logits = masks['pred_masks_refine']
        pad_h, pad_w = frames.shape[-2:]
        crop_h = round(logits.shape[-2] * img_h / pad_h)
        crop_w = round(logits.shape[-1] * img_w / pad_w)
        probs = F.interpolate(
            logits[..., :crop_h, :crop_w], size=size, mode='bilinear',
            align_corners=False).sigmoid()
        binary = probs > self.test_cfg['mask_thr']  # (T, n, h, w)
        row = {int(q): i for i, q in enumerate(query_ids.tolist())}
        keep = [
            k for k in range(len(pair_query))
            if binary[:, row[int(pair_query[k])]].any()
        ]
        rows = torch.as_tensor([row[int(pair_query[k])] for k in keep],
                               dtype=torch.long)
        labels = pair_class[keep] - self.bbox_head.label_offset
        for t in range(len(track)):
            inst = InstanceData()
            inst.masks = binary[t, rows]
            inst.scores = pair_score[keep]
            inst.labels = labels
            inst.instances_id = torch.as_tensor(keep, dtype=torch.long)
            inst.bboxes = mask2bbox(inst.masks)
            track[t].pred_track_instances = inst
        return data_samples
