#!/usr/bin/env python3
"""bench/kernels/torch_ops_ref.py — PyTorch reference timings for the ops and the ResNet-GRU featurizer that
bench_ops_bench (bench/kernels/ops_bench.cpp) times in lensflow, at the same shapes.

Usage (on the GPU machine, with PyTorch installed):
    python3 bench/kernels/torch_ops_ref.py --device cuda --batch 8
    python3 bench/kernels/torch_ops_ref.py --device cuda --batch 512 --only featurizer
    python3 bench/kernels/torch_ops_ref.py --device cpu --threads 2 --batch 8
Prints a markdown table (best-of-repeats ms of forward, and of forward+backward of sum(output)), the same
columns as bench_ops_bench, so the two can be divided row by row. TF32 is off by default (lensflow's
cuBLAS GEMMs are plain FP32); --tf32 turns it on for PyTorch's matmul and cuDNN convolutions.
"""
import argparse
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from torch_timing import time_ms  # noqa: E402




def bench(name, shape, inputs, f, device, min_seconds):
    def fwd():
        with torch.no_grad():
            f(*inputs)

    def fwd_bwd():
        for t in inputs:
            if t is not None and t.grad is not None:
                t.grad = None
        f(*inputs).sum().backward()

    a = time_ms(fwd, device, min_seconds)
    b = time_ms(fwd_bwd, device, min_seconds)
    print(f"| {name:<22} | {shape:<34} | {a:10.3f} | {b:12.3f} |", flush=True)


# ---- lensflow's layer conventions, channels-last [B, L, C] ----
def conv1d_cl(x, w, b):
    """x[B,L,Cin], w[K,Cin,Cout] (lensflow layout) -> [B,L,Cout], 'same' padding."""
    k = w.shape[0]
    y = F.conv1d(x.transpose(1, 2), w.permute(2, 1, 0), b, padding=(k - 1) // 2)
    return y.transpose(1, 2)


def maxpool2_cl(x):
    return F.max_pool1d(x.transpose(1, 2), 2).transpose(1, 2)


def mog_logpdf(z, logits, mu, log_sigma):
    u = (z.unsqueeze(-1) - mu) * torch.exp(-log_sigma)
    comp = torch.log_softmax(logits, -1) - log_sigma - 0.5 * math.log(2 * math.pi) - 0.5 * u * u
    return torch.logsumexp(comp, -1)


# The featurizer is the one of the whole-model reference (bench/nn/torch_model_ref.py), which
# mirrors nn/featurizer.hpp exactly (bias-free 1x1 skip convolutions included).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "nn"))
from torch_model_ref import Featurizer  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--flow-batch", type=int, default=512)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--min-seconds", type=float, default=0.5)
    ap.add_argument("--tf32", action="store_true")
    ap.add_argument("--only", choices=["all", "featurizer"], default="all")
    a = ap.parse_args()
    dev = torch.device(a.device)
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.backends.cuda.matmul.allow_tf32 = a.tf32
    torch.backends.cudnn.allow_tf32 = a.tf32
    torch.manual_seed(1)
    B, N, L = a.batch, a.flow_batch, 7200

    def inp(*shape, grad=True):
        return torch.randn(*shape, device=dev, requires_grad=grad)

    print(f"torch {torch.__version__}, device {dev}"
          + (f" ({torch.cuda.get_device_name()})" if dev.type == "cuda" else f", threads {torch.get_num_threads()}")
          + f", featurizer batch {B}, flow batch {N}, tf32 {a.tf32}\n")
    print(f"| {'op':<22} | {'shape':<34} | {'fwd ms':>10} | {'fwd+bwd ms':>12} |")
    print(f"|{'-' * 24}|{'-' * 36}|{'-' * 12}|{'-' * 14}|")
    s = lambda *d: "[" + ",".join(str(v) for v in d) + "]"
    t = a.min_seconds
    if a.only == "all":
        bench("conv1d 1->32 K3", s(B, L, 1), [inp(B, L, 1), inp(3, 1, 32), inp(32)], conv1d_cl, dev, t)
        bench("conv1d 32->32 K3", s(B, L, 32), [inp(B, L, 32), inp(3, 32, 32), inp(32)], conv1d_cl, dev, t)
        bench("conv1d 128->128 K3", s(B, 900, 128), [inp(B, 900, 128), inp(3, 128, 128), inp(128)], conv1d_cl, dev, t)
        bench("conv1d 256->256 K3", s(B, 112, 256), [inp(B, 112, 256), inp(3, 256, 256), inp(256)], conv1d_cl, dev, t)
        bench("layer_norm C=32", s(B, L, 32), [inp(B, L, 32), inp(32), inp(32)],
              lambda x, g, b: F.layer_norm(x, (32,), g, b), dev, t)
        bench("relu", s(B, L, 32), [inp(B, L, 32)], F.relu, dev, t)
        bench("add (residual)", s(B, L, 32), [inp(B, L, 32), inp(B, L, 32)], torch.add, dev, t)
        bench("maxpool2", s(B, L, 32), [inp(B, L, 32)], maxpool2_cl, dev, t)
        gru = nn.GRU(256, 256, 1, batch_first=True).to(dev)
        bench("gru T=56 H=256", s(B, 56, 256), [inp(B, 56, 256)], lambda x: gru(x)[0], dev, t)
        mask = torch.ones(256, 256, device=dev)
        bench("masked_linear 256->256", s(N, 256), [inp(N, 256), inp(256, 256), inp(256)],
              lambda x, w, b: F.linear(x, w * mask, b), dev, t)
        bench("mog_logpdf K=8", s(N, 7, 8), [inp(N, 7), inp(N, 7, 8), inp(N, 7, 8), inp(N, 7, 8)], mog_logpdf, dev, t)
    feat = Featurizer().to(dev)
    bench("featurizer (ResNet-GRU)", s(B, L, 1), [inp(B, L, 1, grad=False)], feat, dev, t)
    if dev.type == "cuda":
        print(f"\npeak device memory (torch allocator): {torch.cuda.max_memory_allocated() / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
