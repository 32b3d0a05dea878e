# Copyright (c) mmvmt contributors.
"""Run a callback once a module has been imported, without importing it.

``import mmvmt`` stays light (the HQ-YTVIS evaluator CLI needs only numpy,
OpenCV and pycocotools), yet set-up that patches a heavy dependency (the
secure checkpoint loading of :mod:`mmvmt.utils.safe_load`, which needs torch
and mmengine's runner) still happens before that dependency can be used.
"""
import importlib.abc
import importlib.util
import sys
from typing import Callable, Optional


class _AfterImportFinder(importlib.abc.MetaPathFinder):
    """Meta path entry that wraps one module's loader; removes itself."""

    def __init__(self, name: str, callback: Callable[[], None]) -> None:
        self.name = name
        self.callback = callback

    def find_spec(self, fullname: str, path: Optional[list] = None,
                  target: Optional[object] = None):
        if fullname != self.name:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        loader = getattr(spec, 'loader', None)
        if loader is None or not hasattr(loader, 'exec_module'):
            self.callback()  # cannot wrap: run now, before the import
            return spec
        exec_module = loader.exec_module
        callback = self.callback

        def exec_then_call(module) -> None:
            exec_module(module)
            callback()

        loader.exec_module = exec_then_call
        return spec


def call_after_import(name: str, callback: Callable[[], None]) -> None:
    """Call ``callback()`` right after module ``name`` has been executed
    (now, if it already has been).

    Args:
        name (str): Full module name, e.g. ``'mmengine.runner'``.
        callback (Callable): Run once, without arguments.
    """
    if name in sys.modules:
        callback()
    else:
        sys.meta_path.insert(0, _AfterImportFinder(name, callback))
