"""Read SonoDual datasets (catalog + shards) with numpy only.

    from sonodual import Dataset
    ds = Dataset.open("catalog.sqlite", "large", split="train")
    rec = ds[0]                       # dict: clip_id, video (14,128,128) u8, still, logmel (F,64) f16, provenance
    batch = ds.field("video")[idx]    # zero-copy memmap views per shard via ds.shards

The shard format is specified in schemas/shard-format.md. `sonodual.torch` adds an
IterableDataset that splits records by rank and worker. `sonodual.models` (the encoders and
the dual model, Swift checkpoint names) and `sonodual.objective` (DualHeads and the loss) need
torch and torchvision; `sonodual.checkpoint` reads and writes safetensors with numpy.
`python -m sonodual.train` pretrains as `sono-train` does (its run config via `sonodual.config`,
its batches via `sonodual.augment`, its checkpoints), alone or under torchrun.
"""
from .shards import CRC_ACCELERATED, Shard, ShardError, crc32c
from .dataset import Dataset, partition

__all__ = ["CRC_ACCELERATED", "Dataset", "Shard", "ShardError", "crc32c", "partition"]
