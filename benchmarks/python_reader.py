"""The Python shard reader's records/s per process (python/sonodual, every record's CRC-32C
checked) against a plain copy of the same bytes in the same run (the page-cache limit for a
reader that copies), with the C-accelerated CRC and with the pure-Python definition.
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


if __name__ == "__main__":
    main()
