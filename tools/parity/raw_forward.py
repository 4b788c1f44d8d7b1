#!/usr/bin/env python3
"""One raw forward pass of each official model on the reference 160x120 boat crop, compared with
../shared's goldens: prints the max abs error per output. Run under different instruction-set caps
(ONEDNN_MAX_CPU_ISA, MKL_ENABLE_INSTRUCTIONS, ATEN_CPU_CAPABILITY) to measure how far fp32
reordering alone moves the outputs; tools/parity/isa-spread does that.

    python3 raw_forward.py SHARED_DIR [--save DIR]
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench", "extract"))
from reference_r2d2 import load_model  # noqa: E402

MODELS = ["r2d2_WASF_N16", "r2d2_WAF_N16", "r2d2_WASF_N8_big", "faster2d2_WASF_N16"]


def golden(raw, name):
    with open(os.path.join(raw, name + ".json")) as f:
        shape = json.load(f)["shape"]
    return np.fromfile(os.path.join(raw, name + ".f32"), dtype="<f4").reshape(shape)


def main():
    shared = sys.argv[1]
    save = sys.argv[sys.argv.index("--save") + 1] if "--save" in sys.argv else None
    torch.set_num_threads(1)
    raw = os.path.join(shared, "reference", "r2d2", "raw")
    x = torch.from_numpy(golden(raw, "boat_crop160x120_input").copy()).unsqueeze(0)
    for m in MODELS:
        net, _ = load_model(os.path.join(shared, "models", "r2d2", m + ".pt"))
        with torch.no_grad():
            h = x
            for op in net.ops:
                h = op(h)
            sq = h * h
            out = {
                "descriptors": F.normalize(h, p=2, dim=1),
                "reliability_logits": net.clf(sq),
                "repeatability_logits": net.sal(sq),
            }
            sp = F.softplus(out["repeatability_logits"])
            out["repeatability"] = sp / (1 + sp)
            out["reliability"] = F.softmax(out["reliability_logits"], dim=1)[:, 1:2]
        for k, v in out.items():
            a = v[0].numpy()
            g = golden(raw, f"{m}__boat_crop160x120__{k}")
            print(f"{m}\t{k}\t{np.abs(a - g).max():.3e}\t{np.abs(g).max():.3e}")
            if save:
                os.makedirs(save, exist_ok=True)
                a.astype("<f4").tofile(os.path.join(save, f"{m}__{k}.f32"))


if __name__ == "__main__":
    main()
