"""Reference for tools/bench/train: one R2D2 training step written plainly in PyTorch (the same
network, batch, sample counts and losses as `localize train`: AP over a dense Q×M×bins
quantization as He et al. write it, the local cosine-similarity and peakiness terms, Adam).
Prints JSON with the median step time. Usage: reference_step.py BATCH CROP STEPS WARMUP THREADS"""
import json, sys, time
import torch
import torch.nn.functional as F

batch, crop, steps, warmup, threads = (int(a) for a in sys.argv[1:6])
torch.set_num_threads(threads)
torch.manual_seed(0)

# Quad_L2Net_ConfCFS(): (in, out, kernel, dilation, batch norm, relu); dilations replace strides.
LAYERS = [(3, 32, 3, 1, True, True), (32, 32, 3, 1, True, True), (32, 64, 3, 1, True, True),
          (64, 64, 3, 2, True, True), (64, 128, 3, 2, True, True), (128, 128, 3, 4, True, True),
          (128, 128, 2, 4, True, False), (128, 128, 2, 8, True, False), (128, 128, 2, 16, False, False)]
mods = []
for cin, cout, k, d, bn, relu in LAYERS:
    mods.append(torch.nn.Conv2d(cin, cout, k, padding=(k - 1) * d // 2, dilation=d))
    if bn: mods.append(torch.nn.BatchNorm2d(cout, affine=False))
    if relu: mods.append(torch.nn.ReLU(inplace=True))
trunk = torch.nn.Sequential(*mods)
clf, sal = torch.nn.Conv2d(128, 2, 1), torch.nn.Conv2d(128, 1, 1)
params = list(trunk.parameters()) + list(clf.parameters()) + list(sal.parameters())
opt = torch.optim.Adam(params, lr=1e-4, weight_decay=5e-4)

def forward(x):
    x = trunk(x)
    sq = x ** 2
    rel = F.softmax(clf(sq), 1)[:, 1:2]
    u = F.softplus(sal(sq))
    return F.normalize(x, dim=1), rel, u / (1 + u)

def ap_loss(scores, labels, bins=20):
    centres = torch.linspace(1, 0, bins)
    q = (1 - (scores.unsqueeze(-1) - centres).abs() * (bins - 1)).clamp(min=0)
    q[..., 0] = torch.where(scores >= 1, torch.ones_like(scores), q[..., 0])
    q[..., -1] = torch.where(scores <= 0, torch.ones_like(scores), q[..., -1])
    h, r = q.sum(1), (q * labels.unsqueeze(-1)).sum(1)
    prec = r.cumsum(1) / (h.cumsum(1) + 1e-16)
    return (prec * r / r.sum(1, keepdim=True)).sum(1)

def step(imgs):
    opt.zero_grad()
    d, rel, rep = forward(imgs)
    d1, d2 = d[:batch], d[batch:]
    f1 = d1.permute(0, 2, 3, 1).reshape(-1, 128)
    f2 = d2.permute(0, 2, 3, 1).reshape(-1, 128)
    nq = batch * ((crop - 32) // 8) ** 2
    q = torch.randint(0, f1.shape[0], (nq,))
    pos = (f1[q].unsqueeze(1) * f2[(q.unsqueeze(1) + torch.arange(29)) % f2.shape[0]]).sum(-1).amax(1, keepdim=True)
    ring = (f1[q].unsqueeze(1) * f2[(q.unsqueeze(1) + 100 + torch.arange(76)) % f2.shape[0]]).sum(-1)
    dist = f1[q] @ f2[torch.arange(0, f2.shape[0], 64)].t()
    scores = torch.cat([pos, ring, dist], 1)
    labels = torch.zeros_like(scores); labels[:, 0] = 1
    r = rel.reshape(-1)[q]
    ap = ap_loss(scores, labels)
    loss = (1 - ap * r - 0.5 * (1 - r)).mean()
    p1, p2 = rep[:batch], rep[batch:]
    u1 = F.normalize(F.unfold(p1, 16, stride=8), dim=1); u2 = F.normalize(F.unfold(p2, 16, stride=8), dim=1)
    loss = loss + 1 - (u1 * u2).sum(1).mean()
    for p in (p1, p2):
        s = F.avg_pool2d(p, 3, 1, 1)
        loss = loss + 0.5 * (1 - (F.max_pool2d(s, 17, 1, 8) - F.avg_pool2d(s, 17, 1, 8)).mean())
    loss.backward()
    opt.step()

imgs = torch.randn(2 * batch, 3, crop, crop)
times = []
for i in range(warmup + steps):
    t = time.perf_counter(); step(imgs); dt = time.perf_counter() - t
    if i >= warmup: times.append(dt)
times.sort()
print(json.dumps({"median_s": times[len(times) // 2], "steps": steps, "torch": torch.__version__}))
