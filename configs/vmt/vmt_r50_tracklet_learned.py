# VMT-R50 with per-tracklet refinement on learned incoherent nodes and
# node-label write-back (our reconstruction of the paper's refinement after
# Mask Transfiner; docs/model.md). Not a released model: the incoherence
# head and the label decoder have no released weights, so train it (e.g.
# from the released checkpoint, tools/train.py ... --cfg-options
# load_from=CKPT; the shared parts load, the new ones are missing).
_base_ = ['./vmt_r50_tracklet.py', '../_base_/models/tracklet_learned.py']
model = dict(
    mask_head=dict(refine_head={{_base_.learned_refine_head}}),
    criterion={{_base_.learned_losses}})
