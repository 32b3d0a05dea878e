# Copyright (c) mmvmt contributors.
"""Error analysis on a hand-made case whose figures are worked out below."""
import json
import os.path as osp

import pytest

from mmvmt.evaluation.functional.error_analysis import analyse_errors
from ..bad_inputs import assert_one_line_error, run_tool
from .test_hqvis_eval import _gt, _gt_ann, _rect

CLI = osp.join('tools', 'analysis_tools', 'vis_error_analysis.py')


def _case():
    """Video 1 (40x60, 2 frames): GT A, class 1, a 20x20 box (area 400);
    GT B, class 2, a 4x4 box (area 16). Video 2: GT C, class 1, no result.

    Results: an exact copy of A labelled class 2 (score 0.9); B shifted by
    2 px (score 0.8): per frame |B & D| = 8, |B | D| = 24, tube IoU 1/3.
    """
    a = _rect(40, 60, 5, 25, 5, 25)
    b = _rect(40, 60, 30, 34, 40, 44)
    b_shift = _rect(40, 60, 30, 34, 42, 46)
    gt = _gt([_gt_ann(1, [a, a], cat=1), _gt_ann(2, [b, b], cat=2),
              dict(_gt_ann(3, [a, a], cat=1), video_id=2)])
    gt['videos'].append(dict(gt['videos'][0], id=2))
    res = [dict(video_id=1, category_id=2, score=0.9, segmentations=[a, a]),
           dict(video_id=1, category_id=2, score=0.8,
                segmentations=[b_shift, b_shift])]
    return gt, res


def test_figures_of_a_hand_made_case():
    gt, res = _case()
    rep = analyse_errors(gt, res)
    # per class: class 1 has no result, class 2's results reach IoU 0 and
    # 1/3 with B: no true positive at any threshold
    assert rep['per_class']['mask']['AP'] == 0.0
    # one class: the copy of A is a true positive at every threshold (top
    # score), B's result a false positive, C missed: recall 1/3 at
    # precision 1, so 34 of the 101 recall points (0.00 .. 0.33) have
    # precision 1 and the rest 0
    assert rep['class_agnostic']['mask']['AP'] == pytest.approx(34 / 101)
    assert rep['class_agnostic']['mask']['AR100'] == pytest.approx(1 / 3)
    assert rep['tubes'] == 3
    assert rep['median_best_iou'] == pytest.approx(1 / 3)  # of 1, 1/3, 0
    assert rep['found_50'] == pytest.approx(1 / 3)
    assert rep['found_75'] == pytest.approx(1 / 3)
    assert rep['class_ok'] == pytest.approx(1 / 3)  # only B's match
    small, medium = rep['by_area']  # B (16 px); A and C (400 px)
    assert small == dict(area=[0.0, 256.0], num=1,
                         median_best_iou=pytest.approx(1 / 3),
                         found_50=0.0, class_ok=1.0)
    assert medium == dict(area=[256.0, 1024.0], num=2,
                          median_best_iou=pytest.approx(0.5),
                          found_50=0.5, class_ok=0.0)
    # the inputs are not changed by the class-agnostic copy
    assert [r['category_id'] for r in res] == [2, 2]
    assert [a['category_id'] for a in gt['annotations']] == [1, 2, 1]


def test_cli_prints_and_writes(tmp_path):
    gt, res = _case()
    (tmp_path / 'gt.json').write_text(json.dumps(gt))
    (tmp_path / 'res.json').write_text(json.dumps(res))
    out = tmp_path / 'errors.json'
    proc = run_tool(CLI, str(tmp_path / 'gt.json'),
                    str(tmp_path / 'res.json'), '--out', str(out),
                    '--area-edges', '100')
    assert proc.returncode == 0, proc.stderr
    assert 'class-agnostic     0.337' in proc.stdout
    rep = json.loads(out.read_text())
    assert [(row['area'], row['num']) for row in rep['by_area']] == [
        ([0, 100], 1), ([100, None], 2)]
    assert '[100, inf): 2 tubes' in proc.stdout


@pytest.mark.parametrize('args,needle', [
    (['--area-edges', '500', '100'], '--area-edges'),
    (['--area-edges', '0'], '--area-edges'),
])
def test_cli_bad_edges(tmp_path, args, needle):
    gt, res = _case()
    (tmp_path / 'gt.json').write_text(json.dumps(gt))
    (tmp_path / 'res.json').write_text(json.dumps(res))
    out = tmp_path / 'errors.json'
    proc = run_tool(CLI, str(tmp_path / 'gt.json'),
                    str(tmp_path / 'res.json'), '--out', str(out), *args)
    assert_one_line_error(proc, needle)
    assert not out.exists()


def test_cli_malformed_results_write_nothing(tmp_path):
    gt, _ = _case()
    (tmp_path / 'gt.json').write_text(json.dumps(gt))
    (tmp_path / 'res.json').write_text('[{"video_id": 1,')
    out = tmp_path / 'errors.json'
    proc = run_tool(CLI, str(tmp_path / 'gt.json'),
                    str(tmp_path / 'res.json'), '--out', str(out))
    assert_one_line_error(proc, 'not valid JSON')
    assert not out.exists()
