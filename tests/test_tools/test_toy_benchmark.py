# Copyright (c) mmvmt contributors.
"""tools/analysis_tools/toy_benchmark.py: the AP-vs-time curve it reads
from a run's logged scalars, and its bad input."""
import importlib.util
import os.path as osp
import subprocess
import sys

from ..conftest import ROOT

SCRIPT = osp.join(ROOT, 'tools', 'analysis_tools', 'toy_benchmark.py')


def load_script():
    spec = importlib.util.spec_from_file_location('toy_benchmark', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_curve_counts_training_time_only():
    records = [
        dict(loss=5.0, time=2.0, step=5),  # 5 iterations of 2 s
        dict(loss=4.0, time=1.0, step=10),  # 5 more of 1 s
        {'hqvis/mask_AP': 0.2, 'hqvis/boundary_AP': 0.1, 'time': 9.0,
         'step': 10},  # validation: its time is not training time
        dict(loss=3.0, time=1.5, step=20),
        {'hqvis/mask_AP': 0.4, 'hqvis/boundary_AP': 0.3, 'step': 20},
    ]
    assert load_script().curve(records) == [
        dict(iter=10, train_s=15.0, mask_AP=0.2, boundary_AP=0.1),
        dict(iter=20, train_s=30.0, mask_AP=0.4, boundary_AP=0.3)]


def test_bad_arguments_are_one_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, SCRIPT, '--work-dir', str(tmp_path), '--iters', '4',
         '--val-every', '8'], capture_output=True, text=True)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    assert 'error: --val-every must not exceed --iters' in proc.stderr
