# Copyright (c) mmvmt contributors.
"""Per-tracklet spatio-temporal refinement of error-prone boundary nodes
(our reconstruction of VMT's paper refinement; the release refines a
per-frame union band without instance identity)."""
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmvmt.registry import MODELS
from .boundary_refine_head import (BoundaryRefineHead, boundary_band,
                                   frame_code)


def _without_others(nodes: Tensor, fg: Tensor) -> Tensor:
    """Drop the nodes inside another instance's mask and outside the own.

    Args:
        nodes (Tensor): (n, T, H, W) bool.
        fg (Tensor): (n, T, H, W) bool masks.
    """
    others = fg.sum(0, keepdim=True) - fg.int()  # other instances' masks
    return nodes & ~((others > 0) & ~fg)


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
    return _without_others(band, fg.transpose(0, 1))


def learned_nodes(inc_logits: Tensor, probs: Tensor,
                  threshold: float = 0.5) -> Tensor:
    """Nodes where an instance's predicted incoherence reaches a threshold.

    The stride-4 incoherence probabilities are resized (nearest, as Mask
    Transfiner carries its map to finer levels) to the refinement's size;
    nodes are pixels with probability >= ``threshold``, minus pixels inside
    another instance's mask (``prob > 0.5``) and outside this one's.

    Args:
        inc_logits (Tensor): (T, n, h4, w4) incoherence logits.
        probs (Tensor): (T, n, H, W) mask probabilities at the
            refinement's size.
        threshold (float): Defaults to 0.5.

    Returns:
        Tensor: (n, T, H, W) bool nodes.
    """
    inc = F.interpolate(inc_logits.detach().sigmoid(),
                        size=probs.shape[-2:], mode='nearest')
    return _without_others((inc >= threshold).transpose(0, 1),
                           (probs > 0.5).transpose(0, 1))


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
    per instance on that copy. With ``writeback='feature+label'`` a small
    MLP (``label_decoder``, Mask Transfiner's pixel decoder) also turns each
    refined token into a foreground logit, which :class:`VMTMaskHead`
    writes over the dense refine logits at that node.

    ``coarse_proj``, ``query_proj`` and ``time_gain`` start at zero, so
    before training with ``node_source='union_band'`` and ``window=1`` every
    instance sees exactly the released per-frame refinement (tested against
    the original's outputs).

    Args:
        node_source (str): ``'instance_band'``: the instance's own band
            (:func:`instance_nodes`); ``'union_band'``: the released union
            band of all selected instances; ``'learned'``: pixels where
            ``incoherence_head`` predicts incoherence >= ``node_threshold``
            (:func:`learned_nodes`). Defaults to ``'instance_band'``.
        window (int, optional): Frames per sequence: the clip is cut into
            consecutive windows of this many frames (the last may be
            shorter), refined independently, so cost grows linearly with
            the clip length. None: the whole clip. Defaults to None.
        query_dims (int): Channels of the instance queries. Defaults to 256.
        incoherence_head (dict, optional): Config of the
            :class:`IncoherenceHead`, built only for ``'learned'``.
            Defaults to ``dict(type='IncoherenceHead')``.
        node_threshold (float): Incoherence probability of a learned node
            (training and test). Defaults to 0.5.
        writeback (str): ``'feature'`` (released: feature residual only) or
            ``'feature+label'`` (also node logits from ``label_decoder``).
            Defaults to ``'feature'``.
        **kwargs: :class:`BoundaryRefineHead` arguments (``max_points``
            and ``train_max_points`` cap nodes per frame per instance at
            test time and in training; ``temporal`` is not used).
    """
    per_instance = True

    def __init__(self,
                 node_source: str = 'instance_band',
                 window: Optional[int] = None,
                 query_dims: int = 256,
                 incoherence_head: Optional[dict] = None,
                 node_threshold: float = 0.5,
                 writeback: str = 'feature',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if node_source not in ('instance_band', 'union_band', 'learned'):
            raise ValueError(f'unknown node_source {node_source!r}')
        if writeback not in ('feature', 'feature+label'):
            raise ValueError(f'unknown writeback {writeback!r}')
        if window is not None and window < 1:
            raise ValueError('window must be >= 1 or None')
        self.node_source = node_source
        self.window = window
        self.node_threshold = node_threshold
        dim = self.embed_dims
        self.coarse_proj = nn.Linear(2, dim)
        self.query_proj = nn.Linear(query_dims, dim)
        self.time_gain = nn.Parameter(torch.zeros(dim))
        for layer in (self.coarse_proj, self.query_proj):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        self.incoherence_head = None
        if node_source == 'learned':
            self.incoherence_head = MODELS.build(
                incoherence_head or dict(type='IncoherenceHead'))
        self.label_decoder = None
        if writeback == 'feature+label':
            self.label_decoder = nn.Sequential(
                nn.Linear(dim, dim), nn.ReLU(inplace=True), nn.Linear(dim, 1))

    def init_weights(self) -> None:
        """Keep the zero start of the new parameters (mmengine's default
        init of the encoder layers is left as the parent does)."""
        super().init_weights()
        for layer in (self.coarse_proj, self.query_proj):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        nn.init.zeros_(self.time_gain)

    def nodes(self, probs: Tensor, union_band: Tensor,
              inc_logits: Optional[Tensor] = None) -> Tensor:
        """(n, T, H, W) bool nodes of every instance (see ``node_source``).

        Args:
            probs (Tensor): (T, n, H, W) inc-stage probabilities at the
                refinement's resolution.
            union_band (Tensor): (T, H, W) the released union band.
            inc_logits (Tensor, optional): (T, n, h4, w4) incoherence
                logits; needed for ``'learned'``.
        """
        if self.node_source == 'union_band':
            return union_band[None].expand(probs.shape[1], -1, -1, -1)
        if self.node_source == 'learned':
            return learned_nodes(inc_logits, probs, self.node_threshold)
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
        idx = [self.select_points(nodes[t], None if perms is None
                                  else perms[t]) for t in frames]
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
                         ) -> Tuple[Tensor, Optional[Tensor],
                                    Optional[Tensor]]:
        """Refine one instance's copy of the fused map on its nodes.

        Args:
            feats (Tensor): (T, dim, H, W) the fused map (shared).
            nodes (Tensor): (T, H, W) bool nodes of this instance.
            coarse (Tensor): (T, 2, H, W) its inc and coarse probabilities.
            query (Tensor): (query_dims,) its instance query.
            point_perms (list[Tensor], optional): Per-frame permutations
                used above the cap.

        Returns:
            tuple: the (T, dim, H, W) channels-last map, ``feats`` plus the
            encoder output at the refined nodes; with ``label_decoder`` the
            (T, H, W) node logits (0 where no node was refined) and the
            (T, H, W) bool mask of the refined nodes, else None, None.
        """
        num_frames, dim, h, w = feats.shape
        pos = self.positional_encoding(
            None, input=feats[:1]).flatten(2)[0].T.contiguous()
        out = feats.permute(0, 2, 3, 1).clone(
            memory_format=torch.contiguous_format).view(num_frames, h * w,
                                                        dim)
        flat_coarse = coarse.flatten(2).transpose(1, 2)  # (T, HW, 2)
        labels = decoded = None
        if self.label_decoder is not None:
            labels = feats.new_zeros(num_frames, h * w)
            decoded = torch.zeros(num_frames, h * w, dtype=torch.bool,
                                  device=feats.device)
        # windows are disjoint: a frame's rows change only after its
        # window's tokens were gathered
        for frames in self.windows(num_frames):
            toks, poss, _, idx = self.tokens(out, pos, nodes, flat_coarse,
                                             query, frames, point_perms)
            if not toks.numel():
                continue
            refined = self._encode(toks[None], poss[None])[0]
            node_logits = None if labels is None else \
                self.label_decoder(refined)[:, 0]
            start = 0
            for t, i in zip(frames, idx):
                stop = start + i.numel()
                out[t][i] += refined[start:stop]
                if labels is not None:
                    labels[t, i] = node_logits[start:stop]
                    decoded[t, i] = True
                start = stop
        out = out.view(num_frames, h, w, dim).permute(0, 3, 1, 2)
        if labels is None:
            return out, None, None
        return out, labels.view(num_frames, h, w), decoded.view(
            num_frames, h, w)
