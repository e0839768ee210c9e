#!/usr/bin/env python3
"""Benchmark (the PyTorch path issue): one training step (forward + backward + Adam) of the dual
model, Swift's `sono-train` (release) against PyTorch CPU (python/sonodual.models), same threads,
batch and inputs (14×128×128 clips, 128×128 still, 201×64 log-mel, read from the same synthetic
shards): median step time after warm-up and peak RSS, tiny and full at batch 8.

Usage: python3 benchmarks/train.py BIN_DIR [THREADS=2]
       python3 benchmarks/train.py --torch-worker CATALOG SIZE BATCH STEPS WARMUP THREADS  (one PyTorch process per size)
"""
from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
# (size, batch, measured steps, warm-up steps): a full step at batch 8 takes about a minute on 2 cores.
CASES = [("tiny", 8, 5, 1), ("full", 8, 2, 1)]


def torch_worker(catalog: str, size: str, batch: int, steps: int, warmup: int, threads: int) -> None:
    import torch

    from sonodual import Dataset
    from sonodual.models import DualModel, swift_batch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    ds = Dataset.open(catalog, "clip2s", split="train")
    model = DualModel(size)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    times = []
    for step in range(warmup + steps):
        start = time.perf_counter()
        video, still, mel = swift_batch(ds, [(step * batch + k) % len(ds) for k in range(batch)], per_sample=True)
        loss, _ = model.loss(video, still, mel)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - start)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"step_s": statistics.median(times[warmup:]), "peak_rss_mib": rss, "torch": torch.__version__}))


def main() -> None:
    bins, threads = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    gemm = json.loads(subprocess.run([os.path.join(bins, "sono-bench"), "gemm", "--threads", str(threads)],
                                     check=True, capture_output=True, text=True, env=env).stdout)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size, batch, steps, warmup in CASES:
            cat = os.path.join(tmp, f"{size}.sqlite")
            # Train split = every third record: exactly one batch's worth, so validation stays short.
            subprocess.run([os.path.join(bins, "sono-bench"), "shards", "--catalog", cat, "--root", os.path.join(tmp, size),
                            "--name", "clip2s", "--records", str(3 * batch), "--layout", "clip2s", "--seed", "1"],
                           check=True, capture_output=True, env=env)
            log = os.path.join(tmp, f"{size}.jsonl")
            subprocess.run([os.path.join(bins, "sono-train"), "--catalog", cat, "--datasets", "clip2s", "--split", "train",
                            "--model", size, "--steps", str(warmup + steps), "--batch-size", str(batch), "--threads", str(threads),
                            "--set", f"data.max_per_scan={batch}", "--log", log, "--quiet"], check=True, capture_output=True, env=env)
            logged = [e for e in map(json.loads, open(log).read().splitlines()) if "step" in e and "validation" not in e]
            swift = {"step_s": statistics.median(e["seconds"] for e in logged[warmup:]), "peak_rss_mib": max(e["peak_rss_mib"] for e in logged)}
            out = subprocess.run([sys.executable, os.path.abspath(__file__), "--torch-worker", cat, size, str(batch), str(steps),
                                  str(warmup), str(threads)], check=True, capture_output=True, text=True, env=env).stdout
            torch_result = json.loads(out.splitlines()[-1])
            rows.append((size, batch, steps, swift, torch_result))
    print(f"OpenBLAS kernel: {gemm['kernel']} (cblas_sgemm {gemm['gflops']:.1f} GFLOP/s); threads {threads}; median of the steps after {CASES[0][3]} warm-up step")
    print("| model | batch | steps | Swift step (s) | PyTorch step (s) | Swift/PyTorch | Swift peak RSS (MiB) | PyTorch peak RSS (MiB) | Swift/PyTorch |")
    print("|---|---|---|---|---|---|---|---|---|")
    for size, batch, steps, s, t in rows:
        print(f"| {size} | {batch} | {steps} | {s['step_s']:.3f} | {t['step_s']:.3f} | {s['step_s'] / t['step_s']:.2f} | "
              f"{s['peak_rss_mib']:.0f} | {t['peak_rss_mib']:.0f} | {s['peak_rss_mib'] / t['peak_rss_mib']:.2f} |")
    for size, batch, steps, s, t in rows:
        print(json.dumps({"model": size, "batch": batch, "swift": s, "pytorch": t, "gemm": gemm}))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--torch-worker":
        a = sys.argv[2:]
        torch_worker(a[0], a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]))
    else:
        main()
