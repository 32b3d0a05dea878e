# Learned incoherence nodes and node-label write-back for a config whose
# refine head is TrackletRefineHead (our reconstruction after Mask
# Transfiner; docs/model.md), read by vmt_r50_tracklet_learned and the toy
# variant as {{_base_.learned_refine_head}} / {{_base_.learned_losses}};
# mask_dims / hires_channels must match the mask head.
learned_refine_head = dict(
    node_source='learned',
    # inputs M4 (8), G4' (64) and sigmoid(L4) at stride 4
    incoherence_head=dict(
        type='IncoherenceHead', mask_dims=8, hires_channels=64,
        feat_channels=32),
    # nodes: predicted incoherence >= 0.5 (Mask Transfiner's training
    # threshold of its finer levels; one threshold here)
    node_threshold=0.5,
    # Mask Transfiner's pixel decoder: node logits written over the dense
    # refine logits at the refined nodes
    writeback='feature+label')
learned_losses = dict(
    # Mask Transfiner: BCE + dice of the incoherence map, 0.5 in all (here
    # 0.5 each: its two terms are summed, then weighted 0.5)
    loss_incoherence=dict(
        type='CrossEntropyLoss', use_sigmoid=True, loss_weight=0.5),
    loss_incoherence_dice=dict(
        type='DiceLoss', use_sigmoid=True, activate=True, naive_dice=True,
        eps=1.0, loss_weight=0.5),
    # Mask Transfiner's node loss: L1 on the node probabilities, 1.0
    loss_node=dict(type='L1Loss', loss_weight=1.0))
