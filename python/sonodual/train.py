"""`python -m sonodual.train`: pretrain the dual model in PyTorch from SonoDual shards, with the
run config, batches, augmentations, dropout masks, optimiser, schedule, log and checkpoints of
`sono-train`, so a run moves between the two (docs/training.md, "The PyTorch trainer").

    python -m sonodual.train --catalog C.sqlite --config run.toml --out runs/a --log runs/a.jsonl
    torchrun --nproc-per-node 8 -m sonodual.train --catalog C.sqlite --config run.toml --out runs/a --metrics runs/a.jsonl

Under torchrun every rank trains on its own batches of the loader's plan (sonodual.order: equal
counts per rank, so no rank waits at the end), gradients are averaged by DDP (NCCL on GPUs,
gloo on CPUs), in-batch negatives are those of the rank's batch, and rank 0 logs and checkpoints.
Checkpoints are Swift's (`sonodual-dual-v1`: the same tensor names, Adam moments, loader state and
config): `sono-train --resume` continues one, and `--resume` here continues Swift's.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import signal
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn

from . import config as run_config
from .augment import Augmentation, PixelPipeline
from .checkpoint import read_safetensors, write_safetensors
from .dataset import Dataset
from .models import DualModel, load_swift_state, normalize_channels, pretrained_normalization
from .objective import ObjectiveConfig
from .order import EpochPlan

CHECKPOINT_FORMAT = "sonodual-dual-v1"
ENCODERS = ("video", "image", "audio")


class UsageError(ValueError):
    """A bad option or config value: reported with its name, exit 1."""


def objective_config(c: run_config.Config) -> ObjectiveConfig:
    o = c["objective"]
    return ObjectiveConfig(temperature=o["temperature"], pi=o["pi"], symmetric=o["symmetric"], shared_fusion=o["shared_fusion"],
                           margin=o["margin"], ranking_reduction=o["ranking_reduction"], audio_image_pair=o["audio_image_pair"],
                           lam=o["lambda"], fusion_target=o["fusion_target"], latent_batch_norm=o["latent_batch_norm"],
                           projector_hidden=o["projector_hidden"], decorrelation=o["decorrelation"],
                           image_self=o["image_self"])


def pixel_pipeline(c: run_config.Config, training: bool) -> PixelPipeline:
    a, n = c["augment"], c["normalize"]
    augmentation = Augmentation(flip=a["flip"], max_shift=a["max_shift"], min_crop_area=a["min_crop_area"],
                                intensity=a["intensity"], independent_still=a["independent_still"],
                                max_rotation=a["max_rotation"], max_zoom=a["max_zoom"]) if training else None
    return PixelPipeline(augmentation, n["pixel_mean"], n["pixel_std"], n["per_sample"], n["logmel_mean"], n["logmel_std"])


def learning_rate(c: run_config.Config, step: int, total: int) -> float:
    """Swift's `Trainer.learningRate(at:)` in float32: linear warm-up, then constant or cosine to min_lr."""
    f = np.float32
    o = c["optimizer"]
    base, warmup, minimum = f(o["lr"]), o["warmup_steps"], f(o["min_lr"])
    if step < warmup:
        return float(base * f(step + 1) / f(warmup))
    if o["schedule"] == "constant":
        return float(base)
    progress = min(f(1), f(step - warmup) / f(max(1, total - warmup)))
    return float(minimum + (base - minimum) * f(0.5) * (f(1) + f(math.cos(math.pi * float(progress)))))


class Records:
    """The records of the run's datasets in the Swift loader's item order (dataset by dataset,
    shard path, slot) and their scans."""

    def __init__(self, catalog: str, names: Sequence[str], split: Optional[str]) -> None:
        self.parts = [Dataset.open(catalog, n, split=split) for n in names]
        self.index = [(p, i) for p, d in enumerate(self.parts) for i in range(len(d))]
        self.scans = [self.parts[p].rows[i]["scan_id"] for p, i in self.index]
        self.datasets = [p for p, _ in self.index]

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, k: int) -> dict:
        p, i = self.index[k]
        return self.parts[p][i]


class PlanBatches(torch.utils.data.Dataset):
    """Batch `s` of this rank from `first_step` on, assembled as the Swift loader does: map-style,
    so DataLoader workers build batches in parallel and deliver them in order."""

    def __init__(self, records: Records, plan: EpochPlan, rank: int, first_step: int, pipeline: PixelPipeline,
                 seed: int, epoch: int) -> None:
        self.records, self.plan, self.rank, self.first = records, plan, rank, first_step
        self.pipeline, self.seed, self.epoch = pipeline, seed, epoch

    def __len__(self) -> int:
        return self.plan.batches_per_rank - self.first

    def __getitem__(self, s: int) -> Dict[str, torch.Tensor]:
        recs = [self.records[i] for i in self.plan.batch(self.rank, self.first + s)]
        video, still, mel = self.pipeline.batch(recs, self.seed, self.epoch)
        return {"video": torch.from_numpy(video), "still": torch.from_numpy(still), "logmel": torch.from_numpy(mel),
                "clip_id": torch.tensor([int(r["clip_id"]) for r in recs])}


class Objective(nn.Module):
    """The model's loss as `forward`, which DDP needs; frozen encoders run without gradients."""

    def __init__(self, model: DualModel, frozen: Sequence[str], normalization: Dict[str, Tuple[List[float], List[float]]]) -> None:
        super().__init__()
        self.model, self.frozen, self.normalization = model, set(frozen), normalization

    def inputs(self, video: torch.Tensor, still: torch.Tensor, logmel: torch.Tensor):
        """Gray repeated to 3 channels, then the per-channel normalisation of pretrained encoders (Swift's BatchInputs)."""
        clip, image, mel = self.model.inputs(video, still, logmel)
        if "video" in self.normalization:
            clip = normalize_channels(clip, *self.normalization["video"])
        if "image" in self.normalization:
            image = normalize_channels(image, *self.normalization["image"])
        return clip, image, mel

    def forward(self, video: torch.Tensor, still: torch.Tensor, logmel: torch.Tensor):
        m = self.model
        clip, image, mel = self.inputs(video, still, logmel)

        def run(name: str, x: torch.Tensor) -> torch.Tensor:
            with torch.no_grad() if name in self.frozen else contextlib.nullcontext():
                return getattr(m, name)(x)

        fi = run("image", image) if m.heads.config.use_image else None
        fi_view = None
        if fi is not None and m.heads.config.image_self > 0:
            # Swift's BatchInputs.frame: the middle frame of each augmented clip, as an image.
            _, frame, _ = self.inputs(video, video[:, video.shape[1] // 2], logmel)
            fi_view = run("image", frame)
        return m.heads.loss(run("video", clip), run("audio", mel), fi, fi_view)


def peak_rss_mib() -> float:
    """This process's own high-water mark (VmHWM, which starts afresh at exec; ru_maxrss survives
    exec and would report a launcher's peak), as Swift's `ResourceUsage`."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def retrieval(queries: torch.Tensor, candidates: torch.Tensor) -> Dict[str, float]:
    """Swift's `RetrievalScores`: each query's own partner's rank among all candidates by cosine
    (rows l2-normalised), ties counting half, so a collapsed embedding ranks at chance."""
    scores = queries.float() @ candidates.float().t()
    own = scores.diag().unsqueeze(1)
    off = ~torch.eye(len(scores), dtype=torch.bool)
    ranks = 1 + ((scores > own) & off).sum(1).double() + ((scores == own) & off).sum(1).double() / 2
    n = len(ranks)
    r = sorted(ranks.tolist())
    median = 0.0 if n == 0 else (r[n // 2] if n % 2 == 1 else (r[n // 2 - 1] + r[n // 2]) / 2)
    return {"r1": float((ranks <= 1).double().mean()), "r5": float((ranks <= 5).double().mean()),
            "r10": float((ranks <= 10).double().mean()), "median_rank": median}


def better(value: float, best: Optional[float], metric: str) -> bool:
    """Swift's `ValidationReport.isBetter`: lower is better for ranks and the loss."""
    if best is None:
        return True
    return value < best if metric.endswith("median_rank") or metric == "loss" else value > best


class Progress:
    """sono-train's progress display (Swift `ProgressReporter`): a redrawn bar on a terminal,
    a plain line at most every 5 s otherwise, on standard error; silent when disabled."""

    def __init__(self, total: int, done: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = total, done, enabled
        self.terminal, self.last = sys.stderr.isatty(), 0.0

    def advance(self, note: str) -> None:
        self.done += 1
        now = time.monotonic()
        if not self.enabled or (self.done < self.total and now - self.last < (0.1 if self.terminal else 5)):
            return
        self.last = now
        fraction = self.done / max(1, self.total)
        if self.terminal:
            filled = int(fraction * 30)
            sys.stderr.write(f"\r\x1b[2Ktrain [{'#' * filled}{'-' * (30 - filled)}] {self.done}/{self.total} {note}")
        else:
            sys.stderr.write(f"train: {self.done}/{self.total} ({int(fraction * 100)}%) {note}\n")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled and self.terminal:
            sys.stderr.write("\n")


class Run:
    """One training run of this process (one rank)."""

    def __init__(self, catalog: str, c: run_config.Config, device: torch.device, rank: int = 0, world: int = 1,
                 workers: int = 0, bf16: bool = False, channels_last: bool = False) -> None:
        self.c, self.device, self.rank, self.world, self.workers, self.bf16 = c, device, rank, world, workers, bf16
        d = c["data"]
        if d["weights"] and len(d["weights"]) != len(d["datasets"]):
            raise UsageError(f"data.weights: {len(d['weights'])} weights for {len(d['datasets'])} datasets")
        split = None if d["split"] == "all" else d["split"]
        self.records = Records(catalog, d["datasets"], split)
        self.batch, self.seed = d["batch_size"], int(d["seed"])
        self.max_per_scan = d["max_per_scan"] or max(1, self.batch // 2)
        self.scan_group = d["scan_group"] if d["scan_group"] > 1 else None
        self.pipeline = pixel_pipeline(c, training=True)
        if self.plan(0).batches_per_rank == 0:
            raise UsageError(f"{catalog}: fewer records than one batch of {self.batch} per rank in {','.join(d['datasets'])}")
        self.total = d["epochs"] * self.plan(0).batches_per_rank if d["epochs"] > 0 else d["steps"]
        torch.manual_seed(self.seed)
        self.model = DualModel(c["model"]["size"], objective=objective_config(c), preset=c["objective"]["preset"])
        self.model.audio.swift_dropout_seed = self.seed  # Swift's dropout masks, step by step
        self.model.audio.spec_augment = c["augment"]["spec_augment"]
        i = c["init"]
        for name in ENCODERS:
            if i[name]:
                tensors, _ = read_safetensors(i[name])
                prefix = i["audio_key_prefix"] if name == "audio" else ""
                load_swift_state(getattr(self.model, name), {k[len(prefix):]: v for k, v in tensors.items()
                                                             if k.startswith(prefix) and not k.startswith(("fc.", "fc_audioset.", "spectrogram_extractor.", "logmel_extractor."))})
        self.frozen = list(i["freeze"])
        for name in self.frozen:
            getattr(self.model, name).requires_grad_(False)
        self.model.to(device)
        if channels_last:
            self.model.image.to(memory_format=torch.channels_last)
        self.inputs = Objective(self.model, self.frozen, {n: pretrained_normalization(n) for n in ("video", "image") if i[n]})
        self.objective: nn.Module = self.inputs
        if world > 1:
            self.objective = nn.parallel.DistributedDataParallel(self.objective, device_ids=[device.index] if device.type == "cuda" else None,
                                                                     find_unused_parameters=True)  # presets and frozen encoders leave some unused
        o = c["optimizer"]
        kind = torch.optim.AdamW if o["kind"] == "adamw" else torch.optim.Adam
        self.optimizer = kind(self.model.parameters(), lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"], weight_decay=o["weight_decay"])
        self.step, self.epoch, self.loader_step = 0, 0, 0
        self.stop_requested = False  # set by SIGINT/SIGTERM; the run stops at the next step boundary
        self.scans = sorted(set(self.records.scans))
        v = c["validation"]["split"]
        self.validation = Records(catalog, d["datasets"], None if v == "all" else v) if rank == 0 else None
        self.best: Optional[float] = None

    def plan(self, epoch: int) -> EpochPlan:
        weights = self.c["data"]["weights"] or None
        return EpochPlan(self.records.scans, seed=self.seed, epoch=epoch, batch_size=self.batch, world_size=self.world,
                         drop_last=True, max_per_scan=self.max_per_scan, weights=weights, datasets=self.records.datasets,
                         scan_group=self.scan_group)

    def _train_mode(self) -> None:
        self.model.train()
        for name in self.frozen:
            getattr(self.model, name).eval()

    def resume(self, path: str) -> None:
        """Weights, running statistics, Adam's moments and the loader position of a checkpoint
        (Swift's or ours); the config must be the run's but for length, cadence and threads."""
        tensors, meta = read_safetensors(path)
        if meta.get("format") != CHECKPOINT_FORMAT:
            raise UsageError(f"{path}: not a SonoDual pretraining checkpoint (format {meta.get('format')!r})")
        stored = run_config.loads(meta.get("config", ""), f"{path} (its config)")
        free = {"data.steps", "data.epochs", "data.threads", "validation.every", "checkpoints.every", "checkpoints.keep_last"}
        changed = [f"{t}.{k} {stored[t][k]!r} → {v!r}" for t, vs in self.c.items() for k, v in vs.items()
                   if f"{t}.{k}" not in free and stored[t][k] != v]
        if changed:
            raise UsageError(f"{path}: the run config differs from the checkpoint's: " + "; ".join(changed))
        load_swift_state(self.model, tensors)
        adam_step = int(meta.get("adam_step", "0"))
        for name, p in self.model.named_parameters():
            if adam_step > 0 and f"optimizer.m.{name}" in tensors:
                self.optimizer.state[p] = {"step": torch.tensor(float(adam_step)),
                                           "exp_avg": torch.from_numpy(tensors[f"optimizer.m.{name}"].copy()).to(self.device),
                                           "exp_avg_sq": torch.from_numpy(tensors[f"optimizer.v.{name}"].copy()).to(self.device)}
        self.step, self.epoch, self.loader_step = int(meta["step"]), int(meta["loader_epoch"]), int(meta["loader_step"])
        if int(meta["loader_seed"]) != self.seed:
            raise UsageError(f"{path}: loader seed {meta['loader_seed']} is not data.seed {self.seed}")
        self.model.audio.forward_passes = self.step  # one training audio forward per step, as Swift counts

    def _weights(self, prefixes: Tuple[str, ...] = ()) -> Dict[str, np.ndarray]:
        """Parameters and running statistics (under `prefixes`, if given) as float32 arrays."""
        return {k: v.detach().float().cpu().numpy() for k, v in self.model.state_dict().items()
                if k.startswith(prefixes or "") and not k.endswith("num_batches_tracked")}

    @staticmethod
    def _write(path: str, tensors: Dict[str, np.ndarray], meta: Dict[str, str]) -> None:
        """Written to a temporary name, then renamed: a checkpoint is whole or absent."""
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        write_safetensors(tensors, path + ".partial", meta)
        os.replace(path + ".partial", path)

    def save(self, path: str) -> None:
        """Swift's checkpoint layout (Trainer.saveCheckpoint)."""
        tensors = self._weights()
        adam_step = 0
        for name, p in self.model.named_parameters():
            s = self.optimizer.state.get(p)
            if s:
                tensors[f"optimizer.m.{name}"] = s["exp_avg"].float().cpu().numpy()
                tensors[f"optimizer.v.{name}"] = s["exp_avg_sq"].float().cpu().numpy()
                adam_step = int(s["step"])
        meta = {"format": CHECKPOINT_FORMAT, "step": str(self.step), "model_size": self.c["model"]["size"],
                "loader_seed": str(self.seed), "loader_epoch": str(self.epoch), "loader_step": str(self.loader_step),
                "datasets": ",".join(self.c["data"]["datasets"]), "adam_step": str(adam_step), "config": run_config.dumps(self.c),
                "scans": ",".join(self.scans)}
        self._write(path, tensors, meta)

    def validate(self) -> Optional[dict]:
        """Swift's validation pass (Trainer.validate): the whole split in evaluation mode, in the
        order of an unaugmented, padded plan (seed 0, epoch 0, no scan cap), each clip once;
        retrieval v→a and v→i in the MMCL latent and the MMSL embedding, and each term's mean."""
        if self.validation is None or len(self.validation) == 0:
            return None
        plan = EpochPlan(self.validation.scans, seed=0, epoch=0, batch_size=self.batch, world_size=1, drop_last=False)
        batches = PlanBatches(self.validation, plan, 0, 0, pixel_pipeline(self.c, training=False), seed=0, epoch=0)
        m, heads = self.model, self.model.heads
        m.eval()
        seen, rows, losses = set(), {}, []
        with torch.no_grad():
            for b in map(batches.__getitem__, range(len(batches))):
                clip, image, logmel = self.inputs.inputs(*(b[k].to(self.device) for k in ("video", "still", "logmel")))
                fv, fa = m.video(clip), m.audio(logmel)
                fi = m.image(image) if heads.config.use_image else None
                _, terms = heads.loss(fv, fa, fi)
                losses.append(terms)
                fresh = []  # a clip seen twice (a padded batch) counts once, as in Swift's EmbeddingTable
                for k, i in enumerate(b["clip_id"].tolist()):
                    if i not in seen:
                        seen.add(i)
                        fresh.append(k)
                spaces = {"latent": [heads.project(x, f) if f is not None else None for x, f in (("v", fv), ("a", fa), ("i", fi))],
                          "similarity": [heads._embed(getattr(heads, f"head_{x}"), f) if f is not None else None
                                         for x, f in (("v", fv), ("a", fa), ("i", fi))]}
                for space, zs in spaces.items():
                    for j, z in enumerate(zs):
                        if z is not None:
                            z = torch.nn.functional.normalize(z.float(), dim=1, eps=1e-12) if space == "latent" else z.float()
                            rows.setdefault((space, j), []).append(z[fresh].cpu())
        self._train_mode()
        metrics: Dict[str, float] = {}
        for space in ("latent", "similarity"):
            if (space, 0) not in rows:
                continue
            v = torch.cat(rows[(space, 0)])
            for name, j in (("v2a", 1), ("v2i", 2)):
                if (space, j) in rows:
                    metrics.update({f"{name}_{space}_{k}": x for k, x in retrieval(v, torch.cat(rows[(space, j)])).items()})
        mean = {k: float(np.float32(sum(t[k] for t in losses) / len(losses))) for k in losses[0] if all(k in t for t in losses)}
        metrics["loss"] = mean["total"]
        return {"step": self.step, "clips": len(seen), "metrics": metrics, "losses": mean}

    def _validate_and_keep_best(self, out: Optional[str], log) -> None:
        report = self.validate()
        if report is None:
            return
        log({"validation": report})
        metric = self.c["validation"]["metric"]
        value = report["metrics"].get(metric)
        if value is not None and better(value, self.best, metric):
            self.best = value
            if out:
                self.save(os.path.join(out, "best.safetensors"))

    def export_encoders(self, path: str) -> None:
        """The encoders' weights and running statistics only (Trainer.exportEncoders)."""
        meta = {"format": "sonodual-encoders-v1", "model_size": self.c["model"]["size"], "step": str(self.step),
                "config": run_config.dumps(self.c), "scans": ",".join(self.scans)}
        self._write(path, self._weights(tuple(f"{e}." for e in ENCODERS)), meta)

    def _should_stop(self) -> bool:
        """Whether any rank was asked to stop: all ranks stop at the same step (else DDP would hang)."""
        if self.world == 1:
            return self.stop_requested
        flag = torch.tensor([1.0 if self.stop_requested else 0.0], device=self.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item() > 0)

    def batches(self):
        """(epoch, batch) from the current loader position on, epoch after epoch."""
        while True:
            plan = self.plan(self.epoch)
            if self.loader_step >= plan.batches_per_rank:
                self.epoch, self.loader_step = self.epoch + 1, 0
                continue
            data = PlanBatches(self.records, plan, self.rank, self.loader_step, self.pipeline, self.seed, self.epoch)
            loader = torch.utils.data.DataLoader(data, batch_size=None, shuffle=False, num_workers=self.workers,
                                                 pin_memory=self.device.type == "cuda")
            for b in loader:
                self.loader_step += 1
                yield self.epoch, b

    def take_step(self, b: Dict[str, torch.Tensor]) -> Tuple[float, Dict[str, float], Dict[str, float]]:
        """One optimiser step on batch `b` as Swift's `trainStep`: the scheduled lr, the max-violation
        warm-up, forward (bf16 autocast if set), backward, the global-norm clip, Adam. Returns the lr,
        the loss terms and the gradient norm per encoder and of the heads (before clipping)."""
        c = self.c
        lr = learning_rate(c, self.step, self.total)
        for g in self.optimizer.param_groups:
            g["lr"] = lr
        self.model.heads.config.max_violation = self.step >= c["objective"]["max_violation_after"]
        video, still, mel = (b[k].to(self.device, non_blocking=True) for k in ("video", "still", "logmel"))
        with torch.autocast(self.device.type, dtype=torch.bfloat16) if self.bf16 else contextlib.nullcontext():
            loss, terms = self.objective(video, still, mel)
        loss.backward()
        squares = {n: float(sum((p.grad.double() ** 2).sum() for p in getattr(self.model, n).parameters() if p.grad is not None))
                   for n in ENCODERS + ("heads",)}
        clip = c["optimizer"]["clip_norm"]
        if clip > 0:
            factor = clip / (math.sqrt(sum(squares.values())) + 1e-6)
            if factor < 1:
                for p in self.model.parameters():
                    if p.grad is not None:
                        p.grad.mul_(factor)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        return lr, terms, {n: math.sqrt(x) for n, x in squares.items()}

    def train(self, out: Optional[str], log, progress: bool = False) -> int:
        """Trains to the run's length; rank 0 logs each step and checkpoints. Returns the steps done."""
        bar = Progress(self.total, self.step, progress and self.rank == 0)
        try:
            return self._train(out, log, bar)
        finally:
            bar.finish()

    def _train(self, out: Optional[str], log, bar: Progress) -> int:
        c = self.c
        every, keep = c["checkpoints"]["every"], c["checkpoints"]["keep_last"]
        validate_every = c["validation"]["every"]
        if out and self.rank == 0:
            os.makedirs(out, exist_ok=True)
            with open(os.path.join(out, "run.toml"), "w") as f:
                f.write(run_config.dumps(c))
        self._train_mode()
        stream = self.batches()
        while self.step < self.total:
            if self._should_stop():
                if out and self.rank == 0:
                    self.save(os.path.join(out, "last.safetensors"))
                return self.step
            start = time.perf_counter()
            epoch, b = next(stream)
            waited = time.perf_counter() - start
            lr, terms, norms = self.take_step(b)
            seconds = time.perf_counter() - start
            bar.advance(f"loss {terms['total']:.3f}, {len(b['clip_id']) * self.world / max(seconds, 1e-9):.1f} clips/s")
            if self.rank == 0:
                log({"step": self.step, "epoch": epoch, "loss": terms["total"], "terms": terms,
                     "lr": lr, "seconds": seconds, "clips_per_s": len(b["clip_id"]) * self.world / max(seconds, 1e-9),
                     "data_wait": waited / max(seconds, 1e-9), "peak_rss_mib": peak_rss_mib(),
                     "diagnostics": {"gradient_norm": norms}})
                if validate_every > 0 and self.step % validate_every == 0 and self.step < self.total:
                    self._validate_and_keep_best(out, log)
                if out and every > 0 and self.step % every == 0:
                    self.save(os.path.join(out, f"step-{self.step:06d}.safetensors"))
                    steps = sorted(f for f in os.listdir(out) if f.startswith("step-") and f.endswith(".safetensors"))
                    for f in steps[:max(0, len(steps) - keep)]:
                        os.remove(os.path.join(out, f))
        if self.rank == 0:
            self._validate_and_keep_best(out, log)
            if out:
                self.save(os.path.join(out, "last.safetensors"))
                self.export_encoders(os.path.join(out, "encoders.safetensors"))
        return self.step


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m sonodual.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--catalog", required=True, help="catalog (SQLite) path")
    p.add_argument("--config", help="run config (TOML), as sono-train takes it")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any config key, as table.key=value (repeatable)")
    p.add_argument("--out", help="checkpoint folder")
    # --metrics too: torchrun reads "--log" as an abbreviation of its own --log-dir / --logs-specs.
    p.add_argument("--log", "--metrics", dest="log", help="metrics log (JSON lines, appended); default: standard output")
    p.add_argument("--resume", help="continue from this checkpoint (sono-train's or ours)")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (the rank's GPU when there is one)")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes per rank")
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast")
    p.add_argument("--channels-last", action="store_true", help="channels-last memory format for the image encoder")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        if args.workers < 0:
            raise UsageError(f"--workers {args.workers}: must be ≥ 0")
        if not os.path.exists(args.catalog):
            raise UsageError(f"--catalog {args.catalog}: no such catalog")
        if args.resume and not os.path.exists(args.resume):
            raise UsageError(f"--resume {args.resume}: no such checkpoint")
        c = run_config.load(args.config, args.set)
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if args.device == "auto":
            device = torch.device(f"cuda:{local}" if torch.cuda.is_available() else "cpu")
        else:
            device = torch.device(args.device)
        if device.type == "cuda":
            torch.cuda.set_device(device)
        else:
            torch.set_num_threads(c["data"]["threads"])
        if world > 1:
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        run = Run(args.catalog, c, device, rank, world, args.workers, args.bf16, args.channels_last)
        if args.resume:
            run.resume(args.resume)

        def request_stop(signum, frame) -> None:
            run.stop_requested = True

        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, request_stop)
        sink = open(args.log, "a") if args.log and rank == 0 else None

        def log(entry: dict) -> None:
            line = json.dumps(entry, sort_keys=True)
            print(line, file=sink or sys.stdout, flush=True)

        steps = run.train(args.out, log, progress=not args.quiet)
        if sink:
            sink.close()
        if world > 1:
            dist.barrier()
            dist.destroy_process_group()
        if rank == 0 and steps < run.total:
            print(f"interrupted: checkpoint at step {steps} in {args.out or '(no --out: nothing saved)'}/last.safetensors; --resume it",
                  file=sys.stderr)
        elif rank == 0 and args.out:
            print(f"done: {steps} steps; checkpoints in {args.out}", file=sys.stderr)
        return 0
    except (UsageError, run_config.ConfigError, KeyError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
