#!/usr/bin/env python3
"""Self-contained PyTorch reference for R2D2 multi-scale keypoint extraction.

Written from the published description of the official NAVER implementation (Revaud et al.,
2019) and the facts listed in ../shared/README.md; it is the speed and accuracy yardstick of
tools/bench/extract/run.  Needs only torch, numpy and PIL (Debian's /usr/bin/python3 has them).

    python3 reference_r2d2.py --model r2d2_WASF_N16.pt --images a.png b.png \
        [--top-k 5000] [--threads N] [--warmup 1] [--out DIR] [--stats stats.json]

Per image, timed from image loading to the final top-k selection (model loading excluded).
"""
import argparse
import json
import os
import re
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


# --------------------------------------------------------------------------- network
def _conv(cin, cout, k, pad, dil):
    return nn.Conv2d(cin, cout, kernel_size=k, stride=1, padding=pad, dilation=dil)


def _bn(c):
    return nn.BatchNorm2d(c, eps=1e-5, affine=False)


def _relu():
    return nn.ReLU(inplace=True)


def quad_l2net_ops(mchan=4):
    """Layer list of Quad_L2Net_ConfCFS(mchan): indices match the checkpoint keys ops.N."""
    c1, c2, c4 = 8 * mchan, 16 * mchan, 32 * mchan
    return [
        _conv(3, c1, 3, 1, 1), _bn(c1), _relu(),            # 0 1 2
        _conv(c1, c1, 3, 1, 1), _bn(c1), _relu(),           # 3 4 5
        _conv(c1, c2, 3, 1, 1), _bn(c2), _relu(),           # 6 7 8
        _conv(c2, c2, 3, 2, 2), _bn(c2), _relu(),           # 9 10 11
        _conv(c2, c4, 3, 2, 2), _bn(c4), _relu(),           # 12 13 14
        _conv(c4, c4, 3, 4, 4), _bn(c4), _relu(),           # 15 16 17
        _conv(c4, c4, 2, 2, 4), _bn(c4),                    # 18 19 (no ReLU)
        _conv(c4, c4, 2, 4, 8), _bn(c4),                    # 20 21 (no ReLU)
        _conv(c4, 128, 2, 8, 16),                           # 22 (no BN, no ReLU)
    ]


def fast_quad_l2net_ops(mchan=4):
    """Layer list of Fast_Quad_L2Net_ConfCFS(): a 2x max-pool early, a 2x bilinear upsample last."""
    c1, c2, c4 = 8 * mchan, 16 * mchan, 32 * mchan
    return [
        _conv(3, c1, 3, 1, 1), _bn(c1), _relu(),            # 0 1 2
        _conv(c1, c1, 3, 1, 1), _bn(c1), _relu(),           # 3 4 5
        _conv(c1, c2, 3, 1, 1), _bn(c2), _relu(),           # 6 7 8
        nn.MaxPool2d(kernel_size=2, stride=2),              # 9
        _conv(c2, c2, 3, 1, 1), _bn(c2), _relu(),           # 10 11 12
        _conv(c2, c4, 3, 1, 1), _bn(c4), _relu(),           # 13 14 15
        _conv(c4, c4, 3, 2, 2), _bn(c4), _relu(),           # 16 17 18
        _conv(c4, c4, 2, 1, 2), _bn(c4),                    # 19 20 (no ReLU)
        _conv(c4, c4, 2, 2, 4), _bn(c4),                    # 21 22 (no ReLU)
        _conv(c4, 128, 2, 4, 8),                            # 23
        nn.Upsample(scale_factor=2.0, mode="bilinear", align_corners=False),  # 24
    ]


class R2D2Net(nn.Module):
    def __init__(self, ops):
        super().__init__()
        self.ops = nn.ModuleList(ops)
        self.clf = nn.Conv2d(128, 2, kernel_size=1)   # reliability logits
        self.sal = nn.Conv2d(128, 1, kernel_size=1)   # repeatability logit

    def forward(self, x):
        for op in self.ops:
            x = op(x)
        sq = x * x
        u_rel = self.clf(sq)
        u_rep = self.sal(sq)
        desc = F.normalize(x, p=2, dim=1)
        sp = F.softplus(u_rep)
        rep = sp / (1 + sp)
        rel = F.softmax(u_rel, dim=1)[:, 1:2]
        return desc, rel, rep


def build_net(net_string):
    s = net_string.replace(" ", "")
    m = re.fullmatch(r"(Fast_)?Quad_L2Net_ConfCFS\((?:mchan=(\d+))?\)", s)
    if not m:
        raise SystemExit(f"unsupported architecture string: {net_string!r}")
    mchan = int(m.group(2)) if m.group(2) else 4
    ops = fast_quad_l2net_ops(mchan) if m.group(1) else quad_l2net_ops(mchan)
    return R2D2Net(ops)


def load_model(path):
    ckpt = torch.load(path, map_location="cpu")
    net = build_net(ckpt["net"])
    sd = {}
    for k, v in ckpt["state_dict"].items():
        sd[k[len("module."):] if k.startswith("module.") else k] = v
    net.load_state_dict(sd, strict=True)
    net.eval()
    return net, ckpt["net"]


# --------------------------------------------------------------------------- extraction
def load_image(path):
    img = Image.open(path).convert("RGB")
    W, H = img.size
    a = torch.from_numpy(np.asarray(img, dtype=np.uint8).copy())          # H W 3
    t = a.permute(2, 0, 1).float().div_(255.0)
    mean = torch.tensor(MEAN, dtype=torch.float32).view(3, 1, 1)
    std = torch.tensor(STD, dtype=torch.float32).view(3, 1, 1)
    t = (t - mean) / std
    return t.unsqueeze(0), W, H


def nms(rel, rep, rel_thr, rep_thr):
    """Local maxima (3x3) of repeatability passing both thresholds; returns (y, x) index tensors."""
    m = rep == F.max_pool2d(rep, kernel_size=3, stride=1, padding=1)
    m &= rep >= rep_thr
    m &= rel >= rel_thr
    nz = m[0, 0].nonzero()
    return nz[:, 0], nz[:, 1]


def extract_multiscale(net, img, scale_f=2 ** 0.25, min_size=256, max_size=1024, min_scale=0.0,
                       max_scale=1.0, rel_thr=0.7, rep_thr=0.7, channels_last=False, levels=None):
    _, _, H, W = img.shape
    s = 1.0
    X, Y, S, C, Q, D = [], [], [], [], [], []
    while s + 0.001 >= max(min_scale, min_size / max(H, W)):
        if s - 0.001 <= min(max_scale, max_size / max(H, W)):
            nh, nw = img.shape[2:]
            x_in = img.contiguous(memory_format=torch.channels_last) if channels_last else img
            desc, rel, rep = net(x_in)
            y, x = nms(rel, rep, rel_thr, rep_thr)
            C.append(rel[0, 0, y, x])
            Q.append(rep[0, 0, y, x])
            D.append(desc[0, :, y, x].t())
            n = y.shape[0]
            X.append(x.float() * W / nw)
            Y.append(y.float() * H / nh)
            S.append((32 / s) * torch.ones(n, dtype=torch.float32))
            if levels is not None:
                levels.append((nw, nh, n))
        s /= scale_f
        nh, nw = round(H * s), round(W * s)
        img = F.interpolate(img, (nh, nw), mode="bilinear", align_corners=False)
    xys = torch.stack([torch.cat(X), torch.cat(Y), torch.cat(S)], dim=-1)
    scores = torch.cat(C) * torch.cat(Q)
    return xys, torch.cat(D), scores


def extract_image(net, path, top_k, **kw):
    img, W, H = load_image(path)
    xys, desc, scores = extract_multiscale(net, img, **kw)
    xys = xys.numpy()
    desc = desc.contiguous().numpy()
    scores = scores.numpy()
    idx = scores.argsort()[-top_k or None:]
    return (W, H), xys[idx], desc[idx], scores[idx]


# --------------------------------------------------------------------------- driver
def peak_rss_mb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--images", nargs="+", required=True)
    p.add_argument("--top-k", type=int, default=5000)
    p.add_argument("--scale-f", type=float, default=2 ** 0.25)
    p.add_argument("--min-size", type=int, default=256)
    p.add_argument("--max-size", type=int, default=1024)
    p.add_argument("--min-scale", type=float, default=0.0)
    p.add_argument("--max-scale", type=float, default=1.0)
    p.add_argument("--reliability-thr", type=float, default=0.7)
    p.add_argument("--repeatability-thr", type=float, default=0.7)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--channels-last", action="store_true", help="run convolutions in NHWC layout")
    p.add_argument("--warmup", type=int, default=0, help="extra untimed runs of the first image")
    p.add_argument("--out", help="directory for <image file name>.r2d2 (npz) outputs")
    p.add_argument("--stats", help="write timing statistics (JSON) here")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)

    torch.set_num_threads(a.threads)
    net, net_string = load_model(a.model)
    if a.channels_last:
        net = net.to(memory_format=torch.channels_last)
    kw = dict(scale_f=a.scale_f, min_size=a.min_size, max_size=a.max_size, min_scale=a.min_scale,
              max_scale=a.max_scale, rel_thr=a.reliability_thr, rep_thr=a.repeatability_thr,
              channels_last=a.channels_last)
    if a.out:
        os.makedirs(a.out, exist_ok=True)

    records = []
    with torch.no_grad():
        for _ in range(a.warmup):
            extract_image(net, a.images[0], a.top_k, **kw)
        for path in a.images:
            levels = []
            t0 = time.perf_counter()
            imsize, xys, desc, scores = extract_image(net, path, a.top_k, levels=levels, **kw)
            dt = time.perf_counter() - t0
            records.append({"name": os.path.basename(path), "seconds": round(dt, 4),
                            "keypoints": int(len(scores)), "width": imsize[0], "height": imsize[1],
                            "levels": len(levels)})
            if not a.quiet:
                print(f"{os.path.basename(path)}: {imsize[0]}x{imsize[1]}, {len(levels)} levels, "
                      f"{len(scores)} keypoints, {dt:.3f} s", file=sys.stderr)
            if a.out:
                outpath = os.path.join(a.out, os.path.basename(path) + ".r2d2")
                with open(outpath, "wb") as f:
                    np.savez(f, imsize=np.array(imsize, dtype=np.int64), keypoints=xys,
                             descriptors=desc, scores=scores)

    stats = {
        "tool": "pytorch",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "model": os.path.basename(a.model),
        "net": net_string,
        "channels_last": bool(a.channels_last),
        "warmup": a.warmup,
        "ld_preload": os.environ.get("LD_PRELOAD", ""),
        "images": records,
        "median_seconds_per_image": statistics.median(r["seconds"] for r in records),
        "peak_rss_mb": peak_rss_mb(),
    }
    if a.stats:
        with open(a.stats, "w") as f:
            json.dump(stats, f, indent=1)
    if not a.quiet:
        print(f"median {stats['median_seconds_per_image']:.3f} s/image, peak RSS "
              f"{stats['peak_rss_mb']:.0f} MB, {stats['threads']} threads", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
