"""The Python shard reader's records/s per process (python/sonodual, every record's CRC-32C
checked) against a plain copy of the same bytes in the same run (the page-cache limit for a
reader that copies), with the C-accelerated CRC and with the pure-Python definition; then the
PyTorch trainer's batches with 0 and 2 DataLoader workers against the Swift loader.
Usage (benchmarks/python_reader.sh): python3 benchmarks/python_reader.py BIN_DIR [RECORDS=400]"""
import os, subprocess, sys, tempfile, time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "python"))
from sonodual import Dataset  # noqa: E402
from sonodual import shards  # noqa: E402


def rate(fn, n, seconds=2.0):
    """Calls fn(i) for i cycling over n records for about `seconds`; records per second."""
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn(done % n)
        done += 1
    return done / (time.perf_counter() - t0)


def main():
    bins, records = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 400
    with tempfile.TemporaryDirectory() as tmp:
        cat = os.path.join(tmp, "c.sqlite")
        subprocess.run([os.path.join(bins, "sono-bench"), "shards", "--catalog", cat, "--root", os.path.join(tmp, "d"),
                        "--name", "clip2s", "--records", str(records), "--layout", "clip2s", "--seed", "1"], check=True, capture_output=True)
        ds = Dataset.open(cat, "clip2s")
        stride = ds.shards[0].stride
        for i in range(len(ds)):  # warm the page cache
            ds[i]
        rows = [(ds.rows[i]["shard"], ds.rows[i]["slot"]) for i in range(len(ds))]
        copy = rate(lambda i: np.array(ds.shards[rows[i][0]]._records[rows[i][1]]), len(ds))
        fast = rate(lambda i: ds[i], len(ds)) if shards.CRC_ACCELERATED else float("nan")
        accelerated = shards._accelerated
        shards._accelerated = None
        pure = rate(lambda i: ds[i], len(ds), seconds=3.0)
        shards._accelerated = accelerated
        print(f"2 s clip records ({stride / 1024:.0f} KiB each), one process, page cache:")
        print("| reader | records/s | × copy |")
        print("|---|---:|---:|")
        print(f"| numpy copy of the record bytes | {copy:.0f} | 1.00 |")
        print(f"| sonodual, C CRC-32C (crc32c package) | {fast:.0f} | {fast / copy:.2f} |")
        print(f"| sonodual, pure-Python CRC-32C | {pure:.1f} | {pure / copy:.4f} |")
        trainer_batches(bins, cat, copy)


def trainer_batches(bins, cat, copy, batch=32):
    """Batches as `python -m sonodual.train` assembles them (read, CRC, u8 → f32, the default
    augmentation, per-sample standardisation) through DataLoader workers, against the Swift
    loader's assembly of the same batches (`sono-bench loader`) and the copy above."""
    import json
    import torch
    from sonodual import config as run_config
    from sonodual.train import PlanBatches, Records, pixel_pipeline
    c = run_config.load(None, ["data.datasets=clip2s", "data.split=all"])
    records = Records(cat, ["clip2s"], None)
    from sonodual.order import EpochPlan
    plan = EpochPlan(records.scans, seed=0, epoch=0, batch_size=batch, max_per_scan=batch)
    swift = json.loads(subprocess.run([os.path.join(bins, "sono-bench"), "loader", "--catalog", cat, "--dataset", "clip2s",
                                       "--batch-size", str(batch)], check=True, capture_output=True, text=True).stdout)
    print(f"\nBatches of {batch} (2 s clips, default augmentation and per-sample standardisation for Python; the Swift loader")
    print("without augmentation, as sono-bench measures it), clips/s:")
    print("| loader | clips/s | × copy |")
    print("|---|---:|---:|")
    for w in (1, 2):
        x = swift[f"workers_{w}"]["clips_per_s"]
        print(f"| Swift ShardLoader, {w} worker thread(s) | {x:.0f} | {x / copy:.2f} |")
    for workers in (0, 2):
        for augment in (False, True):
            pipeline = pixel_pipeline(c, training=augment)
            data = PlanBatches(records, plan, 0, 0, pipeline, seed=0, epoch=0)
            loader = torch.utils.data.DataLoader(data, batch_size=None, num_workers=workers)
            t0, n = time.perf_counter(), 0
            for b in loader:
                n += len(b["clip_id"])
            x = n / (time.perf_counter() - t0)
            what = "augmented" if augment else "no augmentation"
            print(f"| sonodual.train batches, {workers} DataLoader worker(s), {what} | {x:.0f} | {x / copy:.2f} |")


if __name__ == "__main__":
    main()
