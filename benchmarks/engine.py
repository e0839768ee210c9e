#!/usr/bin/env python3
"""Benchmark (issue 7): forward + backward time of the R(2+1)D-18 and ResNet-18 convolution
shapes (benchmarks/conv_shapes.json, batch 2), SonoDual's engine against PyTorch CPU with the
same thread count, in one command; and the engine's GEMM efficiency against cblas_sgemm peak.

Usage: python3 benchmarks/engine.py SONO_BENCH_BINARY [THREADS=2]
"""
import json
import os
import subprocess
import sys
import time

THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 2
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(THREADS)
here = os.path.dirname(os.path.abspath(__file__))
spec = json.load(open(os.path.join(here, "conv_shapes.json")))
binary = sys.argv[1]

ours = {}
out = subprocess.run([binary, "conv", os.path.join(here, "conv_shapes.json"), "--threads", str(THREADS)],
                     check=True, capture_output=True, text=True).stdout
for line in out.splitlines():
    r = json.loads(line)
    ours[r["name"]] = r
gemm = json.loads(subprocess.run([binary, "gemm", "--threads", str(THREADS)], check=True, capture_output=True, text=True).stdout)

total_ours = total_torch = 0.0
print(f"{'shape':24s} {'ours s':>8s} {'torch s':>8s} {'ratio':>6s} {'GFLOP/s':>8s}")
for s in spec["shapes"]:
    x = torch.randn([spec["batch"]] + s["in"], requires_grad=True)
    w = (torch.randn(s["w"]) * 0.05).requires_grad_(True)
    best = float("inf")
    for _ in range(2):
        x.grad = None; w.grad = None
        t0 = time.perf_counter()
        y = F.conv3d(x, w, stride=s["stride"], padding=s["pad"])
        y.backward(torch.ones_like(y))
        best = min(best, time.perf_counter() - t0)
    o = ours[s["name"]]
    total_ours += o["seconds"]; total_torch += best
    print(f"{s['name']:24s} {o['seconds']:8.3f} {best:8.3f} {o['seconds'] / best:6.2f} {o['gflops']:8.1f}")
print(f"{'total':24s} {total_ours:8.3f} {total_torch:8.3f} {total_ours / total_torch:6.2f}")
flops = sum(ours[s["name"]]["gflops"] * ours[s["name"]]["seconds"] for s in spec["shapes"])
print(f"engine conv GFLOP/s overall: {flops / total_ours:.1f}; cblas_sgemm peak (n=2048): {gemm['gflops']:.1f} "
      f"({gemm['kernel']} kernel, {THREADS} threads) -> efficiency {flops / total_ours / gemm['gflops']:.2f}")
print(f"torch {torch.__version__}, {THREADS} threads")
