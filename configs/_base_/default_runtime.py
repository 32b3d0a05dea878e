# Runtime defaults shared by every mmvmt config (mmdet 3.x conventions).
default_scope = 'mmvmt'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # saves atomically: a crash mid-save never leaves a truncated checkpoint
    checkpoint=dict(type='AtomicCheckpointHook', interval=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='TrackVisualizationHook', draw=False,
                       frame_interval=1))
# random states in every checkpoint, restored on resume (mmengine keeps only
# the seed); iteration-based configs use ResumableIterBasedTrainLoop too
custom_hooks = [dict(type='RNGStateHook')]

# `dist_cfg.backend` is 'nccl' on GPUs; on CPU-only machines use
# `--cfg-options env_cfg.dist_cfg.backend=gloo` (the toy configs set gloo).
dist_backend = 'nccl'
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend=dist_backend))

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='VMTLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)

log_level = 'INFO'
load_from = None
resume = False
