# VMT-R50 with per-tracklet spatio-temporal refinement (TrackletRefineHead,
# our reconstruction of the paper's refinement; docs/model.md). The released
# weights load into every shared part (non-strictly: the new parameters
# coarse_proj, query_proj and time_gain start at zero); train from them with
# tools/train.py ... --cfg-options load_from=CKPT. Not a released model.
# The other refine_head settings (3 layers of 64 channels, ...) are the
# base's.
_base_ = './vmt_r50.py'
model = dict(
    mask_head=dict(
        refine_head=dict(
            type='TrackletRefineHead',
            node_source='instance_band',  # each instance's own band
            window=None,  # all frames of a clip in one sequence
            query_dims=256,
            max_points=2400,  # per frame per instance at test time
            # training: a fresh random subset per frame per instance (our
            # choice; Mask Transfiner samples 150 nodes per level)
            train_max_points=500)))
