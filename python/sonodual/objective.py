"""The dual objective (docs/training.md, equations 2-13) in PyTorch: `DualHeads` with the Swift
`heads.*` parameter names (proj_v, proj_a, proj_i, fusion_a[, fusion_i], head_{v,a,i}.{0,1},
proj_{v,a,i}_bn, proj_{v,a,i}_hidden.{0,1}), the same presets (full, mmcl-only, mmsl-only,
no-image) and the same deviations (fusion target, max-violation warm-up, latent batch norm,
MLP projector), checked against the goldens Swift is checked against (python/tests/test_objective.py)."""
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
    fusion_target: str = "video"  # "cross": Vθ[z_v; z_a] against z_i and Vθ[z_v; z_i] against z_a; "none"
    max_violation: bool = True     # False: the sum of violations (the trainer's warm-up)
    latent_batch_norm: bool = False
    projector_hidden: int = 0
    decorrelation: float = 0.0     # β of (1/d) Σ_{j≠k} C_jk², C = ZᵀZ/N per MMCL latent
    image_self: float = 0.0        # γ of L(z_i, z_i′), the still against a second view through the image branch

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


def max_violation(scores: torch.Tensor, margin: float, reduction: str = "sum", hardest: bool = True) -> torch.Tensor:
    """VSE++ ranking loss on S [N, N] with positives on the diagonal (11): the hardest negative
    per row and column, or with `hardest=False` the sum over all negatives."""
    d = scores.diag().view(-1, 1)
    eye = torch.eye(scores.shape[0], dtype=torch.bool, device=scores.device)
    cost_s = (margin + scores - d).clamp(min=0).masked_fill(eye, 0)
    cost_im = (margin + scores - d.t()).clamp(min=0).masked_fill(eye, 0)
    if hardest:
        cost_s, cost_im = cost_s.max(1)[0], cost_im.max(0)[0]
    total = cost_s.sum() + cost_im.sum()
    return total / scores.shape[0] if reduction == "mean" else total


def off_diagonal_covariance(z: torch.Tensor) -> torch.Tensor:
    """(1/d) Σ_{j≠k} C_jk² for C = ZᵀZ/N of latents Z [N, d] (VICReg's covariance term)."""
    c = z.t() @ z / z.shape[0]
    return ((c ** 2).sum() - (c.diag() ** 2).sum()) / z.shape[1]


class DualHeads(nn.Module):
    """Projections z_m (2), fusion Vθ (3) and MMSL heads µ_m = BN1d(Linear(F_m)) (9)."""

    def __init__(self, video_features: int, audio_features: int, image_features: int,
                 config: Optional[ObjectiveConfig] = None) -> None:
        super().__init__()
        self.config = c = config or ObjectiveConfig()
        d = c.latent
        if c.fusion_target not in ("video", "cross", "none"):
            raise ValueError(f"fusion_target must be video, cross or none (got {c.fusion_target!r})")
        h = c.projector_hidden
        if h > 0:  # z_m = W2 ReLU(BN(W1 F_m)) (SimCLR's head)
            self.proj_v_hidden = nn.Sequential(nn.Linear(video_features, h), nn.BatchNorm1d(h))
            self.proj_a_hidden = nn.Sequential(nn.Linear(audio_features, h), nn.BatchNorm1d(h))
            self.proj_i_hidden = nn.Sequential(nn.Linear(image_features, h), nn.BatchNorm1d(h))
        self.proj_v = nn.Linear(h or video_features, d)
        self.proj_a = nn.Linear(h or audio_features, d)
        self.proj_i = nn.Linear(h or image_features, d)
        if c.latent_batch_norm:
            self.proj_v_bn, self.proj_a_bn, self.proj_i_bn = nn.BatchNorm1d(d), nn.BatchNorm1d(d), nn.BatchNorm1d(d)
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

    def project(self, m: str, f: torch.Tensor) -> torch.Tensor:
        """z_m (2), through the hidden layer and the latent batch norm where configured."""
        if self.config.projector_hidden > 0:
            f = F.relu(getattr(self, f"proj_{m}_hidden")(f))
        z = getattr(self, f"proj_{m}")(f)
        return getattr(self, f"proj_{m}_bn")(z) if self.config.latent_batch_norm else z

    def _fused(self, fusion: nn.Module, zv: torch.Tensor, zm: torch.Tensor, other: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        """A branch's fused term: Vθ[z_v; z_m] against z_v, or against `other` with the cross target."""
        c = self.config
        if c.fusion_target == "none" or c.fusion_target == "cross" and other is None:
            return None
        fused = fusion(torch.cat([zv, zm], 1))
        return info_nce(zv, fused, c.temperature, c.symmetric) if c.fusion_target == "video" \
            else info_nce(other, fused, c.temperature, c.symmetric)

    @staticmethod
    def _embed(head: nn.Sequential, f: torch.Tensor) -> torch.Tensor:
        return F.normalize(head(f), dim=1, eps=1e-12)

    def loss(self, fv: torch.Tensor, fa: torch.Tensor, fi: Optional[torch.Tensor],
             fi_view: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, Dict[str, float]]:
        """L (13) and its terms under the Swift log's names (nce_a_v, …, mmcl, mmsl, total);
        `fi_view`: the image features of a second view of each moment (the `image_self` term)."""
        c = self.config
        image = fi if c.use_image else None
        terms: Dict[str, float] = {}
        total: Optional[torch.Tensor] = None
        zi = None
        if c.mmcl:
            zv, za = self.project("v", fv), self.project("a", fa)
            zi = self.project("i", image) if image is not None else None
            mmcl = av = info_nce(za, zv, c.temperature, c.symmetric)
            terms["nce_a_v"] = av.item()
            vva = self._fused(self.fusion_a, zv, za, zi)
            if vva is not None:
                terms["nce_v_va"] = vva.item()
                mmcl = mmcl + vva
            if zi is not None:
                mmcl_i = iv = info_nce(zi, zv, c.temperature, c.symmetric)
                terms["nce_i_v"] = iv.item()
                vvi = self._fused(self.fusion_a if c.shared_fusion else self.fusion_i, zv, zi, za)
                if vvi is not None:
                    terms["nce_v_vi"] = vvi.item()
                    mmcl_i = mmcl_i + vvi
                mmcl = c.pi * mmcl + (1 - c.pi) * mmcl_i
            terms["mmcl"] = mmcl.item()
            total = mmcl
            if c.decorrelation > 0:
                decorrelation = sum(off_diagonal_covariance(z) for z in [zv, za] + ([zi] if zi is not None else []))
                terms["decorrelation"] = decorrelation.item()
                total = total + c.decorrelation * decorrelation
        if c.image_self > 0 and image is not None and fi_view is not None:
            ii = info_nce(zi if zi is not None else self.project("i", image), self.project("i", fi_view), c.temperature, c.symmetric)
            terms["nce_i_i"] = ii.item()
            total = c.image_self * ii if total is None else total + c.image_self * ii
        if c.mmsl:
            mv, ma = self._embed(self.head_v, fv), self._embed(self.head_a, fa)
            mmsl = max_violation(mv @ ma.t(), c.margin, c.ranking_reduction, c.max_violation)
            terms["rank_v_a"] = mmsl.item()
            if image is not None:
                mi = self._embed(self.head_i, image)
                vi = max_violation(mv @ mi.t(), c.margin, c.ranking_reduction, c.max_violation)
                terms["rank_v_i"] = vi.item()
                mmsl = mmsl + vi
                if c.audio_image_pair:
                    ai = max_violation(ma @ mi.t(), c.margin, c.ranking_reduction, c.max_violation)
                    terms["rank_a_i"] = ai.item()
                    mmsl = mmsl + ai
            terms["mmsl"] = mmsl.item()
            total = c.lam * mmsl if total is None else total + c.lam * mmsl
        if total is None:
            raise ValueError("an objective with neither MMCL nor MMSL")
        terms["total"] = total.item()
        return total, terms
