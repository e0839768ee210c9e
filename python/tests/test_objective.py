"""sonodual.objective against the goldens the Swift objective is checked against
(scripts/reference/make_torch_goldens.py, Tests/SonoTensorTests/Goldens): loss and gradients of
the paper's objective, its presets and every configured deviation."""
import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
GOLDENS = os.path.join(ROOT, "Tests", "SonoTensorTests", "Goldens")

import torch  # noqa: E402  installed by scripts/setup.sh: this test must run, never be skipped

from sonodual.objective import DualHeads, ObjectiveConfig  # noqa: E402

CASES = {
    "objective": ({}, "full"),
    "objective_mmcl_only": ({}, "mmcl-only"),
    "objective_mmsl_only": ({}, "mmsl-only"),
    "objective_no_image": ({}, "no-image"),
    "objective_fusion_cross": ({"fusion_target": "cross"}, "full"),
    "objective_fusion_none": ({"fusion_target": "none"}, "full"),
    "objective_fusion_cross_no_image": ({"fusion_target": "cross"}, "no-image"),
    "objective_sum_violation_mean": ({"max_violation": False, "ranking_reduction": "mean"}, "full"),
    "objective_latent_bn": ({"fusion_target": "cross", "latent_batch_norm": True}, "full"),
    "objective_projector": ({"fusion_target": "cross", "latent_batch_norm": True, "projector_hidden": 3}, "full"),
    "objective_decorrelation": ({"fusion_target": "cross", "latent_batch_norm": True, "decorrelation": 0.5}, "full"),
}


def load(name):
    return torch.from_numpy(np.load(os.path.join(GOLDENS, name + ".npy")).astype(np.float32))


@pytest.mark.parametrize("case", sorted(CASES))
def test_objective_equals_the_golden(case):
    fields, preset = CASES[case]
    config = ObjectiveConfig(latent=4, **fields).with_preset(preset)
    heads = DualHeads(5, 7, 5, config).train()
    prefix = "objective_projector_weights" if config.projector_hidden else "objective_weights"
    with torch.no_grad():
        for name, p in heads.named_parameters():
            if isinstance(dict(heads.named_modules())[name.rsplit(".", 1)[0]], torch.nn.BatchNorm1d):
                continue  # batch norms keep their initial affine (1, 0), as the reference's functional one
            p.copy_(load(f"{prefix}.{name}").reshape(p.shape))
    inputs = {k: load(f"{case}.{k}").requires_grad_(True) for k in ("fv", "fa", "fi")}
    total, terms = heads.loss(inputs["fv"], inputs["fa"], inputs["fi"])
    expected = float(load(f"{case}.out")[0])
    assert abs(total.item() - expected) <= 1e-4 * max(1, abs(expected)), (case, total.item(), expected)
    (total * load(f"{case}.r")[0]).backward()
    for k in ("fv", "fa") + (("fi",) if config.use_image else ()):
        g = load(f"{case}.grad_{k}")
        worst = (inputs[k].grad - g).abs().max().item()
        assert worst <= 1e-4 * max(1.0, g.abs().max().item()), (case, k, worst)
