# Copyright (c) mmvmt contributors.
"""Checkpoints from http(s):// (and the schemes that resolve to a URL) go
through the same allow-list as local files: served by a real HTTP server on
127.0.0.1 started and stopped by the test."""
import functools
import http.server
import os.path as osp
import threading

import pytest
import torch
from mmengine.model import BaseModule
from mmengine.runner import checkpoint as mm_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader
from torch import nn

import mmvmt  # noqa: F401  (installs the allow-list)
from mmvmt.utils import UnsafeCheckpointError
from mmvmt.utils.safe_load import CheckpointReadError
from ..bad_inputs import EvilPayload


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Serves tmp_path/www on 127.0.0.1; torch's hub cache in tmp_path."""
    www = tmp_path / 'www'
    www.mkdir()
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield www, f'http://127.0.0.1:{httpd.server_address[1]}'
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


class Tiny(BaseModule):

    def __init__(self, init_cfg=None):
        super().__init__(init_cfg)
        self.fc = nn.Linear(2, 1)


def test_good_remote_checkpoint_loads(server):
    www, url = server
    weights = {'fc.weight': torch.full((1, 2), 3.0), 'fc.bias': torch.ones(1)}
    torch.save({'state_dict': weights}, str(www / 'good.pth'))
    ckpt = CheckpointLoader.load_checkpoint(f'{url}/good.pth')
    assert torch.equal(ckpt['state_dict']['fc.weight'], weights['fc.weight'])
    # a backbone's init_cfg=dict(type='Pretrained') from the same URL
    model = Tiny(init_cfg=dict(type='Pretrained',
                               checkpoint=f'{url}/good.pth'))
    model.init_weights()
    assert torch.equal(model.fc.weight.data, weights['fc.weight'])


def test_malicious_remote_checkpoint_is_refused(server, tmp_path):
    www, url = server
    mark = str(tmp_path / 'pwned')
    torch.save({'state_dict': {}, 'meta': EvilPayload(mark)},
               str(www / 'evil.pth'))
    with pytest.raises(UnsafeCheckpointError, match='allow-list'):
        CheckpointLoader.load_checkpoint(f'{url}/evil.pth')
    # torchvision://, open-mmlab:// and mmcls:// resolve their names to a
    # URL and call this loader
    with pytest.raises(UnsafeCheckpointError):
        mm_checkpoint.load_from_http(f'{url}/evil.pth')
    model = Tiny(init_cfg=dict(type='Pretrained',
                               checkpoint=f'{url}/evil.pth'))
    with pytest.raises(UnsafeCheckpointError):
        model.init_weights()
    assert not osp.exists(mark), 'the payload must not have run'


def test_missing_remote_checkpoint_is_one_error(server):
    _, url = server
    with pytest.raises(CheckpointReadError, match='404'):
        CheckpointLoader.load_checkpoint(f'{url}/missing.pth')
