"""The dual objective (docs/training.md, equations 2-13) in PyTorch: `DualHeads` with the Swift
`heads.*` parameter names (proj_v, proj_a, proj_i, fusion_a[, fusion_i], head_{v,a,i}.{0,1}) and
the same presets (full, mmcl-only, mmsl-only, no-image)."""
from __future__ import annotations

import dataclasses
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = ("full", "mmcl-only", "mmsl-only", "no-image")


@dataclasses.dataclass
class ObjectiveConfig:
    """The fields of Swift's `DualObjectiveConfig` (same defaults)."""
    latent: int = 512
    temperature: float = 0.1
    pi: float = 0.5
    symmetric: bool = True
    shared_fusion: bool = True
    margin: float = 0.2
    ranking_reduction: str = "sum"  # or "mean"
    audio_image_pair: bool = False
    lam: float = 1.0
    use_image: bool = True
    mmcl: bool = True
    mmsl: bool = True

    def with_preset(self, preset: str) -> "ObjectiveConfig":
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; one of {PRESETS}")
        return dataclasses.replace(self, mmcl=preset != "mmsl-only", mmsl=preset != "mmcl-only", use_image=preset != "no-image")


def info_nce(x: torch.Tensor, y: torch.Tensor, temperature: float, symmetric: bool = True) -> torch.Tensor:
    """In-batch InfoNCE on cosine similarities / τ (4, 5); symmetric as CLIP."""
    s = F.normalize(x, dim=1, eps=1e-12) @ F.normalize(y, dim=1, eps=1e-12).t() / temperature
    t = torch.arange(x.shape[0], device=x.device)
    forward = F.cross_entropy(s, t)
    return 0.5 * (forward + F.cross_entropy(s.t(), t)) if symmetric else forward


def max_violation(scores: torch.Tensor, margin: float, reduction: str = "sum") -> torch.Tensor:
    """VSE++ max-violation ranking loss on S [N, N] with positives on the diagonal (11)."""
    d = scores.diag().view(-1, 1)
    eye = torch.eye(scores.shape[0], dtype=torch.bool, device=scores.device)
    cost_s = (margin + scores - d).clamp(min=0).masked_fill(eye, 0).max(1)[0]
    cost_im = (margin + scores - d.t()).clamp(min=0).masked_fill(eye, 0).max(0)[0]
    total = cost_s.sum() + cost_im.sum()
    return total / scores.shape[0] if reduction == "mean" else total


class DualHeads(nn.Module):
    """Projections z_m (2), fusion Vθ (3) and MMSL heads µ_m = BN1d(Linear(F_m)) (9)."""

    def __init__(self, video_features: int, audio_features: int, image_features: int,
                 config: Optional[ObjectiveConfig] = None) -> None:
        super().__init__()
        self.config = c = config or ObjectiveConfig()
        d = c.latent
        self.proj_v = nn.Linear(video_features, d)
        self.proj_a = nn.Linear(audio_features, d)
        self.proj_i = nn.Linear(image_features, d)
        self.fusion_a = nn.Linear(2 * d, d)
        if not c.shared_fusion:  # shared: one Vθ (Swift has no heads.fusion_i.* then)
            self.fusion_i = nn.Linear(2 * d, d)
        self.head_v = nn.Sequential(nn.Linear(video_features, d), nn.BatchNorm1d(d))
        self.head_a = nn.Sequential(nn.Linear(audio_features, d), nn.BatchNorm1d(d))
        self.head_i = nn.Sequential(nn.Linear(image_features, d), nn.BatchNorm1d(d))
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    @staticmethod
    def _embed(head: nn.Sequential, f: torch.Tensor) -> torch.Tensor:
        return F.normalize(head(f), dim=1, eps=1e-12)

    def loss(self, fv: torch.Tensor, fa: torch.Tensor, fi: Optional[torch.Tensor]) -> Tuple[torch.Tensor, Dict[str, float]]:
        """L (13) and its terms under the Swift log's names (nce_a_v, …, mmcl, mmsl, total)."""
        c = self.config
        image = fi if c.use_image else None
        terms: Dict[str, float] = {}
        total: Optional[torch.Tensor] = None
        if c.mmcl:
            zv, za = self.proj_v(fv), self.proj_a(fa)
            zva = self.fusion_a(torch.cat([zv, za], 1))
            av, vva = info_nce(za, zv, c.temperature, c.symmetric), info_nce(zv, zva, c.temperature, c.symmetric)
            terms["nce_a_v"], terms["nce_v_va"] = av.item(), vva.item()
            mmcl = av + vva
            if image is not None:
                zi = self.proj_i(image)
                zvi = (self.fusion_a if c.shared_fusion else self.fusion_i)(torch.cat([zv, zi], 1))
                iv, vvi = info_nce(zi, zv, c.temperature, c.symmetric), info_nce(zv, zvi, c.temperature, c.symmetric)
                terms["nce_i_v"], terms["nce_v_vi"] = iv.item(), vvi.item()
                mmcl = c.pi * mmcl + (1 - c.pi) * (iv + vvi)
            terms["mmcl"] = mmcl.item()
            total = mmcl
        if c.mmsl:
            mv, ma = self._embed(self.head_v, fv), self._embed(self.head_a, fa)
            mmsl = max_violation(mv @ ma.t(), c.margin, c.ranking_reduction)
            terms["rank_v_a"] = mmsl.item()
            if image is not None:
                mi = self._embed(self.head_i, image)
                vi = max_violation(mv @ mi.t(), c.margin, c.ranking_reduction)
                terms["rank_v_i"] = vi.item()
                mmsl = mmsl + vi
                if c.audio_image_pair:
                    ai = max_violation(ma @ mi.t(), c.margin, c.ranking_reduction)
                    terms["rank_a_i"] = ai.item()
                    mmsl = mmsl + ai
            terms["mmsl"] = mmsl.item()
            total = c.lam * mmsl if total is None else total + c.lam * mmsl
        if total is None:
            raise ValueError("an objective with neither MMCL nor MMSL")
        terms["total"] = total.item()
        return total, terms
