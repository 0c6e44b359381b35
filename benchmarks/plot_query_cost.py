#!/usr/bin/env python3
"""Plots query cost vs pool size from criterion's results (target/criterion/) into
benchmarks/query-cost.png: the score-based strategies (scoring + top-10) and DRAL's action
features, each against lines of slope 1 (linear) and 2 (quadratic) through its first point.

    cargo bench --bench strategies --bench features -- --quick
    benchmarks/peer/.venv/bin/python benchmarks/plot_query_cost.py

Needs matplotlib (benchmarks/peer/requirements.txt); not part of CI.
"""
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CRITERION = ROOT / "target" / "criterion"
POOLS = [1000, 10000, 100000]


def medians(group, function):
    """(pool, median seconds) for every pool size criterion measured."""
    points = []
    for pool in POOLS:
        path = CRITERION / group / function / str(pool) / "new" / "estimates.json"
        if path.exists():
            points.append((pool, json.loads(path.read_text())["median"]["point_estimate"] / 1e9))
    return points


def panel(ax, title, series):
    first = None
    for label, style, points in series:
        if points:
            xs, ys = zip(*points)
            ax.plot(xs, ys, style, label=label, marker="o", markersize=3)
            first = first or points[0]
    if first:
        x0, y0 = first
        for slope, name in [(1, "slope 1 (linear)"), (2, "slope 2 (quadratic)")]:
            ax.plot(POOLS, [y0 * (p / x0) ** slope for p in POOLS], ":", color="grey",
                    linewidth=0.8, label=name if slope == 1 else name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("pool size")
    ax.set_ylabel("median time per query (s)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="major", linewidth=0.3)
    ax.legend(fontsize=7)


def main():
    if not CRITERION.exists():
        sys.exit("no target/criterion/: run `cargo bench --bench strategies --bench features -- --quick` first")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    strategies = ["least-confident", "margin", "entropy", "avg-confidence", "random"]
    panel(left, "Scoring + top-10 (K = 8 solid, K = 2 dashed)",
          [(f"{s} K=8", "-", medians("query", f"{s}_k8")) for s in strategies]
          + [(f"{s} K=2", "--", medians("query", f"{s}_k2")) for s in strategies[:3]])
    panel(right, "DRAL action features, 100 candidates (latent width w)",
          [(f"w = {w}", "-", medians("dral-features", f"w{w}")) for w in [64, 512, 2048]])
    fig.tight_layout()
    out = ROOT / "benchmarks" / "query-cost.png"
    fig.savefig(out, dpi=90)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
