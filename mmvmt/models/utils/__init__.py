# Copyright (c) mmvmt contributors.
from .vmt_ckpt_convert import ARCHS, convert_vmt_state_dict, detect_arch

__all__ = ['convert_vmt_state_dict', 'detect_arch', 'ARCHS']
