# YouTube-VIS 2021: as 2019 with the 2021 files and class list.
_base_ = './youtube_vis_2019.py'
dataset_version = '2021'
data_root = 'data/youtube_vis_2021/'
val_dataloader = dict(
    dataset=dict(dataset_version=dataset_version, data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(outfile_prefix='work_dirs/youtube_vis_2021_results')
test_evaluator = val_evaluator
