#!/usr/bin/env python3
"""Checks `bench query` against modAL 0.4.2's own uncertainty, margin and entropy sampling.

For random probability matrices (continuous, and rounded so that many scores tie), both pick
n rows; without ties the index sets must be equal, with ties the multisets of scores must be
(which tied rows are taken is each tool's tie-break). Needs numpy, scikit-learn<1.6 and
modAL-python (see benchmarks/peer/requirements.txt); not part of CI.

    python benchmarks/peer/conformance.py target/release/bench
"""
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from modAL.uncertainty import (classifier_entropy, classifier_margin,
                               classifier_uncertainty)
from modAL.utils.selection import multi_argmax


class Fixed:
    """A fitted 'classifier' whose predict_proba returns a fixed matrix."""

    def __init__(self, proba):
        self.proba = proba

    def predict_proba(self, X, **kwargs):
        return self.proba


def modal_pick(name, proba, n):
    clf = Fixed(proba)
    X = np.zeros((proba.shape[0], 1))
    if name == "least-confident":
        scores = classifier_uncertainty(clf, X)
    elif name == "margin":
        scores = -classifier_margin(clf, X)  # modAL's margin_sampling takes the smallest margins
    else:
        scores = classifier_entropy(clf, X)
    idx, _ = multi_argmax(scores, n_instances=n)
    return idx, scores


def main():
    bench = sys.argv[1] if len(sys.argv) > 1 else "target/release/bench"
    rng = np.random.default_rng(0)
    cases = failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.npy"
        for trial in range(200):
            rows, k = int(rng.integers(5, 300)), int(rng.integers(2, 9))
            p = rng.random((rows, k)) ** 2
            ties = trial % 2 == 1
            if ties:
                p = np.round(p, 1) + 0.05
            p = p / p.sum(axis=1, keepdims=True)
            p = p.astype(np.float64 if trial % 3 else np.float32)
            np.save(path, p)
            n = int(rng.integers(1, rows + 1))
            for name in ["least-confident", "margin", "entropy"]:
                out = subprocess.run(
                    [bench, "query", "--strategy", name, "--proba", str(path), "--n", str(n)],
                    check=True, capture_output=True, text=True).stdout
                ours = [int(line) for line in out.split()]
                theirs, scores = modal_pick(name, p.astype(np.float64), n)
                cases += 1
                same = (sorted(ours) == sorted(theirs.tolist()) if not ties else
                        np.allclose(np.sort(scores[ours]), np.sort(scores[theirs])))
                if not same:
                    failures += 1
                    print(f"MISMATCH trial {trial} {name} ties={ties} dtype={p.dtype}")
    print(f"{cases - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
