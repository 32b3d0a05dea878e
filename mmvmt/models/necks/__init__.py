# Copyright (c) mmvmt contributors.
from .padding_aware_channel_mapper import (PaddingAwareChannelMapper,
                                           masked_group_norm,
                                           resize_padding_mask)

__all__ = [
    'PaddingAwareChannelMapper', 'masked_group_norm', 'resize_padding_mask'
]
