# Copyright (c) mmvmt contributors.
"""Per-frame predictions -> YouTube-VIS result tubes (one per track id)."""
from typing import Dict, List, Optional, Sequence

import numpy as np
import pycocotools.mask as mask_utils
from mmengine.structures import InstanceData


def encode_rle(mask: np.ndarray) -> dict:
    """COCO RLE of a (H, W) mask with ``counts`` as str (YTVIS format)."""
    rle = mask_utils.encode(
        np.asfortranarray(mask[:, :, None].astype(np.uint8)))[0]
    rle['counts'] = rle['counts'].decode('ascii')
    return rle


def _numpy(value) -> np.ndarray:
    return value.cpu().numpy() if hasattr(value, 'cpu') else \
        np.asarray(value)


class TubeCollector:
    """Collect one video's frames, one at a time, into result tubes.

    Only RLEs are kept, so a long video can be streamed through it.

    Args:
        num_frames (int): Video length (``segmentations`` length).
        video_id (int): ``video_id`` written in every result.
        cat_ids (Sequence[int], optional): Category id of each 0-based
            label (the dataset's ``cat_ids``). Defaults to None: label + 1,
            the YouTube-VIS numbering of the full class list.
    """

    def __init__(self, num_frames: int, video_id: int = 0,
                 cat_ids: Optional[Sequence[int]] = None):
        self.num_frames = num_frames
        self.video_id = video_id
        self.cat_ids = None if cat_ids is None else list(cat_ids)
        self.tubes: Dict[int, dict] = {}

    def add(self, frame_id: int, pred: InstanceData) -> None:
        """Add a frame's ``pred_track_instances`` (``masks`` (k, H, W),
        ``scores``, ``labels`` 0-based, ``instances_id``)."""
        if frame_id >= self.num_frames:
            self.num_frames = frame_id + 1
        masks = _numpy(pred.masks)
        scores = _numpy(pred.scores)
        labels = _numpy(pred.labels)
        for j, inst_id in enumerate(_numpy(pred.instances_id).tolist()):
            tube = self.tubes.setdefault(
                inst_id, dict(scores=[], labels=[], segs={}))
            tube['scores'].append(float(scores[j]))
            tube['labels'].append(int(labels[j]))
            tube['segs'][frame_id] = encode_rle(masks[j])

    def results(self,
                null_score_thr: Optional[float] = None,
                **extra) -> List[dict]:
        """YouTube-VIS results in score order (as the released writer).

        A tube's score is the mean of its frames' scores and its category
        that of the most frequent label (``cat_ids[label]``, or label + 1);
        frames without the track are None.

        Args:
            null_score_thr (float, optional): Tubes scoring below it get
                all-None segmentations.
            **extra: Further fields written in every result.
        """
        results = []
        for tube in self.tubes.values():
            label = int(np.bincount(np.array(tube['labels'])).argmax())
            score = float(np.mean(tube['scores']))
            segs = [tube['segs'].get(t) for t in range(self.num_frames)]
            if null_score_thr is not None and score < null_score_thr:
                segs = [None] * self.num_frames
            results.append(
                dict(
                    video_id=self.video_id,
                    **extra,
                    score=score,
                    category_id=label + 1 if self.cat_ids is None else
                    self.cat_ids[label],
                    segmentations=segs))
        results.sort(key=lambda r: -r['score'])
        return results
