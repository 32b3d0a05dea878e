# Joint training data as SeqFormer/VMT: HQ-YTVIS train clips + COCO images
# as pseudo clips, concatenated, one sample per frame (spec section 9.1).
# VMT released no training code: the pipeline is our reconstruction of
# SeqFormer's (its transforms re-expressed with mmdet's), see
# docs/training.md. Layout of data/: docs/dataset_prepare.md.
_base_ = './hq_ytvis.py'

coco_root = 'data/coco/'
# COCO name -> YouTube-VIS 2019 name for the categories that are the same
# concept in both. Our table: SeqFormer read a pre-filtered file
# (coco_keepfor_ytvis19_new.json) without publishing its mapping. COCO
# 'bird' and 'mouse' (a computer mouse) are left out: no single YTVIS class.
coco_to_ytvis = {
    'person': 'person', 'car': 'sedan', 'motorcycle': 'motorbike',
    'airplane': 'airplane', 'train': 'train', 'truck': 'truck',
    'boat': 'boat', 'cat': 'cat', 'dog': 'dog', 'horse': 'horse',
    'cow': 'cow', 'elephant': 'elephant', 'bear': 'bear', 'zebra': 'zebra',
    'giraffe': 'giraffe', 'skateboard': 'skateboard',
    'surfboard': 'surfboard', 'snowboard': 'snowboard',
    'tennis racket': 'tennis_racket'
}
train_clip_len = 5
# SeqFormer: shorter side one of these, longer side at most 768
train_scales = [(s, 768) for s in (288, 320, 352, 392, 416, 448, 480, 512)]
# clip-shared augmentation: the same flip / colour change / scale / crop on
# every frame of a clip (the choice between the two resize branches is made
# once per clip, outside the broadcasters)
clip_augment = [
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(type='RandomFlip', prob=0.5),
            dict(type='PhotoMetricDistortion'),
        ]),
    dict(
        type='RandomChoice',
        transforms=[
            [
                dict(
                    type='TransformBroadcaster',
                    share_random_params=True,
                    transforms=[
                        dict(type='RandomChoiceResize', scales=train_scales,
                             keep_ratio=True)
                    ])
            ],
            [
                dict(
                    type='TransformBroadcaster',
                    share_random_params=True,
                    transforms=[
                        # DETR's RandomResize([400, 500, 600]), no max size
                        dict(type='RandomChoiceResize',
                             scales=[(400, 4200), (500, 4200), (600, 4200)],
                             keep_ratio=True),
                        # DETR's RandomSizeCrop(384, 600)
                        dict(type='RandomCrop',
                             crop_type='absolute_range',
                             crop_size=(384, 600),
                             recompute_bbox=True,
                             allow_negative_crop=True),
                        dict(type='RandomChoiceResize', scales=train_scales,
                             keep_ratio=True)
                    ])
            ]
        ])
]
load_frames = dict(
    type='TransformBroadcaster',
    share_random_params=True,
    transforms=[
        dict(type='LoadFrameFromFile', backend_args={{_base_.backend_args}}),
        dict(type='LoadTrackAnnotations', with_mask=True),
    ])
video_train_pipeline = [
    dict(type='SeqFormerFrameSample', num_frames=train_clip_len,
         near_range=3),
    load_frames,
    *clip_augment,
    dict(type='FilterClipInstances', min_instances=1, max_instances=1000),
    dict(type='PackTrackInputs')
]
coco_train_pipeline = [
    # a COCO image is a one-frame video: the sampler repeats it
    dict(type='SeqFormerFrameSample', num_frames=train_clip_len),
    load_frames,
    dict(type='PseudoClipAugment'),
    *clip_augment,
    # SeqFormer resamples COCO images with 0 or more than 25 instances
    dict(type='FilterClipInstances', min_instances=1, max_instances=25),
    dict(type='PackTrackInputs')
]
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='VideoFrameSampler', shuffle=True),
    dataset=dict(
        type='VideoConcatDataset',
        datasets=[
            dict(
                type='HQYTVISDataset',
                data_root={{_base_.data_root}},
                ann_file='ytvis_hq-train.json',
                # the HQ-YTVIS train file keeps its refined masks here
                seg_field='segmentations_refined',
                data_prefix=dict(img_path='train/JPEGImages/'),
                filter_cfg=dict(filter_empty_gt=True),
                pipeline=video_train_pipeline),
            dict(
                type='COCOPseudoClipDataset',
                data_root=coco_root,
                ann_file='annotations/instances_train2017.json',
                category_map=coco_to_ytvis,
                data_prefix=dict(img_path='train2017/'),
                pipeline=coco_train_pipeline)
        ]))
