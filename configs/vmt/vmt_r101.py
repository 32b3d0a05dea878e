# VMT, ResNet-101, HQ-YTVIS: identical to R50 but for 23 blocks in layer3.
_base_ = './vmt_r50.py'
model = dict(backbone=dict(depth=101))
