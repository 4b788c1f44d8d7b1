#!/usr/bin/env python3
"""Plain PyTorch mutual nearest neighbours: the yardstick of tools/bench/match/run.

The descriptors are the ones `localize bench-match` draws: torch.manual_seed(seed), then
torch.randn(2*pairs, keypoints, dim) L2-normalized per row; pair i matches image 2i with 2i+1.
The matcher is what hloc-style code does: the full similarity matrix, argmax of each row and of
each column, keep (i, j) when they agree.  Prints one JSON object with the schema of ours
(match_checksum = the sum of i*keypoints + j over all matches of all pairs, to check that both
sides found the same matches).

    python3 reference_match.py --keypoints 5000 --pairs 20 --dim 128 --seed 0 --threads 2
"""
import argparse
import json
import statistics
import time

import torch


def mutual_nn(d1, d2):
    sim = d1 @ d2.t()
    nn12 = sim.argmax(dim=1)
    nn21 = sim.argmax(dim=0)
    mutual = nn21[nn12] == torch.arange(d1.shape[0])
    return torch.nonzero(mutual).squeeze(1), nn12[mutual]


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keypoints", type=int, default=5000)
    ap.add_argument("--pairs", type=int, default=20)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0, help="0: all cores")
    a = ap.parse_args()
    import os
    torch.set_num_threads(a.threads if a.threads > 0 else len(os.sched_getaffinity(0)))
    torch.manual_seed(a.seed)
    x = torch.randn(2 * a.pairs, a.keypoints, a.dim, dtype=torch.float32)
    x = x / x.norm(dim=-1, keepdim=True)
    with torch.no_grad():
        for _ in range(a.warmup):
            mutual_nn(x[0], x[1])
        per_pair, matches, checksum = [], 0, 0
        t0 = time.perf_counter()
        for i in range(a.pairs):
            t = time.perf_counter()
            i1, j1 = mutual_nn(x[2 * i], x[2 * i + 1])
            per_pair.append(time.perf_counter() - t)
            matches += int(i1.shape[0])
            checksum += int((i1 * a.keypoints + j1).sum())
        seconds = time.perf_counter() - t0
    print(json.dumps({
        "tool": "pytorch", "torch": torch.__version__,
        "keypoints": a.keypoints, "dim": a.dim, "pairs": a.pairs, "seed": a.seed, "warmup": a.warmup,
        "threads": torch.get_num_threads(), "device": "cpu",
        "seconds": seconds, "pairs_per_second": a.pairs / seconds,
        "median_seconds_per_pair": statistics.median(per_pair), "min_seconds_per_pair": min(per_pair),
        "mean_matches": matches / a.pairs, "match_checksum": checksum, "peak_rss_mb": peak_rss_mb(),
    }))


if __name__ == "__main__":
    main()
