# Copyright (c) mmvmt contributors.
"""Class and per-frame box heads of VMT (one pair per decoder layer) and
the released inference's instance selection."""
import copy
from typing import List, Tuple

import torch
from mmdet.models.layers import MLP, inverse_sigmoid
from mmengine.model import BaseModule, bias_init_with_prob, constant_init
from torch import Tensor, nn

from mmvmt.registry import MODELS


@MODELS.register_module()
class VMTHead(BaseModule):
    """Class logits from the instance queries and per-frame boxes from the
    box queries, one branch pair per decoder layer.

    Args:
        num_classes (int): Number of class logits. The released checkpoints
            have 42 with YTVIS category ids used as indices (0 and 41 never
            trained); then ``label_offset=1`` maps logit ``c`` to the 0-based
            label ``c - 1`` (category id ``c``). Defaults to 42.
        label_offset (int): See above. Defaults to 1.
        embed_dims (int): Query dimension. Defaults to 256.
        num_pred_layer (int): Decoder layers. Defaults to 6.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 num_classes: int = 42,
                 label_offset: int = 1,
                 embed_dims: int = 256,
                 num_pred_layer: int = 6,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_classes = num_classes
        self.label_offset = label_offset
        cls = nn.Linear(embed_dims, num_classes)
        reg = MLP(embed_dims, embed_dims, 4, 3)
        self.cls_branches = nn.ModuleList(
            [copy.deepcopy(cls) for _ in range(num_pred_layer)])
        self.reg_branches = nn.ModuleList(
            [copy.deepcopy(reg) for _ in range(num_pred_layer)])

    def init_weights(self) -> None:
        """Deformable-DETR init: focal prior on the class bias, zero last box
        layer, small initial box size for the first layer."""
        super().init_weights()
        bias = bias_init_with_prob(0.01)
        for branch in self.cls_branches:
            nn.init.constant_(branch.bias, bias)
        for branch in self.reg_branches:
            constant_init(branch.layers[-1], 0, bias=0)
        nn.init.constant_(self.reg_branches[0].layers[-1].bias.data[2:], -2.0)

    def forward(self, hs: Tensor, hs_box: Tensor,
                references: List[Tensor]) -> Tuple[Tensor, Tensor]:
        """Predict classes and boxes for every decoder layer.

        Args:
            hs (Tensor): Instance queries, (num_layers, bs, num_queries,
                dim).
            hs_box (Tensor): Box queries, (num_layers, bs, num_frames,
                num_queries, dim).
            references (list[Tensor]): References each layer received,
                (bs, num_frames, num_queries, 2 or 4), normalised.

        Returns:
            tuple[Tensor]:

            - all_cls (Tensor): (num_layers, bs, num_queries, num_classes)
              logits.
            - all_boxes (Tensor): (num_layers, bs, num_frames, num_queries,
              4), normalised (cx, cy, w, h).
        """
        all_cls, all_boxes = [], []
        for lid in range(hs.shape[0]):
            all_cls.append(self.cls_branches[lid](hs[lid]))
            delta = self.reg_branches[lid](hs_box[lid])
            ref = inverse_sigmoid(references[lid])
            if ref.shape[-1] == 4:
                delta = delta + ref
            else:
                delta = torch.cat([delta[..., :2] + ref, delta[..., 2:]], -1)
            all_boxes.append(delta.sigmoid())
        return torch.stack(all_cls), torch.stack(all_boxes)

    @staticmethod
    def select_instances(cls_logits: Tensor,
                         num_select: int = 10) -> Tuple[Tensor, Tensor,
                                                        Tensor, Tensor]:
        """Top-k (query, class) pairs of the released inference.

        Args:
            cls_logits (Tensor): (num_queries, num_classes) logits.
            num_select (int): Pairs kept. Defaults to 10.

        Returns:
            tuple[Tensor]: ``query_ids`` (n,) the distinct queries of the
            pairs in ascending order (n <= num_select), and per pair in score
            order ``pair_query`` (k,), ``pair_class`` (k,), ``pair_score``
            (k,).
        """
        num_classes = cls_logits.shape[-1]
        probs = cls_logits.sigmoid().flatten()
        k = min(num_select, probs.numel())
        scores, idx = probs.topk(k)
        pair_query = torch.div(idx, num_classes, rounding_mode='floor')
        pair_class = idx % num_classes
        query_ids = torch.unique(pair_query)  # sorted; the original used a
        # Python set, whose iteration order we do not replicate
        return query_ids, pair_query, pair_class, scores
