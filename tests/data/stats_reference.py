"""Reference values for tests/stats.rs, computed with scipy.stats.

    python3 -m venv /tmp/stats-venv && /tmp/stats-venv/bin/pip install scipy==1.17.1
    target/release/bench run specs/ci/quickstart.ron --device cpu --threads 1 --out /tmp/q
    /tmp/stats-venv/bin/python tests/data/stats_reference.py /tmp/q/stats.csv > tests/data/stats_reference.json

The quickstart cases are the per-seed differences (strategy minus random) of the CI quickstart's
stats.csv; the other cases cover ties, zeros, one sign, n = 2 and n = 25.

    /tmp/stats-venv/bin/python tests/data/stats_reference.py --check DIR/stats.csv

checks a run's stats.csv instead: every t-test and exact Wilcoxon p-value in it against scipy on
the same per-seed differences, printing the largest absolute difference (exit 1 above 1e-9).
"""
import csv
import json
import sys

import numpy as np
import scipy
from scipy import stats


def paired(d):
    d = [float(x) for x in d]
    a, b = np.array(d), np.zeros(len(d))
    out = {"d": d}
    if len(d) >= 2 and np.std(d) > 0:
        t = stats.ttest_rel(a, b)
        out["t"], out["t_p"] = float(t.statistic), float(t.pvalue)
    if any(x != 0 for x in d):
        w = stats.wilcoxon(a, b, method="exact")
        out["w"], out["w_p"] = float(w.statistic), float(w.pvalue)
    return out


def check(path):
    worst, rows = 0.0, 0
    with open(path) as f:
        for row in csv.DictReader(f):
            case = paired(row["differences"].split())
            for ours, theirs in [(row["t_p"], case.get("t_p")), (row["wilcoxon_p"], case.get("w_p"))]:
                if (ours == "") != (theirs is None):
                    sys.exit(f"{row}: ours {ours!r}, scipy {theirs!r}")
                if theirs is not None:
                    worst = max(worst, abs(float(ours) - theirs))
            rows += 1
    print(f"{rows} comparisons, largest |p - scipy p| = {worst:.3g}")
    sys.exit(0 if worst <= 1e-9 else 1)


def main():
    if sys.argv[1] == "--check":
        check(sys.argv[2])
    quickstart = []
    with open(sys.argv[1]) as f:
        for row in csv.DictReader(f):
            if row["against"] == "random":
                d = [float(x) for x in row["differences"].split()]
                case = paired(d)
                case["name"] = f"quickstart {row['strategy']} vs random, {row['measure']}"
                quickstart.append(case)
    rng = np.random.default_rng(0)
    cases = [
        ("ties and a zero", [0.1, -0.1, 0.2, 0.0, 0.2, 0.3, -0.05]),
        ("all positive, n = 10", [0.01 * (i + 1) for i in range(10)]),
        ("n = 2", [0.3, -0.1]),
        ("n = 3 one sign", [0.2, 0.5, 0.1]),
        ("n = 25 normal", list(rng.normal(0.02, 0.05, 25))),
        ("n = 25 with ties", [round(x, 2) for x in rng.normal(0.0, 0.03, 25)]),
        ("n = 12 mixed", list(rng.normal(-0.01, 0.02, 12))),
    ]
    other = []
    for name, d in cases:
        case = paired(d)
        case["name"] = name
        other.append(case)
    blocks = rng.normal(0.8, 0.05, (6, 5))
    blocks[2, 1] = blocks[2, 3]  # a tie
    fr = stats.friedmanchisquare(*[blocks[:, j] for j in range(blocks.shape[1])])
    ranges = {
        str(k): float(stats.studentized_range.ppf(0.95, k, np.inf) / np.sqrt(2))
        for k in range(2, 11)
    }
    power = []
    for effect, n in [(0.5, 10), (1.0, 5), (0.3, 40), (2.0, 3), (0.8, 12), (0.05, 230), (0.05, 1000), (0.02, 5000)]:
        df = n - 1
        crit = stats.t.ppf(0.975, df)
        nc = effect * np.sqrt(n)
        p = stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc)
        power.append({"effect": effect, "n": n, "power": float(p)})
    welch = []
    for m1, s1, n1, m2, s2, n2 in [(0.9, 0.02, 5, 0.85, 0.03, 5), (0.7, 0.1, 10, 0.75, 0.01, 5)]:
        r = stats.ttest_ind_from_stats(m1, s1, n1, m2, s2, n2, equal_var=False)
        welch.append({"m1": m1, "s1": s1, "n1": n1, "m2": m2, "s2": s2, "n2": n2,
                      "t": float(r.statistic), "p": float(r.pvalue)})
    json.dump({
        "scipy": scipy.__version__,
        "quickstart": quickstart,
        "cases": other,
        "friedman": {"blocks": blocks.tolist(), "chi2": float(fr.statistic), "p": float(fr.pvalue)},
        "nemenyi_q": ranges,
        "power": power,
        "welch": welch,
    }, sys.stdout, indent=1)
    print()


main()
