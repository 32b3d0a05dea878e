# Copyright (c) mmvmt contributors.
"""Bad inputs for the command-line tests: broken and malicious checkpoints,
a tiny YouTube-VIS folder, and running a CLI as a user does."""
import json
import os
import os.path as osp
import pickle
import subprocess
import sys
from typing import Dict, List

import cv2
import torch

from mmvmt.datasets.toy_generator import TOY_CLASSES, generate_video
from .conftest import ROOT

TOY_CONFIG = osp.join(ROOT, 'configs', 'vmt', 'vmt_r18_toy.py')


class EvilPayload:
    """Unpickles as ``os.system('touch MARK')``."""

    def __init__(self, mark: str) -> None:
        self.mark = mark

    def __reduce__(self):
        return (os.system, (f'touch {self.mark}', ))


def toy_checkpoint(path: str) -> str:
    """A valid checkpoint of the toy config (random weights)."""
    from mmengine.config import Config

    from mmvmt.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(TOY_CONFIG).model)
    torch.save({'state_dict': model.state_dict()}, path)
    return path


def bad_checkpoints(folder: str, good: str, mark: str) -> Dict[str, str]:
    """Truncated, empty, garbage, plain-pickle and malicious checkpoints.

    Args:
        folder (str): Where to write them.
        good (str): A valid checkpoint to truncate.
        mark (str): File the malicious one would create when loaded.
    """
    data = open(good, 'rb').read()
    files = {
        'truncated': data[:len(data) // 2],
        'empty': b'',
        'garbage': b'this is not a checkpoint\n' * 20,
        'plain_pickle': pickle.dumps({'state_dict': {}}, protocol=4),
    }
    out = {}
    for name, payload in files.items():
        out[name] = osp.join(folder, f'{name}.pth')
        with open(out[name], 'wb') as f:
            f.write(payload)
    out['malicious'] = osp.join(folder, 'malicious.pth')
    torch.save({'state_dict': {}, 'meta': EvilPayload(mark)},
               out['malicious'])
    return out


def ytvis_folder(root: str, num_frames: int = 2) -> str:
    """``root/JPEGImages/v0/*.jpg`` + ``root/valid.json`` (one toy video,
    no annotations)."""
    frames, _ = generate_video(0, 0, num_frames, 64, 96)
    os.makedirs(osp.join(root, 'JPEGImages', 'v0'), exist_ok=True)
    names = []
    for t, frame in enumerate(frames):
        names.append(f'v0/{t:05d}.jpg')
        cv2.imwrite(osp.join(root, 'JPEGImages', names[-1]), frame)
    meta = dict(
        videos=[dict(id=1, file_names=names, height=64, width=96,
                     length=num_frames)],
        categories=[dict(id=i + 1, name=n) for i, n in enumerate(TOY_CLASSES)],
        annotations=[])
    with open(osp.join(root, 'valid.json'), 'w') as f:
        json.dump(meta, f)
    return root


def run_tool(script: str, *args: str, cwd: str = ROOT
             ) -> subprocess.CompletedProcess:
    """Run ``python script args`` as a user would (no stdin)."""
    path = script if osp.isabs(script) else osp.join(ROOT, script)
    return subprocess.run([sys.executable, path, *args],
                          capture_output=True, text=True, cwd=cwd,
                          stdin=subprocess.DEVNULL)


def assert_one_line_error(proc: subprocess.CompletedProcess,
                          *needles: str) -> List[str]:
    """Exit code 2, no traceback, one ``error:`` line holding every
    needle."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-3000:])
    assert 'Traceback' not in proc.stderr, proc.stderr[-3000:]
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith('error:')]
    assert len(lines) == 1, proc.stderr[-3000:]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines
