# Copyright (c) mmvmt contributors.
"""Registration of all mmvmt modules and the default scope."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every mmvmt (and mmdet) module so that registries are filled.

    Args:
        init_default_scope (bool): Whether to set the default scope to
            ``'mmvmt'``, so that configs find mmvmt components first and
            mmdet/mmengine ones through the parent registries.
            Defaults to True.
    """
    from mmdet.utils import register_all_modules as mmdet_register_all
    mmdet_register_all(init_default_scope=False)

    import mmvmt.apis  # noqa: F401,F403
    import mmvmt.datasets  # noqa: F401,F403
    import mmvmt.engine  # noqa: F401,F403
    import mmvmt.evaluation.metrics  # noqa: F401,F403
    import mmvmt.models  # noqa: F401,F403
    import mmvmt.visualization  # noqa: F401,F403

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None:
        DefaultScope.get_instance('mmvmt', scope_name='mmvmt')
    elif current.scope_name != 'mmvmt':
        warnings.warn(f'The current default scope "{current.scope_name}" '
                      'is not "mmvmt"; a new scope "mmvmt" is created.')
        new_name = f'mmvmt-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_name, scope_name='mmvmt')
