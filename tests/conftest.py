# Copyright (c) mmvmt contributors.
import os.path as osp

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED = osp.join(osp.dirname(ROOT), 'shared')
DATA = osp.join(ROOT, 'tests', 'data')


def shared_path(*parts: str) -> str:
    """Path inside ../shared (beside the checkout, in CI too); a missing kit
    fails the test instead of silently skipping the parity checks."""
    path = osp.join(SHARED, *parts)
    if not osp.exists(path):
        pytest.fail(f'the shared kit is missing: {path} (expected beside '
                    'the checkout)')
    return path


@pytest.fixture(scope='session', autouse=True)
def _register():
    from mmvmt.utils import register_all_modules
    register_all_modules()
