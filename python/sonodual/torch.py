"""PyTorch IterableDataset over a SonoDual dataset, split by rank and DataLoader worker."""
import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from .dataset import Dataset, partition


class ShardIterableDataset(IterableDataset):
    """Yields dicts of tensors: video [1,T,H,W] float in 0..1, still [1,H,W], logmel [1,F,M],
    clip_id. Each (rank, worker) reads a disjoint part; together they cover the dataset once.
    With `seed`, the order is a permutation fixed by (seed, epoch), the same on every rank."""

    def __init__(self, catalog, name, split=None, rank=0, world_size=1, seed=None):
        self.dataset = Dataset.open(catalog, name, split=split)
        self.rank, self.world_size, self.seed, self.epoch = rank, world_size, seed, 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __iter__(self):
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        order = np.arange(len(self.dataset))
        if self.seed is not None:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.dataset))
        for i in partition(len(order), self.rank, self.world_size, worker, workers):
            rec = self.dataset[int(order[i])]
            yield {
                "clip_id": rec["clip_id"],
                "video": torch.from_numpy(rec["video"].astype(np.float32) / 255).unsqueeze(0),
                "still": torch.from_numpy(rec["still"].astype(np.float32) / 255).unsqueeze(0),
                "logmel": torch.from_numpy(rec["logmel"].astype(np.float32)).unsqueeze(0),
            }
