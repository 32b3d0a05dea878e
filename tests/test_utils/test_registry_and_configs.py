# Copyright (c) mmvmt contributors.
"""Registries, configs and the command-line tools."""
import glob
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from mmvmt import registry
from ..conftest import ROOT

REGISTRIES = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'DATASETS',
    'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS',
    'WEIGHT_INITIALIZERS', 'OPTIMIZERS', 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'METRICS',
    'TASK_UTILS', 'VISUALIZERS', 'VISBACKENDS', 'LOG_PROCESSORS'
]


@pytest.mark.parametrize('name', REGISTRIES)
def test_registry_is_child_of_mmdet(name):
    import mmdet.registry
    reg = getattr(registry, name)
    assert reg.parent is getattr(mmdet.registry, name)
    assert reg.scope == 'mmvmt'


def test_registries_resolve_mmdet_and_mmvmt_names():
    assert registry.MODELS.get('VMT').__module__.startswith('mmvmt')
    assert registry.MODELS.get('ChannelMapper').__module__.startswith(
        'mmdet')
    assert registry.MODELS.get('FrozenBN') is not None
    assert registry.METRICS.get('HQYTVISMetric') is not None
    assert registry.DATASETS.get('HQYTVISDataset') is not None
    assert registry.TRANSFORMS.get('PackTrackInputs') is not None
    assert registry.TRANSFORMS.get('ShortSideResize') is not None
    assert registry.TASK_UTILS.get('HungarianAssigner') is not None


CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True))


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_config_loads(path):
    cfg = Config.fromfile(path)
    if 'model' in cfg and osp.dirname(path).endswith('vmt'):
        assert cfg.default_scope == 'mmvmt'
        assert cfg.model.type == 'VMT'


@pytest.mark.parametrize('tool', ['train.py', 'test.py'])
def test_tool_help(tool):
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', tool), '--help'],
        capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for flag in ('--work-dir', '--cfg-options', '--launcher'):
        assert flag in proc.stdout


def test_unknown_cfg_option_is_rejected():
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'test.py'),
        osp.join(ROOT, 'configs', 'vmt', 'vmt_r50.py'), 'none.pth',
        '--cfg-options', 'modle.num_queries=3'
    ], capture_output=True, text=True)
    assert proc.returncode == 2
    assert 'unknown config key "modle"; did you mean "model"' in proc.stderr
