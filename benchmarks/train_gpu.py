"""The PyTorch trainer's throughput on SonoDual shards against the same loop on random tensors
(issue 16's GPU check): `python -m sonodual.train`'s step (sonodual.train.Run: the loader's
batches through DataLoader workers, the model, the objective, Adam) for STEPS steps after a
warm-up, then the same step on one batch of random tensors resident on the device. Reports
clips/s of both, their ratio (target ≥ 0.9) and the data-wait fraction (time blocked on the
loader ÷ step time). JSON lines on standard output.

    python3 benchmarks/train_gpu.py CATALOG DATASET [--size full] [--batch 64] [--steps 30] [--workers 8] [--bf16]

The shards come from `sono-bench shards` (benchmarks/train_gpu.sh makes them where Swift is
built, small enough to carry to a machine without Swift); an epoch shorter than the run repeats.
"""
import argparse
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))

import torch  # noqa: E402

from sonodual import config as run_config  # noqa: E402
from sonodual.train import Run  # noqa: E402


def timed(run: Run, batches, steps: int, warmup: int) -> dict:
    """Wall clock over `steps` of the trainer's steps (`Run.take_step`) after `warmup`, with the
    time blocked on `batches`."""
    run._train_mode()
    sync = torch.cuda.synchronize if run.device.type == "cuda" else (lambda: None)
    waited = 0.0
    for k in range(warmup + steps):
        if k == warmup:
            sync()
            start, waited = time.perf_counter(), 0.0
        t0 = time.perf_counter()
        b = next(batches)
        waited += time.perf_counter() - t0
        run.take_step(b)
    sync()
    seconds = time.perf_counter() - start
    return {"clips_per_s": steps * run.batch / seconds, "step_s": seconds / steps, "data_wait": waited / seconds}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("catalog")
    p.add_argument("dataset")
    p.add_argument("--size", default="full")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--bf16", action="store_true")
    p.add_argument("--channels-last", action="store_true")
    a = p.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    c = run_config.load(None, [f"data.datasets={a.dataset}", "data.split=all", f"model.size={a.size}", f"data.batch_size={a.batch}",
                               f"data.steps={a.steps + a.warmup}", f"data.max_per_scan={a.batch}"])
    run = Run(a.catalog, c, device, workers=a.workers, bf16=a.bf16, channels_last=a.channels_last)
    shards = timed(run, (b for _, b in run.batches()), a.steps, a.warmup)
    one = next(run.batches())[1]
    fixed = {k: torch.randn_like(v.float()).to(device) if k != "clip_id" else v for k, v in one.items()}

    def forever():
        while True:
            yield fixed

    random = timed(run, forever(), a.steps, a.warmup)
    line = {"device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu", "size": a.size, "batch": a.batch,
            "bf16": a.bf16, "workers": a.workers, "records": len(run.records), "shards": shards, "random_tensors": random,
            "shards_over_random": shards["clips_per_s"] / random["clips_per_s"]}
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
