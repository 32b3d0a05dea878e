#!/usr/bin/env python
"""Turn runs of ``run_case_arch.py`` into a compact parity case.

    python make_case.py --arch r101 --case tiny --runs A B C \
        --weights-log W.txt --out tests/data/parity_r101/tiny

``A`` and ``B`` are two runs with the same seed (42), ``C`` one with
another seed (7). Writes ``OUT/expected/results.json`` (A's, byte for
byte), ``OUT/expected/tensors.npz`` (A's tensors; an array above
``FULL_BYTES`` is kept as ``<key>_shape`` plus the exact sub-grid
``<key>_sub`` = ``x[..., ::s, ::s]`` with ``<key>_sub_stride`` = s, the
smallest power of two that brings it under ``SUB_BYTES``; the kit's
``_sum01``/``_abssum`` statistics and Swin's ``backbone_hires_up``, stage 0
repeated x2, are dropped) and ``OUT/case.json``
(selection, point counts, run-to-run differences from the kit's
``compare_runs.py`` for A-vs-B and A-vs-C, forward times, versions).
The frames are the kit's own (``../shared/parity/<case>/data``), not
copied.
"""
import argparse
import json
import os
import re
import shutil
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FULL_BYTES = 200_000
SUB_BYTES = 150_000
KEEP_FULL = ('band_s2', 'n_points', 'refine_perm', 'refine_perm_len',
             'sel_query_ids', 'topk10_flat_idx', 'topk10_scores', 'orig_hw',
             'pred_logits_all', 'pred_boxes_all', 'inter_references',
             'hs_last')


def full_arrays(npz) -> dict:
    """Every array of a run at its recorded resolution (sub-grids kept with
    their stride, statistics dropped)."""
    out = {}
    for key in npz.files:
        if key.endswith(('_sum01', '_abssum')):
            continue
        out[key] = npz[key]
    return out


def shrink(rec: dict) -> dict:
    out = {}
    for key, val in rec.items():
        if key.endswith(('_sub_stride', '_shape')):
            continue
        base = key[:-4] if key.endswith('_sub') else key
        stride = int(rec[base + '_sub_stride']) if key.endswith('_sub') \
            else 1
        if key == 'input_resized_uint8' and val.nbytes > FULL_BYTES:
            continue  # the input itself is kept (exact on a sub-grid)
        if base == 'backbone_hires_up':
            continue  # Swin: stage 0 repeated x2 (backbone_C2_layer1)
        if key in KEEP_FULL or (stride == 1 and val.nbytes <= FULL_BYTES):
            out[key] = val
            if key + '_shape' in rec:
                out[key + '_shape'] = rec[key + '_shape']
            continue
        shape = rec.get(base + '_shape', np.array(val.shape))
        factor = 1
        while val[..., ::factor, ::factor].nbytes > SUB_BYTES:
            factor *= 2
        out[base + '_shape'] = np.asarray(shape)
        out[base + '_sub'] = np.ascontiguousarray(val[..., ::factor, ::factor])
        out[base + '_sub_stride'] = np.array(stride * factor)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--arch', required=True)
    ap.add_argument('--case', required=True)
    ap.add_argument('--runs', nargs=3, required=True)
    ap.add_argument('--weights-log', required=True,
                    help='stdout of make_parity_weights.py')
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    sys.path.insert(0, HERE)
    sys.path.insert(1, os.environ['PARITY_RUNNER'])
    import compare_runs

    run_a = a.runs[0]
    exp = os.path.join(a.out, 'expected')
    os.makedirs(exp, exist_ok=True)
    shutil.copyfile(os.path.join(run_a, 'results.json'),
                    os.path.join(exp, 'results.json'))
    rec = shrink(full_arrays(np.load(os.path.join(run_a, 'tensors.npz'))))
    np.savez_compressed(os.path.join(exp, 'tensors.npz'), **rec)

    metas = [json.load(open(os.path.join(r, 'meta.json'))) for r in a.runs]
    log = open(a.weights_log).read()
    kit_case = json.load(open(os.path.join(
        os.environ['PARITY_RUNNER'], '..', a.case, 'case.json')))
    flat = rec['topk10_flat_idx'].tolist()
    info = dict(
        case=a.case, arch=a.arch,
        frames='the parity kit\'s ../shared/parity/%s/data: %s' % (
            a.case, kit_case['frames_source']),
        weights=dict(
            generator='tools/analysis_tools/make_parity_weights.py --arch '
            f'{a.arch} --seed 0',
            content_sha256=re.search(r'content_sha256=(\w+)', log).group(1),
            file_sha256=re.search(r'file_sha256=(\w+)', log).group(1)),
        resize_shorter_side=metas[0]['short'],
        torch_seed_before_build=metas[0]['seed'],
        input_shape=metas[0]['input_shape'],
        original_size_hw=rec['orig_hw'].tolist(),
        sel_query_ids_in_original_order=metas[0]['sel_query_ids'],
        topk10_query_class=[[i // 42, i % 42] for i in flat],
        topk10_scores=metas[0]['topk10_scores'],
        boundary_points_per_frame=metas[0]['n_points'],
        run_to_run=dict(
            a_vs_b_same_seed=compare_runs.main(a.runs[0], a.runs[1]),
            a_vs_c_seed_7=compare_runs.main(a.runs[0], a.runs[2])),
        forward_s_in_runs=[m['forward_s'] for m in metas],
        threads=metas[0]['threads'], torch=metas[0]['torch'])
    with open(os.path.join(a.out, 'case.json'), 'w') as f:
        json.dump(info, f, indent=1)
    print(json.dumps(dict(out=a.out, keys=len(rec), npz_bytes=os.path.getsize(
        os.path.join(exp, 'tensors.npz')))))


if __name__ == '__main__':
    main()
