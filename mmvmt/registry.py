# Copyright (c) mmvmt contributors.
"""mmvmt registries: children of mmdet's, so configs with
``default_scope='mmvmt'`` find mmvmt components first and fall back to mmdet
(and through mmdet to mmengine/mmcv). ``locations`` let the registries
import the mmvmt sub-package that defines a name on first use."""
import mmdet.registry as mmdet_registry
from mmengine.registry import Registry


def _child(name: str, parent: Registry, package: str) -> Registry:
    return Registry(name, parent=parent, locations=[f'mmvmt.{package}'])


RUNNERS = _child('runner', mmdet_registry.RUNNERS, 'engine')
RUNNER_CONSTRUCTORS = _child('runner constructor',
                             mmdet_registry.RUNNER_CONSTRUCTORS, 'engine')
LOOPS = _child('loop', mmdet_registry.LOOPS, 'engine')
HOOKS = _child('hook', mmdet_registry.HOOKS, 'engine')
DATASETS = _child('dataset', mmdet_registry.DATASETS, 'datasets')
DATA_SAMPLERS = _child('data sampler', mmdet_registry.DATA_SAMPLERS,
                       'datasets')
TRANSFORMS = _child('transform', mmdet_registry.TRANSFORMS, 'datasets')
MODELS = _child('model', mmdet_registry.MODELS, 'models')
MODEL_WRAPPERS = _child('model_wrapper', mmdet_registry.MODEL_WRAPPERS,
                        'models')
WEIGHT_INITIALIZERS = _child('weight initializer',
                             mmdet_registry.WEIGHT_INITIALIZERS, 'models')
OPTIMIZERS = _child('optimizer', mmdet_registry.OPTIMIZERS, 'engine')
OPTIM_WRAPPERS = _child('optim_wrapper', mmdet_registry.OPTIM_WRAPPERS,
                        'engine')
OPTIM_WRAPPER_CONSTRUCTORS = _child(
    'optimizer wrapper constructor',
    mmdet_registry.OPTIM_WRAPPER_CONSTRUCTORS, 'engine')
PARAM_SCHEDULERS = _child('parameter scheduler',
                          mmdet_registry.PARAM_SCHEDULERS, 'engine')
METRICS = _child('metric', mmdet_registry.METRICS, 'evaluation.metrics')
TASK_UTILS = _child('task util', mmdet_registry.TASK_UTILS, 'models')
VISUALIZERS = _child('visualizer', mmdet_registry.VISUALIZERS,
                     'visualization')
VISBACKENDS = _child('vis_backend', mmdet_registry.VISBACKENDS,
                     'visualization')
LOG_PROCESSORS = _child('log_processor', mmdet_registry.LOG_PROCESSORS,
                        'engine')
