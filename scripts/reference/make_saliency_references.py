"""Reference values of the MIT saliency benchmark's metrics (cvzoya/saliency code_forMetrics:
KLdiv.m, similarity.m, NSS.m, CC.m) transcribed to numpy, on seeded maps; written for
Tests/SonoEvalTests/References/saliency_*.npy. MATLAB's std is the sample std (ddof=1),
eps = 2.2204e-16; similarity.m min-max normalises before sum-normalising."""
import os
import numpy as np

EPS = 2.2204e-16
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "SonoEvalTests", "References")


def kld(p, q):
    if p.sum() != 0: p = p / p.sum()
    if q.sum() != 0: q = q / q.sum()
    return float(np.sum(q * np.log(EPS + q / (p + EPS))))


def sim(p, q):
    def mm(x):
        return (x - x.min()) / (x.max() - x.min()) if x.max() > x.min() else np.zeros_like(x)
    p, q = mm(p), mm(q)
    if p.sum() != 0: p = p / p.sum()
    if q.sum() != 0: q = q / q.sum()
    return float(np.minimum(p, q).sum())


def nss(p, f):
    z = (p - p.mean()) / p.std(ddof=1)
    return float(z[f > 0].mean())


def cc(p, q):
    a = (p - p.mean()) / p.std(ddof=1)
    b = (q - q.mean()) / q.std(ddof=1)
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def main():
    rng = np.random.default_rng(2026)
    cases = []
    for k in range(4):
        q = np.zeros((16, 16))
        ys, xs = np.mgrid[0:16, 0:16]
        for _ in range(1 + k):
            cy, cx = rng.uniform(2, 14, size=2)
            q += np.exp(-((ys - cy) ** 2 + (xs - cx) ** 2) / (2 * 2.0 ** 2))
        q /= q.sum()
        p = np.abs(q + rng.normal(0, 0.3 * q.max(), size=q.shape)) if k < 3 else rng.uniform(0, 1, size=q.shape)
        f = (rng.uniform(size=q.shape) < q / q.max() * 0.3).astype(np.uint8)
        f[np.unravel_index(q.argmax(), q.shape)] = 1
        cases.append((p, q, f))
    os.makedirs(OUT, exist_ok=True)
    values = []
    for i, (p, q, f) in enumerate(cases):
        np.save(os.path.join(OUT, f"saliency_p{i}.npy"), p)
        np.save(os.path.join(OUT, f"saliency_q{i}.npy"), q)
        np.save(os.path.join(OUT, f"saliency_f{i}.npy"), f)
        values.append([kld(p, q), sim(p, q), nss(p, f), cc(p, q)])
    np.save(os.path.join(OUT, "saliency_metrics.npy"), np.array(values))
    print(np.array(values))


if __name__ == "__main__":
    main()
