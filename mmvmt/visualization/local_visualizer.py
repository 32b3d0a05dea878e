# Copyright (c) mmvmt contributors.
"""Track visualizer for VMT outputs."""
import colorsys
from typing import Tuple

import numpy as np
from mmdet.visualization import TrackLocalVisualizer
from mmengine.structures import InstanceData

from mmvmt.registry import VISUALIZERS


def id_colour(instance_id: int) -> Tuple[int, int, int]:
    """A stable RGB colour for an instance id (golden-ratio hues)."""
    r, g, b = colorsys.hsv_to_rgb((int(instance_id) * 0.618034) % 1, 0.85,
                                  1.0)
    return int(r * 255), int(g * 255), int(b * 255)


@VISUALIZERS.register_module()
class VMTLocalVisualizer(TrackLocalVisualizer):
    """mmdet's :class:`TrackLocalVisualizer` made usable here.

    It draws instances in colours derived from their ids without mmdet's
    seaborn dependency, outlines every mask (its boundary), and reads GT
    ids from ``instances_ids`` (what ``PackTrackInputs`` writes) as well as
    predictions' ``instances_id``.
    """

    def _draw_instances(self, image: np.ndarray,
                        instances: InstanceData) -> np.ndarray:
        """Masks, boxes and ``class id | score`` labels of one frame.

        Returns:
            np.ndarray: The drawn RGB image.
        """
        self.set_image(image)
        if len(instances) == 0:
            return self.get_image()
        ids = instances.instances_id if 'instances_id' in instances else \
            instances.instances_ids
        classes = self.dataset_meta.get('classes', None)
        colours = [id_colour(i) for i in ids]
        texts = []
        for k, label in enumerate(instances.labels.tolist()):
            name = classes[label] if classes is not None and \
                0 <= label < len(classes) else f'cls{label}'
            text = f'{name} {int(ids[k])}'
            if 'scores' in instances:
                text += f' | {float(instances.scores[k]):.2f}'
            texts.append(text)
        if 'masks' in instances:
            masks = instances.masks
            if hasattr(masks, 'to_ndarray'):
                masks = masks.to_ndarray()
            masks = np.asarray(masks).astype(bool)
            self.draw_binary_masks(masks, colors=colours, alphas=self.alpha)
            self._draw_outlines(masks, colours)
        if 'bboxes' in instances:
            bboxes = instances.bboxes
            if hasattr(bboxes, 'tensor'):
                bboxes = bboxes.tensor
            self.draw_bboxes(
                bboxes, edge_colors=colours, line_widths=self.line_width)
            for k, pos in enumerate(bboxes[:, :2]):
                self.draw_texts(
                    texts[k], pos + self.line_width, colors='black',
                    font_sizes=8,
                    bboxes=[{'facecolor': [c / 255 for c in colours[k]],
                             'alpha': 0.8, 'pad': 0.5,
                             'edgecolor': 'none'}])
        return self.get_image()

    def _draw_outlines(self, masks: np.ndarray, colours: list) -> None:
        """Outer contours of (n, H, W) bool masks in the given colours."""
        import cv2
        for mask, colour in zip(masks, colours):
            contours, _ = cv2.findContours(
                mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                cv2.CHAIN_APPROX_SIMPLE)
            polygons = [c.reshape(-1, 2) for c in contours if len(c) > 2]
            if polygons:
                self.draw_polygons(
                    polygons, edge_colors=colour,
                    line_widths=self.line_width)


def draw_mask_overlay(img: np.ndarray,
                      mask: np.ndarray,
                      colour_bgr: Tuple[int, int, int],
                      label: str,
                      thickness: int = 1,
                      font_scale: float = 0.3,
                      label_gap: int = 2,
                      label_min_y: int = 8) -> None:
    """Blend a mask into a BGR image (50%), outline it and label it, in
    place; used by the demo and the result renderer.

    Args:
        img (np.ndarray): (H, W, 3) uint8 BGR image, modified.
        mask (np.ndarray): (H, W) uint8 mask, not empty.
        colour_bgr (tuple): Colour of the instance.
        label (str): Text written above the mask's top-left corner.
        thickness (int): Contour thickness. Defaults to 1.
        font_scale (float): Label size. Defaults to 0.3.
        label_gap (int): Pixels between the label and the mask.
            Defaults to 2.
        label_min_y (int): Lowest baseline y of the label. Defaults to 8.
    """
    import cv2
    img[mask > 0] = (0.5 * img[mask > 0] +
                     0.5 * np.array(colour_bgr, np.float32)).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(img, contours, -1, colour_bgr, thickness)
    ys, xs = np.nonzero(mask)
    cv2.putText(img, label, (int(xs.min()),
                             max(int(ys.min()) - label_gap, label_min_y)),
                cv2.FONT_HERSHEY_SIMPLEX, font_scale, colour_bgr, 1,
                cv2.LINE_AA)
