# Copyright (c) mmvmt contributors.
"""``tools/test.py --out``: raw predictions to a pickle, written whole."""
from mmengine.evaluator import DumpResults
from mmengine.fileio import dump
from mmengine.logging import print_log

from mmvmt.registry import METRICS
from mmvmt.utils.atomic_io import atomic_outputs, check_out_dir


@METRICS.register_module()
class AtomicDumpResults(DumpResults):
    """mmengine's :class:`DumpResults` that writes the pickle through a
    temporary file moved into place when complete, so a failure never
    leaves a truncated file. The output folder must exist (checked when
    the metric is built, before any prediction is made).

    Args:
        out_file_path (str): ``.pkl`` or ``.pickle`` file.
        collect_device (str): As for :class:`DumpResults`.
            Defaults to ``'cpu'``.
    """

    def __init__(self, out_file_path: str,
                 collect_device: str = 'cpu') -> None:
        super().__init__(out_file_path, collect_device)
        check_out_dir(out_file_path)

    def compute_metrics(self, results: list) -> dict:
        """Dump ``results`` atomically; no metric is computed."""
        with atomic_outputs(self.out_file_path) as (tmp, ):
            dump(results, tmp, file_format='pkl')
        print_log(f'Results has been saved to {self.out_file_path}.',
                  logger='current')
        return {}
