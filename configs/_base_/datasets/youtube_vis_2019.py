# YouTube-VIS 2019 (official json files, layout in docs/dataset_prepare.md).
# The official valid split has no annotations: test writes results.json and
# a submission zip for the evaluation server (format_only).
_base_ = './hq_ytvis.py'
dataset_type = 'YTVISJsonDataset'
dataset_version = '2019'
data_root = 'data/youtube_vis_2019/'
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        dataset_version=dataset_version,
        data_root=data_root,
        ann_file='annotations/valid.json',
        data_prefix=dict(img_path='valid/JPEGImages/')))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True,
    type='HQYTVISMetric',
    iou_types=('segm', ),
    format_only=True,
    outfile_prefix='work_dirs/youtube_vis_2019_results')
test_evaluator = val_evaluator
