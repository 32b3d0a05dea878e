# The toy model with per-tracklet refinement (TrackletRefineHead), for the
# comparison in docs/model.md; everything else as vmt_r18_toy.py.
_base_ = './vmt_r18_toy.py'
model = dict(
    mask_head=dict(
        refine_head=dict(
            _delete_=True,
            type='TrackletRefineHead',
            node_source='instance_band',
            window=None,
            query_dims=128,  # the toy's embed_dims
            embed_dims=64,
            num_layers=3,
            num_heads=4,
            feedforward_channels=256,
            dropout=0.0,
            attn_drop=0.0,
            max_points=3000,
            train_max_points=500,
            seed=0)))
