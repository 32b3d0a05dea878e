# Copyright (c) mmvmt contributors.
"""Turn a YouTube-VIS result file into a GT file (for comparing two models'
outputs with the HQ-YTVIS metrics).

Example::

    python tools/misc/results_as_gt.py valid.json results.json gt.json
"""
import argparse
import json

import pycocotools.mask as mask_utils


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('videos', help='json with the videos/categories')
    parser.add_argument('results', help='result list to use as GT')
    parser.add_argument('out', help='GT json to write')
    args = parser.parse_args()
    with open(args.videos) as f:
        gt = json.load(f)
    with open(args.results) as f:
        results = json.load(f)
    anns = []
    for i, res in enumerate(results):
        areas = [
            None if s is None else int(
                mask_utils.area(
                    dict(size=s['size'], counts=s['counts'].encode())))
            for s in res['segmentations']
        ]
        anns.append(
            dict(
                id=i + 1,
                video_id=res['video_id'],
                category_id=res['category_id'],
                iscrowd=0,
                segmentations=res['segmentations'],
                areas=areas))
    gt['annotations'] = anns
    with open(args.out, 'w') as f:
        json.dump(gt, f)


if __name__ == '__main__':
    main()
