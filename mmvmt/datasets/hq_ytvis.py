# Copyright (c) mmvmt contributors.
"""HQ-YTVIS / YouTube-VIS datasets read straight from the YouTube-VIS json
(``videos`` with ``file_names``, tube ``annotations`` with per-frame
``segmentations``), no conversion step needed."""
import json
import os.path as osp
from typing import List, Sequence

from mmdet.datasets import BaseVideoDataset
from mmengine.fileio import get_local_path

from mmvmt.registry import DATASETS
from mmvmt.utils.cli_errors import UserInputError

YTVIS2019_CLASSES = (
    'person', 'giant_panda', 'lizard', 'parrot', 'skateboard', 'sedan', 'ape',
    'dog', 'snake', 'monkey', 'hand', 'rabbit', 'duck', 'cat', 'cow', 'fish',
    'train', 'horse', 'turtle', 'bear', 'motorbike', 'giraffe', 'leopard',
    'fox', 'deer', 'owl', 'surfboard', 'airplane', 'truck', 'zebra', 'tiger',
    'elephant', 'snowboard', 'boat', 'shark', 'mouse', 'frog', 'eagle',
    'earless_seal', 'tennis_racket')


class DatasetError(ValueError, UserInputError):
    """A dataset file or folder that cannot be used, with the reason."""


def _bbox_from_segm(segm, height: int, width: int):
    import pycocotools.mask as mask_utils
    if isinstance(segm, list):
        rle = mask_utils.merge(mask_utils.frPyObjects(segm, height, width))
    elif isinstance(segm.get('counts'), list):
        rle = mask_utils.frPyObjects(segm, height, width)
    else:
        rle = segm
    return [float(v) for v in mask_utils.toBbox(rle)]


def load_json(ann_file: str, keys: Sequence[str]) -> dict:
    """Read an annotation json, with one clear error for a missing file,
    invalid JSON or a missing top-level field."""
    try:
        with get_local_path(ann_file) as path:
            with open(path) as f:
                data = json.load(f)
    except FileNotFoundError:
        raise DatasetError(f'annotation file not found: {ann_file}')
    except json.JSONDecodeError as err:
        raise DatasetError(
            f'annotation file {ann_file} is not valid JSON: {err}')
    if not isinstance(data, dict):
        raise DatasetError(f'{ann_file}: expected a JSON object at the top')
    for key in keys:
        if key not in data:
            raise DatasetError(f'{ann_file}: missing top-level field "{key}"')
    return data


@DATASETS.register_module()
class HQYTVISDataset(BaseVideoDataset):
    """HQ-YTVIS (and YouTube-VIS 2019/2021) video dataset.

    Every item is a video whose ``images`` hold one entry per frame with
    ``img_path``, ``frame_id``, ``video_id``, ``video_length`` and the
    frame's ``instances`` (``bbox`` xyxy, ``bbox_label``, ``mask`` (RLE or
    polygons), ``instance_id`` = annotation id, ``ignore_flag`` = crowd);
    the layout mmdet's video transforms and samplers expect.

    Args:
        seg_field (str): Annotation field with the masks; the HQ-YTVIS train
            file keeps its refined masks in ``'segmentations_refined'``.
            Boxes come from ``'bboxes_refined'`` for that field where the
            file has it (``tools/misc/self_correct.py`` output), else from
            ``'bboxes'``, else from the masks. Defaults to
            ``'segmentations'``.
        check_files (bool): Check at build time that every listed frame
            exists. Defaults to True.
        **kwargs: Arguments of :class:`BaseVideoDataset` (``ann_file``,
            ``data_root``, ``data_prefix=dict(img_path=...)``, ``pipeline``,
            ``test_mode``, ``metainfo`` ...).
    """
    METAINFO = dict(classes=YTVIS2019_CLASSES)

    def __init__(self,
                 *args,
                 seg_field: str = 'segmentations',
                 check_files: bool = True,
                 **kwargs) -> None:
        self.seg_field = seg_field
        self.check_files = check_files
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Build the per-video frame lists from the YouTube-VIS json."""
        data = load_json(self.ann_file, ('videos', 'categories'))
        classes = list(self.metainfo['classes'])
        name2id = {c['name']: c['id'] for c in data['categories']}
        missing = [c for c in classes if c not in name2id]
        if missing:
            raise DatasetError(f'{self.ann_file}: categories {missing} of '
                               'the dataset metainfo are not in the file')
        self.cat_ids = [name2id[c] for c in classes]
        self.cat2label = {cid: i for i, cid in enumerate(self.cat_ids)}
        all_cat_ids = {c['id'] for c in data['categories']}
        videos, frame_lists = {}, {}
        img_id = 0
        for video in data['videos']:
            vid = video['id']
            names = video.get('file_names') or []
            if not names:
                raise DatasetError(
                    f'{self.ann_file}: video {vid} has no frames')
            frames = []
            for frame_id, name in enumerate(names):
                img_path = osp.join(self.data_prefix.get('img_path', ''),
                                    name)
                if self.check_files and not osp.isfile(img_path):
                    raise DatasetError(f'video {vid}: frame file listed in '
                                       f'{self.ann_file} is missing: '
                                       f'{img_path}')
                frames.append(
                    dict(
                        img_id=img_id,
                        img_path=img_path,
                        file_name=name,
                        frame_id=frame_id,
                        video_id=vid,
                        video_length=len(names),
                        height=video['height'],
                        width=video['width'],
                        instances=[]))
                img_id += 1
            videos[vid] = dict(
                video_id=vid, images=frames, video_length=len(names))
            frame_lists[vid] = frames
        for ann in data.get('annotations', []):
            self._add_annotation(ann, frame_lists, all_cat_ids)
        return list(videos.values())

    def _add_annotation(self, ann: dict, frame_lists: dict,
                        all_cat_ids: set) -> None:
        vid = ann.get('video_id')
        if vid not in frame_lists:
            raise DatasetError(f'{self.ann_file}: annotation {ann.get("id")} '
                               f'points to unknown video {vid}')
        if ann.get('category_id') not in all_cat_ids:
            raise DatasetError(
                f'{self.ann_file}: annotation {ann.get("id")} has unknown '
                f'category {ann.get("category_id")}')
        if ann['category_id'] not in self.cat2label:
            return  # a category outside the dataset's classes
        frames = frame_lists[vid]
        segms = ann.get(self.seg_field)
        if segms is None:
            raise DatasetError(f'{self.ann_file}: annotation {ann.get("id")} '
                               f'has no "{self.seg_field}"')
        if len(segms) != len(frames):
            raise DatasetError(
                f'{self.ann_file}: annotation {ann.get("id")} of video {vid} '
                f'lists {len(segms)} frames, the video has {len(frames)}')
        # boxes of the masks read: 'bboxes_refined' beside
        # 'segmentations_refined' when the file has them (self_correct.py
        # writes them), else 'bboxes' as the original's loader reads them
        # (HQ-YTVIS: YouTube-VIS boxes with refined masks), else the masks'
        suffix = self.seg_field[len('segmentations'):] \
            if self.seg_field.startswith('segmentations') else ''
        bboxes = ann.get('bboxes' + suffix) if suffix else None
        bboxes = bboxes or ann.get('bboxes') or [None] * len(frames)
        for frame, segm, bbox in zip(frames, segms, bboxes):
            if not segm:
                continue
            if bbox is None:
                bbox = _bbox_from_segm(segm, frame['height'], frame['width'])
            x, y, w, h = bbox
            if w < 1 or h < 1:
                continue
            frame['instances'].append(
                dict(
                    bbox=[x, y, x + w, y + h],
                    bbox_label=self.cat2label[ann['category_id']],
                    mask=segm,
                    instance_id=ann['id'],
                    ignore_flag=int(bool(ann.get('iscrowd', 0)))))

    def filter_data(self) -> List[dict]:
        """Keep every frame (dropping frames without annotations would change
        which frames are neighbours for clip sampling); drop training videos
        without any annotated frame."""
        if self.test_mode or not self.filter_cfg or not self.filter_cfg.get(
                'filter_empty_gt', False):
            return self.data_list
        return [
            v for v in self.data_list
            if any(f['instances'] for f in v['images'])
        ]


@DATASETS.register_module()
class YTVISJsonDataset(HQYTVISDataset):
    """YouTube-VIS 2019 / 2021 read from the official json files.

    The reader of :class:`HQYTVISDataset` with the class list of mmdet's
    ``YouTubeVISDataset`` for ``dataset_version`` (the official valid/test
    files have no annotations: use them in test mode with a format-only
    metric and submit the zip).

    Args:
        dataset_version (str): ``'2019'`` or ``'2021'``.
        **kwargs: Arguments of :class:`HQYTVISDataset`.
    """

    def __init__(self, *args, dataset_version: str = '2019',
                 **kwargs) -> None:
        from mmdet.datasets import YouTubeVISDataset
        YouTubeVISDataset.set_dataset_classes(dataset_version)
        metainfo = dict(classes=YouTubeVISDataset.METAINFO['classes'])
        metainfo.update(kwargs.pop('metainfo', None) or {})
        self.dataset_version = dataset_version
        super().__init__(*args, metainfo=metainfo, **kwargs)
