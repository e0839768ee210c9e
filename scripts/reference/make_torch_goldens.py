#!/usr/bin/env python3
"""PyTorch golden vectors for the tensor engine (Tests/SonoTensorTests/Goldens/).

Each case writes NAME.<tensor>.npy files: inputs, parameters, the forward output, and the
gradients of L = sum(out * R) for a fixed random R (also saved). Optimiser cases record three
steps. The tests compare within 1e-4 relative; torch is not needed to run them.

    python3 scripts/reference/make_torch_goldens.py      # any PyTorch (Debian's python3-torch works)
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "SonoTensorTests", "Goldens")
torch.manual_seed(2026)
torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)  # goldens in double, stored as float32
index = {}


def save(case, **arrays):
    names = []
    for name, value in arrays.items():
        a = value.detach().numpy() if torch.is_tensor(value) else np.asarray(value)
        np.save(os.path.join(OUT, f"{case}.{name}.npy"), np.ascontiguousarray(a, dtype=np.float32))
        names.append(name)
    index[case] = names


def grad_case(case, fn, **inputs):
    leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    out = fn(**leaves)
    r = torch.rand_like(out) * 2 - 1
    (out * r).sum().backward()
    save(case, out=out, r=r, **{k: v for k, v in inputs.items()}, **{f"grad_{k}": v.grad for k, v in leaves.items()})


def main():
    os.makedirs(OUT, exist_ok=True)
    x3 = torch.randn(2, 3, 5, 7, 6)
    grad_case("conv3d", lambda x, w, b: F.conv3d(x, w, b, stride=(1, 2, 1), padding=(1, 1, 0)),
              x=x3, w=torch.randn(4, 3, 3, 3, 3) * 0.3, b=torch.randn(4))
    grad_case("conv3d_spatial", lambda x, w: F.conv3d(x, w, stride=(1, 2, 2), padding=(0, 1, 1)), x=x3, w=torch.randn(4, 3, 1, 3, 3) * 0.3)
    grad_case("conv3d_temporal", lambda x, w: F.conv3d(x, w, stride=(2, 1, 1), padding=(1, 0, 0)), x=x3, w=torch.randn(4, 3, 3, 1, 1) * 0.3)
    grad_case("conv3d_pointwise", lambda x, w: F.conv3d(x, w, stride=(2, 2, 2)), x=x3, w=torch.randn(5, 3, 1, 1, 1))
    grad_case("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=(2, 2), padding=(3, 3)),
              x=torch.randn(2, 3, 11, 9), w=torch.randn(4, 3, 7, 7) * 0.1, b=torch.randn(4))
    grad_case("conv1d", lambda x, w: F.conv1d(x, w, stride=2, padding=1), x=torch.randn(2, 3, 13), w=torch.randn(5, 3, 3))
    # Batch norm: training (running stats after one step) and evaluation.
    x = torch.randn(4, 3, 2, 3, 3) * 2 + 1
    bn = torch.nn.BatchNorm3d(3, momentum=0.1)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([0.5, 1.5, -1.0])); bn.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
    xl = x.clone().requires_grad_(True)
    out = bn(xl)
    r = torch.rand_like(out) * 2 - 1
    (out * r).sum().backward()
    save("batchnorm_train", x=x, out=out, r=r, grad_x=xl.grad, grad_weight=bn.weight.grad, grad_bias=bn.bias.grad,
         running_mean=bn.running_mean, running_var=bn.running_var)
    bn.eval()
    bn.weight.grad = None
    xl = x.clone().requires_grad_(True)
    out = bn(xl)
    (out * r).sum().backward()
    save("batchnorm_eval", x=x, out=out, r=r, grad_x=xl.grad, running_mean=bn.running_mean, running_var=bn.running_var)
    xp = torch.randn(2, 3, 4, 7, 6)
    grad_case("maxpool3d", lambda x: F.max_pool3d(x, (2, 3, 3), stride=(2, 2, 2), padding=(0, 1, 1)), x=xp)
    grad_case("avgpool3d", lambda x: F.avg_pool3d(x, (2, 2, 2), stride=(1, 2, 2), padding=(1, 0, 1)), x=xp)
    grad_case("maxpool2d", lambda x: F.max_pool2d(x, 3, stride=2, padding=1), x=torch.randn(2, 3, 9, 8))
    grad_case("adaptive3d", lambda x: F.adaptive_avg_pool3d(x, (3, 4, 4)), x=xp)
    grad_case("log_softmax", lambda x: F.log_softmax(x, dim=1), x=torch.randn(4, 7))
    targets = torch.tensor([1, 0, 6, 3])
    grad_case("cross_entropy", lambda x: F.cross_entropy(x, targets).reshape(1), x=torch.randn(4, 7))
    save("cross_entropy_targets", targets=targets.double())
    y = torch.rand(3, 5)
    grad_case("bce_logits", lambda x: F.binary_cross_entropy_with_logits(x, y).reshape(1), x=torch.randn(3, 5))
    grad_case("bce", lambda p: F.binary_cross_entropy(p, y).reshape(1), p=torch.rand(3, 5) * 0.8 + 0.1)
    save("bce_targets", y=y)
    target = torch.softmax(torch.randn(3, 6), dim=1)
    grad_case("kl_div", lambda x: F.kl_div(x, target, reduction="batchmean").reshape(1), x=F.log_softmax(torch.randn(3, 6), dim=1))
    save("kl_target", target=target)
    grad_case("normalize", lambda x: F.normalize(x, dim=1), x=torch.randn(4, 9))
    # Optimisers: three steps on a fixed quadratic-ish loss with known gradients.
    p0 = torch.randn(6)
    grads = [torch.randn(6) for _ in range(3)]
    for name, make in [("adam", lambda p: torch.optim.Adam([p], lr=3e-3, weight_decay=1e-4)),
                       ("adamw", lambda p: torch.optim.AdamW([p], lr=3e-3, weight_decay=1e-2)),
                       ("sgd", lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=1e-4))]:
        p = p0.clone().requires_grad_(True)
        opt = make(p)
        steps = []
        for g in grads:
            p.grad = g.clone()
            opt.step()
            steps.append(p.detach().clone())
        save(f"opt_{name}", p0=p0, grads=torch.stack(grads), steps=torch.stack(steps))
    # VSE++ max-violation ranking loss (fartashf/vsepp ContrastiveLoss, max_violation=True).
    def vsepp(scores, margin=0.2, max_violation=True):
        d = scores.diag().view(-1, 1)
        cost_s = (margin + scores - d.expand_as(scores)).clamp(min=0)
        cost_im = (margin + scores - d.t().expand_as(scores)).clamp(min=0)
        eye = torch.eye(scores.size(0), dtype=torch.bool)
        cost_s, cost_im = cost_s.masked_fill(eye, 0), cost_im.masked_fill(eye, 0)
        if max_violation:
            cost_s, cost_im = cost_s.max(1)[0], cost_im.max(0)[0]
        return (cost_s.sum() + cost_im.sum()).reshape(1)
    grad_case("vsepp", lambda s: vsepp(s), s=torch.rand(5, 5) * 2 - 1)
    # The dual objective (docs/training.md) on small features, weights saved for the Swift side.
    n, dv, da, di, d = 6, 5, 7, 5, 4
    lin = lambda i, o: (torch.randn(o, i) * 0.5, torch.randn(o) * 0.1)
    W = {"proj_v": lin(dv, d), "proj_a": lin(da, d), "proj_i": lin(di, d), "fusion_a": lin(2 * d, d),
         "head_v.0": lin(dv, d), "head_a.0": lin(da, d), "head_i.0": lin(di, d)}
    def objective(fv, fa, fi, mmcl_on=True, mmsl_on=True, image=True, fusion="video", max_violation=True, reduce_n=1,
                  latent_bn=False, hidden=False, weights=None, decorrelation=0.0):
        Wd = W if weights is None else weights
        L = lambda x, name: x @ Wd[name][0].t() + Wd[name][1]
        bn = lambda x: F.batch_norm(x, None, None, training=True, eps=1e-5)
        def project(x, m):  # z_m: optional hidden layer (Linear, BN, ReLU), the linear map, optional BN
            if hidden:
                x = F.relu(bn(L(x, f"proj_{m}_hidden.0")))
            z = L(x, f"proj_{m}")
            return bn(z) if latent_bn else z
        def nce(x, y, tau=0.1):
            s = F.normalize(x, dim=1) @ F.normalize(y, dim=1).t() / tau
            t = torch.arange(x.size(0))
            return 0.5 * (F.cross_entropy(s, t) + F.cross_entropy(s.t(), t))
        def head(x, name):
            return F.normalize(F.batch_norm(L(x, name), None, None, training=True, eps=1e-5), dim=1)
        total = torch.zeros(())
        if mmcl_on:
            zv, za = project(fv, "v"), project(fa, "a")
            zva = L(torch.cat([zv, za], 1), "fusion_a")
            zi = project(fi, "i") if image else None
            mmcl = nce(za, zv)
            if fusion == "video":
                mmcl = mmcl + nce(zv, zva)
            elif fusion == "cross" and image:  # the fused embedding against the modality it did not see
                mmcl = mmcl + nce(zi, zva)
            if image:
                zvi = L(torch.cat([zv, zi], 1), "fusion_a")
                mmcl_i = nce(zi, zv)
                if fusion == "video":
                    mmcl_i = mmcl_i + nce(zv, zvi)
                elif fusion == "cross":
                    mmcl_i = mmcl_i + nce(za, zvi)
                mmcl = 0.5 * mmcl + 0.5 * mmcl_i
            total = total + mmcl
            if decorrelation:  # VICReg's covariance term on the latents: (1/d) Σ_{j≠k} C_jk², C = ZᵀZ/N
                for z in [zv, za] + ([zi] if image else []):
                    C = z.t() @ z / z.size(0)
                    total = total + decorrelation * ((C ** 2).sum() - (C.diag() ** 2).sum()) / z.size(1)
        if mmsl_on:
            mv, ma = head(fv, "head_v.0"), head(fa, "head_a.0")
            mmsl = vsepp(mv @ ma.t(), max_violation=max_violation)
            if image:
                mi = head(fi, "head_i.0")
                mmsl = mmsl + vsepp(mv @ mi.t(), max_violation=max_violation)
            mmsl = mmsl / reduce_n
            total = total + mmsl
        return total.reshape(1)
    grad_case("objective", objective, fv=torch.randn(n, dv), fa=torch.randn(n, da), fi=torch.randn(n, di))
    # The paper's ablations (docs/training.md, presets) on new features of the same weights.
    for case, flags in [("objective_mmcl_only", dict(mmsl_on=False)), ("objective_mmsl_only", dict(mmcl_on=False)),
                        ("objective_no_image", dict(image=False))]:
        grad_case(case, lambda fv, fa, fi, flags=flags: objective(fv, fa, fi, **flags),
                  fv=torch.randn(n, dv), fa=torch.randn(n, da), fi=torch.randn(n, di))
    # Deviations (docs/training.md): fused terms against the other modality, or none; the
    # sum-of-violations warm-up with the mean reduction (drawn after the cases above, so they keep their values).
    grad_case("vsepp_sum", lambda s: vsepp(s, max_violation=False), s=torch.rand(5, 5) * 2 - 1)
    for case, flags in [("objective_fusion_cross", dict(fusion="cross")), ("objective_fusion_none", dict(fusion="none")),
                        ("objective_fusion_cross_no_image", dict(fusion="cross", image=False)),
                        ("objective_sum_violation_mean", dict(max_violation=False, reduce_n=n))]:
        grad_case(case, lambda fv, fa, fi, flags=flags: objective(fv, fa, fi, **flags),
                  fv=torch.randn(n, dv), fa=torch.randn(n, da), fi=torch.randn(n, di))
    save("objective_weights", **{f"{k}.weight": v[0] for k, v in W.items()}, **{f"{k}.bias": v[1] for k, v in W.items()})
    # Appended later (earlier cases keep their values): latent batch norm, and the MLP projector
    # (hidden width h) with its own weights, both with the cross fusion target.
    h = 3
    WP = dict(W)
    WP.update({"proj_v": lin(h, d), "proj_a": lin(h, d), "proj_i": lin(h, d),
               "proj_v_hidden.0": lin(dv, h), "proj_a_hidden.0": lin(da, h), "proj_i_hidden.0": lin(di, h)})
    grad_case("objective_latent_bn", lambda fv, fa, fi: objective(fv, fa, fi, fusion="cross", latent_bn=True),
              fv=torch.randn(n, dv), fa=torch.randn(n, da), fi=torch.randn(n, di))
    grad_case("objective_projector", lambda fv, fa, fi: objective(fv, fa, fi, fusion="cross", latent_bn=True, hidden=True, weights=WP),
              fv=torch.randn(n, dv), fa=torch.randn(n, da), fi=torch.randn(n, di))
    grad_case("objective_decorrelation", lambda fv, fa, fi: objective(fv, fa, fi, fusion="cross", latent_bn=True, decorrelation=0.5),
              fv=torch.randn(n, dv), fa=torch.randn(n, da), fi=torch.randn(n, di))
    save("objective_projector_weights", **{f"{k}.weight": v[0] for k, v in WP.items()}, **{f"{k}.bias": v[1] for k, v in WP.items()})
    # Appended for the fine-tunes (issue 15): class-weighted cross-entropy and nearest upsampling.
    wt = torch.tensor([0.5, 2.0, 1.0, 0.25, 3.0, 1.5, 0.75])
    grad_case("cross_entropy_weighted", lambda x: F.cross_entropy(x, targets, weight=wt).reshape(1), x=torch.randn(4, 7))
    save("cross_entropy_weights", weight=wt)
    grad_case("upsample_nearest", lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), x=torch.randn(2, 3, 3, 5))
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": index}, f, indent=1, sort_keys=True)
    print(f"wrote {len(index)} cases to {os.path.normpath(OUT)} with torch {torch.__version__}")


if __name__ == "__main__":
    main()
