#!/usr/bin/env python3
"""bench/nn/torch_model_ref.py — the lensflow posterior model (nn/posterior_model.hpp) written in
PyTorch at the paper's sizes, timed at the same shapes as bench_model_bench so that the two can be
divided row by row (bench_model_bench runs this script itself when PyTorch is importable).

Same architecture as lensflow: channels-last ResNet blocks relu(LN(conv)), LN(conv), relu(. + skip)
with layer norm over channels, max-pool after the first 7 blocks, 2-layer GRU, linear head; 20
conditional MADE affine blocks (hidden degrees j mod D, h through an unmasked linear into the first
layer, log-scale clamped to [-1, 1]) and an autoregressive MADE mixture-of-8-Gaussians base.

Usage: python3 bench/nn/torch_model_ref.py --device cuda --batch 512 --obs 100 --samples 1000
Prints "| name | shape | ms | throughput |" rows with the names bench_model_bench uses.
"""
import argparse
import math
import os
import statistics
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from torch_timing import time_ms as _time_ms  # noqa: E402

L, D, C, K, BLOCKS, HID = 7200, 8, 256, 8, 20, 256


class ResBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv1d(cin, cout, 3, padding=1)
        self.conv2 = nn.Conv1d(cout, cout, 3, padding=1)
        self.ln1, self.ln2 = nn.LayerNorm(cout), nn.LayerNorm(cout)
        self.skip = nn.Conv1d(cin, cout, 1, bias=False) if cin != cout else None

    def forward(self, x):  # [B, C, L]
        ln = lambda n, t: n(t.transpose(1, 2)).transpose(1, 2)
        y = F.relu(ln(self.ln1, self.conv1(x)))
        y = ln(self.ln2, self.conv2(y))
        return F.relu(y + (self.skip(x) if self.skip is not None else x))


class Featurizer(nn.Module):
    def __init__(self, n_blocks=9, n_pools=7, base=32, max_ch=256):
        super().__init__()
        self.n_pools = n_pools
        chans = [min(base * 2 ** min(b, n_pools), max_ch) for b in range(n_blocks)]
        self.blocks = nn.ModuleList()
        cin = 1
        for c in chans:
            self.blocks.append(ResBlock(cin, c))
            cin = c
        self.gru = nn.GRU(cin, 256, 2, batch_first=True)
        self.head = nn.Linear(256, C)

    def forward(self, x):  # [B, L, 1]
        h = x.transpose(1, 2)
        for b, block in enumerate(self.blocks):
            h = block(h)
            if b < self.n_pools:
                h = F.max_pool1d(h, 2)
        out, _ = self.gru(h.transpose(1, 2))
        return self.head(out[:, -1])


class MADE(nn.Module):
    def __init__(self, degrees, P, final_scale=0.01):
        super().__init__()
        deg = torch.tensor(degrees)
        hid = torch.arange(HID) % D
        out = deg.repeat_interleave(P)
        self.register_buffer("m0", (hid[:, None] >= deg[None, :]).float())
        self.register_buffer("m1", (hid[:, None] >= hid[None, :]).float())
        self.register_buffer("m2", (out[:, None] > hid[None, :]).float())
        self.l0, self.l1, self.l2 = nn.Linear(D, HID), nn.Linear(HID, HID), nn.Linear(HID, D * P)
        self.ctx = nn.Linear(C, HID, bias=False)
        self.P = P
        with torch.no_grad():
            self.l2.weight.mul_(final_scale)

    def forward_with(self, x, ctx):
        y = F.relu(F.linear(x, self.l0.weight * self.m0, self.l0.bias) + ctx)
        y = F.relu(F.linear(y, self.l1.weight * self.m1, self.l1.bias))
        return F.linear(y, self.l2.weight * self.m2, self.l2.bias).view(x.shape[0], D, self.P)


class Flow(nn.Module):
    def __init__(self, seed=1):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        orders = [(torch.randperm(D, generator=g) + 1).tolist() for _ in range(BLOCKS + 1)]
        self.blocks = nn.ModuleList(MADE(o, 2) for o in orders[:-1])
        self.base = MADE(orders[-1], 3 * K)

    def log_prob(self, theta, h):
        z, logdet = theta, 0.0
        for m in self.blocks:
            out = m.forward_with(z, m.ctx(h))
            a = out[..., 1].clamp(-1, 1)
            z = (z - out[..., 0]) * torch.exp(-a)
            logdet = logdet - a.sum(1)
        out = self.base.forward_with(z, self.base.ctx(h))
        lg, mu, ls = out[..., :K], out[..., K:2 * K], out[..., 2 * K:]
        u = (z.unsqueeze(-1) - mu) * torch.exp(-ls)
        comp = F.log_softmax(lg, -1) - ls - 0.5 * math.log(2 * math.pi) - 0.5 * u * u
        return torch.logsumexp(comp, -1).sum(1) + logdet

    @torch.no_grad()
    def sample(self, h, n):
        hr = h.repeat_interleave(n, 0)
        eps = torch.randn(hr.shape[0], D, device=h.device)
        u = torch.rand(hr.shape[0], D, 1, device=h.device)
        ctx = self.base.ctx(hr)
        z = eps
        for _ in range(D):
            out = self.base.forward_with(z, ctx)
            lg, mu, ls = out[..., :K], out[..., K:2 * K], out[..., 2 * K:]
            k = (u > torch.softmax(lg, -1).cumsum(-1)).sum(-1, keepdim=True).clamp(max=K - 1)
            z = mu.gather(-1, k).squeeze(-1) + torch.exp(ls.gather(-1, k).squeeze(-1)) * eps
        for m in reversed(self.blocks):
            ctx = m.ctx(hr)
            x = z
            for _ in range(D):
                out = m.forward_with(x, ctx)
                x = z * torch.exp(out[..., 1].clamp(-1, 1)) + out[..., 0]
            z = x
        return z.view(h.shape[0], n, D)




def time_ms(fn, dev, min_seconds):
    return _time_ms(fn, dev, min_seconds, max_repeats=100, reduce=statistics.median)


def row(name, shape, ms, extra=""):
    print(f"| {name:<34} | {shape:<22} | {ms:10.2f} | {extra:<24} |", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--flow-batch", type=int, default=512)
    ap.add_argument("--obs", type=int, default=100)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--min-seconds", type=float, default=1.0)
    ap.add_argument("--tf32", action="store_true")
    a = ap.parse_args()
    dev = torch.device(a.device)
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.backends.cuda.matmul.allow_tf32 = a.tf32
    torch.backends.cudnn.allow_tf32 = a.tf32
    torch.manual_seed(1)
    feat, flow = Featurizer().to(dev), Flow().to(dev)
    params = list(feat.parameters()) + list(flow.parameters())
    B, N = a.batch, a.flow_batch
    x = torch.randn(B, L, 1, device=dev)
    theta = torch.randn(B, D, device=dev)
    h = torch.randn(N, C, device=dev)
    th_n = torch.randn(N, D, device=dev)
    print(f"torch {torch.__version__}, device {dev}, {sum(p.numel() for p in params)} parameters, tf32 {a.tf32}\n")
    print(f"| {'what':<34} | {'shape':<22} | {'ms':>10} | {'throughput':<24} |")
    s = lambda *d: "[" + ",".join(str(v) for v in d) + "]"
    t = a.min_seconds

    def zero():
        for p in params:
            p.grad = None

    with torch.no_grad():
        ms = time_ms(lambda: feat(x), dev, t)
    row("featurizer forward", s(B, L, 1), ms, f"{B / ms * 1e3:.1f} curves/s")
    ms = time_ms(lambda: (zero(), feat(x).sum().backward()), dev, t)
    row("featurizer forward+backward", s(B, L, 1), ms, f"{B / ms * 1e3:.1f} curves/s")
    with torch.no_grad():
        ms = time_ms(lambda: flow.log_prob(th_n, h), dev, t)
    row("flow log_prob forward", s(N, D), ms, f"{N / ms * 1e3:.0f} rows/s")
    ms = time_ms(lambda: (zero(), flow.log_prob(th_n, h).mean().backward()), dev, t)
    row("flow log_prob forward+backward", s(N, D), ms, f"{N / ms * 1e3:.0f} rows/s")
    loss = lambda: -flow.log_prob(theta, feat(x)).mean()
    ms = time_ms(lambda: (zero(), loss().backward()), dev, t)
    row("training loss forward+backward", s(B, L, 1), ms, f"{B / ms * 1e3:.1f} curves/s")
    opt = torch.optim.Adam(params, lr=1e-3)
    zero()
    loss().backward()
    ms = time_ms(lambda: opt.step(), dev, t)
    row("Adam step (all parameters)", str(sum(p.numel() for p in params)), ms)

    def step():
        opt.zero_grad(set_to_none=True)
        loss().backward()
        torch.nn.utils.clip_grad_norm_(params, 10.0)
        opt.step()

    ms = time_ms(step, dev, t)
    row("training step (loss+clip+Adam)", s(B, L, 1), ms, f"{B / ms * 1e3:.1f} curves/s")
    hs = torch.randn(a.obs, C, device=dev)
    ms = time_ms(lambda: flow.sample(hs, a.samples), dev, t)
    row("flow sampling", s(a.obs, a.samples, D), ms, f"{a.obs * a.samples / ms * 1e3:.0f} samples/s")
    if dev.type == "cuda":
        print(f"\npeak device memory (torch allocator): {torch.cuda.max_memory_allocated() / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
