# Copyright (c) mmvmt contributors.
"""model-index.yml and the metafiles follow mim's layout and point at
existing configs."""
import os.path as osp

import yaml
from mmengine.config import Config

from ..conftest import ROOT


def test_model_index_and_metafiles():
    index = yaml.safe_load(open(osp.join(ROOT, 'model-index.yml')))
    assert list(index) == ['Import']
    names = set()
    for metafile in index['Import']:
        meta = yaml.safe_load(open(osp.join(ROOT, metafile)))
        collections = {c['Name'] for c in meta['Collections']}
        for model in meta['Models']:
            assert model['In Collection'] in collections
            config = osp.join(ROOT, model['Config'])
            assert osp.isfile(config), config
            assert model['Name'] == osp.splitext(osp.basename(config))[0]
            assert Config.fromfile(config).model.type == 'VMT'
            metrics = model['Results'][0]['Metrics']
            assert set(metrics) == {'Tube-Boundary AP', 'Tube-Mask AP'}
            names.add(model['Name'])
    assert names == {'vmt_r50', 'vmt_r101', 'vmt_swin-l'}
