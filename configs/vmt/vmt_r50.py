# VMT, ResNet-50, HQ-YTVIS: the released model (inference-exact), trained
# with our reconstruction of the recipe (HQ-YTVIS + COCO pseudo clips,
# SeqFormer's schedule; docs/training.md).
_base_ = [
    '../_base_/models/vmt_r50.py', '../_base_/datasets/hq_ytvis_coco.py',
    '../_base_/schedules/schedule_12e.py', '../_base_/default_runtime.py'
]
# SeqFormer starts from a COCO-pretrained detector (class head removed);
# nothing is downloaded: give the converted file, e.g.
#   --cfg-options load_from=checkpoints/seqformer_r50_coco_mmvmt.pth
# or an ImageNet ResNet-50 through model.backbone.init_cfg.
load_from = None
