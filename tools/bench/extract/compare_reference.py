#!/usr/bin/env python3
"""Compare an R2D2 extraction (a `.r2d2` npz file) against the shared reference outputs.

    python3 compare_reference.py OURS.r2d2 REF_PREFIX [--tol 0.5] [--min-match 0.99] [--min-cos 0.999]

REF_PREFIX is e.g. ../shared/reference/r2d2/multiscale/boat__r2d2_WASF_N16 (its .json header names
the .f32 arrays), or a second `.r2d2`/`.npz` file.  Rows are in ascending score order and tied
scores exist, so the comparison is set-wise: each reference keypoint is matched to the nearest of
ours at the same scale (within --tol pixels), and the descriptor cosine and score difference are
measured on those pairs.

    python3 compare_reference.py --raw MODEL.pt [--shared DIR]

checks one forward pass (no pyramid) of reference_r2d2.py against reference/r2d2/raw/ for MODEL.

Exit status 0 when the thresholds hold, 1 otherwise.
"""
import argparse
import json
import os
import sys

import numpy as np


def load_ref(prefix):
    if prefix.endswith((".r2d2", ".npz")):
        z = np.load(prefix)
        return z["keypoints"], z["descriptors"], z["scores"]
    with open(prefix + ".json") as f:
        hdr = json.load(f)
    d = os.path.dirname(prefix)
    out = []
    for name in ("keypoints", "descriptors", "scores"):
        a = hdr["arrays"][name]
        out.append(np.fromfile(os.path.join(d, a["file"]), dtype="<f4").reshape(a["shape"]))
    return out


def compare(ours, ref, tol=0.5):
    okp, odesc, osc = (np.asarray(a, dtype=np.float64) for a in ours)
    rkp, rdesc, rsc = (np.asarray(a, dtype=np.float64) for a in ref)
    matched = np.full(len(rkp), -1)
    # index ours by (scale, integer-ish position) buckets
    for scale in np.unique(rkp[:, 2]):
        ri = np.nonzero(np.abs(rkp[:, 2] - scale) < 1e-3 * scale)[0]
        oi = np.nonzero(np.abs(okp[:, 2] - scale) < 1e-3 * scale)[0]
        if len(oi) == 0:
            continue
        for chunk in np.array_split(ri, max(1, len(ri) // 512)):
            d2 = ((rkp[chunk, None, :2] - okp[None, oi, :2]) ** 2).sum(-1)
            j = d2.argmin(1)
            ok = d2[np.arange(len(chunk)), j] <= tol * tol
            matched[chunk[ok]] = oi[j[ok]]
    m = matched >= 0
    res = {"n_ours": int(len(okp)), "n_ref": int(len(rkp)), "matched": int(m.sum()),
           "match_fraction": float(m.mean()) if len(rkp) else 1.0}
    if m.any():
        a, b = rdesc[m], odesc[matched[m]]
        cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        sd = np.abs(rsc[m] - osc[matched[m]])
        pd = np.abs(rkp[m, :2] - okp[matched[m], :2]).max(1)
        res.update({"cos_min": float(cos.min()), "cos_mean": float(cos.mean()),
                    "cos_p01": float(np.percentile(cos, 1)),
                    "score_absdiff_max": float(sd.max()), "score_absdiff_mean": float(sd.mean()),
                    "pos_absdiff_max": float(pd.max()),
                    "exact_position_fraction": float((pd == 0).mean())})
    # score threshold of the top-k cut: unmatched reference points should sit near it
    if (~m).any():
        res["unmatched_ref_score_max"] = float(rsc[~m].max())
        res["ref_score_min"] = float(rsc.min())
    return res


def check_raw(model, shared, threads):
    import torch
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import reference_r2d2 as R

    torch.set_num_threads(threads)
    raw = os.path.join(shared, "reference", "r2d2", "raw")
    tag = os.path.splitext(os.path.basename(model))[0]

    def arr(name):
        with open(os.path.join(raw, name + ".json")) as f:
            h = json.load(f)
        dt = {"float32": "<f4", "int64": "<i8", "uint8": "u1"}[h["dtype"]]
        return np.fromfile(os.path.join(raw, h["file"]), dtype=dt).reshape(h["shape"])

    rgb = arr("boat_crop160x120_rgb")
    x = torch.from_numpy(rgb.copy()).permute(2, 0, 1).float().div_(255.0)
    x = (x - torch.tensor(R.MEAN).view(3, 1, 1)) / torch.tensor(R.STD).view(3, 1, 1)
    x = x.unsqueeze(0)
    res = {"model": tag}
    res["input_maxabs"] = float(np.abs(x[0].numpy() - arr("boat_crop160x120_input")).max())
    import torch.nn.functional as F
    rs = F.interpolate(x, (101, 135), mode="bilinear", align_corners=False)
    res["resize_maxabs"] = float(np.abs(rs[0].numpy() - arr("boat_crop160x120_input_resized_135x101")).max())
    net, _ = R.load_model(model)
    with torch.no_grad():
        desc, rel, rep = net(x)
        y, xx = R.nms(rel, rep, 0.7, 0.7)
    pre = tag + "__boat_crop160x120__"
    res["desc_maxabs"] = float(np.abs(desc[0].numpy() - arr(pre + "descriptors")).max())
    res["rel_maxabs"] = float(np.abs(rel[0].numpy() - arr(pre + "reliability")).max())
    res["rep_maxabs"] = float(np.abs(rep[0].numpy() - arr(pre + "repeatability")).max())
    ref_xy = {tuple(r) for r in arr(pre + "nms_xy").tolist()}
    our_xy = {(int(a), int(b)) for a, b in zip(xx.tolist(), y.tolist())}
    res["nms_ref"] = len(ref_xy)
    res["nms_ours"] = len(our_xy)
    res["nms_common"] = len(ref_xy & our_xy)
    ok = (res["desc_maxabs"] < 1e-3 and res["rel_maxabs"] < 1e-3 and res["rep_maxabs"] < 1e-3
          and res["nms_common"] >= 0.99 * res["nms_ref"])
    return res, ok


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("ours", nargs="?")
    p.add_argument("ref", nargs="?")
    p.add_argument("--tol", type=float, default=0.5)
    p.add_argument("--min-match", type=float, default=0.99)
    p.add_argument("--min-cos", type=float, default=0.999)
    p.add_argument("--raw", metavar="MODEL", help="check a single forward pass against reference/r2d2/raw")
    p.add_argument("--shared", default=os.environ.get("R2D2_SHARED") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "shared"))
    p.add_argument("--threads", type=int, default=os.cpu_count())
    a = p.parse_args()

    if a.raw:
        res, ok = check_raw(a.raw, a.shared, a.threads)
        print(json.dumps(res, indent=1))
        print("OK" if ok else "FAIL")
        return 0 if ok else 1
    if not (a.ours and a.ref):
        p.error("need OURS and REF (or --raw MODEL)")
    z = np.load(a.ours)
    res = compare((z["keypoints"], z["descriptors"], z["scores"]), load_ref(a.ref), a.tol)
    print(json.dumps(res, indent=1))
    ok = res["match_fraction"] >= a.min_match and res.get("cos_min", 0.0) >= a.min_cos
    print("OK" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
