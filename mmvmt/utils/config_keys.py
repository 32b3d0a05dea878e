# Copyright (c) mmvmt contributors.
"""Checking the keys of ``--cfg-options`` against the config.

mmengine merges ``--cfg-options a.b.c=v`` into the config whether or not
``a.b.c`` exists, so a typo is either silently ignored (a key nobody reads)
or fails deep inside a build with a ``TypeError``. Here every dotted key
must name something that exists: a key of the config, or an argument of
the registered class a ``type=`` section builds, or one of the few keys
mmengine's Runner reads from sections without a ``type``
(:data:`UNTYPED_SECTION_KEYS`). mmengine's own override syntax keeps
working: keys under a section replaced with ``X._delete_=True`` are new by
definition, and a section whose ``X.type`` is overridden is checked against
the new type. A key written with a leading ``+``
(``+model.test_cfg.my_key=1``) is added as new on purpose.
"""
import difflib
import inspect
from typing import Any, Dict, Iterable, List, Optional, Set

from .cli_errors import CLIError

NEW_KEY_PREFIX = '+'
DELETE_KEY = '_delete_'

# Keys of type-less sections that mmengine 0.10.7's Runner reads:
# ``Runner.set_randomness(seed, diff_rank_seed, deterministic)``,
# ``Runner.setup_env`` (``cudnn_benchmark``, ``mp_cfg``, ``dist_cfg``,
# ``resource_limit``), ``set_multi_processing(mp_start_method,
# opencv_num_threads)`` and ``Runner.scale_lr`` (``enable``,
# ``base_batch_size``).
UNTYPED_SECTION_KEYS = {
    'randomness': {'seed', 'diff_rank_seed', 'deterministic'},
    'env_cfg': {'cudnn_benchmark', 'mp_cfg', 'dist_cfg', 'resource_limit'},
    'env_cfg.mp_cfg': {'mp_start_method', 'opencv_num_threads'},
    'auto_scale_lr': {'enable', 'base_batch_size'},
}


def _registries() -> List[Any]:
    from mmengine.registry import Registry

    import mmvmt.registry as registry
    return [v for v in vars(registry).values() if isinstance(v, Registry)]


def constructor_args(section: Any) -> Set[str]:
    """Names of the arguments the class of a ``type=`` section accepts.

    Follows ``**kwargs`` up the class hierarchy (a class passing its
    keyword arguments to its base accepts the base's too). Empty when the
    section has no resolvable ``type``.

    Args:
        section (dict): A config section.

    Returns:
        set[str]: Argument names.
    """
    obj_type = section.get('type') if hasattr(section, 'get') else None
    cls = obj_type if inspect.isclass(obj_type) else None
    if isinstance(obj_type, str):
        for registry in _registries():
            try:
                cls = registry.get(obj_type)
            except Exception:  # noqa: BLE001 (a scope that cannot import)
                cls = None
            if cls is not None:
                break
    if cls is None or not inspect.isclass(cls):
        return set()
    names: Set[str] = set()
    for klass in cls.__mro__:
        if '__init__' not in vars(klass):
            continue
        params = inspect.signature(vars(klass)['__init__']).parameters
        names.update(n for n, p in params.items()
                     if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
            break
    names.discard('self')
    return names


def _closest(name: str, candidates: Iterable[str], prefix: str) -> str:
    close = difflib.get_close_matches(name, sorted(candidates), n=1,
                                      cutoff=0.6)
    return f'; did you mean "{prefix}{close[0]}"?' if close else ''


def check_key(cfg: Any,
              key: str,
              top_level_extra: Iterable[str] = (),
              new_types: Optional[Dict[str, Any]] = None) -> Optional[str]:
    """Why a dotted ``--cfg-options`` key names nothing (None if it does).

    Args:
        cfg (Config | dict): The config.
        key (str): Dotted key, e.g. ``'model.bbox_head.num_classes'``.
        top_level_extra (Iterable[str]): Top-level keys accepted although
            the config lacks them (those mmengine's Runner reads).
        new_types (dict, optional): Section path -> the ``type`` the same
            options give it (its arguments are accepted). Defaults to None.

    Returns:
        str | None: The problem, naming the key and the closest key.
    """
    node = cfg
    parts = key.split('.')
    for depth, part in enumerate(parts):
        here = '.'.join(parts[:depth + 1])
        if isinstance(node, (list, tuple)):
            if not part.isdigit() or int(part) >= len(node):
                return (f'"{here}": {".".join(parts[:depth])} is a list of '
                        f'{len(node)}, index it with 0..{len(node) - 1}')
            node = node[int(part)]
            continue
        if not hasattr(node, 'keys'):
            return (f'"{here}": {".".join(parts[:depth])} is a value, not a '
                    'section')
        if part in node:
            node = node[part]
            continue
        section = '.'.join(parts[:depth])
        if depth == 0:
            allowed = set(top_level_extra)
        elif new_types and section in new_types:
            allowed = constructor_args({'type': new_types[section]})
        else:
            allowed = constructor_args(node) | UNTYPED_SECTION_KEYS.get(
                section, set())
        if part in allowed:
            return None  # an argument the config leaves at its default
        hint = _closest(part, set(node.keys()) | allowed,
                        here[:-len(part)])
        return (f'unknown config key "{here}"{hint} (write '
                f'"{NEW_KEY_PREFIX}{key}=..." to add a new key)')
    return None


def checked_options(cfg: Any, options: Dict[str, Any],
                    top_level_extra: Iterable[str] = ()) -> Dict[str, Any]:
    """``options`` with every key checked by :func:`check_key`; keys marked
    new (leading ``+``) are passed on without the mark.

    Raises:
        CLIError: A key that names nothing in the config.
    """
    deleted = [k[:-len(DELETE_KEY)] for k in options
               if k.endswith('.' + DELETE_KEY)]
    new_types = {k[:-len('.type')]: v for k, v in options.items()
                 if k.endswith('.type')}
    out = {}
    for key, value in options.items():
        if key.startswith(NEW_KEY_PREFIX):
            out[key[len(NEW_KEY_PREFIX):]] = value
            continue
        if any(key.startswith(prefix) for prefix in deleted):
            out[key] = value  # the section is replaced: all keys are new
            continue
        problem = check_key(cfg, key, top_level_extra, new_types)
        if problem:
            raise CLIError(f'--cfg-options: {problem}')
        out[key] = value
    return out
