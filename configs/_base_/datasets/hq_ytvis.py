# HQ-YTVIS (https://github.com/SysCV/vmt): videos of YouTube-VIS 2019 train,
# re-split and re-annotated. Layout: see docs/dataset_prepare.md.
dataset_type = 'HQYTVISDataset'
data_root = 'data/ytvis_2019/'
backend_args = None

# Released inference: PIL resize of the shorter side to 360, no max size,
# the whole video as one clip, torchvision normalisation (preprocessor).
test_short_side = 360
test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(
                type='LoadFrameFromFile',
                imdecode_backend='pillow',
                backend_args=backend_args),
            dict(
                type='ShortSideResize',
                short_side=test_short_side,
                max_size=None,
                backend='pillow'),
        ]),
    dict(type='CheckFrameSizes'),
    dict(type='PackTrackInputs', meta_keys=('file_name', ))
]

val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='ytvis_hq-val.json',
        data_prefix=dict(img_path='train/JPEGImages/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], ann_file='ytvis_hq-test.json'))

val_evaluator = dict(
    type='HQYTVISMetric',
    ann_file=data_root + 'ytvis_hq-val.json',
    iou_types=('segm', 'boundary'))
test_evaluator = dict(
    type='HQYTVISMetric',
    ann_file=data_root + 'ytvis_hq-test.json',
    iou_types=('segm', 'boundary'))
