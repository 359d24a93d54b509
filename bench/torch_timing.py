"""bench/torch_timing.py — the one timing loop of the PyTorch reference scripts
(bench/kernels/torch_ops_ref.py, bench/nn/torch_model_ref.py)."""
import time

import torch


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_ms(fn, device, min_seconds, max_repeats=200, reduce=min):
    """Milliseconds per call of fn: one warm-up call (cuDNN algorithm choice, allocator), then at
    least 3 timed calls and at least min_seconds (at most max_repeats calls), reduced by `reduce`."""
    fn()
    sync(device)
    samples = []
    start = time.perf_counter()
    while len(samples) < 3 or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        fn()
        sync(device)
        samples.append((time.perf_counter() - t0) * 1e3)
        if len(samples) >= max_repeats:
            break
    return reduce(samples)
