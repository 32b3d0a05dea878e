# Copyright (c) mmvmt contributors.
from .chunked_ffn import ChunkedFFN
from .ms_deform_attn import (VMTDeformableAttention, VMTEncoderLayer,
                             VMTTransformerEncoder, deform_attn_sparse)
from .seqformer_layers import (SeqFormerCrossAttention, SeqFormerDecoder,
                               SeqFormerDecoderLayer, refine_boxes)

__all__ = [
    'SeqFormerCrossAttention', 'SeqFormerDecoder', 'SeqFormerDecoderLayer',
    'refine_boxes', 'VMTDeformableAttention', 'VMTEncoderLayer',
    'VMTTransformerEncoder', 'deform_attn_sparse', 'ChunkedFFN'
]
