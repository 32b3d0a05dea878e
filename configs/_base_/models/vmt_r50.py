# VMT with a ResNet-50 backbone, as released (inference-exact).
num_frames = 5
num_queries = 300
embed_dims = 256
# deformable attention (encoder self-attention, decoder cross-attention)
msda_cfg = dict(
    embed_dims=embed_dims,
    num_levels=4,
    num_heads=8,
    num_points=4,
    dropout=0.1,
    batch_first=True)
ffn_cfg = dict(
    embed_dims=embed_dims, feedforward_channels=1024, ffn_drop=0.1)
model = dict(
    type='VMT',
    num_queries=num_queries,
    num_feature_levels=4,
    data_preprocessor=dict(
        type='VMTDataPreprocessor',
        unit_scale=True,  # (x / 255 - mean) / std, as torchvision
        mean=[0.485, 0.456, 0.406],
        std=[0.229, 0.224, 0.225],
        bgr_to_rgb=True,
        pad_size_divisor=1),
    backbone=dict(
        type='ResNetWithStem',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='FrozenBN'),
        norm_eval=True,
        style='pytorch',
        init_cfg=None),
    neck=dict(
        # mmdet's ChannelMapper; GroupNorm statistics over the image cells
        # of a padded batch (our choice), the same without padding
        type='PaddingAwareChannelMapper',
        in_channels=[512, 1024, 2048],
        kernel_size=1,
        out_channels=embed_dims,
        act_cfg=None,
        norm_cfg=dict(type='GN', num_groups=32),
        bias=True,  # the released input projections have biases
        num_outs=4),
    encoder=dict(  # VMTTransformerEncoder, run per frame
        num_layers=6,
        layer_cfg=dict(self_attn_cfg=msda_cfg, ffn_cfg=ffn_cfg)),
    decoder=dict(  # SeqFormerDecoder
        num_layers=6,
        return_intermediate=True,
        post_norm_cfg=None,
        layer_cfg=dict(
            self_attn_cfg=dict(
                embed_dims=embed_dims,
                num_heads=8,
                dropout=0.1,
                batch_first=True),
            cross_attn_cfg=msda_cfg,  # SeqFormerCrossAttention
            ffn_cfg=ffn_cfg)),
    positional_encoding=dict(num_feats=128, normalize=True, offset=-0.5),
    bbox_head=dict(
        type='VMTHead',
        num_classes=42,  # YTVIS ids used as logit indices, 0 and 41 unused
        label_offset=1,
        embed_dims=embed_dims,
        num_pred_layer=6),
    mask_head=dict(
        type='VMTMaskHead',
        embed_dims=embed_dims,
        c2_channels=256,
        hires_channels=64,
        mask_dims=8,
        fuse_dilations=(3, 5, 7, 1),
        refine_head=dict(
            type='BoundaryRefineHead',
            embed_dims=64,
            num_layers=3,
            num_heads=4,
            feedforward_channels=2048,
            max_points=12000,
            # training only (our choice): no dropout on the P x P attention
            # weights, so attention stays fused (memory-efficient) on CPU
            attn_drop=0.0,
            temporal=False,  # released: every frame refined on its own
            seed=0)),
    # training only (VMT released no training code; our reconstruction,
    # docs/training.md): SeqFormer's losses with the released parser's
    # weights (VMTCriterion's defaults) ...
    criterion=dict(type='VMTCriterion'),
    # ... and SeqFormer's per-layer Hungarian matching with cost 2 class
    # (focal) + 5 box distance (cdist, p=2, over the clip's T x 4 boxes) +
    # 2 GIoU. mask_absent=False: SeqFormer's handling of absent frames
    # (zero box, empty mask, matched and supervised like visible ones);
    # True leaves them out of the box cost and losses.
    train_cfg=dict(
        assigner=dict(
            type='HungarianAssigner',
            match_costs=[
                dict(type='FocalLossCost', weight=2.0),
                dict(type='TubeL1Cost', p=2.0, weight=5.0),
                dict(type='TubeGIoUCost', weight=2.0)
            ]),
        mask_absent=False),
    test_cfg=dict(num_select=10, mask_thr=0.5))
