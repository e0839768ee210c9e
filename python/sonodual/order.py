"""The loader's epoch order, as Swift's `EpochPlan` makes it (spec: schemas/epoch-order.md).

A rank that uses `EpochPlan(...)` trains on exactly the batches `sono-train` and `sono-inspect
order` give for the same (seed, epoch, rank, world size, batch size, scan cap, drop/pad), so a
run can move between the Swift trainer and PyTorch, and every rank of a DDP job gets the same
number of batches (no rank waits at the last step). Pure Python, no numpy needed.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

_GOLDEN = 0x9E3779B97F4A7C15
_M64 = (1 << 64) - 1


class SplitMix64:
    """Swift's `SeededGenerator` (SplitMix64 over (seed, stream)), bit for bit."""

    def __init__(self, seed: int, stream: Optional[int] = None) -> None:
        if stream is None:
            self.state = seed & _M64
        else:
            self.state = (seed ^ ((stream * _GOLDEN) & _M64) ^ 0xD1B54A32D192ED03) & _M64
            self.next()

    def next(self) -> int:
        self.state = (self.state + _GOLDEN) & _M64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
        return z ^ (z >> 31)


def _shuffle(items: List, rng: SplitMix64) -> None:
    """Fisher–Yates from the last position, j = next() mod (i + 1), in place."""
    for i in range(len(items) - 1, 0, -1):
        j = rng.next() % (i + 1)
        items[i], items[j] = items[j], items[i]


def permutation(count: int, seed: int, epoch: int) -> List[int]:
    """Step 2 of the spec: a Fisher–Yates permutation of [0, count) from generator (seed, epoch)."""
    order = list(range(count))
    _shuffle(order, SplitMix64(seed, stream=epoch & _M64))
    return order


def weighted_items(datasets: Sequence[int], weights: Sequence[float], seed: int, epoch: int) -> List[int]:
    """Step 1's dataset weights: item indices of dataset d (`datasets[i]` is item i's dataset, in
    storage order) repeated ⌊w_d⌋ times, then the first ⌊(w_d − ⌊w_d⌋)·n_d⌋ of a Fisher–Yates
    shuffle of them; one generator (seed, stream 0x5EED0000 + epoch) for the datasets in turn."""
    rng = SplitMix64(seed, stream=(0x5EED0000 + epoch) & _M64)
    chosen: List[int] = []
    for d, w in enumerate(weights):
        members = [i for i, x in enumerate(datasets) if x == d]
        whole = int(w // 1)
        for _ in range(whole):
            chosen += members
        rest = list(members)
        _shuffle(rest, rng)
        chosen += rest[:int((w - whole) * len(members))]
    return chosen


def _batches(order: List[int], scans: Sequence[int], batch_size: int, max_per_scan: Optional[int]) -> List[List[int]]:
    """Step 3: fill batches in order; an item whose scan is at the cap waits for the next batch."""
    if max_per_scan is None:
        return [order[k:k + batch_size] for k in range(0, len(order), batch_size)]
    batches: List[List[int]] = []
    waiting: List[int] = []
    nxt = 0
    while nxt < len(order) or waiting:
        batch: List[int] = []
        per_scan: Dict[int, int] = {}
        still: List[int] = []
        for item in waiting:
            if len(batch) < batch_size and per_scan.get(scans[item], 0) < max_per_scan:
                batch.append(item)
                per_scan[scans[item]] = per_scan.get(scans[item], 0) + 1
            else:
                still.append(item)
        while len(batch) < batch_size and nxt < len(order):
            item = order[nxt]
            nxt += 1
            if per_scan.get(scans[item], 0) < max_per_scan:
                batch.append(item)
                per_scan[scans[item]] = per_scan.get(scans[item], 0) + 1
            else:
                still.append(item)
        if not batch:  # only capped items left: let them through
            batch, still = still[:batch_size], still[batch_size:]
        waiting = still
        batches.append(batch)
    return batches


def grouped_by_scan(order: List[int], scans: Sequence[int], size: int) -> List[int]:
    """Step 2b: the permutation regrouped into runs of `size` items of one scan (emitted when
    full; the runs still open at the end follow in the order they were opened)."""
    out: List[int] = []
    runs: Dict[int, List[int]] = {}  # insertion order = the order runs were opened
    for item in order:
        run = runs.setdefault(scans[item], [])
        run.append(item)
        if len(run) == size:
            out += run
            del runs[scans[item]]
    for run in runs.values():
        out += run
    return out


class EpochPlan:
    """One epoch's global batches of item indices and how many each rank yields.

    `scans[i]` is item i's scan (any hashable; items are in storage order: dataset by dataset,
    shard path, slot, as `sonodual.Dataset` lists them); with `weights` (one per dataset, as
    `data.weights`), `datasets[i]` is item i's dataset index."""

    def __init__(self, scans: Sequence, seed: int, epoch: int, batch_size: int, world_size: int = 1,
                 drop_last: bool = True, max_per_scan: Optional[int] = None,
                 weights: Optional[Sequence[float]] = None, datasets: Optional[Sequence[int]] = None,
                 scan_group: Optional[int] = None) -> None:
        if batch_size < 1 or world_size < 1:
            raise ValueError(f"batch_size ({batch_size}) and world_size ({world_size}) must be ≥ 1")
        if max_per_scan is not None and max_per_scan < 1:
            raise ValueError(f"max_per_scan must be ≥ 1 (got {max_per_scan})")
        dense: Dict = {}
        scan_numbers = [dense.setdefault(s, len(dense)) for s in scans]
        if weights is not None:
            if datasets is None or len(datasets) != len(scan_numbers) or not all(w > 0 for w in weights):
                raise ValueError("weights need positive values and each item's dataset index")
            chosen = weighted_items(datasets, weights, seed, epoch)
            order = [chosen[k] for k in permutation(len(chosen), seed, epoch)]
        else:
            order = permutation(len(scan_numbers), seed, epoch)
        if scan_group is not None and scan_group > 1:
            order = grouped_by_scan(order, scan_numbers, scan_group)
        batches = _batches(order, scan_numbers, batch_size, max_per_scan)
        if drop_last:  # step 4: drop an incomplete last batch, then the incomplete last round
            if batches and len(batches[-1]) < batch_size:
                batches.pop()
            rounds = len(batches) // world_size
            batches = batches[:rounds * world_size]
        else:  # pad by wrapping around the permutation
            rounds = (len(batches) + world_size - 1) // world_size
            wrap = 0

            def next_item():
                nonlocal wrap
                item = order[wrap % len(order)]
                wrap += 1
                return item

            if batches and order:
                while len(batches[-1]) < batch_size:
                    batches[-1].append(next_item())
            while len(batches) < rounds * world_size and order:
                batches.append([next_item() for _ in range(batch_size)])
        self.batches, self.batches_per_rank, self.world_size = batches, rounds, world_size

    def batch(self, rank: int, step: int) -> List[int]:
        """This rank's `step`-th batch (global batch step · W + rank)."""
        if not 0 <= rank < self.world_size or not 0 <= step < self.batches_per_rank:
            raise IndexError(f"rank {rank} of {self.world_size}, step {step} of {self.batches_per_rank}")
        return self.batches[step * self.world_size + rank]

    def rank_batches(self, rank: int, from_step: int = 0) -> List[List[int]]:
        """This rank's batches from `from_step` (a resumed run's state is (seed, epoch, step))."""
        return [self.batch(rank, s) for s in range(from_step, self.batches_per_rank)]
