# Copyright (c) mmvmt contributors.
"""Install mmvmt: ``pip install --no-build-isolation -e .``.

mmcv 2.1.0 must be built from source with its ops first (see Makefile and
docs/get_started.md); ``install_requires`` lists it so pip checks it.
"""
import os
import os.path as osp
import shutil

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def get_version() -> str:
    scope: dict = {}
    with open(osp.join(HERE, 'mmvmt', 'version.py')) as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


def parse_requirements(fname: str) -> list:
    reqs = []
    with open(osp.join(HERE, 'requirements', fname)) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line:
                reqs.append(line)
    return reqs


def add_mim_extension() -> None:
    """Expose configs/tools/model-index.yml to ``mim`` under mmvmt/.mim.

    Symlinks for develop installs, copies for wheels, as mmdet does.
    """
    import sys
    if 'develop' in sys.argv or any('editable' in a for a in sys.argv):
        mode = 'symlink'
    elif 'sdist' in sys.argv or 'bdist_wheel' in sys.argv:
        mode = 'copy'
    else:
        return
    mim_path = osp.join(HERE, 'mmvmt', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in ('configs', 'tools', 'demo', 'model-index.yml'):
        src = osp.join(HERE, name)
        dst = osp.join(mim_path, name)
        if not osp.exists(src):
            continue
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_path), dst)
        elif osp.isdir(src):
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='mmvmt',
        version=get_version(),
        description='Video Mask Transfiner (VMT) as an OpenMMLab library',
        long_description=open(osp.join(HERE, 'README.md')).read(),
        long_description_content_type='text/markdown',
        keywords='video instance segmentation, VMT, HQ-YTVIS',
        packages=find_packages(exclude=('configs', 'tools', 'demo', 'tests')),
        include_package_data=True,
        python_requires='>=3.8',
        license='Apache License 2.0',
        install_requires=parse_requirements('runtime.txt'),
        extras_require={
            'tests': parse_requirements('tests.txt'),
            'build': parse_requirements('build.txt'),
        },
        zip_safe=False)
