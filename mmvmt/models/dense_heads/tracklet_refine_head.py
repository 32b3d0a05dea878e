# Copyright (c) mmvmt contributors.
"""Per-tracklet spatio-temporal refinement of error-prone boundary nodes
(our reconstruction of VMT's paper refinement; the release refines a
per-frame union band without instance identity)."""
from typing import List, Optional

import torch
from torch import Tensor, nn

from mmvmt.registry import MODELS
from .boundary_refine_head import (BoundaryRefineHead, boundary_band,
                                   frame_code)


def instance_nodes(probs: Tensor) -> Tensor:
    """Each instance's own boundary band, without other instances' pixels.

    The band is :func:`boundary_band` of the instance's mask
    (``prob > 0.5``); pixels inside another instance's mask and outside this
    one's are removed, so no node of an instance lies on another instance.

    Args:
        probs (Tensor): (T, n, H, W) mask probabilities.

    Returns:
        Tensor: (n, T, H, W) bool nodes.
    """
    num_frames, num_insts, height, width = probs.shape
    fg = probs > 0.5
    band = boundary_band(fg.transpose(0, 1).reshape(
        -1, 1, height, width).to(probs.dtype)).view(num_insts, num_frames,
                                                    height, width)
    fg = fg.transpose(0, 1)
    others = fg.sum(0, keepdim=True) - fg.int()  # other instances' masks
    return band & ~((others > 0) & ~fg)


@MODELS.register_module()
class TrackletRefineHead(BoundaryRefineHead):
    """Refinement of one instance's nodes over the frames of a clip.

    For every selected instance, its nodes (``node_source``) in all frames
    of a temporal window form one token sequence. A token is the fused
    64-channel map at the node plus ``coarse_proj`` of the instance's
    coarse probabilities (inc, coarse stage) there plus ``query_proj`` of
    the instance query (the instance-level cue, added to every token); its
    position is the released 2-D sine code plus ``time_gain`` times a sine
    code of the frame index. The released three encoder layers (same
    parameter names, so released weights load into them) refine the tokens
    and the result is added to the instance's own copy of the map at its
    nodes (feature write-back); the dense fusion and refine head then run
    per instance on that copy.

    ``coarse_proj``, ``query_proj`` and ``time_gain`` start at zero, so
    before training with ``node_source='union_band'`` and ``window=1`` every
    instance sees exactly the released per-frame refinement (tested against
    the original's outputs). Not implemented here (see docs/model.md): a
    learned incoherence detector and node-label write-back.

    Args:
        node_source (str): ``'instance_band'``: the instance's own band
            (:func:`instance_nodes`); ``'union_band'``: the released union
            band of all selected instances. Defaults to
            ``'instance_band'``.
        window (int, optional): Frames per sequence: the clip is cut into
            consecutive windows of this many frames (the last may be
            shorter), refined independently, so cost grows linearly with
            the clip length. None: the whole clip. Defaults to None.
        query_dims (int): Channels of the instance queries. Defaults to 256.
        train_max_points (int, optional): Node cap per frame per instance in
            training (a fresh random subset each step); ``max_points`` when
            None. Defaults to None.
        **kwargs: :class:`BoundaryRefineHead` arguments (``max_points``
            caps nodes per frame per instance at test time; ``temporal`` is
            not used).
    """
    per_instance = True

    def __init__(self,
                 node_source: str = 'instance_band',
                 window: Optional[int] = None,
                 query_dims: int = 256,
                 train_max_points: Optional[int] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if node_source not in ('instance_band', 'union_band'):
            raise ValueError(f'unknown node_source {node_source!r}')
        if window is not None and window < 1:
            raise ValueError('window must be >= 1 or None')
        self.node_source = node_source
        self.window = window
        self.train_max_points = train_max_points
        dim = self.embed_dims
        self.coarse_proj = nn.Linear(2, dim)
        self.query_proj = nn.Linear(query_dims, dim)
        self.time_gain = nn.Parameter(torch.zeros(dim))
        for layer in (self.coarse_proj, self.query_proj):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def init_weights(self) -> None:
        """Keep the zero start of the new parameters (mmengine's default
        init of the encoder layers is left as the parent does)."""
        super().init_weights()
        for layer in (self.coarse_proj, self.query_proj):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        nn.init.zeros_(self.time_gain)

    def nodes(self, probs: Tensor, union_band: Tensor) -> Tensor:
        """(n, T, H, W) bool nodes of every instance (see ``node_source``).

        Args:
            probs (Tensor): (T, n, H, W) inc-stage probabilities at the
                refinement's resolution.
            union_band (Tensor): (T, H, W) the released union band.
        """
        if self.node_source == 'union_band':
            return union_band[None].expand(probs.shape[1], -1, -1, -1)
        return instance_nodes(probs)

    def windows(self, num_frames: int) -> List[range]:
        step = num_frames if self.window is None else self.window
        return [range(s, min(s + step, num_frames))
                for s in range(0, num_frames, step)]

    def tokens(self, flat: Tensor, pos: Tensor, nodes: Tensor,
               coarse: Tensor, query: Tensor, frames: range,
               perms: Optional[List[Tensor]] = None):
        """Tokens, positions and per-token frame index of one window.

        Args:
            flat (Tensor): (T, H*W, dim) the fused map as rows.
            pos (Tensor): (H*W, dim) 2-D sine code.
            nodes (Tensor): (T, H, W) bool nodes of the instance.
            coarse (Tensor): (T, H*W, 2) the instance's inc and coarse
                probabilities.
            query (Tensor): (query_dims,) the instance query.
            frames (range): Frames of the window.
            perms (list[Tensor], optional): Injected per-frame permutations
                above the cap.

        Returns:
            tuple: tokens (N, dim), positions (N, dim), frame index (N,) and
            the per-frame flat node indices.
        """
        cap = self.train_max_points if self.training else None
        idx = [self.select_points(nodes[t], None if perms is None
                                  else perms[t], cap) for t in frames]
        cue = self.query_proj(query)
        toks, poss, tids = [], [], []
        num_frames = flat.shape[0]
        for t, i in zip(frames, idx):
            toks.append(flat[t][i] + self.coarse_proj(coarse[t][i]) + cue)
            code = frame_code(t, num_frames, flat.shape[-1], flat)
            poss.append(pos[i] + self.time_gain * code)
            tids.append(torch.full((i.numel(), ), t, dtype=torch.long,
                                   device=flat.device))
        return torch.cat(toks), torch.cat(poss), torch.cat(tids), idx

    def forward_instance(self, feats: Tensor, nodes: Tensor, coarse: Tensor,
                         query: Tensor,
                         point_perms: Optional[List[Tensor]] = None
                         ) -> Tensor:
        """Refine one instance's copy of the fused map on its nodes.

        Args:
            feats (Tensor): (T, dim, H, W) the fused map (shared).
            nodes (Tensor): (T, H, W) bool nodes of this instance.
            coarse (Tensor): (T, 2, H, W) its inc and coarse probabilities.
            query (Tensor): (query_dims,) its instance query.
            point_perms (list[Tensor], optional): Per-frame permutations
                used above the cap.

        Returns:
            Tensor: (T, dim, H, W) channels-last, ``feats`` plus the encoder
            output at the instance's nodes.
        """
        num_frames, dim, h, w = feats.shape
        pos = self.positional_encoding(
            None, input=feats[:1]).flatten(2)[0].T.contiguous()
        out = feats.permute(0, 2, 3, 1).clone(
            memory_format=torch.contiguous_format).view(num_frames, h * w,
                                                        dim)
        flat_coarse = coarse.flatten(2).transpose(1, 2)  # (T, HW, 2)
        # windows are disjoint: a frame's rows change only after its
        # window's tokens were gathered
        for frames in self.windows(num_frames):
            toks, poss, _, idx = self.tokens(out, pos, nodes, flat_coarse,
                                             query, frames, point_perms)
            if not toks.numel():
                continue
            refined = self._encode(toks[None], poss[None])[0]
            start = 0
            for t, i in zip(frames, idx):
                out[t][i] += refined[start:start + i.numel()]
                start += i.numel()
        return out.view(num_frames, h, w, dim).permute(0, 3, 1, 2)
