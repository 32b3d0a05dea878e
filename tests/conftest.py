# Copyright (c) mmvmt contributors.
import os.path as osp

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED = osp.join(osp.dirname(ROOT), 'shared')
DATA = osp.join(ROOT, 'tests', 'data')


def shared_path(*parts: str) -> str:
    """Path inside ../shared; skips the test if the kit is not there."""
    path = osp.join(SHARED, *parts)
    if not osp.exists(path):
        pytest.skip(f'needs the shared kit ({path}) beside the checkout')
    return path


@pytest.fixture(scope='session', autouse=True)
def _register():
    from mmvmt.utils import register_all_modules
    register_all_modules()
