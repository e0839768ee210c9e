"""The three encoders and the dual model in PyTorch, with the Swift checkpoints' names.

- `r2plus1d_18(width)`: torchvision's `VideoResNet` (R(2+1)D-18, fc → Identity: pooled 512-d).
  width 64 is torchvision's model itself; another width (8 = Swift's `R2Plus1D18.Config.tiny()`)
  replaces the stem (its 45/64 channels are fixed in torchvision's `R2Plus1dStem`) and rebuilds
  the layers with torchvision's own `_make_layer`, `BasicBlock` and `Conv2Plus1D`.
- `resnet18(width)`: torchvision's `ResNet` (fc → Identity), narrowed the same way (its stem
  and `inplanes` are fixed at 64).
- `Cnn14`: PANNs' Cnn14 up to `embedding` (keys bn0, conv_block1..6, fc1).
- `DualModel`: video/image/audio/heads as Swift's `Trainer` (keys `video.*`, `image.*`, …).

Dropout: `Cnn14.swift_dropout_seed` (the run's seed) makes every dropout mask the one Swift's
`CNN14` draws (SplitMix64 stream per layer and forward pass), for step-equality checks.
"""
from __future__ import annotations

import sys
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .augment import PixelPipeline
from .objective import DualHeads, ObjectiveConfig
from .order import _GOLDEN, _M64

_stub_library = None


def _torchvision():  # type: ignore[no-untyped-def]
    """torchvision's model modules, also where its C++ ops do not load next to a CPU torch
    (PyPI's CUDA wheel): the models need none of them, only the two schemas its import registers
    fakes for (the stub library is kept alive: dropping it would remove the schemas)."""
    global _stub_library
    try:
        import torchvision  # noqa: F401
    except RuntimeError as error:
        if "torchvision::" not in str(error):
            raise
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
        _stub_library = torch.library.Library("torchvision", "DEF")
        for op in ("nms", "qnms"):
            _stub_library.define(f"{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    from torchvision.models import resnet as image_resnet
    from torchvision.models.video import resnet as video_resnet
    return image_resnet, video_resnet


def r2plus1d_18(width: int = 64) -> nn.Module:
    """R(2+1)D-18 without fc: [N, 3, T, H, W] → [N, 8·width]. Swift tiny: width 8 (stem mid 5)."""
    _, vr = _torchvision()
    model = vr.VideoResNet(vr.BasicBlock, [vr.Conv2Plus1D] * 4, [2, 2, 2, 2], vr.R2Plus1dStem)
    if width != 64:
        mid = max(1, width * 45 // 64)
        model.stem = nn.Sequential(
            nn.Conv3d(3, mid, kernel_size=(1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False),
            nn.BatchNorm3d(mid), nn.ReLU(inplace=True),
            nn.Conv3d(mid, width, kernel_size=(3, 1, 1), stride=(1, 1, 1), padding=(1, 0, 0), bias=False),
            nn.BatchNorm3d(width), nn.ReLU(inplace=True))
        model.inplanes = width
        for i in range(4):
            setattr(model, f"layer{i + 1}", model._make_layer(vr.BasicBlock, vr.Conv2Plus1D, width << i, 2, stride=1 if i == 0 else 2))
        _torchvision_init(model)
    model.fc = nn.Identity()
    return model


def resnet18(width: int = 64) -> nn.Module:
    """ResNet-18 without fc: [N, 3, H, W] → [N, 8·width]. Swift tiny: width 8."""
    ir, _ = _torchvision()
    model = ir.ResNet(ir.BasicBlock, [2, 2, 2, 2])
    if width != 64:
        model.inplanes = width
        model.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        model.bn1 = nn.BatchNorm2d(width)
        for i in range(4):
            setattr(model, f"layer{i + 1}", model._make_layer(ir.BasicBlock, width << i, 2, stride=1 if i == 0 else 2))
        _torchvision_init(model)
    model.fc = nn.Identity()
    return model


def _torchvision_init(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Conv3d)):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)




def swift_dropout_keep(seed: int, count: int, p: float) -> np.ndarray:
    """The scaled keep mask of Swift's `Tensor.dropout(p, seed:)`: SplitMix64 from `seed`, element
    i kept (×1/(1−p)) when Float(unit_i) ≥ p, in row-major order."""
    with np.errstate(over="ignore"):
        z = np.arange(1, count + 1, dtype=np.uint64) * np.uint64(_GOLDEN) + np.uint64(seed & _M64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    unit = (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    pf = np.float32(p)
    return np.where(unit.astype(np.float32) >= pf, np.float32(1) / (np.float32(1) - pf), np.float32(0)).astype(np.float32)


class ConvBlock(nn.Module):
    """PANNs' ConvBlock: (3×3 conv, BN, ReLU) × 2, then 2×2 average pooling (not in block 6)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor, pool: bool = True) -> torch.Tensor:
        x = F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))
        return F.avg_pool2d(x, 2) if pool else x


class Cnn14(nn.Module):
    """PANNs' Cnn14 up to its `embedding`: log-mel [N, 1, T, mels] → [N, embedding]
    (dropout → fc1 → ReLU → dropout). Swift tiny: width 4 (channels 4…128, embedding 128)."""

    def __init__(self, mel_bins: int = 64, width: int = 64, embedding: Optional[int] = None, spec_augment: bool = False) -> None:
        super().__init__()
        self.channels = [width << i for i in range(6)]
        self.bn0 = nn.BatchNorm2d(mel_bins)
        ins = [1] + self.channels[:-1]
        for i, (a, b) in enumerate(zip(ins, self.channels)):
            setattr(self, f"conv_block{i + 1}", ConvBlock(a, b))
        self.fc1 = nn.Linear(self.channels[-1], embedding or self.channels[-1])
        self.spec_augment = spec_augment
        # Swift-identical dropout masks when set (the run's seed); else torch's dropout.
        self.swift_dropout_seed: Optional[int] = None
        self.forward_passes = 0
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def _dropout(self, x: torch.Tensor, p: float, seed: Optional[int]) -> torch.Tensor:
        if not self.training:
            return x
        if seed is None:
            return F.dropout(x, p, training=True)
        keep = torch.from_numpy(swift_dropout_keep(seed, x.numel(), p)).view(x.shape).to(x.device)
        return x * keep

    def _spec_augment(self, x: torch.Tensor) -> torch.Tensor:
        """torchlibrosa SpecAugmentation(64, 2, 8, 2): stripes of frames / mel bins set to 0."""
        n, _, t, f = x.shape
        mask = torch.ones_like(x)
        for k in range(n):
            for total, max_width, axis in ((t, 64, 2), (f, 8, 3)):
                for _ in range(2):
                    w = int(torch.randint(0, max_width, ()))
                    s = int(torch.randint(0, max(1, total - w), ()))
                    if axis == 2:
                        mask[k, :, s:s + w, :] = 0
                    else:
                        mask[k, :, :, s:s + w] = 0
        return x * mask

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seed = None
        if self.training:
            self.forward_passes += 1
            if self.swift_dropout_seed is not None:
                seed = (self.swift_dropout_seed * 1_000_003 + self.forward_passes) & _M64
        sub = (lambda k: (seed + k) & _M64) if seed is not None else (lambda k: None)
        x = self.bn0(x.transpose(1, 3)).transpose(1, 3)
        if self.training and self.spec_augment:
            x = self._spec_augment(x)
        for i in range(6):
            x = getattr(self, f"conv_block{i + 1}")(x, pool=i < 5)
            x = self._dropout(x, 0.2, sub(i))
        x = x.mean(dim=3)
        x = x.max(dim=2)[0] + x.mean(dim=2)
        x = self._dropout(x, 0.5, sub(100))
        return self._dropout(F.relu(self.fc1(x)), 0.5, sub(101))


# Swift's ModelSize: first-stage widths and the MMCL latent.
SIZES = {"full": dict(video=64, image=64, audio=64, latent=512), "small": dict(video=16, image=16, audio=8, latent=64),
         "tiny": dict(video=8, image=8, audio=4, latent=32)}


class DualModel(nn.Module):
    """The Swift `Trainer`'s model: `video`, `image`, `audio` encoders and `heads`, one state-dict
    key per Swift checkpoint tensor (plus torch's `num_batches_tracked`)."""

    def __init__(self, size: str = "full", objective: Optional[ObjectiveConfig] = None, preset: str = "full") -> None:
        super().__init__()
        s = SIZES[size]
        config = (objective or ObjectiveConfig()).with_preset(preset)
        config.latent = s["latent"]
        self.video = r2plus1d_18(s["video"])
        self.image = resnet18(s["image"])
        self.audio = Cnn14(width=s["audio"])
        self.heads = DualHeads(8 * s["video"], self.audio.fc1.out_features, 8 * s["image"], config)

    @staticmethod
    def inputs(video: torch.Tensor, still: torch.Tensor, logmel: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Loader batch (video [B,T,H,W] in 0..1, still [B,H,W], log-mel [B,F,M]) → encoder inputs,
        gray repeated to 3 channels as the Swift trainer does."""
        return video.unsqueeze(1).expand(-1, 3, -1, -1, -1).contiguous(), still.unsqueeze(1).expand(-1, 3, -1, -1).contiguous(), logmel.unsqueeze(1)

    def loss(self, video: torch.Tensor, still: torch.Tensor, logmel: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, float]]:
        clip, image, mel = self.inputs(video, still, logmel)
        fi = self.image(image) if self.heads.config.use_image else None
        return self.heads.loss(self.video(clip), self.audio(mel), fi)


def pretrained_normalization(encoder: str) -> Tuple[List[float], List[float]]:
    """(mean, std) per channel that torchvision's pretrained weights expect on x in [0, 1] (from
    their own weight metadata: ImageNet for resnet18, Kinetics-400 for r2plus1d_18); Swift's
    `PretrainedLayout.inputNormalization` holds the same numbers."""
    image_resnet, video_resnet = _torchvision()
    weights = {"image": image_resnet.ResNet18_Weights.IMAGENET1K_V1, "video": video_resnet.R2Plus1D_18_Weights.KINETICS400_V1}[encoder]
    t = weights.transforms()
    return list(t.mean), list(t.std)


def normalize_channels(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """x [N, 3, ...] · (1/std_c) + (−mean_c/std_c) in float32, as Swift's `InputNormalization.apply`."""
    f = np.float32
    scale = torch.tensor([f(1) / f(s) for s in std], dtype=x.dtype, device=x.device)
    bias = torch.tensor([-f(m) / f(s) for m, s in zip(mean, std)], dtype=x.dtype, device=x.device)
    shape = (1, 3) + (1,) * (x.dim() - 2)
    return x * scale.view(shape) + bias.view(shape)


def load_swift_state(model: nn.Module, tensors: Dict[str, np.ndarray], strict: bool = True) -> Tuple[List[str], List[str]]:
    """Copies a Swift checkpoint's tensors (weights, running statistics; `optimizer.*` ignored) into
    `model` by name. Returns (missing, unexpected); `num_batches_tracked` is not counted missing.
    strict: raise on any missing or unexpected key or shape mismatch."""
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in tensors.items() if not k.startswith("optimizer.")}
    own = model.state_dict()
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k}: {tuple(own[k].shape)} vs {tuple(v.shape)}" for k, v in state.items() if k in own and own[k].shape != v.shape]
    if strict and (missing or unexpected or shapes):
        raise KeyError(f"missing {missing}, unexpected {unexpected}, shape mismatches {shapes}")
    model.load_state_dict({k: v for k, v in state.items() if k in own}, strict=False)
    return missing, unexpected


def parameter_names(model: nn.Module) -> Iterable[str]:
    return (name for name, _ in model.named_parameters())


def swift_batch(dataset: object, indices: Sequence[int], per_sample: bool = False) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """video/still/log-mel float32 tensors of records `indices` of a `sonodual.Dataset`, converted
    as Swift's loader does (u8 · (1/255), f16 → f32; no augmentation, normalisation 0/1; with
    `per_sample`, `normalize.per_sample`)."""
    arrays = PixelPipeline(per_sample=per_sample).batch([dataset[int(i)] for i in indices], seed=0, epoch=0)  # type: ignore[index]
    return tuple(torch.from_numpy(a) for a in arrays)  # type: ignore[return-value]
