# VMT, ResNet-50, HQ-YTVIS: the released model (inference-exact).
_base_ = [
    '../_base_/models/vmt_r50.py', '../_base_/datasets/hq_ytvis.py',
    '../_base_/default_runtime.py'
]
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
