# Copyright (c) mmvmt contributors.
"""mmengine metric for HQ-YTVIS: Tube-Mask AP and Tube-Boundary AP."""
import os
import os.path as osp
import tempfile
import zipfile
from typing import Dict, List, Optional, Sequence

import mmengine
from mmdet.evaluation.metrics.base_video_metric import BaseVideoMetric
from mmengine.logging import MMLogger, print_log

from mmvmt.registry import METRICS
from mmvmt.utils.atomic_io import atomic_outputs
from ..functional import (STAT_NAMES, HQVISEvaluator, HQVISInputError,
                          TubeCollector)

_METRIC_NAMES = {'segm': 'mask', 'boundary': 'boundary'}


@METRICS.register_module()
class HQYTVISMetric(BaseVideoMetric):
    """Tube-Mask AP (``segm``) and Tube-Boundary AP (``boundary``).

    Predictions are collected per video from the frames'
    ``pred_track_instances`` (``masks`` (N, H, W) at the original size,
    ``scores``, ``labels`` (0-based), ``instances_id``). Every instance id
    becomes one result tube: its score is the mean of its per-frame scores,
    its category the id of the most frequent label and frames without the id
    are ``None``. Labels are mapped to category ids as mmdet's
    ``CocoMetric`` does: through the names of ``dataset_meta['classes']``
    in the ``ann_file``'s categories (so a dataset restricted to a subset
    of classes writes the right ids); without ``dataset_meta`` or
    categories in the file, label ``l`` is category ``l + 1``. Evaluation
    uses :class:`HQVISEvaluator` against the GT json ``ann_file`` (the
    reference evaluator's semantics); works on HQ-YTVIS and YTVIS-2019/2021
    files (use ``iou_types=('segm',)`` where boundary AP is not wanted).

    Args:
        ann_file (str, optional): GT json. Required unless ``format_only``.
        iou_types (Sequence[str]): Modes to evaluate. Defaults to
            ``('segm', 'boundary')``.
        format_only (bool): Only write the results. Defaults to False.
        outfile_prefix (str, optional): Write ``{prefix}/results.json`` and
            ``{prefix}/submission_file.zip`` (containing ``results.json``).
            With ``format_only`` and no prefix, a temporary folder is used.
            Defaults to None.
        null_score_thr (float): Tubes scoring below this get ``None`` on
            every frame, as the released VMT writer does. Defaults to 0.001.
        workers (int): Evaluator processes. Defaults to 0.
        temporal_stability (bool): Also report ``temporal_flicker`` (and
            ``temporal_pairs``), mmvmt's temporal stability statistic
            (:mod:`~mmvmt.evaluation.functional.temporal_stability`), not
            one of the reference stats. Defaults to False.
        collect_device (str): ``'cpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Metric name prefix. Defaults to ``'hqvis'``.
    """
    default_prefix: Optional[str] = 'hqvis'

    def __init__(self,
                 ann_file: Optional[str] = None,
                 iou_types: Sequence[str] = ('segm', 'boundary'),
                 format_only: bool = False,
                 outfile_prefix: Optional[str] = None,
                 null_score_thr: float = 0.001,
                 workers: int = 0,
                 temporal_stability: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        unknown = set(iou_types) - set(_METRIC_NAMES)
        if unknown:
            raise ValueError(f'unknown iou_types {sorted(unknown)}; use '
                             f'{sorted(_METRIC_NAMES)}')
        if not format_only and ann_file is None:
            raise ValueError('HQYTVISMetric needs ann_file (the GT json) '
                             'unless format_only=True')
        self.ann_file = ann_file
        self.iou_types = tuple(iou_types)
        self.format_only = format_only
        self.outfile_prefix = outfile_prefix
        self.null_score_thr = null_score_thr
        self.workers = workers
        self.temporal_stability = temporal_stability
        self.cat_ids: Optional[List[int]] = None

    @property
    def dataset_meta(self) -> Optional[dict]:
        """Meta information of the dataset (set by the runner); setting it
        maps its ``classes`` to the ``ann_file``'s category ids."""
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: Optional[dict]) -> None:
        self._dataset_meta = dataset_meta
        self.cat_ids = self._category_ids(dataset_meta)

    def _category_ids(self, dataset_meta: Optional[dict]
                      ) -> Optional[List[int]]:
        classes = (dataset_meta or {}).get('classes')
        if not classes or self.ann_file is None:
            return None
        from ..functional.hqvis_data import read_json
        categories = read_json(self.ann_file, 'annotation').get(
            'categories') or []
        name2id = {c['name']: c['id'] for c in categories}
        if not name2id:
            return None
        missing = [c for c in classes if c not in name2id]
        if missing:
            raise HQVISInputError(f'{self.ann_file}: classes {missing} of '
                                  'the dataset are not among its categories')
        return [name2id[c] for c in classes]

    def process_video(self, data_samples: Sequence) -> None:
        """Turn one video's per-frame predictions into YTVIS result tubes.

        Args:
            data_samples (Sequence[:obj:`DetDataSample`]): The frames.
        """
        num_frames = len(data_samples)
        first = data_samples[0]
        # the released writer stores the first 10 characters of the first
        # frame's file name (the YouTube-VIS video folder name)
        file_name = first.metainfo.get('file_name') or osp.relpath(
            first.metainfo.get('img_path', ''))
        collector = TubeCollector(num_frames, first.metainfo['video_id'],
                                  self.cat_ids)
        for t, sample in enumerate(data_samples):
            collector.add(t, sample.pred_track_instances)
        results = collector.results(
            self.null_score_thr, video_name=file_name[:10])
        self.results.append(results)

    def save_results(self, results: List[dict]) -> str:
        """Write ``results.json`` and ``submission_file.zip``.

        Returns:
            str: The folder written to.
        """
        out_dir = self.outfile_prefix
        if out_dir is None:
            out_dir = tempfile.mkdtemp(prefix='mmvmt_results_')
        os.makedirs(out_dir, exist_ok=True)
        json_path = osp.join(out_dir, 'results.json')
        zip_path = osp.join(out_dir, 'submission_file.zip')
        # both appear together, complete, or neither does
        with atomic_outputs(json_path, zip_path) as (json_tmp, zip_tmp):
            mmengine.dump(results, json_tmp, file_format='json')
            with zipfile.ZipFile(zip_tmp, 'w', zipfile.ZIP_DEFLATED) as zf:
                zf.write(json_tmp, 'results.json')
        print_log(f'results written to {json_path} and {zip_path}',
                  logger=MMLogger.get_current_instance())
        return out_dir

    def compute_metrics(self, results: List) -> Dict[str, float]:
        """Evaluate all collected videos.

        Returns:
            dict[str, float]: ``boundary_AP``, ``boundary_AP50``, ...,
            ``mask_AP``, ... (fractions, -1 where undefined).
        """
        all_results = [r for video in results for r in video]
        if self.format_only or self.outfile_prefix is not None:
            self.save_results(all_results)
        if self.format_only:
            return dict()
        evaluator = HQVISEvaluator(
            self.ann_file, all_results, workers=self.workers)
        metrics = {}
        for iou_type in sorted(self.iou_types):  # boundary, then segm
            stats = evaluator.evaluate(iou_type)
            for name in STAT_NAMES:
                metrics[f'{_METRIC_NAMES[iou_type]}_{name}'] = stats[name]
        if self.temporal_stability:
            from mmvmt.evaluation.functional.temporal_stability import \
                temporal_flicker
            metrics.update(temporal_flicker(evaluator.data))
        return metrics
