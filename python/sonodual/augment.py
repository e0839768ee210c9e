"""The Swift loader's pixel pipeline (Sources/SonoLoader: `Augmentation`, `FrameTransform`,
`ShardLoader.assemble`), numpy only: the same draws from (seed, clip id, epoch) and the same
arithmetic, so a PyTorch run sees the batches `sono-train` sees, augmentations included.

Per record: each frame u8 → `x·scale + bias` (scale = 1/(255·std), bias = −mean/std of
`normalize.pixel_*`) through its draw (flip, shift with black fill, random resized crop resampled
bilinearly, brightness/contrast, rotation and zoom about the centre), then `normalize.per_sample`; the log-mel (x − mean)/std."""
from __future__ import annotations

import dataclasses
import math
from typing import Optional, Tuple

import numpy as np

from .normalization import standardize_per_sample
from .order import SplitMix64, _M64

_F = np.float32


@dataclasses.dataclass(frozen=True)
class Augmentation:
    """`augment.*` of a run config (Swift `Augmentation`)."""
    flip: bool = True
    max_shift: int = 6
    min_crop_area: float = 1.0
    intensity: float = 0.0
    independent_still: bool = False
    max_rotation: float = 0.0  # degrees
    max_zoom: float = 1.0

    @property
    def is_off(self) -> bool:
        return (not self.flip and self.max_shift == 0 and self.min_crop_area >= 1 and self.intensity == 0
                and self.max_rotation == 0 and self.max_zoom <= 1)

    def draw(self, seed: int, clip_id: int, epoch: int, size: int) -> Tuple["FrameTransform", "FrameTransform"]:
        """The clip's transform and its still's (the same unless `independent_still`)."""
        rng = SplitMix64((seed ^ 0xA06) & _M64, stream=((clip_id & _M64) * 1_000_003 + epoch) & _M64)
        video = self._draw(rng, size)
        return (video, self._draw(rng, size)) if self.independent_still else (video, video)

    def _draw(self, rng: SplitMix64, size: int) -> "FrameTransform":
        def unit() -> float:
            return (rng.next() >> 11) * 2.0 ** -53

        flip = self.flip and rng.next() & 1 == 1
        dx = dy = 0
        if self.max_shift > 0:
            dx = rng.next() % (2 * self.max_shift + 1) - self.max_shift
            dy = rng.next() % (2 * self.max_shift + 1) - self.max_shift
        crop = None
        if self.min_crop_area < 1:
            side = float(size)
            area = self.min_crop_area + (1 - self.min_crop_area) * unit()
            aspect = math.exp(math.log(3.0 / 4) + math.log(16.0 / 9) * unit())
            w, h = min(side, side * math.sqrt(area * aspect)), min(side, side * math.sqrt(area / aspect))
            crop = ((side - w) * unit(), (side - h) * unit(), w, h)
        brightness = contrast = _F(1)
        if self.intensity > 0:
            brightness = _F(1 + self.intensity * (2 * unit() - 1))
            contrast = _F(1 + self.intensity * (2 * unit() - 1))
        rotation = self.max_rotation * math.pi / 180 * (2 * unit() - 1) if self.max_rotation > 0 else 0.0
        zoom = math.exp(math.log(self.max_zoom) * (2 * unit() - 1)) if self.max_zoom > 1 else 1.0
        return FrameTransform(flip, dx, dy, crop, brightness, contrast, rotation, zoom)


@dataclasses.dataclass(frozen=True)
class FrameTransform:
    flip: bool = False
    dx: int = 0
    dy: int = 0
    crop: Optional[Tuple[float, float, float, float]] = None  # x, y, width, height (source pixels)
    brightness: np.float32 = _F(1)
    contrast: np.float32 = _F(1)
    rotation: float = 0.0  # radians, about the centre
    zoom: float = 1.0

    def apply(self, frames: np.ndarray, scale: np.float32, bias: np.float32) -> np.ndarray:
        """Square u8 frames [..., n, n] → float32, each as Swift's `FrameTransform.apply` (the
        contrast pivot is each frame's own mean); one transform for all, as for a clip's frames."""
        n = frames.shape[-1]
        lead = frames.shape[:-2]
        if self.contrast == 1:
            mean = np.zeros(lead + (1, 1), _F)
        else:
            mean = (frames.reshape(lead + (n * n,)).sum(axis=-1, dtype=np.int64).astype(_F) / _F(n * n)).reshape(lead + (1, 1))
        gain = _F(self.brightness * self.contrast)
        offset = ((_F(1) - self.contrast) * mean).astype(_F) * self.brightness
        s, b = _F(scale * gain), (bias + (scale * offset).astype(_F)).astype(_F)
        oy = np.arange(n) - self.dy
        ox0 = np.arange(n) - self.dx
        inside = ((oy >= 0) & (oy < n))[:, None] & ((ox0 >= 0) & (ox0 < n))[None, :]
        ox = n - 1 - ox0 if self.flip else ox0
        if self.crop is not None or self.rotation != 0 or self.zoom != 1:
            return self._resample(frames, n, oy, ox, inside, s, b, bias)
        src = frames[..., np.clip(oy, 0, n - 1)[:, None], np.clip(ox, 0, n - 1)[None, :]].astype(_F)
        return np.where(inside, src * s + b, bias).astype(_F)

    def _resample(self, frames, n, oy, ox, inside, s, b, bias):
        """Swift's `FrameTransform.resample`: rotation and zoom about the centre, then the crop
        rectangle, bilinear; points outside the source frame are black."""
        half, last = n / 2, float(n - 1)
        c, sn = math.cos(self.rotation) / self.zoom, math.sin(self.rotation) / self.zoom
        cx, cy, cw, ch = self.crop if self.crop is not None else (0.0, 0.0, float(n), float(n))
        fx, fy = cw / n, ch / n
        u = ox.astype(np.float64)[None, :] + 0.5 - half
        v = oy.astype(np.float64)[:, None] + 0.5 - half
        px = cx + (c * u - sn * v + half) * fx - 0.5
        py = cy + (sn * u + c * v + half) * fy - 0.5
        valid = inside & (px >= -0.5) & (px <= last + 0.5) & (py >= -0.5) & (py <= last + 0.5)
        qx, qy = np.minimum(last, np.maximum(0.0, px)), np.minimum(last, np.maximum(0.0, py))
        ix, iy = np.minimum(n - 2, qx.astype(np.int64)), np.minimum(n - 2, qy.astype(np.int64))
        wx, wy = (qx - ix).astype(_F), (qy - iy).astype(_F)
        f = frames.astype(_F)
        top = f[..., iy, ix] * (_F(1) - wx) + f[..., iy, ix + 1] * wx
        bottom = f[..., iy + 1, ix] * (_F(1) - wx) + f[..., iy + 1, ix + 1] * wx
        out = (top * (_F(1) - wy) + bottom * wy) * s + b
        return np.where(valid, out, bias).astype(_F)


@dataclasses.dataclass(frozen=True)
class PixelPipeline:
    """What the Swift loader does to a record: augmentation (training only), pixel and log-mel
    normalisation, per-sample standardisation."""
    augmentation: Optional[Augmentation] = None
    pixel_mean: float = 0.0
    pixel_std: float = 1.0
    per_sample: bool = False
    logmel_mean: float = 0.0
    logmel_std: float = 1.0

    def record(self, rec: dict, seed: int, epoch: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(video [T, H, W], still [H, W], log-mel [F, M]) float32 of one record of `sonodual.Dataset`."""
        scale, bias = _F(1) / (_F(255) * _F(self.pixel_std)), _F(-_F(self.pixel_mean) / _F(self.pixel_std))
        frames, still = rec["video"], rec["still"]
        aug = self.augmentation
        if aug is not None and not aug.is_off:
            if frames.shape[1] != frames.shape[2]:
                raise ValueError(f"augmentation needs square frames (records are {frames.shape[2]}×{frames.shape[1]})")
            tv, ts = aug.draw(seed, int(rec["clip_id"]), epoch, frames.shape[1])
            video = tv.apply(frames, scale, bias)
            still = ts.apply(still, scale, bias)
        else:
            video, still = frames.astype(_F) * scale + bias, still.astype(_F) * scale + bias
        if self.per_sample:
            video, still = standardize_per_sample(video[None])[0], standardize_per_sample(still[None])[0]
        mel_scale = _F(1) / _F(self.logmel_std)
        mel = rec["logmel"].astype(_F) * mel_scale + _F(-_F(self.logmel_mean) / _F(self.logmel_std))
        return video, still, mel

    def batch(self, recs, seed: int, epoch: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`record` for each of `recs`, stacked: video [B, T, H, W], still [B, H, W], log-mel [B, F, M]."""
        parts = [self.record(r, seed, epoch) for r in recs]
        return tuple(np.stack([p[k] for p in parts]) for k in range(3))  # type: ignore[return-value]
