# Copyright (c) mmvmt contributors.
"""Version of mmvmt and the dependency ranges it was verified with."""
__version__ = '0.1.0'

mmcv_minimum_version = '2.1.0'
mmcv_maximum_version = '2.2.0'
mmengine_minimum_version = '0.10.7'
mmdet_version = '3.3.0'


def parse_version_info(version_str: str) -> tuple:
    """Split ``'0.1.0rc1'`` into ``(0, 1, 0, 'rc1')``."""
    info = []
    for part in version_str.split('.'):
        if part.isdigit():
            info.append(int(part))
        else:
            digits = ''.join(c for c in part if c.isdigit())
            info.append(int(digits) if digits else 0)
            info.append(part[len(digits):])
    return tuple(info)


version_info = parse_version_info(__version__)
