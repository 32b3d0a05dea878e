# Copyright (c) mmvmt contributors.
"""VMT's mask branch: a 1/8 -> 1/4 -> 1/2 cascade of dynamic mask heads
with boundary refinement before the last stage.

Follows `Video Mask Transfiner <https://arxiv.org/abs/2207.14012>`_
(released inference code); see ``docs/model.md`` for the exact data flow.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.models.utils import aligned_bilinear
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmvmt.registry import MODELS
from .boundary_refine_head import boundary_band
from .dynamic_mask_head import DynamicMaskHead, relative_coords


def _conv(cin: int, cout: int, k: int = 3) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, padding=k // 2)


def _resize(x: Tensor, size: Sequence[int]) -> Tensor:
    return F.interpolate(x, size=tuple(size), mode='nearest')


def box_masks(boxes: Tensor, height: int, width: int) -> Tensor:
    """Rasterise boxes as VMT does (a quirk kept for parity).

    ``(cx, cy, w, h) * (W, H, W, H)`` gives ``x1 = cx - w/2``,
    ``x2 = x1 + w`` (same for y), truncated toward zero with ``int()``, and
    the region is filled with Python slicing ``[y1:y2, x1:x2]``, so a
    negative start wraps around (or gives an empty slice).

    Args:
        boxes (Tensor): (num_frames, num_insts, 4), normalised
            (cx, cy, w, h).
        height (int): Map height.
        width (int): Map width.

    Returns:
        Tensor: (num_frames, num_insts, height, width) float 0/1.
    """
    scaled = boxes * boxes.new_tensor([width, height, width, height])
    x1 = scaled[..., 0] - scaled[..., 2] / 2
    y1 = scaled[..., 1] - scaled[..., 3] / 2
    x2 = x1 + scaled[..., 2]
    y2 = y1 + scaled[..., 3]
    ints = torch.stack([x1, y1, x2, y2], -1).trunc().long().tolist()
    out = boxes.new_zeros(boxes.shape[0], boxes.shape[1], height, width)
    for t, frame in enumerate(ints):
        for i, (bx1, by1, bx2, by2) in enumerate(frame):
            out[t, i, by1:by2, bx1:bx2] = 1
    return out


@MODELS.register_module()
class VMTMaskHead(BaseModule):
    """Mask branch of VMT.

    Args:
        embed_dims (int): Channels of the encoder memory. Defaults to 256.
        c2_channels (int): Channels of the stride-4 backbone feature (256 for
            ResNet, 192 for Swin-L). Defaults to 256.
        hires_channels (int): Channels of the stride-2 feature. Defaults to
            64.
        compress_hires (bool): Swin: build the stride-2 feature from the
            stride-4 one (nearest x2, then a 1x1 conv ``lay_compress``)
            instead of taking the ResNet stem. Defaults to False.
        mask_dims (int): Channels of the mask features. Defaults to 8.
        fuse_dilations (Sequence[int]): Dilations of the fusion branches.
            Defaults to (3, 5, 7, 1).
        refine_head (dict): Config of the boundary refinement head.
        coord_unit (float): Input pixels per unit of the relative
            coordinates fed to the dynamic heads and of the reference point
            and location channels of the fusion: 1 keeps VMT's raw pixel
            offsets (every released checkpoint); a size such as 64 is
            CondInst-style normalisation (our option for training from
            scratch). Defaults to 1.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 embed_dims: int = 256,
                 c2_channels: int = 256,
                 hires_channels: int = 64,
                 compress_hires: bool = False,
                 mask_dims: int = 8,
                 fuse_dilations: Sequence[int] = (3, 5, 7, 1),
                 refine_head: dict = dict(type='BoundaryRefineHead'),
                 coord_unit: float = 1.0,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.coord_unit = float(coord_unit)
        d, m, hc = embed_dims, mask_dims, hires_channels
        # feature pyramid on the encoder memory
        self.lay3, self.lay4, self.dcn = _conv(d, d), _conv(d, d), _conv(d, d)
        self.lay1, self.lay2 = _conv(d, 64), _conv(64, m)
        # high-resolution branch
        self.lay_hr1 = _conv(d, c2_channels)
        self.lay1_h = _conv(c2_channels, hc)
        self.lay2_h = _conv(hc, m)
        self.lay_hr1_c = _conv(hc, hc, 1)
        self.compress_hires = compress_hires
        if compress_hires:
            self.lay_compress = _conv(c2_channels, hc, 1)
        self.img_branch = nn.Sequential(
            _conv(3, 32), nn.ReLU(), _conv(32, hc, 1), nn.ReLU(),
            _conv(hc, hc, 1), nn.ReLU())
        self.coarse_head = DynamicMaskHead(m + 2, m, d)
        self.inc_head = DynamicMaskHead(m + 3, m, d)
        fuse_in = hc + 5
        self.fuse_branches = nn.ModuleList([
            nn.Sequential(
                nn.Conv2d(fuse_in, 32, 3, padding=dil, dilation=dil),
                nn.ReLU(), _conv(32, 32, 1), nn.ReLU(),
                _conv(32, m + 3, 1), nn.ReLU()) for dil in fuse_dilations
        ])
        self.refine_dyn_head = DynamicMaskHead(m + 3, m, d)
        self.refine_head = MODELS.build(refine_head)

    def mask_features(self, memory: List[Tensor], c2: Tensor) -> tuple:
        """Per-frame mask features from the memory and the stride-4 map.

        Args:
            memory (list[Tensor]): Encoder memory at strides 8, 16, 32,
                each (num_frames, embed_dims, h, w).
            c2 (Tensor): (num_frames, c2_channels, s4h, s4w).

        Returns:
            tuple[Tensor]: M8 (T, mask_dims, s8), M4 (T, mask_dims, s4) and
            G4' (T, hires_channels, s4).
        """
        m8, m16, m32 = memory
        c2 = c2.detach()  # released: no mask gradient reaches C2
        x = F.relu(self.lay3(m32))
        x = F.relu(self.lay4(m16 + _resize(x, m16.shape[-2:])))
        f8 = m8 + _resize(x, m8.shape[-2:])
        mask8 = F.relu(self.lay2(F.relu(self.lay1(F.relu(self.dcn(f8))))))
        up = _resize(F.relu(self.lay_hr1(f8)), c2.shape[-2:])
        g4 = F.relu(self.lay1_h(c2 + up))
        mask4 = F.relu(self.lay2_h(g4))
        return mask8, mask4, F.relu(self.lay_hr1_c(g4))

    def coarse_masks(self, mask8: Tensor, queries: Tensor,
                     centers: Tensor) -> Dict[str, Tensor]:
        """The coarse dynamic head alone (training of auxiliary layers).

        Args:
            mask8 (Tensor): (T, mask_dims, s8h, s8w) from
                :meth:`mask_features`.
            queries (Tensor): (n, embed_dims).
            centers (Tensor): (T, n, 2) reference points in input pixels.

        Returns:
            dict[str, Tensor]: ``mask_L8`` (T, n, s8) and ``pred_masks``
            (T, n, 2*s8).
        """
        h8, w8 = mask8.shape[-2:]
        coarse_in = torch.cat([
            relative_coords(centers, h8, w8, 8, self.coord_unit),
            mask8[:, None].expand(-1, centers.shape[1], -1, -1, -1)
        ], 2)
        logit8 = self.coarse_head(coarse_in, queries)
        return dict(mask_L8=logit8, pred_masks=aligned_bilinear(logit8, 2))

    def fuse(self, feats: Tensor, inst_maps: Tensor,
             centers: Tensor) -> Tensor:
        """Sum of the dilated fusion branches for every instance.

        The branch input is ``[feats (64), sigmoid(L4), sigmoid(L8), box
        mask, dx, dy]`` (69 channels). Its first conv is linear, so it is
        split exactly: the shared 64 channels and the ``-loc`` part of the
        relative coordinates ``ref - loc`` are convolved once per frame;
        per instance only five channels are, the three instance maps and two
        constant maps ``ref_x``, ``ref_y`` (zero-padded like the rest);
        coordinates are in ``coord_unit`` pixels. Channels-last layout and
        in-place activations keep it fast on CPU.

        Args:
            feats (Tensor): Shared refined features, (hires_channels, H, W).
            inst_maps (Tensor): (num_insts, 3, H, W): sigmoid(L4),
                sigmoid(L8), box mask.
            centers (Tensor): Reference points in input pixels,
                (num_insts, 2) as (x, y).

        Returns:
            Tensor: (num_insts, mask_dims + 3, H, W).
        """
        hc, height, width = feats.shape
        num_insts = inst_maps.shape[0]
        unit = self.coord_unit
        loc = -relative_coords(feats.new_zeros(1, 1, 2), height, width, 2,
                               unit)[0]  # (1, 2, H, W): loc_x, loc_y
        own_in = torch.cat([
            inst_maps, (centers / unit)[:, :, None, None].expand(
                num_insts, 2, height, width)
        ], 1).contiguous(memory_format=torch.channels_last)
        if num_insts == 0:
            return feats.new_zeros(0, self.fuse_branches[0][4].out_channels,
                                   height, width)
        feats = feats[None].contiguous(memory_format=torch.channels_last)
        loc = loc.contiguous(memory_format=torch.channels_last)
        shared = []
        for branch in self.fuse_branches:
            conv = branch[0]
            kw = dict(padding=conv.padding, dilation=conv.dilation)
            x = F.conv2d(feats, conv.weight[:, :hc], conv.bias, **kw)
            shared.append(
                x.sub_(F.conv2d(loc, conv.weight[:, hc + 3:], None, **kw)))
        # one instance at a time: its 32-channel maps stay in cache through
        # the branch (the layers are memory bound on CPU); same numbers
        out = []
        for own in own_in.split(1):
            acc = 0
            for branch, x_shared in zip(self.fuse_branches, shared):
                conv, conv_b, conv_c = branch[0], branch[2], branch[4]
                x = F.conv2d(own, conv.weight[:, hc:], None,
                             padding=conv.padding, dilation=conv.dilation)
                x = F.relu(x.add_(x_shared), inplace=True)
                x = F.relu(conv_b(x), inplace=True)
                acc = acc + F.relu(conv_c(x), inplace=True)
            out.append(acc)
        return torch.cat(out)

    def fuse_per_instance(self, feats: Tensor, nodes: Tensor, maps: Tensor,
                          queries: Tensor, centers: Tensor,
                          point_perms: Optional[List[Tensor]] = None
                          ) -> Tuple[Tensor, Optional[Tensor],
                                     Optional[Tensor]]:
        """Fusion input of every instance from its own refined map
        (:class:`TrackletRefineHead`), one instance at a time.

        Args:
            feats (Tensor): (T, hires_channels, H, W) shared fused map.
            nodes (Tensor): (n, T, H, W) bool nodes per instance.
            maps (Tensor): (T, n, 3, H, W): sigmoid(L4), sigmoid(L8), box
                mask.
            queries (Tensor): (n, embed_dims).
            centers (Tensor): (T, n, 2).
            point_perms (list[Tensor], optional): Injected permutations
                (union-band nodes only).

        Returns:
            tuple: (T, n, mask_dims + 3, H, W) fusion outputs; with node
            labels (``writeback='feature+label'``) the (T, n, H, W) node
            logits and bool mask of the refined nodes, else None, None.
        """
        num_frames = feats.shape[0]
        if self.refine_head.node_source != 'union_band':
            point_perms = None
        out, labels, decoded = [], [], []
        for i in range(nodes.shape[0]):
            own, lab, dec = self.refine_head.forward_instance(
                feats, nodes[i], maps[:, i, :2], queries[i], point_perms)
            out.append(torch.stack([
                self.fuse(own[t], maps[t, i:i + 1], centers[t, i:i + 1])
                for t in range(num_frames)
            ]))
            labels.append(lab)
            decoded.append(dec)
        if not out:
            return feats.new_zeros(num_frames, 0,
                                   self.fuse_branches[0][4].out_channels,
                                   *feats.shape[-2:]), None, None
        fused = torch.cat(out, 1).contiguous()
        if labels[0] is None:
            return fused, None, None
        return fused, torch.stack(labels, 1), torch.stack(decoded, 1)

    def forward(self,
                memory: Optional[List[Tensor]],
                c2: Tensor,
                hires: Optional[Tensor],
                imgs: Tensor,
                queries: Tensor,
                centers: Tensor,
                boxes: Tensor,
                point_perms: Optional[List[Tensor]] = None,
                features: Optional[tuple] = None,
                valid_ratio: Tuple[float, float] = (1.0, 1.0)
                ) -> Dict[str, Tensor]:
        """Predict the three mask stages of the selected instances.

        As in the released mask branch, C2 and the stride-2 feature, the
        reference points of the inc and refine stages and the boxes are
        detached: mask losses reach the backbone only through the encoder
        memory, and the boxes and reference points only through the coarse
        head.

        Args:
            memory (list[Tensor], optional): Memory at strides 8/16/32, each
                (num_frames, embed_dims, h, w); unused with ``features``.
            c2 (Tensor): Stride-4 backbone feature, (T, c2_channels, s4).
            hires (Tensor, optional): Stride-2 feature (the raw ResNet stem
                conv), (T, hires_channels, s2); None with ``compress_hires``.
            imgs (Tensor): Normalised input frames, (T, 3, H, W).
            queries (Tensor): Last-layer instance queries, (n, embed_dims).
            centers (Tensor): Reference points in input pixels,
                (T, n, 2) as (x, y).
            boxes (Tensor): Boxes, (T, n, 4) normalised (cx, cy, w, h).
            point_perms (list[Tensor], optional): Injected point
                permutations for the refinement cap.
            features (tuple, optional): :meth:`mask_features` of these
                frames, if already computed. Defaults to None.
            valid_ratio (tuple[float]): (w, h) of the image over the padded
                input; the normalised boxes are drawn in that part of the
                map. Defaults to (1.0, 1.0) (no padding).

        Returns:
            dict[str, Tensor]: ``mask_L8`` (T, n, s8), ``mask_L4``
            (T, n, s4), ``mask_L2`` (T, n, s2) logits before upsampling;
            ``pred_masks`` (T, n, 2*s8), ``pred_masks_inc`` (T, n, 2*s4),
            ``pred_masks_refine`` (T, n, 2*s2); ``band`` (T, s2) bool. With
            a learned incoherence head also ``incoherence`` (T, n, s4)
            logits; with node labels (``writeback='feature+label'``)
            ``node_logits`` and ``node_mask`` (T, n, s2): the decoded node
            logits, already written over ``mask_L2`` where ``node_mask``.
        """
        num_frames, num_insts = centers.shape[:2]
        mask8, mask4, g4c = features if features is not None else \
            self.mask_features(memory, c2)
        if self.compress_hires:
            hires = self.lay_compress(
                F.interpolate(c2.detach(), scale_factor=2, mode='nearest'))
        else:
            hires = hires.detach()
        coarse_centers, centers = centers, centers.detach()
        boxes = boxes.detach()
        h4, w4 = mask4.shape[-2:]
        h2, w2 = hires.shape[-2:]

        logit8 = self.coarse_masks(mask8, queries,
                                   coarse_centers)['mask_L8']
        inc_in = torch.cat([
            relative_coords(centers, h4, w4, 4, self.coord_unit),
            _resize(logit8.sigmoid(), (h4, w4))[:, :, None],
            mask4[:, None].expand(-1, num_insts, -1, -1, -1)
        ], 2)
        logit4 = self.inc_head(inc_in, queries)

        prob4 = _resize(logit4.sigmoid(), (h2, w2))
        union = (prob4 > 0.5).sum(1, keepdim=True).clamp(max=1)
        band = boundary_band(union.to(hires.dtype))
        nodes = inc_logits = node_logits = None
        if getattr(self.refine_head, 'incoherence_head', None) is not None:
            inc_logits = self.refine_head.incoherence_head(
                mask4, g4c, logit4)  # (T, n, s4)
        if getattr(self.refine_head, 'per_instance', False):
            nodes = self.refine_head.nodes(prob4, band, inc_logits)
            band = band | nodes.any(0)  # where stem/image features enter
        img_feat = self.img_branch(_resize(imgs, (h2, w2)))
        feats = _resize(g4c, (h2, w2)) + band[:, None] * (hires + img_feat)
        prob8 = _resize(logit8.sigmoid(), (h2, w2))
        ratio = boxes.new_tensor([valid_ratio[0], valid_ratio[1]] * 2)
        bmask = box_masks(boxes * ratio, h2, w2)
        maps = torch.stack([prob4, prob8, bmask], 2)  # (T, n, 3, s2)
        if nodes is None:  # released: one refined map shared by instances
            feats = self.refine_head(feats, band, point_perms)
            fused = torch.stack([
                self.fuse(feats[t], maps[t], centers[t])
                for t in range(num_frames)
            ]).contiguous()
        else:
            fused, node_logits, node_mask = self.fuse_per_instance(
                feats, nodes, maps, queries, centers, point_perms)
        logit2 = self.refine_dyn_head(fused, queries)
        extra = {}
        if inc_logits is not None:
            extra['incoherence'] = inc_logits
        if node_logits is not None:  # node labels over the dense logits
            logit2 = torch.where(node_mask, node_logits, logit2)
            extra.update(node_logits=node_logits, node_mask=node_mask)
        return dict(
            **extra,
            mask_L8=logit8,
            mask_L4=logit4,
            mask_L2=logit2,
            pred_masks=aligned_bilinear(logit8, 2),
            pred_masks_inc=aligned_bilinear(logit4, 2),
            pred_masks_refine=aligned_bilinear(logit2, 2),
            band=band)
