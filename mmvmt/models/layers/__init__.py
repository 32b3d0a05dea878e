# Copyright (c) mmvmt contributors.
from .seqformer_layers import (SeqFormerCrossAttention, SeqFormerDecoder,
                               SeqFormerDecoderLayer, refine_boxes)

__all__ = [
    'SeqFormerCrossAttention', 'SeqFormerDecoder', 'SeqFormerDecoderLayer',
    'refine_boxes'
]
