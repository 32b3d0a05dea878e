# Copyright (c) mmvmt contributors.
"""VMT can overfit one toy clip: the loss falls by a large factor and the
predicted tubes match the GT masks."""
import numpy as np
import torch
from mmdet.structures import DetDataSample, TrackDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.structures import InstanceData

from mmvmt.datasets.toy_generator import generate_video
from .test_losses import toy_model

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
MASK_IOU_THR = 0.5


def toy_clip(num_frames=2, height=48, width=64):
    frames, objects = generate_video(0, 2, num_frames, height, width)
    rgb = torch.from_numpy(np.stack(frames)[..., ::-1].copy())
    inputs = ((rgb.permute(0, 3, 1, 2).float() / 255 - MEAN) / STD)[None]
    samples = []
    for t in range(num_frames):
        sample = DetDataSample()
        sample.set_metainfo(dict(img_shape=(height, width),
                                 ori_shape=(height, width), frame_id=t))
        present = [(k, o) for k, o in enumerate(objects)
                   if o['masks'][t] is not None]
        masks = np.stack([o['masks'][t] for _, o in present])
        boxes = []
        for m in masks:
            ys, xs = np.nonzero(m)
            boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor(boxes, dtype=torch.float32),
            labels=torch.tensor([o['category_id'] for _, o in present]),
            masks=BitmapMasks(masks, height, width),
            instances_ids=torch.tensor([k for k, _ in present]))
        samples.append(sample)
    track = TrackDataSample()
    track.video_data_samples = samples
    return inputs, [track], objects


def test_overfit_one_clip():
    torch.manual_seed(0)
    inputs, samples, objects = toy_clip()
    model = toy_model()
    optim = torch.optim.AdamW(model.parameters(), lr=1e-3)
    first = None
    # 80 steps with a late lr drop: without the drop the last IoUs of the
    # four small objects jump by +-0.1 from step to step around 0.5; with
    # it all four end at >= 0.57 (measured)
    for step in range(80):
        if step == 60:
            for group in optim.param_groups:
                group['lr'] = 1e-4
        loss = sum(model.loss(inputs, samples).values())
        first = loss.item() if first is None else first
        optim.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optim.step()
    assert loss.item() < first / 4, (first, loss.item())
    model.eval()
    with torch.no_grad():
        pred = model.predict(inputs, samples)[0]
    for obj in objects:
        best = 0.0
        for k in range(len(pred[0].pred_track_instances)):
            inter = union = 0
            for t, gt in enumerate(obj['masks']):
                m = pred[t].pred_track_instances.masks[k].numpy()
                g = np.zeros_like(m) if gt is None else gt > 0
                inter += (m & g).sum()
                union += (m | g).sum()
            best = max(best, inter / max(union, 1))
        assert best >= MASK_IOU_THR, best
