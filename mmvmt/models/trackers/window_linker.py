# Copyright (c) mmvmt contributors.
"""Link the instances of overlapping inference windows into video tracks.

VMT predicts a clip at once, so instance ids are only meaningful inside one
window. For long videos we run overlapping windows and give an instance of
the new window the id of the previous window's instance whose masks agree
best on the shared frames (tube mask IoU, Hungarian assignment). This is
our addition; the released code ran the whole video as one clip.
"""
from typing import Dict, List, Sequence

import torch
from mmengine.structures import InstanceData
from scipy.optimize import linear_sum_assignment

from mmvmt.registry import TASK_UTILS


def overlap_tube_iou(prev: Sequence[InstanceData],
                     cur: Sequence[InstanceData]) -> torch.Tensor:
    """Tube mask IoU of two windows' instances on their shared frames.

    Args:
        prev (Sequence[InstanceData]): The earlier window's predictions on
            the K shared frames, each with ``masks`` (m, H, W) bool and the
            same instance order in every frame.
        cur (Sequence[InstanceData]): The later window's predictions on the
            same K frames, ``masks`` (n, H, W).

    Returns:
        Tensor: (m, n) float, sum of intersections over sum of unions
        across the K frames (0 where both tubes are empty).
    """
    num_prev, num_cur = len(prev[0]), len(cur[0])
    inter = torch.zeros(num_prev, num_cur, dtype=torch.float64)
    area_prev = torch.zeros(num_prev, dtype=torch.float64)
    area_cur = torch.zeros(num_cur, dtype=torch.float64)
    for a, b in zip(prev, cur):
        ma = a.masks.flatten(1).double()
        mb = b.masks.flatten(1).double()
        inter += ma @ mb.T
        area_prev += ma.sum(1)
        area_cur += mb.sum(1)
    union = area_prev[:, None] + area_cur[None] - inter
    return torch.where(union > 0, inter / union.clamp(min=1), 0.)


@TASK_UTILS.register_module()
class WindowLinker:
    """Give consistent ids to instances across overlapping windows.

    Args:
        iou_thr (float): Minimum tube IoU on the shared frames for two
            instances to be the same track. Defaults to 0.3.
        match_labels (bool): Only link instances of the same class (VMT's
            results are (query, class) pairs, so one object can appear
            with two classes). Defaults to True.
    """

    def __init__(self, iou_thr: float = 0.3, match_labels: bool = True):
        self.iou_thr = iou_thr
        self.match_labels = match_labels
        self.next_id = 0

    def reset(self) -> None:
        """Start a new video."""
        self.next_id = 0

    def new_ids(self, num: int) -> List[int]:
        """``num`` fresh track ids."""
        ids = list(range(self.next_id, self.next_id + num))
        self.next_id += num
        return ids

    def link(self, prev: Sequence[InstanceData],
             cur: Sequence[InstanceData]) -> Dict[int, int]:
        """Map the current window's instance rows to track ids.

        Args:
            prev (Sequence[InstanceData]): The previous window on the shared
                frames, with track ids in ``instances_id``; empty when this
                is the first window.
            cur (Sequence[InstanceData]): The current window, whose first
                ``len(prev)`` frames are the shared ones; ``labels`` (n,)
                in every frame.

        Returns:
            dict[int, int]: Row of the current window -> track id; rows
            without a partner get fresh ids, in row order.
        """
        num_cur = len(cur[0]) if len(cur) else 0
        assign: Dict[int, int] = {}
        if len(prev) and len(prev[0]) and num_cur:
            iou = overlap_tube_iou(prev, cur[:len(prev)])
            if self.match_labels:
                same = prev[0].labels[:, None] == cur[0].labels[None]
                iou = torch.where(same, iou, torch.zeros_like(iou))
            rows, cols = linear_sum_assignment(-iou.numpy())
            prev_ids = prev[0].instances_id.tolist()
            for r, c in zip(rows.tolist(), cols.tolist()):
                if iou[r, c] >= self.iou_thr:
                    assign[c] = prev_ids[r]
        fresh = [k for k in range(num_cur) if k not in assign]
        assign.update(zip(fresh, self.new_ids(len(fresh))))
        return assign
