#!/usr/bin/env python3
"""Reference vectors from scikit-learn, for Tests/SonoEvalTests (the linear probe and its metrics).

Writes small .npy files (float64 / int64) into Tests/SonoEvalTests/References/; the Swift tests
read them with NPYArray and never run Python. Run it again only when the reference set changes:

    python3 scripts/reference/make_probe_references.py

Probe: StandardScaler fitted on the data, then LogisticRegression(penalty="l2" (the default), C,
solver="lbfgs", fit_intercept=True), multinomial (lbfgs' only multi-class mode). tol=1e-12 and max_iter=10000
instead of sklearn's defaults (1e-4, 100) so the reference is the optimum of the objective, not
wherever a loose stopping rule left it; the script checks that against newton-cholesky.
Metrics: precision_recall_fscore_support (zero_division=0), accuracy_score, confusion_matrix.
Groups: GroupKFold(n_splits=3) fold of each sample.
"""
import os

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import StandardScaler

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "SonoEvalTests", "References")


def save(name, array, dtype):
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(array, dtype=dtype))


def probe_dataset():
    """120 samples x 6 features, 4 imbalanced classes, overlapping (so the fit is well
    conditioned at every C), columns on different scales, column 4 constant."""
    rng = np.random.default_rng(20240601)
    counts = [45, 35, 25, 15]
    y = np.concatenate([np.full(c, k) for k, c in enumerate(counts)])
    rng.shuffle(y)
    centres = rng.normal(0.0, 1.0, size=(4, 6))
    x = centres[y] + rng.normal(0.0, 1.3, size=(len(y), 6))
    x *= np.array([1.0, 10.0, 0.01, 3.0, 1.0, 0.5])
    x += np.array([0.0, -50.0, 2.0, 7.0, 0.0, 1.0])
    x[:, 4] = 3.0
    groups = rng.integers(0, 17, size=len(y))  # "scans" of unequal sizes
    return x, y, groups


def fit(xs, y, C, **kw):
    # penalty="l2" is the default (sklearn 1.8 deprecated passing it); l1_ratio=0 says the same.
    common = dict(C=C, l1_ratio=0.0, solver="lbfgs", fit_intercept=True, tol=1e-12, max_iter=10000)
    common.update(kw)
    model = LogisticRegression(**common).fit(xs, y)
    check = LogisticRegression(**{**common, "solver": "newton-cholesky"}).fit(xs, y)
    diff = max(np.abs(model.coef_ - check.coef_).max(), np.abs(model.intercept_ - check.intercept_).max())
    print(f"  C={C} {kw}: lbfgs vs newton-cholesky max |diff| {diff:.2e}, iterations {model.n_iter_}")
    assert diff < 1e-5  # lbfgs stops on ftol=64*eps; its optimum is this close to Newton's
    return model


def write_probe():
    x, y, groups = probe_dataset()
    save("probe_x", x, np.float64)
    save("probe_y", y, np.int64)
    save("probe_groups", groups, np.int64)
    scaler = StandardScaler().fit(x)
    save("probe_scaler_mean", scaler.mean_, np.float64)
    save("probe_scaler_scale", scaler.scale_, np.float64)
    xs = scaler.transform(x)
    cases = {"C0.1": dict(C=0.1), "C10": dict(C=10.0), "balanced_C1": dict(C=1.0, class_weight="balanced")}
    for name, kw in cases.items():
        model = fit(xs, y, **kw)
        save(f"probe_{name}_coef", model.coef_, np.float64)
        save(f"probe_{name}_intercept", model.intercept_, np.float64)
        save(f"probe_{name}_proba", model.predict_proba(xs), np.float64)
    # Binary: classes 0 and 2 only (labels kept), sklearn's one-vector parametrisation.
    keep = (y == 0) | (y == 2)
    xb = StandardScaler().fit_transform(x[keep])
    model = fit(xb, y[keep], C=1.0)
    save("probe_binary_coef", model.coef_, np.float64)
    save("probe_binary_intercept", model.intercept_, np.float64)
    save("probe_binary_proba", model.predict_proba(xb), np.float64)
    folds = np.zeros(len(y), dtype=np.int64)
    for f, (_, test) in enumerate(GroupKFold(n_splits=3).split(x, y, groups)):
        folds[test] = f
    save("probe_groupkfold3", folds, np.int64)


def write_metrics(name, y_true, y_pred, k, subset):
    labels = list(range(k))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    macro_all = precision_recall_fscore_support(y_true, y_pred, labels=labels, average="macro", zero_division=0)[:3]
    macro_sub = precision_recall_fscore_support(y_true, y_pred, labels=subset, average="macro", zero_division=0)[:3]
    save(f"metrics_{name}_true", y_true, np.int64)
    save(f"metrics_{name}_pred", y_pred, np.int64)
    save(f"metrics_{name}_per_class", np.stack([p, r, f]), np.float64)  # rows: precision, recall, F1
    save(f"metrics_{name}_support", s, np.int64)
    save(f"metrics_{name}_macro_all", np.array(macro_all), np.float64)
    save(f"metrics_{name}_macro_subset", np.array(macro_sub), np.float64)
    save(f"metrics_{name}_subset", np.array(subset), np.int64)
    save(f"metrics_{name}_accuracy", np.array([accuracy_score(y_true, y_pred)]), np.float64)
    save(f"metrics_{name}_confusion", confusion_matrix(y_true, y_pred, labels=labels), np.int64)


def write_all_metrics():
    # The paper's 14 classes (13 planes, background last): class 7 never present, class 5 never
    # predicted (so its recall is 0 and its precision 0/0 -> 0), class 7's predictions all wrong.
    rng = np.random.default_rng(7)
    present = [c for c in range(14) if c != 7]
    y_true = rng.choice(present, size=300, p=None)
    y_true[:60] = 13  # plenty of background
    y_pred = np.where(rng.random(300) < 0.7, y_true, rng.integers(0, 14, size=300))
    y_pred[y_pred == 5] = 6
    assert 7 in y_pred and 7 not in y_true and 5 in y_true and 5 not in y_pred
    write_metrics("paper14", y_true, y_pred, 14, list(range(13)))
    # Small hand-made case: 4 classes, class 3 never present, class 1 never predicted.
    y_true = np.array([0, 0, 1, 1, 2, 2, 2, 0, 1, 2])
    y_pred = np.array([0, 2, 0, 2, 2, 3, 2, 0, 3, 0])
    write_metrics("small4", y_true, y_pred, 4, [0, 1, 2])


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}")
    write_probe()
    write_all_metrics()
    print(f"wrote {OUT}")
