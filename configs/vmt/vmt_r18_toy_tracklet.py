# The toy model with per-tracklet refinement (TrackletRefineHead), for the
# comparison in docs/model.md; everything else, the refine head's width
# and point cap included, as vmt_r18_toy.py.
_base_ = './vmt_r18_toy.py'
model = dict(
    mask_head=dict(
        refine_head=dict(
            type='TrackletRefineHead',
            node_source='instance_band',
            window=None,
            query_dims=128,  # the toy's embed_dims
            train_max_points=500)))
