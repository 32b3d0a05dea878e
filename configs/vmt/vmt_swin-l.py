# VMT, Swin-L (window 12, 384 pretrain), HQ-YTVIS: the released model.
# The stride-2 feature is Swin stage 0 upsampled x2 + 1x1 conv
# (mask_head.compress_hires); lay_hr1/lay1_h work on 192 channels.
_base_ = './vmt_r50.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='SwinTransformer',
        pretrain_img_size=384,
        embed_dims=192,
        depths=[2, 2, 18, 2],
        num_heads=[6, 12, 24, 48],
        window_size=12,
        mlp_ratio=4,
        qkv_bias=True,
        qk_scale=None,
        drop_rate=0.,
        attn_drop_rate=0.,
        drop_path_rate=0.3,
        patch_norm=True,
        out_indices=(0, 1, 2, 3),
        with_cp=False,
        convert_weights=False,
        init_cfg=None),
    neck=dict(in_channels=[384, 768, 1536]),
    mask_head=dict(c2_channels=192, compress_hires=True))
