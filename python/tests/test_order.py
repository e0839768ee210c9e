"""sonodual.order gives exactly the batches of Swift's loader: `sono-inspect order` line for line,
over seeds, epochs, ranks, world sizes, scan caps, drop/pad and resumes (schemas/epoch-order.md)."""
import itertools
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
from sonodual import Dataset  # noqa: E402
from sonodual.order import EpochPlan  # noqa: E402

BIN = os.environ.get("SONODUAL_BIN", os.path.join(ROOT, ".build", "debug"))


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    # 61 records over 5 scans in storage order: no batch size below divides it evenly.
    tmp = tmp_path_factory.mktemp("order")
    cat = str(tmp / "c.sqlite")
    subprocess.run([os.path.join(BIN, "sono-bench"), "shards", "--catalog", cat, "--root", str(tmp / "d"), "--name", "d",
                    "--records", "61", "--layout", "tiny", "--scans", "5", "--shard-mib", "1"], check=True, capture_output=True)
    # A second dataset for the weighted mixes.
    subprocess.run([os.path.join(BIN, "sono-bench"), "shards", "--catalog", cat, "--root", str(tmp / "e"), "--name", "e",
                    "--records", "23", "--layout", "tiny", "--scans", "3", "--shard-mib", "1", "--seed", "9"], check=True, capture_output=True)
    return cat


def swift_order(cat, dataset="d", **options):
    args = [os.path.join(BIN, "sono-inspect"), "order", "--catalog", cat, "--dataset", dataset]
    for key, value in options.items():
        if value is True:
            args.append("--" + key.replace("_", "-"))
        elif value is not None and value is not False:
            args += ["--" + key.replace("_", "-"), str(value)]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return [[int(x) for x in line.split()] for line in out.splitlines()]


def test_python_order_equals_sono_inspect_order(catalog):
    ds = Dataset.open(catalog, "d")
    clip_ids = [row["id"] for row in ds.rows]
    scans = [row["scan_id"] for row in ds.rows]
    assert len(set(scans)) == 5
    cases = list(itertools.product([0, 7], [0, 3], [(1, 0), (3, 0), (3, 2)], [4, 16], [None, 2], [True, False]))
    for seed, epoch, (world, rank), batch, cap, drop in cases:
        plan = EpochPlan(scans, seed=seed, epoch=epoch, batch_size=batch, world_size=world, drop_last=drop, max_per_scan=cap)
        for from_step in (0, plan.batches_per_rank // 2):
            expected = swift_order(catalog, seed=seed, epoch=epoch, rank=rank, world_size=world, batch_size=batch,
                                   max_per_scan=cap, no_drop_last=not drop, from_step=from_step)
            got = [[clip_ids[i] for i in b] for b in plan.rank_batches(rank, from_step)]
            assert got == expected, (seed, epoch, world, rank, batch, cap, drop, from_step)


def test_scan_groups_equal_sono_inspect_order(catalog):
    ds = Dataset.open(catalog, "d")
    clip_ids = [row["id"] for row in ds.rows]
    scans = [row["scan_id"] for row in ds.rows]
    for seed, epoch, group, cap, drop in itertools.product([0, 5], [0, 1], [2, 3, 4], [None, 3], [True, False]):
        plan = EpochPlan(scans, seed=seed, epoch=epoch, batch_size=8, drop_last=drop, max_per_scan=cap, scan_group=group)
        expected = swift_order(catalog, seed=seed, epoch=epoch, batch_size=8, max_per_scan=cap, scan_group=group,
                               no_drop_last=not drop)
        got = [[clip_ids[i] for i in b] for b in plan.rank_batches(0)]
        assert got == expected, (seed, epoch, group, cap, drop)
        if cap is None:  # runs of `group` clips of one scan, but for the runs left open at the end
            flat = [scans[i] for b in plan.batches for i in b]
            full = len(flat) - len(flat) % group
            assert sum(len(set(flat[k:k + group])) == 1 for k in range(0, full, group)) >= full // group - 5


def test_weighted_mixes_equal_sono_inspect_order(catalog):
    parts = [Dataset.open(catalog, name) for name in ("d", "e")]
    clip_ids = [row["id"] for p in parts for row in p.rows]
    scans = [row["scan_id"] for p in parts for row in p.rows]
    datasets = [k for k, p in enumerate(parts) for _ in p.rows]
    for weights, epoch, (world, rank), cap, drop in itertools.product([(1, 0.5), (2, 0.25), (0.3, 1.7)], [0, 2], [(1, 0), (2, 1)],
                                                                      [None, 2], [True, False]):
        plan = EpochPlan(scans, seed=4, epoch=epoch, batch_size=8, world_size=world, drop_last=drop, max_per_scan=cap,
                         weights=weights, datasets=datasets)
        expected = swift_order(catalog, dataset="d,e", weights=",".join(map(str, weights)), seed=4, epoch=epoch, rank=rank,
                               world_size=world, batch_size=8, max_per_scan=cap, no_drop_last=not drop)
        got = [[clip_ids[i] for i in b] for b in plan.rank_batches(rank)]
        assert got == expected, (weights, epoch, world, rank, cap, drop)
    counts = EpochPlan(scans, seed=4, epoch=0, batch_size=1, drop_last=False, weights=(2, 0.5), datasets=datasets).batches
    assert sum(1 for b in counts for i in b if datasets[i] == 0) == 2 * 61
    assert sum(1 for b in counts for i in b if datasets[i] == 1) == int(0.5 * 23)


def test_every_rank_gets_the_same_number_of_batches(catalog):
    scans = [row["scan_id"] for row in Dataset.open(catalog, "d").rows]
    for world, batch, drop in itertools.product([1, 2, 3, 4, 7], [1, 4, 16], [True, False]):
        plan = EpochPlan(scans, seed=1, epoch=0, batch_size=batch, world_size=world, drop_last=drop)
        assert len(plan.batches) == plan.batches_per_rank * world
        assert all(len(b) == batch for b in plan.batches)
        if not drop:  # padding covers every record
            assert set(itertools.chain(*plan.batches)) == set(range(len(scans)))


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="batch_size"):
        EpochPlan(["a"], seed=0, epoch=0, batch_size=0)
    with pytest.raises(ValueError, match="max_per_scan"):
        EpochPlan(["a"], seed=0, epoch=0, batch_size=1, max_per_scan=0)
    with pytest.raises(IndexError):
        EpochPlan(["a", "b"], seed=0, epoch=0, batch_size=1).batch(rank=0, step=5)
