# Copyright (c) mmvmt contributors.
"""Key mapping from the released VMT checkpoints (``{'model': ...}``) to
mmvmt's :class:`VMT` state dict."""
import re
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Tuple

import torch
from torch import Tensor

ARCHS = ('r50', 'r101', 'swin-l')

# (pattern, replacement) tried in order; the first match wins.
_RULES: List[Tuple[str, str]] = [
    (r'^detr\.input_proj\.([0-2])\.0\.', r'neck.convs.\1.conv.'),
    (r'^detr\.input_proj\.([0-2])\.1\.', r'neck.convs.\1.gn.'),
    (r'^detr\.input_proj\.3\.0\.', 'neck.extra_convs.0.conv.'),
    (r'^detr\.input_proj\.3\.1\.', 'neck.extra_convs.0.gn.'),
    (r'^detr\.query_embed\.', 'query_embedding.'),
    (r'^detr\.transformer\.level_embed$', 'level_embed'),
    (r'^detr\.transformer\.reference_points\.', 'reference_points_fc.'),
    # deformable encoder (mmdet DeformableDetrTransformerEncoderLayer)
    (r'^detr\.transformer\.encoder\.layers\.(\d+)\.self_attn\.',
     r'encoder.layers.\1.self_attn.'),
    (r'^detr\.transformer\.encoder\.layers\.(\d+)\.linear1\.',
     r'encoder.layers.\1.ffn.layers.0.0.'),
    (r'^detr\.transformer\.encoder\.layers\.(\d+)\.linear2\.',
     r'encoder.layers.\1.ffn.layers.1.'),
    (r'^detr\.transformer\.encoder\.layers\.(\d+)\.norm1\.',
     r'encoder.layers.\1.norms.0.'),
    (r'^detr\.transformer\.encoder\.layers\.(\d+)\.norm2\.',
     r'encoder.layers.\1.norms.1.'),
    # SeqFormer decoder: VMT numbers its norms cross-attention first
    (r'^detr\.transformer\.decoder\.layers\.(\d+)\.cross_attn\.',
     r'decoder.layers.\1.cross_attn.'),
    (r'^detr\.transformer\.decoder\.layers\.(\d+)\.self_attn(_box)?\.',
     r'decoder.layers.\1.self_attn\2.attn.'),
    (r'^detr\.transformer\.decoder\.layers\.(\d+)\.norm2(_box)?\.',
     r'decoder.layers.\1.norms\2.0.'),
    (r'^detr\.transformer\.decoder\.layers\.(\d+)\.norm1(_box)?\.',
     r'decoder.layers.\1.norms\2.1.'),
    (r'^detr\.transformer\.decoder\.layers\.(\d+)\.norm3(_box)?\.',
     r'decoder.layers.\1.norms\2.2.'),
    (r'^detr\.transformer\.decoder\.layers\.(\d+)\.linear1(_box)?\.',
     r'decoder.layers.\1.ffn\2.layers.0.0.'),
    (r'^detr\.transformer\.decoder\.layers\.(\d+)\.linear2(_box)?\.',
     r'decoder.layers.\1.ffn\2.layers.1.'),
    (r'^detr\.transformer\.decoder\.layers\.(\d+)\.time_attention_weights\.',
     r'decoder.layers.\1.time_attention_weights.'),
    (r'^detr\.class_embed\.', 'bbox_head.cls_branches.'),
    (r'^detr\.bbox_embed\.', 'bbox_head.reg_branches.'),
    # mask branch
    (r'^controller\.', 'mask_head.coarse_head.controller.'),
    (r'^controller_inc\.', 'mask_head.inc_head.controller.'),
    (r'^controller_refine\.', 'mask_head.refine_dyn_head.controller.'),
    (r'^mask_head\.', 'mask_head.'),
    (r'^(lay_hr1|lay1_h|lay2_h|lay_hr1_c|lay_compress)\.', r'mask_head.\1.'),
    (r'^conv_norm_relus_fuse_img\.', 'mask_head.img_branch.'),
    # refinement transformer over boundary points
    (r'^encoder\.layers\.(\d+)\.self_attn\.',
     r'mask_head.refine_head.encoder.layers.\1.self_attn.attn.'),
    (r'^encoder\.layers\.(\d+)\.linear1\.',
     r'mask_head.refine_head.encoder.layers.\1.ffn.layers.0.0.'),
    (r'^encoder\.layers\.(\d+)\.linear2\.',
     r'mask_head.refine_head.encoder.layers.\1.ffn.layers.1.'),
    (r'^encoder\.layers\.(\d+)\.norm(\d)\.',
     r'mask_head.refine_head.encoder.layers.\1.norms.@\2.'),
]

# Swin: original (microsoft) names -> mmdet SwinTransformer names
_SWIN_RULES: List[Tuple[str, str]] = [
    (r'^patch_embed\.proj\.', 'patch_embed.projection.'),
    (r'^layers\.(\d+)\.blocks\.(\d+)\.attn\.',
     r'stages.\1.blocks.\2.attn.w_msa.'),
    (r'^layers\.(\d+)\.blocks\.(\d+)\.mlp\.fc1\.',
     r'stages.\1.blocks.\2.ffn.layers.0.0.'),
    (r'^layers\.(\d+)\.blocks\.(\d+)\.mlp\.fc2\.',
     r'stages.\1.blocks.\2.ffn.layers.1.'),
    (r'^layers\.', 'stages.'),
]

# Released keys dropped on purpose.
_DROPPED = [
    # duplicate of detr.bbox_embed (same tensors), passed at call time
    r'^detr\.transformer\.decoder\.bbox_embed\.',
    # never used: the encoder's attention has one output projection
    r'^detr\.transformer\.encoder\.layers\.\d+\.self_attn\.output_proj_box\.',
]


def _fuse_branch(key: str) -> Optional[str]:
    match = re.match(r'^conv_norm_relus_fuse_all_([1-4])\.(.*)$', key)
    if match is None:
        return None
    return f'mask_head.fuse_branches.{int(match.group(1)) - 1}.' + \
        match.group(2)


def _unfold_reduction_order(weight: Tensor) -> Tensor:
    """Reorder PatchMerging inputs from cat(x0, x1, x2, x3) to nn.Unfold's
    channel-major order, which mmdet's PatchMerging uses."""
    out_ch, in_ch = weight.shape
    weight = weight.reshape(out_ch, 4, in_ch // 4)[:, [0, 2, 1, 3], :]
    return weight.transpose(1, 2).reshape(out_ch, in_ch)


def _unfold_norm_order(weight: Tensor) -> Tensor:
    in_ch = weight.shape[0]
    weight = weight.reshape(4, in_ch // 4)[[0, 2, 1, 3], :]
    return weight.transpose(0, 1).reshape(in_ch)


def _map_backbone(key: str, value: Tensor,
                  arch: str) -> Tuple[str, Tensor]:
    name = key[len('detr.backbone.0.body.'):]
    if arch != 'swin-l':
        return 'backbone.' + name, value
    for pattern, repl in _SWIN_RULES:
        if re.match(pattern, name):
            name = re.sub(pattern, repl, name)
            break
    if re.search(r'downsample\.reduction\.weight$', name):
        value = _unfold_reduction_order(value)
    elif re.search(r'downsample\.norm\.(weight|bias)$', name):
        value = _unfold_norm_order(value)
    return 'backbone.' + name, value


def _map_key(key: str) -> Optional[str]:
    fused = _fuse_branch(key)
    if fused is not None:
        return fused
    for pattern, repl in _RULES:
        if re.match(pattern, key):
            new = re.sub(pattern, repl, key)
            # refine-encoder norms: norm1 -> norms.0, norm2 -> norms.1
            return re.sub(r'norms\.@(\d)',
                          lambda m: f'norms.{int(m.group(1)) - 1}', new)
    return None


def convert_vmt_state_dict(
    state_dict: Dict[str, Tensor],
    arch: str = 'r50',
    log: Optional[Callable[[str], None]] = None
) -> Tuple['OrderedDict[str, Tensor]', List[str], List[str]]:
    """Map a released VMT state dict onto mmvmt's names.

    Args:
        state_dict (dict[str, Tensor]): ``checkpoint['model']``.
        arch (str): ``'r50'``, ``'r101'`` or ``'swin-l'``.
        log (callable, optional): Receives one line per dropped key group.

    Returns:
        tuple: (converted state dict, dropped keys, unmapped keys).
    """
    if arch not in ARCHS:
        raise ValueError(f'arch must be one of {ARCHS}, got {arch!r}')
    out: 'OrderedDict[str, Tensor]' = OrderedDict()
    dropped, unmapped = [], []
    for key, value in state_dict.items():
        if any(re.match(p, key) for p in _DROPPED):
            dropped.append(key)
            continue
        if key.startswith('detr.backbone.0.body.'):
            new_key, value = _map_backbone(key, value, arch)
        else:
            new_key = _map_key(key)
        if new_key is None:
            unmapped.append(key)
            continue
        if new_key in out:
            raise ValueError(f'two released keys map onto {new_key}')
        out[new_key] = value
    # the decoder's bbox_embed copies must equal detr.bbox_embed
    for key in dropped:
        if key.startswith('detr.transformer.decoder.bbox_embed.'):
            twin = key.replace('detr.transformer.decoder.bbox_embed.',
                               'detr.bbox_embed.')
            if twin in state_dict and not torch.equal(state_dict[key],
                                                      state_dict[twin]):
                raise ValueError(f'{key} differs from {twin}; the '
                                 'checkpoint is not a VMT release')
    if log is not None and dropped:
        log(f'dropped {len(dropped)} keys on purpose (duplicate decoder '
            'bbox_embed, unused encoder output_proj_box)')
    return out, dropped, unmapped


def detect_arch(state_dict: Dict[str, Tensor]) -> str:
    """Guess the architecture of a released state dict."""
    if any(k.startswith('detr.backbone.0.body.patch_embed') for k in
           state_dict):
        return 'swin-l'
    if 'detr.backbone.0.body.layer3.22.conv1.weight' in state_dict:
        return 'r101'
    return 'r50'
