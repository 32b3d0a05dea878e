# Copyright (c) mmvmt contributors.
"""COCO images as one-frame videos for joint training with video data.

SeqFormer (and so VMT) trains on COCO images turned into pseudo clips: the
categories are mapped to the video dataset's, images without a mapped
instance are dropped, and each image is repeated and augmented per frame by
:class:`PseudoClipAugment` in the pipeline. SeqFormer reads a pre-filtered
file (``coco_keepfor_ytvis19_new.json``) whose mapping table was not
released; ours is ``coco_to_ytvis`` in
``configs/_base_/datasets/hq_ytvis_coco.py`` (see docs/training.md).
"""
import os.path as osp
from typing import Dict, List

from mmdet.datasets import BaseVideoDataset

from mmvmt.registry import DATASETS
from .hq_ytvis import YTVIS2019_CLASSES, DatasetError, load_json


@DATASETS.register_module()
class COCOPseudoClipDataset(BaseVideoDataset):
    """A COCO instance json read as one-frame videos in another dataset's
    label space.

    Items have the layout of :class:`HQYTVISDataset` (``video_id``,
    ``images`` with one frame, ``video_length`` = 1), so the same clip
    sampler (which repeats the frame) and transforms apply.

    Args:
        category_map (dict[str, str]): COCO category name -> class name of
            ``metainfo['classes']``; unmapped categories are dropped.
        filter_empty (bool): Drop images without a mapped, non-crowd
            instance (SeqFormer's pre-filtered file). Defaults to True.
        **kwargs: Arguments of :class:`BaseVideoDataset` (``ann_file``,
            ``data_root``, ``data_prefix=dict(img_path=...)``,
            ``pipeline`` ...).
    """

    METAINFO = dict(classes=YTVIS2019_CLASSES)

    def __init__(self,
                 *args,
                 category_map: Dict[str, str],
                 filter_empty: bool = True,
                 **kwargs) -> None:
        if not category_map:
            raise DatasetError('COCOPseudoClipDataset needs a non-empty '
                               'category_map (COCO name -> class name)')
        self.category_map = dict(category_map)
        self.filter_empty = filter_empty
        super().__init__(*args, **kwargs)

    def _label_table(self, categories: List[dict]) -> Dict[int, int]:
        """COCO category id -> label (index in ``metainfo['classes']``)."""
        classes = list(self.metainfo['classes'])
        bad = sorted(set(self.category_map.values()) - set(classes))
        if bad:
            raise DatasetError(f'category_map targets {bad} are not classes '
                               'of the dataset')
        coco_ids = {c['name']: c['id'] for c in categories}
        unknown = sorted(set(self.category_map) - set(coco_ids))
        if unknown:
            raise DatasetError(f'{self.ann_file}: category_map names COCO '
                               f'categories {unknown} that the file lacks')
        return {
            coco_ids[name]: classes.index(target)
            for name, target in self.category_map.items()
        }

    def load_data_list(self) -> List[dict]:
        """One one-frame video per image with mapped instances."""
        data = load_json(self.ann_file,
                         ('images', 'annotations', 'categories'))
        cat2label = self._label_table(data['categories'])
        images = {}
        for img in data['images']:
            for key in ('id', 'file_name', 'height', 'width'):
                if key not in img:
                    raise DatasetError(f'{self.ann_file}: image entry '
                                       f'{img.get("id")} has no "{key}"')
            images[img['id']] = dict(
                img_id=img['id'],
                img_path=osp.join(self.data_prefix.get('img_path', ''),
                                  img['file_name']),
                file_name=img['file_name'],
                frame_id=0,
                video_id=img['id'],
                video_length=1,
                height=img['height'],
                width=img['width'],
                instances=[])
        known_cats = {c['id'] for c in data['categories']}
        for k, ann in enumerate(data['annotations']):
            frame = images.get(ann.get('image_id'))
            if frame is None:
                raise DatasetError(f'{self.ann_file}: annotation '
                                   f'{ann.get("id")} points to unknown image '
                                   f'{ann.get("image_id")}')
            if ann.get('category_id') not in known_cats:
                raise DatasetError(f'{self.ann_file}: annotation '
                                   f'{ann.get("id")} has unknown category '
                                   f'{ann.get("category_id")}')
            label = cat2label.get(ann['category_id'])
            x, y, w, h = ann.get('bbox', (0, 0, 0, 0))
            if label is None or ann.get('iscrowd', 0) or w < 1 or h < 1:
                continue
            frame['instances'].append(
                dict(
                    bbox=[x, y, x + w, y + h],
                    bbox_label=label,
                    mask=ann['segmentation'],
                    instance_id=ann.get('id', k),
                    ignore_flag=0))
        return [
            dict(video_id=frame['video_id'], images=[frame], video_length=1)
            for frame in images.values()
            if frame['instances'] or not self.filter_empty
        ]

    def filter_data(self) -> List[dict]:
        """Filtering happens in :meth:`load_data_list`."""
        return self.data_list
