#!/usr/bin/env python
"""The parity kit's runner (``../shared/parity/runner/run_case.py``) for
the original VMT with a ResNet-101 or Swin-L backbone.

    VMT_SRC=/path/to/vmt python run_case_arch.py --arch r101|swin-l \
        --data CASE/data --weights W.pth --out OUTDIR [--seed 42] [--short 64]

It runs the kit's ``run_case.main()`` unchanged except for what differs per
architecture, exactly as the original's evaluation scripts do:

* r101: ``tools/inference.py --masks --backbone resnet101``
  (``scripts/eval_r101_val.sh``);
* swin-l: ``tools/inference_swin.py --masks --backbone swin_l_p4w12``
  (``scripts/eval_swin_val.sh``), i.e. ``models_swin``. Its backbone
  returns stages 0-3 (strides 4-32) and no stem conv; the recorded
  ``backbone_C2_layer1`` .. ``backbone_C5_layer4`` are Swin stages 0-3 after
  their output norms, and the stride-2 feature is stage 0 upsampled x2
  (nearest) then ``lay_compress``: its output is recorded as ``hires``.
  The kit's band recomputation reads the stride-2 size from the backbone's
  key "4": for Swin that entry is stage 0 upsampled x2 (nearest), stored as
  ``backbone_hires_up`` (renamed from the kit's ``backbone_C1_conv1``).

Only read-only hooks are added; nothing changes the original's math.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arch_env  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--arch', choices=sorted(arch_env.BACKBONE),
                        required=True)
    arch_args, rest = parser.parse_known_args()
    inf = arch_env.setup(arch_args.arch)
    import run_case  # noqa: E402  (the kit's runner, unchanged)
    import torch
    import torch.nn.functional as F
    run_case.inf = inf

    if arch_args.arch == 'swin-l':
        install = run_case.install_hooks

        def install_hooks(model):
            install(model)

            def add_hires(mod, inp, out):
                stage0 = run_case.CAP['backbone']['0']
                up = F.interpolate(torch.from_numpy(stage0),
                                   scale_factor=2.0, mode='nearest')
                run_case.CAP['backbone']['4'] = up.numpy()

            def compress(mod, inp, out):
                run_case.CAP['hires'] = out.detach().numpy().copy()

            model.detr.backbone[0].body.register_forward_hook(add_hires)
            model.lay_compress.register_forward_hook(compress)

        run_case.install_hooks = install_hooks

    out_dir = rest[rest.index('--out') + 1]
    sys.argv = [sys.argv[0]] + rest
    run_case.main()

    if arch_args.arch == 'swin-l':  # rename the stride-2 entries, add hires
        path = os.path.join(out_dir, 'tensors.npz')
        rec = dict(np.load(path))
        for key in list(rec):
            if key.startswith('backbone_C1_conv1'):
                rec[key.replace('C1_conv1', 'hires_up')] = rec.pop(key)
        hires = run_case.CAP['hires']
        rec['hires_shape'] = np.array(hires.shape)
        st = 1
        while hires.nbytes / (st * st) > run_case.SUB_TARGET:
            st *= 2
        if st == 1:
            rec['hires'] = hires
        else:
            rec['hires_sub'] = hires[..., ::st, ::st]
            rec['hires_sub_stride'] = np.array(st)
        np.savez_compressed(path, **rec)


if __name__ == '__main__':
    main()
