#!/usr/bin/env python3
"""Checks `bench fit-logreg` (the L-BFGS logistic regression LAL-RL uses) against scikit-learn.

On UCI digits (pixels / 16, 10 classes, multinomial) and Wisconsin breast cancer (standardised,
binary), on the whole data and on small labelled sets like those of an active-learning episode
(some with classes missing), both fit LogisticRegression(C) to convergence (tol 1e-10); the
coefficients must agree to 1e-4 relative (max |a - b| / max |b|) and the probabilities to 1e-4.
A multinomial intercept is only determined up to a shared constant: both are centred first.
Not part of CI; needs numpy and scikit-learn (benchmarks/peer/logreg_conformance.sh makes a venv).

    python benchmarks/peer/logreg_conformance.py target/release/bench
"""
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

TOL = 1e-4


def ours(bench, x, y, c, k, tmp):
    np.save(tmp / "x.npy", x.astype(np.float64))
    np.save(tmp / "y.npy", y.astype(np.int64))
    subprocess.run([bench, "fit-logreg", "--x", str(tmp / "x.npy"), "--y", str(tmp / "y.npy"),
                    "--c", str(c), "--classes", str(k), "--tol", "1e-10", "--max-iter", "10000", "--out", str(tmp / "out")],
                   check=True, capture_output=True)
    load = lambda n: np.load(tmp / "out" / n)
    return load("coef.npy"), load("intercept.npy"), load("proba.npy")


def theirs(x, y, c, k):
    m = LogisticRegression(C=c, tol=1e-10, max_iter=10000).fit(x, y)
    present = m.classes_
    proba = np.zeros((len(x), k))
    proba[:, present] = m.predict_proba(x)
    if len(present) == 2:
        coef = np.zeros((k, x.shape[1]))
        coef[present[1]] = m.coef_[0]
        intercept = {present[1]: m.intercept_[0], present[0]: 0.0}
    else:
        coef = np.zeros((k, x.shape[1]))
        coef[present] = m.coef_
        b = m.intercept_ - m.intercept_.mean()
        intercept = dict(zip(present, b))
    return coef, intercept, proba, present


def main():
    bench = sys.argv[1] if len(sys.argv) > 1 else "target/release/bench"
    digits = load_digits()
    cancer = load_breast_cancer()
    sets = {
        "digits": (digits.data / 16.0, digits.target, 10),
        "breast-cancer": (StandardScaler().fit_transform(cancer.data), cancer.target, 2),
    }
    rng = np.random.default_rng(0)
    passed = failed = 0
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        for name, (x, y, k) in sets.items():
            for size in [len(y), 200, 50, 12]:
                for c in [1.0, 0.1]:
                    rows = rng.choice(len(y), size, replace=False) if size < len(y) else np.arange(len(y))
                    xs, ys = x[rows], y[rows]
                    if len(np.unique(ys)) < 2:
                        continue
                    co, io, po = ours(bench, xs, ys, c, k, tmp)
                    ct, it, pt, present = theirs(xs, ys, c, k)
                    coef_err = np.abs(co - ct).max() / max(np.abs(ct).max(), 1e-12)
                    io_present = io[present] - (io[present].mean() if len(present) > 2 else io[present[0]])
                    it_present = np.array([it[p] for p in present])
                    int_err = np.abs(io_present - it_present).max() / max(np.abs(it_present).max(), 1e-12)
                    proba_err = np.abs(po - pt).max()
                    ok = coef_err <= TOL and proba_err <= TOL and int_err <= TOL
                    passed += ok
                    failed += not ok
                    print(f"{'ok  ' if ok else 'FAIL'} {name:14s} n={size:5d} C={c:<4} classes={len(present):2d} "
                          f"coef {coef_err:.1e}  intercept {int_err:.1e}  proba {proba_err:.1e}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
