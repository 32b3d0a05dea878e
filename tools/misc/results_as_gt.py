# Copyright (c) mmvmt contributors.
"""Turn a YouTube-VIS result file into a GT file (for comparing two models'
outputs with the HQ-YTVIS metrics).

Example::

    python tools/misc/results_as_gt.py valid.json results.json gt.json
"""
import argparse
import sys

import pycocotools.mask as mask_utils

from mmvmt.evaluation.functional import HQVISInputError
from mmvmt.evaluation.functional.hqvis_data import read_json
from mmvmt.utils.atomic_io import dump_json_atomic
from mmvmt.utils.cli_errors import run_cli


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('videos', help='json with the videos/categories')
    parser.add_argument('results', help='result list to use as GT')
    parser.add_argument('out', help='GT json to write')
    args = parser.parse_args()
    gt = read_json(args.videos, 'videos')
    results = read_json(args.results, 'results')
    if not isinstance(gt, dict) or not isinstance(results, list):
        raise HQVISInputError('expected a videos json object and a result '
                              'list')
    anns = []
    for i, res in enumerate(results):
        try:
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
        except (KeyError, TypeError, AttributeError) as err:
            raise HQVISInputError(
                f'result #{i} is not a YouTube-VIS result tube (compressed '
                f'RLE segmentations, video_id, category_id): '
                f'{type(err).__name__}: {err}') from None
    gt['annotations'] = anns
    dump_json_atomic(gt, args.out)


if __name__ == '__main__':
    sys.exit(run_cli(main))
