"""PyTorch IterableDataset over a SonoDual dataset: the Swift loader's batches (sonodual.order)."""
import torch
from torch.utils.data import IterableDataset, get_worker_info

from .dataset import Dataset
from .augment import PixelPipeline
from .order import EpochPlan


class ShardIterableDataset(IterableDataset):
    """Yields this rank's records in the Swift loader's order, batch after batch: use it with
    `DataLoader(ds, batch_size=batch_size, num_workers=K)`. Worker k assembles batches k, k+K, …
    and the DataLoader takes workers round-robin, so the batches arrive in the plan's order.
    Every rank gets `len(ds) // batch_size` batches (equal across ranks: no DDP hang).

    Items: dicts of tensors, video [1,T,H,W] float in 0..1, still [1,H,W], logmel [1,F,M], clip_id.
    `set_epoch(e)` before each epoch; `set_step(s)` resumes inside one (a checkpoint's loader state).
    `per_sample` standardises each clip and still as a run with `normalize.per_sample`."""

    def __init__(self, catalog, name, split=None, rank=0, world_size=1, seed=0, batch_size=32,
                 drop_last=True, max_per_scan=None, per_sample=False):
        self.dataset = Dataset.open(catalog, name, split=split)
        self.rank, self.world_size, self.seed = rank, world_size, seed
        self.batch_size, self.drop_last, self.max_per_scan = batch_size, drop_last, max_per_scan
        self.epoch, self.step = 0, 0
        self.pipeline = PixelPipeline(per_sample=per_sample)
        self._scans = [row["scan_id"] for row in self.dataset.rows]

    def plan(self, epoch=None):
        return EpochPlan(self._scans, seed=self.seed, epoch=self.epoch if epoch is None else epoch, batch_size=self.batch_size,
                         world_size=self.world_size, drop_last=self.drop_last, max_per_scan=self.max_per_scan)

    def set_epoch(self, epoch):
        self.epoch, self.step = epoch, 0

    def set_step(self, step):
        self.step = step

    def __len__(self):
        return self.plan().batches_per_rank * self.batch_size

    def __iter__(self):
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        batches = self.plan().rank_batches(self.rank, self.step)
        for batch in batches[worker::workers]:
            for i in batch:
                rec = self.dataset[i]
                video, still, mel = self.pipeline.record(rec, self.seed, self.epoch)
                yield {
                    "clip_id": rec["clip_id"],
                    "video": torch.from_numpy(video).unsqueeze(0),
                    "still": torch.from_numpy(still).unsqueeze(0),
                    "logmel": torch.from_numpy(mel).unsqueeze(0),
                }
