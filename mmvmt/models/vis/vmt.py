# Copyright (c) mmvmt contributors.
"""Video Mask Transfiner (VMT): SeqFormer video detector + boundary-refined
instance masks.

`Video Mask Transfiner for High-Quality Video Instance Segmentation
<https://arxiv.org/abs/2207.14012>`_ (ECCV 2022).
"""
from typing import Dict, List, Optional, Tuple

import torch
from mmcv.ops import MultiScaleDeformableAttention
from mmdet.models.layers import SinePositionalEncoding
from mmdet.models.mot import BaseMOTModel
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor, nn
from torch.nn.init import normal_, xavier_uniform_

from mmvmt.registry import MODELS, TASK_UTILS
from ..layers import SeqFormerDecoder, VMTTransformerEncoder
from ..necks import PaddingAwareChannelMapper, resize_padding_mask
from .vmt_loss import VMTLossMixin
from .vmt_predict import VMTPredictMixin


@MODELS.register_module()
class VMT(VMTLossMixin, VMTPredictMixin, BaseMOTModel):
    """Video Mask Transfiner.

    A clip of T frames goes through the backbone and the 4-level input
    projection frame by frame, the deformable encoder frame by frame
    (shared weights), and the SeqFormer decoder (instance queries shared by
    all frames + per-frame box queries). The mask branch predicts tube masks
    of the selected queries and refines them on their boundary band. The
    forward follows mmdet's DETR rhythm: :meth:`pre_transformer` ->
    :meth:`forward_encoder` -> :meth:`pre_decoder` ->
    :meth:`forward_decoder`, then :meth:`forward_mask_branch`; training
    (:class:`VMTLossMixin`) matches every decoder layer, runs the mask
    branch on the matched queries and hands predictions, targets and
    matches to the criterion.

    Args:
        backbone (dict): Backbone returning (stem, C2, C3, C4, C5) (ResNet)
            or (C2, C3, C4, C5) (Swin, with ``mask_head.compress_hires``).
        neck (dict): Input projection of C3..C5 to 4 levels.
        encoder (dict): :class:`VMTTransformerEncoder` config.
        decoder (dict): :class:`SeqFormerDecoder` config.
        positional_encoding (dict): :class:`SinePositionalEncoding` config.
        bbox_head (dict): :class:`VMTHead` config.
        mask_head (dict): :class:`VMTMaskHead` config.
        criterion (dict, optional): :class:`VMTCriterion` config (the
            losses); needed for training only.
        num_queries (int): Instance queries. Defaults to 300.
        num_feature_levels (int): Levels; the mask branch reads the memory
            of all but the last (stride 8/16/32 of 4). Defaults to 4.
        train_cfg (dict, optional): ``assigner`` (the Hungarian matcher
            with clip-level costs, needed for training) and ``mask_absent``
            (True: frames where a GT instance is absent count neither in
            the matching nor in the box losses; False: SeqFormer's
            behaviour, every frame counts with a zero box). Defaults to
            None (``mask_absent=True``).
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
        self.train_cfg = dict(mask_absent=True)
        self.train_cfg.update(train_cfg or {})
        assigner = self.train_cfg.get('assigner')
        self.assigner = TASK_UTILS.build(assigner) if assigner else None
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
    def extract_feat(self,
                     frames: Tensor,
                     masks: Optional[Tensor] = None) -> Dict[str, object]:
        """Backbone and neck on every frame.

        Args:
            frames (Tensor): (bs * T, 3, H, W).
            masks (Tensor, optional): Padding masks (bs*T, H, W), passed to
                a :class:`PaddingAwareChannelMapper` neck.

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
        if isinstance(self.neck, PaddingAwareChannelMapper):
            mlvl_feats = self.neck(rest, masks)
        else:
            mlvl_feats = self.neck(rest)
        return dict(hires=hires, c2=c2, mlvl_feats=list(mlvl_feats))

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
                mask = resize_padding_mask(masks, (h, w))
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

    def forward_encoder(self, feat: Tensor, feat_pos: Tensor,
                        feat_mask: Optional[Tensor], spatial_shapes: Tensor,
                        level_start_index: Tensor,
                        valid_ratios: Tensor) -> Dict[str, Tensor]:
        """The deformable encoder, every frame on its own.

        Args:
            feat, feat_pos (Tensor): (bs*T, sum_hw, C) tokens, positions.
            feat_mask (Tensor, optional): (bs*T, sum_hw), True at padding.
            spatial_shapes, level_start_index, valid_ratios (Tensor): See
                :meth:`pre_transformer`.

        Returns:
            dict[str, Tensor]: ``memory`` (bs*T, sum_hw, C), ``memory_mask``
            and the level layout, the decoder's keyword arguments.
        """
        memory = self.encoder(
            query=feat,
            query_pos=feat_pos,
            key_padding_mask=feat_mask,
            spatial_shapes=spatial_shapes,
            level_start_index=level_start_index,
            valid_ratios=valid_ratios)
        return dict(memory=memory, memory_mask=feat_mask,
                    spatial_shapes=spatial_shapes,
                    level_start_index=level_start_index,
                    valid_ratios=valid_ratios)

    def pre_decoder(self, num_clips: int,
                    num_frames: int) -> Dict[str, Tensor]:
        """Learned queries and their initial reference points.

        Returns:
            dict[str, Tensor]: ``query`` and ``query_pos`` (bs, nq, C),
            ``reference_points`` (bs, T, nq, 2) normalised.
        """
        query_pos, query = torch.split(
            self.query_embedding.weight, self.embed_dims, dim=1)
        query_pos = query_pos[None].expand(num_clips, -1, -1)
        query = query[None].expand(num_clips, -1, -1)
        reference_points = self.reference_points_fc(query_pos).sigmoid()
        reference_points = reference_points[:, None].expand(
            -1, num_frames, -1, -1)
        return dict(query=query, query_pos=query_pos,
                    reference_points=reference_points)

    def forward_decoder(self, query: Tensor, query_pos: Tensor,
                        reference_points: Tensor, memory: Tensor,
                        memory_mask: Optional[Tensor],
                        spatial_shapes: Tensor, level_start_index: Tensor,
                        valid_ratios: Tensor) -> Dict[str, Tensor]:
        """SeqFormer decoder and the class/box heads of every layer.

        Returns:
            dict: ``hs`` (L, bs, nq, C), ``hs_box`` (L, bs, T, nq, C),
            ``references`` (list of L inputs to each layer, (bs, T, nq,
            2|4)), ``all_cls`` (L, bs, nq, K), ``all_boxes``
            (L, bs, T, nq, 4) normalised (cx, cy, w, h).
        """
        hs, hs_box, references = self.decoder(
            query=query,
            query_pos=query_pos,
            value=memory,
            reference_points=reference_points,
            spatial_shapes=spatial_shapes,
            level_start_index=level_start_index,
            valid_ratios=valid_ratios,
            reg_branches=self.bbox_head.reg_branches,
            key_padding_mask=memory_mask)
        all_cls, all_boxes = self.bbox_head(hs, hs_box, references)
        return dict(hs=hs, hs_box=hs_box, references=references,
                    all_cls=all_cls, all_boxes=all_boxes)

    def forward_transformer(self, feat_dict: dict, num_clips: int,
                            num_frames: int,
                            masks: Optional[Tensor]) -> Dict[str, object]:
        """:meth:`pre_transformer` -> :meth:`forward_encoder` ->
        :meth:`pre_decoder` -> :meth:`forward_decoder`.

        Returns:
            dict: the outputs of :meth:`forward_encoder` and
            :meth:`forward_decoder`.
        """
        encoder_inputs = self.pre_transformer(feat_dict['mlvl_feats'], masks)
        encoder_outputs = self.forward_encoder(**encoder_inputs)
        decoder_inputs = self.pre_decoder(num_clips, num_frames)
        decoder_outputs = self.forward_decoder(**decoder_inputs,
                                               **encoder_outputs)
        return dict(**encoder_outputs, **decoder_outputs)

    def memory_levels(self, memory: Tensor, spatial_shapes: Tensor,
                      level_start_index: Tensor) -> List[Tensor]:
        """Memory of all levels but the last (the extra stride-64 one of the
        default 4) as maps (bs*T, C, h, w), finest first."""
        out = []
        for lvl in range(self.num_feature_levels - 1):
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
        feat_dict = self.extract_feat(frames, masks)
        out = self.forward_transformer(feat_dict, num_clips, num_frames,
                                       masks)
        out.update(hires=feat_dict['hires'], c2=feat_dict['c2'])
        return out

    def clip_mask_features(self, out: dict, clip: int) -> tuple:
        """:meth:`VMTMaskHead.mask_features` of one clip of
        :meth:`forward_clip`'s outputs. In a padded batch the memory of the
        padding cells is zeroed first, so the mask branch's convolutions
        see zeros beyond the image however far the batch pads it (no
        padding: the released path, unchanged)."""
        num_frames = out['references'][0].shape[1]
        sl = slice(clip * num_frames, (clip + 1) * num_frames)
        memory = out['memory'][sl]
        if out.get('memory_mask') is not None:
            memory = memory.masked_fill(out['memory_mask'][sl, :, None], 0)
        return self.mask_head.mask_features(
            self.memory_levels(memory, out['spatial_shapes'],
                               out['level_start_index']), out['c2'][sl])

    def forward_mask_branch(self,
                            out: dict,
                            frames: Tensor,
                            clip: int,
                            query_ids: Tensor,
                            img_size: Tuple[int, int],
                            layer: int = -1,
                            mask_feats: Optional[tuple] = None,
                            full: bool = True,
                            point_perms: Optional[List[Tensor]] = None
                            ) -> dict:
        """Mask branch for chosen queries of one clip.

        Args:
            out (dict): :meth:`forward_clip` outputs.
            frames (Tensor): (bs * T, 3, H, W) normalised (padded) input.
            clip (int): Clip index in the batch.
            query_ids (Tensor): (n,) query indices.
            img_size (tuple): (h, w) of the clip's image inside the padded
                input: the normalised reference points and boxes are
                relative to it.
            layer (int): Decoder layer whose queries drive the masks; its
                input references give the reference points (for the last
                layer: the penultimate layer's boxes). Defaults to -1.
            mask_feats (tuple, optional): The clip's
                :meth:`VMTMaskHead.mask_features`, when already computed
                (training reuses them for every layer). Defaults to None.
            full (bool): The whole cascade (True) or only the coarse head
                (``mask_L8``, ``pred_masks``). Defaults to True.
            point_perms (list[Tensor], optional): Injected refinement point
                permutations.

        Returns:
            dict: :meth:`VMTMaskHead.forward` (or ``coarse_masks``) outputs
            for the clip, (T, n, ...) at the padded size.
        """
        num_frames = out['references'][0].shape[1]
        sl = slice(clip * num_frames, (clip + 1) * num_frames)
        img_h, img_w = img_size
        refs = out['references'][layer][clip][:, query_ids, :2]
        centers = refs * refs.new_tensor([img_w, img_h])
        queries = out['hs'][layer][clip][query_ids]
        if mask_feats is None:
            mask_feats = self.clip_mask_features(out, clip)
        if not full:
            return self.mask_head.coarse_masks(mask_feats[0], queries,
                                               centers)
        pad_h, pad_w = frames.shape[-2:]
        hires = None if out['hires'] is None else out['hires'][sl]
        return self.mask_head(
            None, out['c2'][sl], hires, frames[sl], queries, centers,
            out['all_boxes'][layer][clip][:, query_ids], point_perms,
            features=mask_feats, valid_ratio=(img_w / pad_w, img_h / pad_h))
