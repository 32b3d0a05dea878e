# The toy tracklet model with learned incoherent nodes and node-label
# write-back, for the comparison in docs/model.md; everything else as
# vmt_r18_toy_tracklet.py.
_base_ = [
    './vmt_r18_toy_tracklet.py', '../_base_/models/tracklet_learned.py'
]
model = dict(
    mask_head=dict(refine_head={{_base_.learned_refine_head}}),
    criterion={{_base_.learned_losses}})
