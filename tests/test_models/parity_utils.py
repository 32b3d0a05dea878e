# Copyright (c) mmvmt contributors.
"""Helpers comparing mmvmt outputs with the original VMT's (parity kit)."""
from typing import List

import numpy as np
import pycocotools.mask as mask_utils


def _decode(segs) -> List[np.ndarray]:
    return [None if s is None else mask_utils.decode(
        dict(size=s['size'], counts=s['counts'].encode()))
            for s in segs]


def tube_iou(a: List[np.ndarray], b: List[np.ndarray]) -> float:
    inter = union = 0
    for x, y in zip(a, b):
        x = np.zeros_like(y) if x is None else x
        y = np.zeros_like(x) if y is None else y
        inter += int((x & y).sum())
        union += int((x | y).sum())
    return inter / union if union else 1.0


def compare_results(actual: list, expected: list) -> None:
    """The parity kit's results.json rule.

    Instances are matched by category, then by maximum tube IoU; each
    needs |score diff| <= 1e-4, tube IoU >= 0.995 and frame IoU >= 0.98 on
    frames whose union has at least 500 pixels.
    """
    assert len(actual) == len(expected), (len(actual), len(expected))
    used = set()
    for exp in expected:
        exp_masks = _decode(exp['segmentations'])
        cands = [(i, a) for i, a in enumerate(actual)
                 if i not in used and a['category_id'] == exp['category_id']
                 and a['video_id'] == exp['video_id']]
        assert cands, f'no result of category {exp["category_id"]}'
        scored = [(tube_iou(_decode(a['segmentations']), exp_masks), i, a)
                  for i, a in cands]
        iou, idx, act = max(scored, key=lambda s: s[0])
        used.add(idx)
        assert abs(act['score'] - exp['score']) <= 1e-4, (act['score'],
                                                          exp['score'])
        assert iou >= 0.995, iou
        for x, y in zip(_decode(act['segmentations']), exp_masks):
            if x is None or y is None:
                assert x is None and y is None
                continue
            union = int((x | y).sum())
            if union >= 500:
                assert (x & y).sum() / union >= 0.98


def close(actual, expected, atol: float, rtol: float = 0.) -> float:
    """Assert |a - e| <= atol + rtol * |e| elementwise; return max diff."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    diff = np.abs(actual - expected)
    bound = atol + rtol * np.abs(expected)
    worst = np.unravel_index(np.argmax(diff - bound), diff.shape)
    assert (diff <= bound).all(), (
        f'max excess at {worst}: {actual[worst]} vs {expected[worst]}')
    return float(diff.max()) if diff.size else 0.0


def expected_array(npz, key: str, ours: np.ndarray):
    """Full expected array, or its stored sub-grid with ours sub-sampled.

    The stride is inferred from the shapes: in the R50 kit the stored
    ``<key>_sub_stride`` does not always belong to ``<key>_sub`` (small:
    ``input_sub`` is a stride-8 grid while ``input_sub_stride`` says 2).
    """
    if key in npz.files:
        return npz[key], ours
    sub = npz[key + '_sub']
    height, width = ours.shape[-2:]
    strides = [
        s for s in range(1, max(height, width) + 1)
        if -(-height // s) == sub.shape[-2] and -(-width // s) == sub.shape[-1]
    ]
    assert strides, (key, ours.shape, sub.shape)
    stored = int(npz[key + '_sub_stride'])
    stride = stored if stored in strides else strides[0]
    return sub, ours[..., ::stride, ::stride]


def check_close(npz, key: str, ours, atol: float, rtol: float = 0.) -> float:
    """``close`` against the expected array or its sub-grid."""
    exp, ours = expected_array(npz, key, np.asarray(ours))
    return close(ours, exp, atol, rtol)


def check_stages(npz, frames, out, query_ids, pairs, masks,
                 num_classes: int = 42) -> None:
    """Every stage after the backbone against the original's recording, with
    the kit's tolerances.

    Args:
        npz: The case's ``tensors.npz``.
        frames (Tensor): Network input (T, 3, H, W).
        out (dict): ``VMT.forward_clip`` output.
        query_ids (Tensor): Selected query ids (n,), ascending.
        pairs (tuple): (query, class, score) of the top-10 pairs.
        masks (dict): ``VMT.forward_mask_branch`` output.
        num_classes (int): Logits per query.
    """
    import torch
    assert list(frames.shape) == npz['input_shape'].tolist()
    check_close(npz, 'input', frames.numpy(), atol=0)
    # encoder memory (T, sum_hw, C): tokens x channels
    check_close(npz, 'memory', out['memory'].numpy(), 1e-3, 1e-4)
    close(out['all_cls'][-1][0].numpy(), npz['pred_logits_all'], 1e-3, 1e-4)
    close(out['all_boxes'][-1][0].numpy(), npz['pred_boxes_all'], 1e-4)
    refs = np.stack([r[0].numpy() for r in out['references'][1:]] +
                    [out['all_boxes'][-1][0].numpy()])
    close(refs, npz['inter_references'], 1e-4)
    close(out['hs'][-1][0].numpy(), npz['hs_last'], 1e-3, 1e-4)
    # selection: same queries and (query, class) pairs, scores within 1e-4
    assert sorted(query_ids.tolist()) == sorted(npz['sel_query_ids'].tolist())
    pair_q, pair_c, pair_s = pairs
    assert (pair_q * num_classes + pair_c).tolist() == \
        npz['topk10_flat_idx'].tolist()
    close(pair_s.numpy(), npz['topk10_scores'], 1e-4)
    # mask stages, aligned by query id (the original uses set order)
    order = [query_ids.tolist().index(q) for q in npz['sel_query_ids']]
    for key in ('mask_L8', 'mask_L4', 'mask_L2', 'pred_masks',
                'pred_masks_inc', 'pred_masks_refine'):
        ours = masks[key][:, order].transpose(0, 1).numpy()
        check_close(npz, key, ours, 1e-3, 1e-4)
    band = masks['band'].numpy()
    assert (band == npz['band_s2'].astype(bool)).all()
    assert band.reshape(band.shape[0], -1).sum(1).tolist() == \
        npz['n_points'].tolist()
    # final probabilities at the original size
    prob = torch.nn.functional.interpolate(
        masks['pred_masks_refine'], size=tuple(npz['orig_hw'].tolist()),
        mode='bilinear', align_corners=False).sigmoid()
    check_close(npz, 'final_prob', prob[:, order].transpose(0, 1).numpy(),
                1e-4)


def run_in_process(config: str, data_root: str, short_side: int,
                   ckpt: str):
    """One parity clip through the model, stage by stage.

    Returns:
        tuple: model, frames (T, 3, H, W), ``forward_clip`` output, selected
        query ids, (query, class, score) pairs, ``forward_mask_branch``
        output.
    """
    import argparse

    import torch
    from mmengine.config import Config

    from mmvmt.registry import DATASETS, MODELS
    from mmvmt.utils.cli import apply_test_data_overrides, load_weights_strict
    cfg = Config.fromfile(config)
    cfg.work_dir = '/tmp'
    apply_test_data_overrides(
        cfg,
        argparse.Namespace(data_root=data_root, ann_file='valid.json',
                           short_side=short_side, format_only=True))
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    model = MODELS.build(cfg.model).eval()
    load_weights_strict(model, ckpt)
    item = dataset[0]
    with torch.no_grad():
        data = model.data_preprocessor(
            dict(inputs=[item['inputs']],
                 data_samples=[item['data_samples']]), False)
        frames = data['inputs'][0]
        out = model.forward_clip(frames, 1)
        query_ids, pair_q, pair_c, pair_s = model.bbox_head.select_instances(
            out['all_cls'][-1][0])
        masks = model.forward_mask_branch(out, frames, 0, query_ids,
                                          tuple(frames.shape[-2:]))
    return model, frames, out, query_ids, (pair_q, pair_c, pair_s), masks


def convert_kit_weights(tmp) -> str:
    """The R50 kit's seed-0 pseudo-weights, regenerated (content hash
    checked) and converted to mmvmt; returns the converted file."""
    import json
    import os.path as osp
    import re
    import subprocess
    import sys

    from ..conftest import ROOT, shared_path
    kit = shared_path('parity')
    raw, out = str(tmp / 'vmt_r50_seed0.pth'), str(tmp / 'vmt_r50_mmvmt.pth')
    proc = subprocess.run([
        sys.executable,
        osp.join(kit, 'make_weights.py'), '--seed', '0', '--out', raw
    ], capture_output=True, text=True, check=True)
    expected = json.load(open(osp.join(kit, 'weights.json')))
    digest = re.search(r'content_sha256=(\w+)', proc.stdout).group(1)
    assert digest == expected['public_weights_seed0']['content_sha256']
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'model_converters', 'vmt_to_mmvmt.py'), raw,
        out, '--arch', 'r50'
    ], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert '0 unmapped' in proc.stdout
    return out


def check_results_through_tools_test(config: str, ckpt: str, data_root: str,
                                     short_side: int, expected_json: str,
                                     work_dir: str) -> None:
    """``tools/test.py CONFIG CKPT --data-root ... --format-only`` as a user
    runs it, its results.json against the expected one (kit's rule)."""
    import json
    import os.path as osp
    import subprocess
    import sys

    from ..conftest import ROOT
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'test.py'), config, ckpt, '--data-root',
        data_root, '--format-only', '--short-side',
        str(short_side), '--work-dir', work_dir
    ], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    actual = json.load(open(osp.join(work_dir, 'results.json')))
    compare_results(actual, json.load(open(expected_json)))
    assert osp.isfile(osp.join(work_dir, 'submission_file.zip'))
