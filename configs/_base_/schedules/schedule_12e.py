# SeqFormer's schedule (VMT released no training code; our reconstruction
# from SeqFormer's configs, see docs/training.md): AdamW 2e-4, backbone and
# the deformable attention's sampling_offsets / reference points at 0.1x,
# weight decay 1e-4, grad-norm clip 0.1, 12 epochs, lr x0.1 after 4 and 10.
max_epochs = 12
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-4, weight_decay=1e-4),
    clip_grad=dict(max_norm=0.1, norm_type=2),
    paramwise_cfg=dict(
        custom_keys={
            'backbone': dict(lr_mult=0.1),
            'sampling_offsets': dict(lr_mult=0.1),
            'reference_points': dict(lr_mult=0.1)
        }))
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[4, 10],
        gamma=0.1)
]
# 8 GPUs x 2 clips in SeqFormer's runs (GPU count of VMT unknown)
auto_scale_lr = dict(enable=False, base_batch_size=16)
