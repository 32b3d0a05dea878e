# Copyright (c) mmvmt contributors.
"""Command-line pieces shared by ``tools/train.py`` and ``tools/test.py``."""
import argparse
import os
import os.path as osp
from typing import Optional

from mmengine.config import Config, DictAction

from .cli_errors import CLIError
from .config_keys import checked_options


# top-level keys mmengine's Runner/Config understand even when a config does
# not set them
RUNNER_KEYS = {
    'model', 'work_dir', 'train_dataloader', 'val_dataloader',
    'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg', 'auto_scale_lr',
    'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator',
    'default_hooks', 'custom_hooks', 'data_preprocessor', 'load_from',
    'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level',
    'visualizer', 'default_scope', 'randomness', 'experiment_name',
    'custom_imports', 'model_wrapper_cfg', 'runner_type', 'vis_backends'
}


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local-rank``.

    Args:
        parser (argparse.ArgumentParser): The parser to extend.
    """
    parser.add_argument(
        '--work-dir', help='the directory to save logs, checkpoints, results')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs merged into '
        'it, e.g. test_dataloader.dataset.data_root=data/foo/. Lists as '
        'key="[a,b]" or key=a,b, nested as key="[(a,b),(c,d)]" (quotes '
        'needed, no white space). Every key must exist in the config (or be '
        'an argument of the class its section builds); prefix a key with + '
        'to add a new one, e.g. +model.test_cfg.my_key=1.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed / torchrun pass --local-rank (or set LOCAL_RANK).
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args: argparse.Namespace) -> Config:
    """Read the config, merge ``--cfg-options`` and set launcher/work_dir.

    Every key of ``--cfg-options`` must name something in the config
    (:mod:`mmvmt.utils.config_keys`); ``+key=value`` adds a new key.

    Args:
        args (argparse.Namespace): Parsed arguments with ``config``,
            ``cfg_options``, ``launcher``, ``work_dir`` and ``local_rank``.

    Returns:
        Config: The merged config.

    Raises:
        CLIError: A missing or unreadable config, an unknown key.
    """
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if not osp.isfile(args.config):
        raise CLIError(f'config file not found: {args.config}')
    try:
        cfg = Config.fromfile(args.config)
    except (SyntaxError, ImportError, KeyError, NameError) as err:
        raise CLIError(f'cannot read config {args.config}: '
                       f'{type(err).__name__}: {err}') from None
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(
            checked_options(cfg, args.cfg_options, RUNNER_KEYS))
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def load_weights_strict(model, checkpoint: str) -> None:
    """Load a checkpoint into ``model`` requiring an exact key match.

    A checkpoint of another architecture (or not converted) is reported
    with the first differing keys instead of silently testing random
    weights.

    Args:
        model (nn.Module): The (possibly wrapped) model.
        checkpoint (str): Path of an mmengine checkpoint.
    """
    from mmengine.model import is_model_wrapper
    from mmengine.runner.checkpoint import _load_checkpoint

    if not osp.isfile(checkpoint):
        raise CLIError(f'checkpoint not found: {checkpoint}')
    if is_model_wrapper(model):
        model = model.module
    ckpt = _load_checkpoint(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    if not isinstance(state, dict):
        raise CLIError(f'{checkpoint} holds no state dict')
    state = {k[7:] if k.startswith('module.') else k: v
             for k, v in state.items()}
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong_shape = sorted(k for k in set(own) & set(state)
                         if tuple(own[k].shape) != tuple(state[k].shape))
    if missing or unexpected or wrong_shape:
        hint = ''
        if any(k.startswith('detr.') for k in unexpected):
            hint = (' It looks like a released VMT checkpoint: convert it '
                    'with tools/model_converters/vmt_to_mmvmt.py first.')
        raise CLIError(
            f'checkpoint {checkpoint} does not fit this config: '
            f'{len(missing)} missing keys {missing[:3]}, {len(unexpected)} '
            f'unexpected keys {unexpected[:3]}, {len(wrong_shape)} keys '
            f'with another shape {wrong_shape[:3]}.{hint}')
    model.load_state_dict(state, strict=True)


def apply_test_data_overrides(cfg, args: argparse.Namespace) -> None:
    """``--data-root`` / ``--ann-file`` / ``--short-side`` /
    ``--format-only`` shortcuts of ``tools/test.py``.

    ``--data-root DIR`` points the test set at a YouTube-VIS style folder
    (``DIR/JPEGImages/<video>/<frame>.jpg`` and ``DIR/<ann-file>``).
    ``--format-only`` writes ``results.json`` and ``submission_file.zip``
    into the work dir instead of evaluating.
    """
    dataset = cfg.test_dataloader.dataset
    evaluator = cfg.test_evaluator
    if args.data_root is not None:
        if not osp.isdir(args.data_root):
            raise CLIError(f'data root not found: {args.data_root}')
        dataset.data_root = args.data_root
        dataset.ann_file = args.ann_file
        dataset.data_prefix = dict(img_path='JPEGImages/')
        evaluator.ann_file = osp.join(args.data_root, args.ann_file)
    if args.short_side is not None:
        for step in dataset.pipeline:
            for t in step.get('transforms', [step]):
                if t.get('type') == 'ShortSideResize':
                    t['short_side'] = args.short_side
    if args.format_only:
        evaluator.format_only = True
        evaluator.outfile_prefix = cfg.work_dir


def report_json(report: dict, out: Optional[str] = None) -> None:
    """Print a benchmark report as JSON and optionally write it to ``out``
    (atomically)."""
    import json

    from .atomic_io import dump_json_atomic
    print(json.dumps(report, indent=1))
    if out:
        dump_json_atomic(report, out, indent=1)


def init_cpu_distributed(cfg) -> None:
    """Start the process group on CPU-only machines for ``--launcher
    pytorch``.

    mmengine 0.10.7's pytorch launcher calls ``torch.cuda.set_device``
    unconditionally, which fails without CUDA. Where CUDA is unavailable the
    group is started here with the config's backend (``gloo`` on CPU) and
    mmengine's Runner then skips its own initialisation.
    """
    import torch
    import torch.distributed as torch_dist
    if cfg.get('launcher', 'none') != 'pytorch' or \
            torch.cuda.is_available() or torch_dist.is_initialized():
        return
    dist_cfg = dict(cfg.get('env_cfg', {}).get('dist_cfg', {}))
    backend = dist_cfg.pop('backend', 'gloo')
    if backend == 'nccl':
        raise CLIError('the nccl backend needs CUDA; on CPU set '
                       '--cfg-options env_cfg.dist_cfg.backend=gloo')
    torch_dist.init_process_group(backend=backend, **dist_cfg)
