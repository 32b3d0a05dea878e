# A small VMT that trains from scratch on the bundled toy dataset on CPU
# (make the data: python tools/misc/make_toy_dataset.py --out data/toy).
# Everything here is our choice for a fast CPU run, not a VMT recipe:
# ResNet-18 with trainable BN, 128-d transformer (2 encoder / 3 decoder
# layers), 20 queries, 5 classes, 3-frame clips, higher lr, looser clip.
_base_ = [
    '../_base_/models/vmt_r50.py', '../_base_/datasets/hq_ytvis.py',
    '../_base_/schedules/schedule_12e.py', '../_base_/default_runtime.py'
]
embed_dims = 128
num_classes = 5
num_frames = 3
data_root = 'data/toy/'
toy_classes = ('blob', 'star', 'ring', 'crescent', 'worm')
# overrides merged into the base's attention / FFN settings
msda = dict(embed_dims=embed_dims, num_heads=4, dropout=0.0)
ffn = dict(embed_dims=embed_dims, feedforward_channels=512, ffn_drop=0.0)
model = dict(
    num_queries=20,
    data_preprocessor=dict(pad_size_divisor=32),
    backbone=dict(
        depth=18,
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False),
    neck=dict(in_channels=[128, 256, 512], out_channels=embed_dims),
    encoder=dict(num_layers=2, layer_cfg=dict(self_attn_cfg=msda,
                                              ffn_cfg=ffn)),
    decoder=dict(
        num_layers=3,
        layer_cfg=dict(
            self_attn_cfg=msda,
            cross_attn_cfg=msda,
            ffn_cfg=ffn)),
    positional_encoding=dict(num_feats=embed_dims // 2),
    bbox_head=dict(
        num_classes=num_classes,
        label_offset=0,
        embed_dims=embed_dims,
        num_pred_layer=3),
    mask_head=dict(
        embed_dims=embed_dims,
        c2_channels=64,
        refine_head=dict(
            feedforward_channels=256, dropout=0.0, max_points=3000)),
    # absent frames out of the box cost and losses (our choice)
    train_cfg=dict(mask_absent=True),
    test_cfg=dict(num_select=10))

train_pipeline = [
    dict(type='SeqFormerFrameSample', num_frames=num_frames, near_range=2),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(type='LoadFrameFromFile'),
            dict(type='LoadTrackAnnotations', with_mask=True),
            dict(type='RandomFlip', prob=0.5),
        ]),
    dict(type='PackTrackInputs')
]
test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadFrameFromFile'),
            dict(type='ShortSideResize', short_side=128, backend='cv2'),
        ]),
    dict(type='CheckFrameSizes'),
    dict(type='PackTrackInputs', meta_keys=('file_name', ))
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='HQYTVISDataset',
        data_root=data_root,
        ann_file='train.json',
        data_prefix=dict(img_path='JPEGImages/'),
        metainfo=dict(classes=toy_classes),
        filter_cfg=dict(filter_empty_gt=True),
        pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        ann_file='val.json',
        data_prefix=dict(img_path='JPEGImages/'),
        metainfo=dict(classes=toy_classes),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# temporal_flicker: mmvmt's temporal stability statistic (docs/evaluation.md)
val_evaluator = dict(ann_file=data_root + 'val.json', temporal_stability=True)
test_evaluator = val_evaluator

max_epochs = 40
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
optim_wrapper = dict(
    optimizer=dict(lr=5e-4),
    clip_grad=dict(max_norm=1.0),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=1.0)}))
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[30],
        gamma=0.1)
]
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=10, max_keep_ckpts=2))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
# clips without GT leave the mask branch unused; device_ids=None lets DDP
# wrap a CPU model (mmengine would pass [LOCAL_RANK])
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel',
    find_unused_parameters=True,
    device_ids=None)
randomness = dict(seed=0)
