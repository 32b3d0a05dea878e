# Copyright (c) mmvmt contributors.
"""VMTCriterion against SeqFormer's formulas written out here, on a small
hand-made case: two decoder layers (one auxiliary), two clips, absent
frames (the last layer matches only the tube with one), an unmatched GT
tube, a clip without matches, normalisation by the number of GT tubes."""
import math

import torch
from mmengine.structures import InstanceData

from mmvmt.models.losses import VMTCriterion

ALPHA, GAMMA = 0.25, 2.0


def focal(x, t):
    """SeqFormer's sigmoid focal loss, elementwise."""
    p = torch.sigmoid(x)
    ce = -(t * torch.log(p) + (1 - t) * torch.log(1 - p))
    p_t = p * t + (1 - p) * (1 - t)
    return (ALPHA * t + (1 - ALPHA) * (1 - t)) * ce * (1 - p_t)**GAMMA


def dice(x, t):
    """DETR/SeqFormer dice of one tube: 1 - (2 sum(pt) + 1) / (sum(p) +
    sum(t) + 1)."""
    p = torch.sigmoid(x)
    return 1 - (2 * (p * t).sum() + 1) / (p.sum() + t.sum() + 1)


def giou(a, b):
    """GIoU of two (cx, cy, w, h) boxes, from the definition."""
    ax1, ay1, ax2, ay2 = a[0] - a[2] / 2, a[1] - a[3] / 2, \
        a[0] + a[2] / 2, a[1] + a[3] / 2
    bx1, by1, bx2, by2 = b[0] - b[2] / 2, b[1] - b[3] / 2, \
        b[0] + b[2] / 2, b[1] + b[3] / 2
    iw = max(0.0, min(ax2, bx2) - max(ax1, bx1))
    ih = max(0.0, min(ay2, by2) - max(ay1, by1))
    inter = iw * ih
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    hull = (max(ax2, bx2) - min(ax1, bx1)) * (max(ay2, by2) - min(ay1, by1))
    return inter / union - (hull - union) / hull


def half(mask):
    """(..., 8, 8) GT -> (..., 4, 4): 2x2 block mean > 0.5."""
    lead = mask.shape[:-2]
    return (mask.reshape(*lead, 4, 2, 4, 2).mean((-3, -1)) > 0.5).float()


def make_case():
    gen = torch.Generator().manual_seed(3)
    T, nq, K = 2, 3, 4

    def rand(*shape):
        return torch.randn(*shape, generator=gen)

    def boxes(*lead):
        cxcy = torch.rand(*lead, 2, generator=gen) * 0.4 + 0.3
        wh = torch.rand(*lead, 2, generator=gen) * 0.3 + 0.1
        return torch.cat([cxcy, wh], -1)

    def gt_masks(num):
        blocks = (torch.rand(num, T, 4, 4, generator=gen) > 0.5).float()
        return blocks.repeat_interleave(2, -2).repeat_interleave(2, -1)

    gt0 = InstanceData(labels=torch.tensor([3, 1]), bboxes=boxes(2, T),
                       valid=torch.tensor([[True, True], [True, False]]),
                       masks=gt_masks(2))
    gt0.bboxes[1, 1] = 0  # absent frame: zero box
    gt0.masks[1, 1] = 0
    gt1 = InstanceData(labels=torch.tensor([2]), bboxes=boxes(1, T),
                       valid=torch.ones(1, T, dtype=torch.bool),
                       masks=gt_masks(1))
    all_cls = rand(2, 2, nq, K)
    all_boxes = boxes(2, 2, T, nq)
    matches = [
        [(torch.tensor([0, 2]), torch.tensor([1, 0])),
         (torch.tensor([1]), torch.tensor([0]))],
        [(torch.tensor([2]), torch.tensor([1])),
         (torch.tensor([], dtype=torch.long),
          torch.tensor([], dtype=torch.long))],
    ]
    coarse = [dict(pred_masks=rand(T, 2, 4, 4)),
              dict(pred_masks=rand(T, 1, 4, 4))]
    band = torch.rand(T, 8, 8, generator=gen) > 0.6
    full = [dict(pred_masks=rand(T, 1, 4, 4), pred_masks_inc=rand(T, 1, 8, 8),
                 pred_masks_refine=rand(T, 1, 8, 8), mask_L4=rand(T, 1, 4, 4),
                 band=band), {}]
    return all_cls, all_boxes, [coarse, full], [gt0, gt1], matches


def expected_losses(all_cls, all_boxes, mask_preds, gts, matches):
    num_inst = 3.0
    out = {}
    for layer in range(2):
        prefix = 'd0.' if layer == 0 else ''
        target = torch.zeros_like(all_cls[layer])
        l1 = g = 0.0
        mask = dice_sum = 0.0
        refine = {k: 0.0 for k in ('inc', 'ref', 'ref_dice', 'bound', 'sem',
                                   'sem_dice')}
        for b, ((q_idx, g_idx), gt) in enumerate(zip(matches[layer], gts)):
            for j, (q, k) in enumerate(zip(q_idx.tolist(), g_idx.tolist())):
                target[b, q, gt.labels[k]] = 1
                valid = gt.valid[k].tolist()
                n_valid = sum(valid)
                for t in range(2):
                    if not valid[t]:
                        continue
                    pred = all_boxes[layer, b, t, q]
                    tgt = gt.bboxes[k, t]
                    l1 += float((pred - tgt).abs().sum()) / n_valid
                    g += (1 - giou(pred.tolist(), tgt.tolist())) / n_valid
                res = mask_preds[layer][b]
                tgt4 = half(gt.masks[k])  # (T, 4, 4)
                mask += float(focal(res['pred_masks'][:, j], tgt4).mean())
                dice_sum += float(dice(res['pred_masks'][:, j], tgt4))
                if layer == 0:
                    continue
                tgt8 = gt.masks[k]
                refine['inc'] += float(
                    focal(res['pred_masks_inc'][:, j], tgt8).mean())
                ref = res['pred_masks_refine'][:, j]
                refine['ref'] += float(focal(ref, tgt8).mean())
                refine['ref_dice'] += float(dice(ref, tgt8))
                p = torch.sigmoid(ref)
                bce = -(tgt8 * torch.log(p) + (1 - tgt8) * torch.log(1 - p))
                band = res['band'].float()
                refine['bound'] += float((bce * band).sum() / band.sum())
            if layer == 1 and len(q_idx):
                res = mask_preds[layer][b]
                prob = 1 - (1 - torch.sigmoid(res['mask_L4'])).prod(1)
                logit = torch.log(prob / (1 - prob))
                union = half(gt.masks.amax(0))  # every GT tube of the clip
                refine['sem'] += float(focal(logit, union).mean())
                refine['sem_dice'] += float(dice(logit, union))
        out[prefix + 'loss_cls'] = 2 * float(
            focal(all_cls[layer], target).sum()) / num_inst
        out[prefix + 'loss_bbox'] = 5 * l1 / num_inst
        out[prefix + 'loss_giou'] = 2 * g / num_inst
        out[prefix + 'loss_mask'] = 2 * mask / num_inst
        out[prefix + 'loss_dice'] = 5 * dice_sum / num_inst
        if layer == 1:
            for name, key, weight in (
                    ('loss_refine', 'inc', 2), ('loss_mask_refine', 'ref', 2),
                    ('loss_mask_dice_refine', 'ref_dice', 5),
                    ('loss_mask_bound_refine', 'bound', 5),
                    ('loss_mask_sem', 'sem', 1),
                    ('loss_mask_sem_dice', 'sem_dice', 1)):
                out[name] = weight * refine[key] / num_inst
    return out


def test_every_loss_term_matches_the_formulas():
    case = make_case()
    got = VMTCriterion()(*case)
    expected = expected_losses(*case)
    assert set(got) == set(expected)
    for name, value in expected.items():
        assert math.isclose(float(got[name]), value, rel_tol=1e-4,
                            abs_tol=1e-6), (name, float(got[name]), value)
    # every term is non-trivial in this case
    assert all(v > 0 for v in expected.values())


def test_no_gt_anywhere():
    all_cls, all_boxes, _, gts, _ = make_case()
    empty = [InstanceData(labels=torch.zeros(0, dtype=torch.long),
                          bboxes=torch.zeros(0, 2, 4),
                          valid=torch.zeros(0, 2, dtype=torch.bool),
                          masks=torch.zeros(0, 2, 8, 8))] * 2
    none = (torch.zeros(0, dtype=torch.long), ) * 2
    all_cls.requires_grad_(True)
    losses = VMTCriterion()(all_cls, all_boxes, [[{}, {}], [{}, {}]], empty,
                            [[none, none], [none, none]])
    # num_inst is clamped to 1: the class loss is the plain focal sum
    cls = 2 * float(focal(all_cls[1].detach(), torch.zeros(2, 3, 4)).sum())
    assert math.isclose(float(losses['loss_cls']), cls, rel_tol=1e-4)
    assert all(float(v) == 0 for k, v in losses.items()
               if not k.endswith('loss_cls'))
    sum(losses.values()).backward()
    assert all_cls.grad is not None


def pad_case(case, pad_h=16, pad_w=24):
    """The case's 8x8 clips inside a batch padded to (pad_h, pad_w): GT
    masks zero-padded, predictions and bands random in the padding."""
    all_cls, all_boxes, mask_preds, gts, matches = case
    gen = torch.Generator().manual_seed(7)

    def pad(x, fill_random):
        h, w = x.shape[-2:]
        scale_h, scale_w = pad_h // 8, pad_w // 8  # maps keep their stride
        out = torch.randn(*x.shape[:-2], h * scale_h, w * scale_w,
                          generator=gen)
        out = (out > 0.5).to(x.dtype) if x.dtype == torch.bool else out
        if not fill_random:
            out = torch.zeros_like(out)
        out[..., :h, :w] = x
        return out

    padded_gts = []
    for gt in gts:
        new = gt.clone()
        new.masks = pad(gt.masks, fill_random=False)
        new.set_metainfo(dict(img_shape=(8, 8), pad_shape=(pad_h, pad_w)))
        padded_gts.append(new)
    padded_preds = [[{k: pad(v, fill_random=True) for k, v in res.items()}
                     for res in layer] for layer in mask_preds]
    return all_cls, all_boxes, padded_preds, padded_gts, matches


def test_mask_losses_ignore_batch_padding():
    """A clip's losses are the same alone and padded by a larger clip of
    its batch, whatever the predictions in the padding (SeqFormer's would
    change: it averages the mask losses over the padded map)."""
    case = make_case()
    alone = VMTCriterion()(*case)
    padded = VMTCriterion()(*pad_case(case))
    assert set(alone) == set(padded)
    for name, value in alone.items():
        assert math.isclose(float(padded[name]), float(value),
                            rel_tol=1e-5, abs_tol=1e-7), name
