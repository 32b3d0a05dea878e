# Copyright (c) mmvmt contributors.
"""Every CLI turns bad input into one ``error:`` line and exit code 2:
checkpoints (truncated, empty, garbage, plain pickle, malicious), dataset
errors (missing and corrupt frames, missing annotation file) and mistyped
``--cfg-options`` keys, run as subprocesses."""
import os
import os.path as osp

import pytest

from mmvmt.utils.cli_errors import CLIError, one_line, run_cli
from ..bad_inputs import (TOY_CONFIG, assert_one_line_error, bad_checkpoints,
                          run_tool, toy_checkpoint, ytvis_folder)

TEST = 'tools/test.py'
TRAIN = 'tools/train.py'


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('cli')
    good = toy_checkpoint(str(tmp / 'good.pth'))
    mark = str(tmp / 'pwned')
    return dict(good=good, mark=mark, tmp=tmp,
                **bad_checkpoints(str(tmp), good, mark))


@pytest.mark.parametrize('kind,needle', [
    ('truncated', 'truncated, corrupt or not a torch checkpoint'),
    ('empty', 'empty or ends too early'),
    ('garbage', 'truncated, corrupt or not a torch checkpoint'),
    ('plain_pickle', 'not a torch checkpoint that loads with weights_only'),
    ('malicious', 'outside the allow-list'),
])
def test_test_py_bad_checkpoint(files, kind, needle, tmp_path):
    proc = run_tool(TEST, TOY_CONFIG, files[kind], '--work-dir',
                    str(tmp_path / 'w'))
    assert_one_line_error(proc, needle, files[kind])
    assert not osp.exists(files['mark']), 'the payload ran'


def test_test_py_dataset_errors(files, tmp_path):
    root = ytvis_folder(str(tmp_path / 'data'))
    common = [TOY_CONFIG, files['good'], '--data-root', root, '--ann-file',
              'valid.json', '--format-only', '--short-side', '64']
    # a corrupt JPEG, read inside a DataLoader worker process
    bad = osp.join(root, 'JPEGImages', 'v0', '00001.jpg')
    with open(bad, 'wb') as f:
        f.write(b'\xff\xd8 not really a jpeg')
    work = str(tmp_path / 'w1')
    proc = run_tool(TEST, *common, '--work-dir', work, '--cfg-options',
                    'test_dataloader.num_workers=1')
    assert_one_line_error(proc, 'cannot decode frame', bad)
    assert not osp.exists(osp.join(work, 'results.json'))
    # a listed frame that is missing
    os.remove(bad)
    proc = run_tool(TEST, *common, '--work-dir', str(tmp_path / 'w2'))
    assert_one_line_error(proc, 'v0/00001.jpg')


def test_train_and_browse_dataset_errors(tmp_path):
    missing = str(tmp_path / 'nowhere')
    proc = run_tool(TRAIN, TOY_CONFIG, '--work-dir', str(tmp_path / 'w'),
                    '--cfg-options',
                    f'train_dataloader.dataset.data_root={missing}/')
    assert_one_line_error(proc, 'annotation file not found', missing)
    # browse_dataset reads the config's data/toy relative to the cwd
    proc = run_tool('tools/analysis_tools/browse_dataset.py', TOY_CONFIG,
                    '--output-dir', str(tmp_path / 'b'), cwd=str(tmp_path))
    assert_one_line_error(proc, 'annotation file not found')
    proc = run_tool('tools/analysis_tools/browse_dataset.py',
                    str(tmp_path / 'no_config.py'), '--output-dir',
                    str(tmp_path / 'b'))
    assert_one_line_error(proc, 'config file not found')


def test_mistyped_cfg_options(files, tmp_path):
    base = [TOY_CONFIG, str(tmp_path / 'no_ckpt.pth'), '--work-dir',
            str(tmp_path / 'w'), '--cfg-options']
    proc = run_tool(TEST, *base, 'model.bbox_head.num_clases=3')
    assert_one_line_error(proc, 'model.bbox_head.num_clases',
                          'did you mean "model.bbox_head.num_classes"')
    proc = run_tool(TEST, *base, 'model.test_cfg.mask_thres=0.4')
    assert_one_line_error(proc, 'model.test_cfg.mask_thres',
                          'did you mean "model.test_cfg.mask_thr"')
    proc = run_tool(TRAIN, TOY_CONFIG, '--work-dir', str(tmp_path / 'w'),
                    '--cfg-options', 'optim_wrapper.optimizer.lrr=1')
    assert_one_line_error(proc, 'optim_wrapper.optimizer.lr"')
    # a new key on purpose is accepted (the run then stops at the checkpoint)
    proc = run_tool(TEST, *base, '+model.test_cfg.my_new_key=1',
                    'model.test_cfg.mask_thr=0.4')
    assert_one_line_error(proc, 'checkpoint not found')


def test_converter_bad_checkpoint(files, tmp_path):
    out = str(tmp_path / 'out.pth')
    for kind in ('truncated', 'malicious'):
        proc = run_tool('tools/model_converters/vmt_to_mmvmt.py',
                        files[kind], out)
        assert_one_line_error(proc, files[kind])
        assert not osp.exists(out)
    assert not osp.exists(files['mark'])


def test_run_cli_maps_only_known_errors(capsys):

    def bad_input():
        raise CLIError('no such thing')

    assert run_cli(bad_input) == 2
    assert capsys.readouterr().err == 'error: no such thing\n'

    def exits():
        raise SystemExit('error: already formatted')

    assert run_cli(exits) == 2
    assert capsys.readouterr().err == 'error: already formatted\n'

    def bug():
        raise ZeroDivisionError('a bug keeps its traceback')

    with pytest.raises(ZeroDivisionError):
        run_cli(bug)


def test_one_line_of_a_dataloader_worker_error():
    from mmvmt.datasets import DatasetError
    wrapped = DatasetError(
        'Caught DatasetError in DataLoader worker process 0.\n'
        'Original Traceback (most recent call last):\n'
        '  File "x.py", line 1, in <module>\n'
        'mmvmt.datasets.hq_ytvis.DatasetError: video 3: frame a.jpg: gone')
    assert one_line(wrapped) == 'video 3: frame a.jpg: gone'
    assert one_line(ValueError('')) == 'ValueError'
