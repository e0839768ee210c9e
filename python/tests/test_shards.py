"""The numpy reader against shards the Swift writer makes in this test run, compared exactly."""
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
from sonodual import Dataset, Shard, ShardError, crc32c, partition  # noqa: E402

BIN = os.environ.get("SONODUAL_BIN", os.path.join(ROOT, ".build", "debug"))


def make(tmp_path, layout, records, shard_mib):
    cat, root, expect = tmp_path / "c.sqlite", tmp_path / "ds", tmp_path / "expect"
    subprocess.run([os.path.join(BIN, "sono-bench"), "shards", "--catalog", str(cat), "--root", str(root),
                    "--name", layout, "--records", str(records), "--layout", layout, "--shard-mib", str(shard_mib),
                    "--seed", "42", "--expect", str(expect)], check=True, capture_output=True)
    return cat, root, expect


def test_crc32c_check_value():
    assert crc32c(b"123456789") == 0xE3069283


def test_crc32c_accelerated_equals_the_definition():
    # The test command installs the `fast` extra: the C path is the one under test, against the
    # pure-Python definition, on every length around the 8- and 16-byte strides and on numpy views.
    from sonodual.shards import CRC_ACCELERATED, crc32c_reference
    assert CRC_ACCELERATED, "crc32c (python/pyproject.toml extra `fast`) is not installed"
    rng = np.random.default_rng(5)
    data = rng.integers(0, 256, 300, dtype=np.uint8)
    for n in list(range(0, 40)) + [255, 300]:
        assert crc32c(data[:n].tobytes()) == crc32c_reference(data[:n].tobytes()), n
        assert crc32c(data[1:n + 1]) == crc32c_reference(data[1:n + 1].tobytes()), n


@pytest.mark.parametrize("layout,records,shard_mib", [("tiny", 300, 1), ("clip2s", 5, 1)])
def test_values_equal_what_swift_wrote(tmp_path, layout, records, shard_mib):
    cat, root, expect = make(tmp_path, layout, records, shard_mib)
    ds = Dataset.open(str(cat), layout)
    assert len(ds) == records
    assert len(ds.shards) > 1
    ids = [ds[i]["clip_id"] for i in range(len(ds))]
    assert ids == sorted(ids)
    for name in ("video", "still", "logmel"):
        want = np.load(expect / f"{name}.npy")
        got = np.concatenate([s.field(name) for s in ds.shards])
        assert got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(got.view(np.uint8), want.view(np.uint8)), name  # bit-exact, NaN-safe
        assert np.array_equal(ds[3][name].view(np.uint8), want[3].view(np.uint8))
    if layout == "clip2s":
        assert ds.shards[0].fields["video"][1:] == ((14, 128, 128), 64)
        assert ds.shards[0].fields["logmel"][1] == (201, 64)
    assert {ds[i]["split"] for i in range(len(ds))} == {"train", "val", "test"}


def test_split_filter_and_partition(tmp_path):
    cat, _, _ = make(tmp_path, "tiny", 30, 1)
    train = Dataset.open(str(cat), "tiny", split="train")
    assert len(train) == 10 and all(train[i]["split"] == "train" for i in range(len(train)))
    parts = [set(partition(30, r, 2, w, 3)) for r in range(2) for w in range(3)]
    assert set().union(*parts) == set(range(30))
    assert sum(len(p) for p in parts) == 30


def test_corruption_is_caught(tmp_path):
    cat, root, _ = make(tmp_path, "tiny", 4, 1)
    path = root / "shard-00000.shard"
    data = bytearray(path.read_bytes())
    data[4096 + 70] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ShardError, match="record 0 fails its CRC-32C"):
        Shard(path).record(0)
    path.write_bytes(bytes(data[:5000]))
    with pytest.raises(ShardError, match="header describes"):
        Shard(path)


def test_torch_iterable_dataset_yields_the_plans_batches(tmp_path):
    import torch  # installed by scripts/setup.sh: this test must run, never be skipped

    from sonodual.order import EpochPlan
    from sonodual.torch import ShardIterableDataset
    cat, _, _ = make(tmp_path, "tiny", 13, 1)  # 13 records, batch 3, 2 ranks: 4 batches, 2 each
    per_rank = []
    for rank in range(2):
        ds = ShardIterableDataset(str(cat), "tiny", rank=rank, world_size=2, seed=1, batch_size=3)
        ds.set_epoch(2)
        batches = [b["clip_id"].tolist() for b in torch.utils.data.DataLoader(ds, batch_size=3, num_workers=2)]
        ids = [row["id"] for row in ds.dataset.rows]
        plan = EpochPlan([row["scan_id"] for row in ds.dataset.rows], seed=1, epoch=2, batch_size=3, world_size=2)
        assert batches == [[ids[i] for i in b] for b in plan.rank_batches(rank)]
        per_rank.append(len(batches))
        ds.set_step(1)  # resume after the first batch
        assert [b["clip_id"].tolist() for b in torch.utils.data.DataLoader(ds, batch_size=3, num_workers=2)] == batches[1:]
    assert per_rank == [2, 2]
