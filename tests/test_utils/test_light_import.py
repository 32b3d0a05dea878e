# Copyright (c) mmvmt contributors.
"""``import mmvmt`` is light, and secure checkpoint loading is still set up
before mmengine's runner can load anything."""
import subprocess
import sys

SCRIPT = '''
import sys
import mmvmt.evaluation.functional
heavy = sorted(m for m in ('torch', 'mmcv', 'mmdet', 'mmengine.runner')
               if m in sys.modules)
assert not heavy, f'the evaluator imported {heavy}'
from mmengine.runner.checkpoint import CheckpointLoader
assert getattr(CheckpointLoader, '_mmvmt_safe_load_patched', False)
import torch
from mmengine.logging.history_buffer import HistoryBuffer
assert HistoryBuffer in torch.serialization.get_safe_globals()
from mmvmt.evaluation import HQYTVISMetric
from mmvmt.evaluation.functional import TubeCollector
print('ok')
'''


def test_evaluator_import_is_torch_free_and_loading_is_secured():
    out = subprocess.run([sys.executable, '-c', SCRIPT],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == 'ok'
