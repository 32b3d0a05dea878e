# Copyright (c) mmvmt contributors.
"""One round of annotation self-correction (the HQ-YTVIS recipe).

Run a model over the annotated videos and write the corrected labels::

    python tools/misc/self_correct.py CONFIG CKPT \
        --ann-file data/toy_coarse/train.json --out refined.json

or correct with predictions made before (``tools/test.py --format-only``
writes them as ``results.json``)::

    python tools/misc/self_correct.py --predictions results.json \
        --ann-file train.json --out refined.json

The rule (our reconstruction; ``mmvmt/datasets/self_correction.py``):
annotated and predicted tubes of the same category are paired one to one
by tube mask IoU; in a pair with IoU >= ``--iou-thr`` every frame where
both have a mask with frame IoU >= ``--frame-iou-thr`` takes the predicted
mask, every other frame keeps the annotation. The output has the same
videos, ids and categories; each annotation keeps its original masks in
``segmentations`` and gets the corrected ones in ``segmentations_refined``
(with ``areas_refined`` and ``bboxes_refined``), as HQ-YTVIS's train
file. An input that already has ``segmentations_refined`` (an earlier
round) is corrected from those. Videos are processed one at a time
(frames and predictions of one video in memory). ``--report`` writes the
per-reason frame counts as json; the output and the report appear
together or not at all.
"""
import argparse
import copy
import json
import os.path as osp
import sys
from collections import Counter, defaultdict

import cv2

from mmvmt.utils.atomic_io import atomic_outputs, check_out_dir
from mmvmt.utils.cli_errors import CLIError, run_cli

FIELD = 'segmentations_refined'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', nargs='?', help='model config')
    parser.add_argument('checkpoint', nargs='?', help='mmvmt checkpoint')
    parser.add_argument('--predictions',
                        help='YouTube-VIS results json instead of a model')
    parser.add_argument('--ann-file', required=True,
                        help='YouTube-VIS json with the labels to correct')
    parser.add_argument('--img-dir', help='frames folder (default: '
                        'JPEGImages/ beside --ann-file)')
    parser.add_argument('--out', required=True, help='corrected json')
    parser.add_argument('--iou-thr', type=float, default=0.5,
                        help='tube mask IoU at which a pair agrees')
    parser.add_argument('--frame-iou-thr', type=float, default=0.5,
                        help='frame IoU below which a frame keeps its label')
    parser.add_argument('--report', help='write the counts as json')
    return parser.parse_args()


def read_labels(path: str) -> dict:
    from mmvmt.evaluation.functional.hqvis_data import read_json
    data = read_json(path, 'annotation file')
    for key in ('videos', 'annotations', 'categories'):
        if not isinstance(data.get(key), list):
            raise CLIError(f'{path}: missing list "{key}"')
    return data


def model_predictions(args, data: dict):
    """Yield (video, its predicted tubes), one video at a time."""
    from mmvmt.apis.inference import init_model, predict_frames
    from mmvmt.evaluation.functional.tube_results import TubeCollector
    from mmvmt.registry import DATASETS
    model = init_model(args.config, args.checkpoint)
    ds_cfg = model.cfg.test_dataloader.dataset
    classes = (ds_cfg.get('metainfo') or {}).get('classes') or \
        DATASETS.get(ds_cfg.type).METAINFO['classes']
    name2id = {c['name']: c['id'] for c in data['categories']}
    missing = [c for c in classes if c not in name2id]
    if missing:
        raise CLIError(f'{args.ann_file}: the model\'s classes {missing} '
                       'are not among its categories')
    cat_ids = [name2id[c] for c in classes]
    img_dir = args.img_dir or osp.join(osp.dirname(args.ann_file),
                                       'JPEGImages')
    for video in data['videos']:
        frames = []
        for name in video['file_names']:
            frame = cv2.imread(osp.join(img_dir, name))
            if frame is None:
                raise CLIError(f'video {video["id"]}: cannot read frame '
                               f'{osp.join(img_dir, name)}')
            frames.append(frame)
        track = predict_frames(model, frames)
        tubes = TubeCollector(len(frames), video['id'], cat_ids)
        for t, sample in enumerate(track.video_data_samples):
            tubes.add(t, sample.pred_track_instances)
        yield video, tubes.results()


def file_predictions(args, data: dict):
    """Yield (video, its tubes) from a results json."""
    from mmvmt.evaluation.functional.hqvis_data import read_json
    results = read_json(args.predictions, 'predictions file')
    if not isinstance(results, list):
        raise CLIError(f'{args.predictions}: expected a list of results')
    videos = {v['id']: v for v in data['videos']}
    by_video = defaultdict(list)
    for k, res in enumerate(results):
        if not isinstance(res, dict) or 'segmentations' not in res:
            raise CLIError(f'{args.predictions}: result {k} has no '
                           '"segmentations"')
        vid = res.get('video_id')
        if vid not in videos:
            raise CLIError(f'{args.predictions}: result {k} names video '
                           f'{vid}, which {args.ann_file} does not have')
        if len(res['segmentations']) != len(videos[vid]['file_names']):
            raise CLIError(f'{args.predictions}: result {k} has '
                           f'{len(res["segmentations"])} frames, video '
                           f'{vid} has {len(videos[vid]["file_names"])}')
        by_video[vid].append(res)
    for video in data['videos']:
        yield video, by_video.get(video['id'], [])


def main() -> int:
    args = parse_args()
    check_out_dir(args.out)
    if args.report:
        check_out_dir(args.report)
    if args.predictions is None and (args.config is None
                                     or args.checkpoint is None):
        raise CLIError('give CONFIG and CKPT, or --predictions')
    for name in ('iou_thr', 'frame_iou_thr'):
        if not 0.0 <= getattr(args, name) <= 1.0:
            raise CLIError(f'--{name.replace("_", "-")} must be in [0, 1]')
    from mmvmt.datasets.self_correction import REASONS, correct_video
    from mmvmt.datasets.coarse_labels import areas_bboxes
    data = read_labels(args.ann_file)
    field = FIELD if all(FIELD in a for a in data['annotations']) \
        else 'segmentations'
    anns_of = defaultdict(list)
    for ann in data['annotations']:
        anns_of[ann['video_id']].append(ann)
    source = file_predictions if args.predictions else model_predictions
    out = copy.deepcopy(data)
    out_anns = {a['id']: a for a in out['annotations']}
    counts: Counter = Counter()
    for video, preds in source(args, data):
        anns = anns_of.get(video['id'], [])
        new, video_counts = correct_video(anns, preds, args.iou_thr, field,
                                          args.frame_iou_thr)
        counts.update(video_counts)
        for ann, segs in zip(anns, new):
            target = out_anns[ann['id']]
            target[FIELD] = segs
            target['areas_refined'], target['bboxes_refined'] = \
                areas_bboxes(segs)
    for ann in out['annotations']:  # videos without frames/predictions
        if FIELD not in ann:
            ann[FIELD] = ann[field]
            ann['areas_refined'], ann['bboxes_refined'] = areas_bboxes(
                ann[FIELD])
    report = dict(ann_file=args.ann_file, corrected_from=field,
                  iou_thr=args.iou_thr, frame_iou_thr=args.frame_iou_thr,
                  frames={k: counts.get(k, 0) for k in REASONS})
    paths = [args.out] + ([args.report] if args.report else [])
    with atomic_outputs(*paths) as tmps:  # both appear, or neither
        for obj, tmp in zip((out, report), tmps):
            with open(tmp, 'w') as f:
                json.dump(obj, f, indent=None if obj is out else 1)
    print(' '.join(f'{k}={v}' for k, v in report['frames'].items()))
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
