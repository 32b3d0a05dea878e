# Copyright (c) mmvmt contributors.
"""HQ-YTVIS evaluator: the reference's exact numbers, hand-checkable cases
and bad input."""
import json
import os.path as osp
import subprocess
import sys
import warnings

import numpy as np
import pycocotools.mask as mask_utils
import pytest

from mmvmt.evaluation.functional import (HQVISInputError, boundary_width,
                                         evaluate_hqvis, mask_boundary)
from ..conftest import DATA, ROOT, shared_path

CLI = osp.join(ROOT, 'tools', 'analysis_tools', 'hqvis_eval.py')


def assert_matches_reference(actual: dict, expected: dict) -> None:
    """Every stat within 1e-10, -1 exactly where the reference has -1."""
    for mode in ('mask', 'boundary'):
        assert set(actual[mode]) == set(expected[mode])
        for name, exp in expected[mode].items():
            got = actual[mode][name]
            assert np.isfinite(got), (mode, name)
            if exp == -1:
                assert got == -1, (mode, name, got)
            else:
                assert abs(got - exp) <= 1e-10, (mode, name, got, exp)


@pytest.mark.parametrize('case', ['toy', 'edge', 'quirks'])
def test_bundled_cases_match_reference(case):
    folder = osp.join(DATA, 'eval', case)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        res = evaluate_hqvis(
            osp.join(folder, 'gt.json'), osp.join(folder, 'pred.json'))
    expected = json.load(open(osp.join(folder, 'expected.json')))
    assert_matches_reference(res, expected)


def test_medium_case_via_cli_matches_reference(tmp_path):
    folder = shared_path('eval', 'medium')
    out = tmp_path / 'metrics.json'
    proc = subprocess.run([
        sys.executable, CLI,
        osp.join(folder, 'gt.json'),
        osp.join(folder, 'pred.json'), '--out',
        str(out), '--workers', '2'
    ], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert 'Tube-Boundary AP' in proc.stdout
    actual = json.load(open(out))
    assert set(actual) == {'mask', 'boundary'}
    assert_matches_reference(actual,
                             json.load(open(osp.join(folder,
                                                     'expected.json'))))


def _rect(h, w, y0, y1, x0, x1):
    m = np.zeros((h, w), np.uint8)
    m[y0:y1, x0:x1] = 1
    rle = mask_utils.encode(np.asfortranarray(m))
    rle['counts'] = rle['counts'].decode()
    return rle


def _gt(anns, h=40, w=60, frames=2):
    return dict(
        videos=[dict(id=1, height=h, width=w, length=frames)],
        categories=[dict(id=1, name='a'), dict(id=2, name='b')],
        annotations=anns)


def _gt_ann(aid, segs, cat=1, crowd=0):
    return dict(id=aid, video_id=1, category_id=cat, iscrowd=crowd,
                segmentations=segs,
                areas=[int(mask_utils.area(s)) if s else None for s in segs])


def test_hand_checked_half_overlap():
    """One GT (20x20 box on 2 frames), one detection shifted by 10 px.

    Tube IoU = 2*200 / 2*600 = 1/3 < 0.5: no match at any threshold, so
    AP = 0 and AR = 0; a second perfect detection with lower score makes
    precision 1/2 at recall 1 for every threshold: AP = 0.5 (times the
    reference's 1 - eps factor).
    """
    g = _rect(40, 60, 5, 25, 5, 25)
    d = _rect(40, 60, 5, 25, 15, 35)
    gt = _gt([_gt_ann(1, [g, g])])
    only_shifted = [dict(video_id=1, category_id=1, score=0.9,
                         segmentations=[d, d])]
    res = evaluate_hqvis(gt, only_shifted)
    assert res['mask']['AP'] == 0.0 and res['mask']['AR100'] == 0.0
    both = only_shifted + [dict(video_id=1, category_id=1, score=0.8,
                                segmentations=[g, g])]
    res = evaluate_hqvis(gt, both)
    # precision at recall 1 is 1 / (2 + eps) * 1, interpolated back: 0.5
    assert abs(res['mask']['AP'] - 0.5) < 1e-12
    assert res['mask']['AR1'] == 0.0  # the top-1 detection is the wrong one
    assert res['mask']['AR10'] == 1.0
    # unmatched categories are undefined
    assert res['mask']['APm'] == -1 and res['mask']['APl'] == -1


def test_boundary_is_stricter_than_mask():
    """A detection missing a thin strip: mask IoU high, boundary IoU low."""
    g = _rect(100, 100, 10, 90, 10, 90)
    d = _rect(100, 100, 10, 90, 10, 84)
    gt = _gt([_gt_ann(1, [g])], h=100, w=100, frames=1)
    res = evaluate_hqvis(
        gt, [dict(video_id=1, category_id=1, score=1.0, segmentations=[d])])
    # mask IoU = 80*74 / 80*80 = 0.925 -> matched up to 0.9 (9 of 10)
    assert abs(res['mask']['AR100'] - 0.9) < 1e-12
    assert res['boundary']['AR100'] < res['mask']['AR100']


def test_boundary_width_and_band():
    assert boundary_width(360, 640) == 15
    assert boundary_width(720, 1280) == 29
    assert boundary_width(12, 20) == 1
    rle = _rect(12, 20, 0, 12, 0, 20)  # whole frame: border is boundary
    size, area, (y0, x0, band) = mask_boundary(rle)
    assert size == (12, 20) and area == 12 * 20 - 10 * 18
    assert band[0].all() and not band[5, 5]


BAD_INPUTS = {
    'result video not in GT':
    ([dict(video_id=7, category_id=1, score=0.5, segmentations=[None])],
     'video_id 7'),
    'NaN score': ([dict(video_id=1, category_id=1, score=float('nan'),
                        segmentations=[None])], 'score'),
    'negative score': ([dict(video_id=1, category_id=1, score=-1,
                             segmentations=[None])], 'score'),
    'missing segmentations': ([dict(video_id=1, category_id=1, score=0.5)],
                              'segmentations'),
    'not a list': (dict(video_id=1), 'JSON list'),
    'polygon result': ([dict(video_id=1, category_id=1, score=0.5,
                             segmentations=[[[0, 0, 5, 0, 5, 5]]])],
                       'compressed RLE'),
    'garbage RLE counts': ([dict(video_id=1, category_id=1, score=0.5,
                                 segmentations=[dict(size=[40, 60],
                                                     counts='zz~~zz'),
                                                None])],
                           'frame 0: "counts" is not a valid COCO RLE'),
    'RLE of another size': ([dict(video_id=1, category_id=1, score=0.5,
                                  segmentations=[
                                      None,
                                      dict(_rect(10, 10, 2, 5, 2, 5),
                                           size=[40, 60])])],
                            'frame 1: "counts" is not a valid COCO RLE'),
}


@pytest.mark.parametrize('name', sorted(BAD_INPUTS))
def test_bad_results_raise_one_clear_error(name):
    results, needle = BAD_INPUTS[name]
    g = _rect(40, 60, 5, 25, 5, 25)
    with pytest.raises(HQVISInputError, match=needle):
        evaluate_hqvis(_gt([_gt_ann(1, [g, g])]), results)


def test_bad_gt_videos_and_bboxes_raise():
    g = _rect(40, 60, 5, 25, 5, 25)
    gt = _gt([_gt_ann(1, [g, g])])
    gt['videos'].append(dict(gt['videos'][0]))
    with pytest.raises(HQVISInputError, match='video id 1 twice'):
        evaluate_hqvis(gt, [])
    gt = _gt([])
    del gt['videos'][0]['height']  # even a video without annotations
    with pytest.raises(HQVISInputError, match='height'):
        evaluate_hqvis(gt, [])
    ann = dict(_gt_ann(1, [g, g]), bboxes=[[5, 5, 20, 20]])
    with pytest.raises(HQVISInputError, match='bboxes'):
        evaluate_hqvis(_gt([ann]), [])
    bad = dict(_gt_ann(1, [g, g]))
    bad['segmentations'] = [g, dict(g, counts=g['counts'][:-2])]
    with pytest.raises(HQVISInputError, match='frame 1: "counts" is not a'):
        evaluate_hqvis(_gt([bad]), [])


def _py_rle_counts(s):
    """pycocotools' rleFrString written out, with the checks it lacks:
    returns the runs, or None for a string that is not complete RLE."""
    runs, p = [], 0
    while p < len(s):
        x = k = 0
        more = True
        while more:
            if p >= len(s):
                return None  # the last count never ends
            c = ord(s[p]) - 48
            if not 0 <= c < 64:
                return None
            x |= (c & 0x1f) << 5 * k
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << 5 * k
        if k > 13:
            return None
        if len(runs) > 2:
            x += runs[-2]
        runs.append(x)
    return runs


def test_rle_string_validity_against_a_direct_parser():
    from mmvmt.evaluation.functional.rle_crop import valid_rle_strings
    rng = np.random.default_rng(0)
    strings, pixels = [], []
    for _ in range(60):  # real encodings, and damaged copies of them
        h, w = rng.integers(1, 30, size=2)
        m = (rng.random((h, w)) < rng.random()).astype(np.uint8)
        good = mask_utils.encode(np.asfortranarray(m))['counts']
        cut = good[:rng.integers(0, len(good))]
        flipped = bytearray(good)
        flipped[rng.integers(0, len(good))] = rng.integers(40, 120)
        strings += [good, cut, bytes(flipped)]
        pixels += [h * w] * 3
    for _ in range(60):  # random strings over the alphabet and beyond it
        n = rng.integers(1, 12)
        strings.append(bytes(rng.integers(46, 114, size=n).tolist()))
        pixels.append(int(rng.integers(1, 900)))
    strings.append(b'0' * 3 + b'o' * 20 + b'0')  # a 21-chunk count
    pixels.append(5)
    got = valid_rle_strings(strings, np.array(pixels))
    expected = []
    for s, n in zip(strings, pixels):
        runs = _py_rle_counts(s.decode('latin1'))
        expected.append(runs is not None and len(runs) > 0
                        and min(runs) >= 0 and sum(runs) == n)
    assert got.tolist() == expected
    assert 60 <= sum(expected) < len(expected)  # both kinds present


def test_bad_gt_raises():
    g = _rect(40, 60, 5, 25, 5, 25)
    ann = _gt_ann(1, [g, g])
    del ann['iscrowd']
    with pytest.raises(HQVISInputError, match='iscrowd'):
        evaluate_hqvis(_gt([ann]), [])


def test_strict_mode_rejects_reference_quirks():
    g = _rect(40, 60, 5, 25, 5, 25)
    gt = _gt([_gt_ann(1, [g, g])])
    short = [dict(video_id=1, category_id=1, score=0.5, segmentations=[g])]
    with pytest.warns(UserWarning, match='length'):
        res = evaluate_hqvis(gt, short)
    # REFERENCE QUIRK: zip truncation, the missing frame is not penalised
    assert res['mask']['AR100'] == 1.0
    with pytest.raises(HQVISInputError, match='length'):
        evaluate_hqvis(gt, short, strict=True)
    unknown = [dict(video_id=1, category_id=9, score=0.5,
                    segmentations=[g, g])]
    with pytest.raises(HQVISInputError, match='category'):
        evaluate_hqvis(gt, unknown, strict=True)


def test_empty_results_give_zero_ap_with_warning():
    g = _rect(40, 60, 5, 25, 5, 25)
    with pytest.warns(UserWarning, match='empty'):
        res = evaluate_hqvis(_gt([_gt_ann(1, [g, g])]), [])
    assert res['mask']['AP'] == 0.0 and res['boundary']['AP'] == 0.0


def test_cli_malformed_json_writes_nothing(tmp_path):
    gt = tmp_path / 'gt.json'
    gt.write_text(json.dumps(_gt([])))
    bad = tmp_path / 'pred.json'
    bad.write_text('[{"video_id": 1,')
    out = tmp_path / 'm.json'
    proc = subprocess.run(
        [sys.executable, CLI, str(gt), str(bad), '--out', str(out)],
        capture_output=True, text=True)
    assert proc.returncode == 2
    assert 'not valid JSON' in proc.stderr
    assert not out.exists()
    # garbage RLE counts used to be scored silently and --out written
    g = _rect(40, 60, 5, 25, 5, 25)
    gt.write_text(json.dumps(_gt([_gt_ann(1, [g, g])])))
    bad.write_text(json.dumps([dict(video_id=1, category_id=1, score=0.5,
                                    segmentations=[dict(g, counts='zzzz'),
                                                   g])]))
    proc = subprocess.run(
        [sys.executable, CLI, str(gt), str(bad), '--out', str(out)],
        capture_output=True, text=True)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    assert 'not a valid COCO RLE' in proc.stderr
    assert not out.exists()
