# Copyright (c) mmvmt contributors.
"""Video Mask Transfiner (VMT): SeqFormer video detector + boundary-refined
instance masks.

`Video Mask Transfiner for High-Quality Video Instance Segmentation
<https://arxiv.org/abs/2207.14012>`_ (ECCV 2022).
"""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmcv.ops import MultiScaleDeformableAttention
from mmdet.models.layers import SinePositionalEncoding
from mmdet.models.mot import BaseMOTModel
from mmdet.structures import TrackSampleList
from mmdet.structures.mask import mask2bbox
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from mmengine.structures import InstanceData
from torch import Tensor, nn
from torch.nn.init import normal_, xavier_uniform_

from mmvmt.registry import MODELS
from ..layers import SeqFormerDecoder, VMTTransformerEncoder


@MODELS.register_module()
class VMT(BaseMOTModel):
    """Video Mask Transfiner.

    A clip of T frames goes through the backbone and the 4-level input
    projection frame by frame, the deformable encoder frame by frame
    (shared weights), and the SeqFormer decoder (instance queries shared by
    all frames + per-frame box queries). The mask branch predicts tube masks
    of the selected queries and refines them on their boundary band.

    Args:
        backbone (dict): Backbone returning (stem, C2, C3, C4, C5) (ResNet)
            or (C2, C3, C4, C5) (Swin, with ``mask_head.compress_hires``).
        neck (dict): Input projection of C3..C5 to 4 levels.
        encoder (dict): :class:`VMTTransformerEncoder` config.
        decoder (dict): :class:`SeqFormerDecoder` config.
        positional_encoding (dict): :class:`SinePositionalEncoding` config.
        bbox_head (dict): :class:`VMTHead` config.
        mask_head (dict): :class:`VMTMaskHead` config.
        criterion (dict, optional): :class:`VMTCriterion` config (matcher
            and losses); needed for training only.
        num_queries (int): Instance queries. Defaults to 300.
        num_feature_levels (int): Levels. Defaults to 4.
        train_cfg (dict, optional): Training settings (matcher, losses).
        test_cfg (dict, optional): ``num_select`` (10), ``mask_thr`` (0.5).
        data_preprocessor (dict, optional): Clip preprocessor.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 neck: ConfigType,
                 encoder: ConfigType,
                 decoder: ConfigType,
                 positional_encoding: ConfigType,
                 bbox_head: ConfigType,
                 mask_head: ConfigType,
                 criterion: OptConfigType = None,
                 num_queries: int = 300,
                 num_feature_levels: int = 4,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(data_preprocessor, init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck)
        self.positional_encoding = SinePositionalEncoding(
            **positional_encoding)
        self.encoder = VMTTransformerEncoder(**encoder)
        self.decoder = SeqFormerDecoder(**decoder)
        self.embed_dims = self.encoder.embed_dims
        self.num_queries = num_queries
        self.num_feature_levels = num_feature_levels
        self.query_embedding = nn.Embedding(num_queries, self.embed_dims * 2)
        self.level_embed = nn.Parameter(
            torch.zeros(num_feature_levels, self.embed_dims))
        self.reference_points_fc = nn.Linear(self.embed_dims, 2)
        self.bbox_head = MODELS.build(bbox_head)
        self.mask_head = MODELS.build(mask_head)
        self.criterion = MODELS.build(criterion) if criterion else None
        self.train_cfg = train_cfg or {}
        self.test_cfg = dict(num_select=10, mask_thr=0.5)
        self.test_cfg.update(test_cfg or {})

    def init_weights(self) -> None:
        """Deformable-DETR style initialisation of the transformer."""
        super().init_weights()
        for coder in (self.encoder, self.decoder):
            for p in coder.parameters():
                if p.dim() > 1:
                    xavier_uniform_(p)
        for m in self.modules():
            if isinstance(m, MultiScaleDeformableAttention):
                m.init_weights()
        xavier_uniform_(self.reference_points_fc.weight.data, gain=1.0)
        nn.init.constant_(self.reference_points_fc.bias.data, 0.)
        normal_(self.level_embed)

    # ------------------------------------------------------------------
    # shared forward steps (used by predict and loss)
    # ------------------------------------------------------------------
    def extract_feat(self, frames: Tensor) -> Dict[str, object]:
        """Backbone and neck on every frame.

        Args:
            frames (Tensor): (bs * T, 3, H, W).

        Returns:
            dict: ``hires`` (bs*T, 64, s2) or None, ``c2`` (bs*T, C, s4) and
            ``mlvl_feats`` (4 levels, bs*T, embed_dims, h_l, w_l).
        """
        # channels-last makes the CPU (oneDNN) convolutions ~20% faster
        feats = self.backbone(
            frames.contiguous(memory_format=torch.channels_last))
        if self.mask_head.compress_hires:
            hires, c2, rest = None, feats[0], feats[1:]
        else:
            hires, c2, rest = feats[0], feats[1], feats[2:]
        return dict(hires=hires, c2=c2, mlvl_feats=list(self.neck(rest)))

    def pre_transformer(self, mlvl_feats: List[Tensor],
                        masks: Optional[Tensor]) -> Dict[str, Tensor]:
        """Flatten the levels and build positions, shapes and ratios.

        Args:
            mlvl_feats (list[Tensor]): (bs*T, C, h_l, w_l) per level.
            masks (Tensor, optional): Padding masks at input resolution,
                (bs*T, H, W), True at padding; None when nothing is padded.

        Returns:
            dict[str, Tensor]: encoder inputs (``feat``, ``feat_pos``,
            ``feat_mask``, ``spatial_shapes``, ``level_start_index``,
            ``valid_ratios``).
        """
        feats, poss, flat_masks, shapes, ratios = [], [], [], [], []
        for lvl, feat in enumerate(mlvl_feats):
            num, _, h, w = feat.shape
            if masks is None:
                mask = None
                pos = self.positional_encoding(None, input=feat)
                ratios.append(feat.new_ones(num, 2))
            else:
                mask = F.interpolate(masks[None].float(),
                                     size=(h, w)).to(torch.bool)[0]
                pos = self.positional_encoding(mask)
                valid_h = (~mask[:, :, 0]).sum(1).float() / h
                valid_w = (~mask[:, 0, :]).sum(1).float() / w
                ratios.append(torch.stack([valid_w, valid_h], -1))
                flat_masks.append(mask.flatten(1))
            feats.append(feat.flatten(2).transpose(1, 2))
            poss.append(
                pos.flatten(2).transpose(1, 2) +
                self.level_embed[lvl].view(1, 1, -1))
            shapes.append((h, w))
        spatial_shapes = torch.as_tensor(
            shapes, dtype=torch.long, device=mlvl_feats[0].device)
        level_start_index = torch.cat((spatial_shapes.new_zeros(
            (1, )), spatial_shapes.prod(1).cumsum(0)[:-1]))
        return dict(
            feat=torch.cat(feats, 1),
            feat_pos=torch.cat(poss, 1),
            feat_mask=torch.cat(flat_masks, 1) if flat_masks else None,
            spatial_shapes=spatial_shapes,
            level_start_index=level_start_index,
            valid_ratios=torch.stack(ratios, 1))

    def forward_transformer(self, feat_dict: dict, num_clips: int,
                            num_frames: int,
                            masks: Optional[Tensor]) -> Dict[str, object]:
        """Encoder, decoder and class/box heads.

        Returns:
            dict: ``memory`` (bs*T, sum_hw, C), ``hs`` (L, bs, nq, C),
            ``hs_box`` (L, bs, T, nq, C), ``references`` (list of L inputs
            to each layer, (bs, T, nq, 2|4)), ``all_cls`` (L, bs, nq, K),
            ``all_boxes`` (L, bs, T, nq, 4), plus the encoder inputs.
        """
        enc = self.pre_transformer(feat_dict['mlvl_feats'], masks)
        memory = self.encoder(
            query=enc['feat'],
            query_pos=enc['feat_pos'],
            key_padding_mask=enc['feat_mask'],
            spatial_shapes=enc['spatial_shapes'],
            level_start_index=enc['level_start_index'],
            valid_ratios=enc['valid_ratios'])
        query_pos, query = torch.split(
            self.query_embedding.weight, self.embed_dims, dim=1)
        query_pos = query_pos[None].expand(num_clips, -1, -1)
        query = query[None].expand(num_clips, -1, -1)
        reference_points = self.reference_points_fc(query_pos).sigmoid()
        reference_points = reference_points[:, None].expand(
            -1, num_frames, -1, -1)
        hs, hs_box, references = self.decoder(
            query=query,
            query_pos=query_pos,
            value=memory,
            reference_points=reference_points,
            spatial_shapes=enc['spatial_shapes'],
            level_start_index=enc['level_start_index'],
            valid_ratios=enc['valid_ratios'],
            reg_branches=self.bbox_head.reg_branches,
            key_padding_mask=enc['feat_mask'])
        all_cls, all_boxes = self.bbox_head(hs, hs_box, references)
        return dict(memory=memory, hs=hs, hs_box=hs_box,
                    references=references, all_cls=all_cls,
                    all_boxes=all_boxes, **enc)

    def memory_levels(self, memory: Tensor, spatial_shapes: Tensor,
                      level_start_index: Tensor) -> List[Tensor]:
        """Memory of the stride-8/16/32 levels as maps (bs*T, C, h, w)."""
        out = []
        for lvl in range(3):
            h, w = spatial_shapes[lvl].tolist()
            start = int(level_start_index[lvl])
            out.append(memory[:, start:start + h * w].transpose(1, 2).reshape(
                memory.shape[0], -1, h, w))
        return out

    def forward_clip(self, frames: Tensor, num_clips: int,
                     masks: Optional[Tensor] = None) -> Dict[str, object]:
        """Everything up to the class/box heads for a batch of clips.

        Args:
            frames (Tensor): (bs * T, 3, H, W), clip-major.
            num_clips (int): bs.
            masks (Tensor, optional): Padding masks (bs*T, H, W).

        Returns:
            dict: :meth:`forward_transformer` outputs plus the backbone's
            ``hires`` and ``c2``.
        """
        num_frames = frames.shape[0] // num_clips
        feat_dict = self.extract_feat(frames)
        out = self.forward_transformer(feat_dict, num_clips, num_frames,
                                       masks)
        out.update(hires=feat_dict['hires'], c2=feat_dict['c2'])
        return out

    def forward_masks(self, out: dict, frames: Tensor, clip: int,
                      query_ids: Tensor, layer: int = -1,
                      point_perms: Optional[List[Tensor]] = None) -> dict:
        """Mask branch for chosen queries of one clip.

        Args:
            out (dict): :meth:`forward_clip` outputs.
            frames (Tensor): (bs * T, 3, H, W) normalised input.
            clip (int): Clip index in the batch.
            query_ids (Tensor): (n,) query indices.
            layer (int): Decoder layer whose queries drive the masks; its
                input references give the reference points (for the last
                layer: the penultimate layer's boxes). Defaults to -1.
            point_perms (list[Tensor], optional): Injected refinement point
                permutations.

        Returns:
            dict: :meth:`VMTMaskHead.forward` outputs for the clip.
        """
        num_frames = out['references'][0].shape[1]
        sl = slice(clip * num_frames, (clip + 1) * num_frames)
        height, width = frames.shape[-2:]
        refs = out['references'][layer][clip][:, query_ids, :2]
        centers = refs * refs.new_tensor([width, height])
        memory = self.memory_levels(out['memory'][sl],
                                    out['spatial_shapes'],
                                    out['level_start_index'])
        hires = None if out['hires'] is None else out['hires'][sl]
        return self.mask_head(
            memory, out['c2'][sl], hires, frames[sl],
            out['hs'][layer][clip][query_ids], centers,
            out['all_boxes'][layer][clip][:, query_ids], point_perms)

    # ------------------------------------------------------------------
    # inference
    # ------------------------------------------------------------------
    def predict(self,
                inputs: Tensor,
                data_samples: TrackSampleList,
                rescale: bool = True,
                point_perms: Optional[List[Tensor]] = None,
                **kwargs) -> TrackSampleList:
        """Segment and track the instances of a video (batch size 1).

        Args:
            inputs (Tensor): (1, T, 3, H, W), the whole video by default.
            data_samples (list[:obj:`TrackDataSample`]): One video.
            rescale (bool): Masks at the original frame size. Defaults to
                True.
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
        out = self.forward_clip(frames, 1)
        query_ids, pair_query, pair_class, pair_score = \
            self.bbox_head.select_instances(out['all_cls'][-1][0],
                                            self.test_cfg['num_select'])
        masks = self.forward_masks(out, frames, 0, query_ids,
                                   point_perms=point_perms)
        track = data_samples[0]
        ori_h, ori_w = track[0].metainfo.get('ori_shape', frames.shape[-2:])
        size = (ori_h, ori_w) if rescale else tuple(frames.shape[-2:])
        probs = F.interpolate(
            masks['pred_masks_refine'], size=size, mode='bilinear',
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

    def forward_coarse_masks(self, out: dict, frames: Tensor, clip: int,
                             query_ids: Tensor, layer: int) -> dict:
        """Only the coarse (stride-8) dynamic head, for auxiliary layers.

        The mask features of a clip are computed once and cached in
        ``out``. Returns ``mask_L8`` (T, n, s8) and ``pred_masks``
        (T, n, 2*s8).
        """
        num_frames = out['references'][0].shape[1]
        sl = slice(clip * num_frames, (clip + 1) * num_frames)
        cache = out.setdefault('coarse_feats', {})
        if clip not in cache:
            memory = self.memory_levels(out['memory'][sl],
                                        out['spatial_shapes'],
                                        out['level_start_index'])
            cache[clip] = self.mask_head.mask_features(memory,
                                                       out['c2'][sl])[0]
        height, width = frames.shape[-2:]
        refs = out['references'][layer][clip][:, query_ids, :2]
        centers = refs * refs.new_tensor([width, height])
        return self.mask_head.coarse_masks(
            cache[clip], out['hs'][layer][clip][query_ids], centers)

    # ------------------------------------------------------------------
    # training
    # ------------------------------------------------------------------
    @staticmethod
    def padding_masks(inputs: Tensor,
                      data_samples: TrackSampleList) -> Optional[Tensor]:
        """(bs*T, H, W) bool, True on padding; None if nothing is padded."""
        num_clips, num_frames, _, height, width = inputs.shape
        masks = inputs.new_zeros((num_clips * num_frames, height, width),
                                 dtype=torch.bool)
        for b, track in enumerate(data_samples):
            for t in range(num_frames):
                img_h, img_w = track[t].metainfo['img_shape'][:2]
                masks[b * num_frames + t, img_h:] = True
                masks[b * num_frames + t, :, img_w:] = True
        return masks if masks.any() else None

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
        if self.criterion is None:
            raise RuntimeError('this VMT config has no criterion: add '
                               'model.criterion to train it')
        num_clips = inputs.shape[0]
        frames = inputs.flatten(0, 1)
        out = self.forward_clip(frames, num_clips,
                                self.padding_masks(inputs, data_samples))
        return self.criterion(self, out, frames, data_samples)
