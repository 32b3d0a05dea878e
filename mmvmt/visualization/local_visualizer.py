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
    seaborn dependency, and reads GT ids from ``instances_ids`` (what
    ``PackTrackInputs`` writes) as well as predictions' ``instances_id``.
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
            self.draw_binary_masks(
                np.asarray(masks).astype(bool), colors=colours,
                alphas=self.alpha)
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
