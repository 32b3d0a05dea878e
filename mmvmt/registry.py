# Copyright (c) mmvmt contributors.
"""mmvmt registries: children of mmdet's, so configs with
``default_scope='mmvmt'`` find mmvmt components first and fall back to mmdet
(and through mmdet to mmengine/mmcv)."""
from mmdet.registry import DATA_SAMPLERS as MMDET_DATA_SAMPLERS
from mmdet.registry import DATASETS as MMDET_DATASETS
from mmdet.registry import HOOKS as MMDET_HOOKS
from mmdet.registry import LOG_PROCESSORS as MMDET_LOG_PROCESSORS
from mmdet.registry import LOOPS as MMDET_LOOPS
from mmdet.registry import METRICS as MMDET_METRICS
from mmdet.registry import MODEL_WRAPPERS as MMDET_MODEL_WRAPPERS
from mmdet.registry import MODELS as MMDET_MODELS
from mmdet.registry import OPTIM_WRAPPER_CONSTRUCTORS as \
    MMDET_OPTIM_WRAPPER_CONSTRUCTORS
from mmdet.registry import OPTIM_WRAPPERS as MMDET_OPTIM_WRAPPERS
from mmdet.registry import OPTIMIZERS as MMDET_OPTIMIZERS
from mmdet.registry import PARAM_SCHEDULERS as MMDET_PARAM_SCHEDULERS
from mmdet.registry import RUNNER_CONSTRUCTORS as MMDET_RUNNER_CONSTRUCTORS
from mmdet.registry import RUNNERS as MMDET_RUNNERS
from mmdet.registry import TASK_UTILS as MMDET_TASK_UTILS
from mmdet.registry import TRANSFORMS as MMDET_TRANSFORMS
from mmdet.registry import VISBACKENDS as MMDET_VISBACKENDS
from mmdet.registry import VISUALIZERS as MMDET_VISUALIZERS
from mmdet.registry import \
    WEIGHT_INITIALIZERS as MMDET_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

RUNNERS = Registry('runner', parent=MMDET_RUNNERS, locations=['mmvmt.engine'])
RUNNER_CONSTRUCTORS = Registry(
    'runner constructor',
    parent=MMDET_RUNNER_CONSTRUCTORS,
    locations=['mmvmt.engine'])
LOOPS = Registry('loop', parent=MMDET_LOOPS, locations=['mmvmt.engine'])
HOOKS = Registry('hook', parent=MMDET_HOOKS, locations=['mmvmt.engine'])
DATASETS = Registry(
    'dataset', parent=MMDET_DATASETS, locations=['mmvmt.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMDET_DATA_SAMPLERS, locations=['mmvmt.datasets'])
TRANSFORMS = Registry(
    'transform', parent=MMDET_TRANSFORMS, locations=['mmvmt.datasets'])
MODELS = Registry('model', parent=MMDET_MODELS, locations=['mmvmt.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper', parent=MMDET_MODEL_WRAPPERS, locations=['mmvmt.models'])
WEIGHT_INITIALIZERS = Registry(
    'weight initializer',
    parent=MMDET_WEIGHT_INITIALIZERS,
    locations=['mmvmt.models'])
OPTIMIZERS = Registry(
    'optimizer', parent=MMDET_OPTIMIZERS, locations=['mmvmt.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper', parent=MMDET_OPTIM_WRAPPERS, locations=['mmvmt.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMDET_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['mmvmt.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMDET_PARAM_SCHEDULERS,
    locations=['mmvmt.engine'])
METRICS = Registry(
    'metric', parent=MMDET_METRICS, locations=['mmvmt.evaluation'])
TASK_UTILS = Registry(
    'task util', parent=MMDET_TASK_UTILS, locations=['mmvmt.models'])
VISUALIZERS = Registry(
    'visualizer', parent=MMDET_VISUALIZERS,
    locations=['mmvmt.visualization'])
VISBACKENDS = Registry(
    'vis_backend', parent=MMDET_VISBACKENDS,
    locations=['mmvmt.visualization'])
LOG_PROCESSORS = Registry(
    'log_processor', parent=MMDET_LOG_PROCESSORS, locations=['mmvmt.engine'])
