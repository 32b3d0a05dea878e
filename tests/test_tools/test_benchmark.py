# Copyright (c) mmvmt contributors.
"""tools/analysis_tools/benchmark.py times every stage, the tracklet
refinement's per-instance path included."""
import json
import os.path as osp

import pytest

from ..bad_inputs import run_tool
from ..conftest import ROOT


@pytest.mark.parametrize('config', ['vmt_r18_toy.py',
                                    'vmt_r18_toy_tracklet.py'])
def test_stage_times(config, tmp_path):
    out = tmp_path / 'bench.json'
    proc = run_tool(osp.join('tools', 'analysis_tools', 'benchmark.py'),
                    osp.join(ROOT, 'configs', 'vmt', config), '--clip',
                    '2,64,96', '--repeat', '1', '--out', str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.load(open(out))
    stages = report['stages_s']
    assert set(stages) == {'backbone', 'encoder', 'decoder', 'mask_heads',
                           'refinement', 'fusion'}
    assert stages['refinement'] > 0 and stages['fusion'] > 0
    assert sum(stages.values()) <= report['best_total_s'] * 1.01
