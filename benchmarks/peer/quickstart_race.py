#!/usr/bin/env python3
"""Races `bench run specs/quickstart.ron` against what a user would otherwise write: modAL's
ActiveLearner around scikit-learn's LogisticRegression(C=1, tol=1e-4, max_iter=100) (lbfgs).

`bench export` writes the quickstart's exact inputs (standardised digits, split, initial labelled
sets); the peer runs the same loop on them: 10 initial labels, 10 per step to 200, refitting the
estimator on all labelled rows at every step (modAL's teach), random / margin / entropy /
least-confident sampling, seeds 0-4, one thread. Both sides are whole processes, timed from the
outside (start-up and data loading included), run alternately: bench with --jobs 1, bench with
its default --jobs (the machine's cores), then the peer, then the same in another order.

    bash benchmarks/peer/quickstart_race.sh [--repeats 3]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPEC = "specs/quickstart.ron"


def peer_main(export, result):
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from modAL.models import ActiveLearner
    from modAL.uncertainty import entropy_sampling, margin_sampling, uncertainty_sampling

    rng = [None]

    def random_sampling(classifier, X, n_instances=1):
        idx = rng[0].choice(len(X), n_instances, replace=False)
        return idx, X[idx]

    strategies = {"random": random_sampling, "margin": margin_sampling,
                  "entropy": entropy_sampling, "least-confident": uncertainty_sampling}
    export = Path(export)
    manifest = json.loads((export / "manifest.json").read_text())
    arrays, finals = {}, {}
    for entry in manifest["jobs"]:
        job = entry["job"]
        (kind, opt), = job["classifier"]["optimizer"].items()
        if kind != "Lbfgs":
            raise SystemExit(f"peer: optimizer {kind} is not the quickstart's Lbfgs")
        if entry["data"] not in arrays:
            d = export / "data" / entry["data"]
            arrays[entry["data"]] = {k: np.load(d / f"{k}.npy")
                                     for k in ["x", "y", "pool", "test", "initial"]}
        a = arrays[entry["data"]]
        rng[0] = np.random.default_rng(job["seed"])
        x, y = a["x"].astype(np.float64), a["y"]
        labelled = list(a["initial"])
        learner = ActiveLearner(
            estimator=LogisticRegression(C=opt["c"], tol=opt["tol"], max_iter=opt["max_iter"]),
            query_strategy=strategies[entry["strategy"]],
            X_training=x[labelled], y_training=y[labelled])
        in_labelled = np.zeros(len(y), dtype=bool)
        in_labelled[labelled] = True
        while len(labelled) < job["budget"]:
            candidates = a["pool"][~in_labelled[a["pool"]]]
            n = min(job["labels_per_step"], job["budget"] - len(labelled))
            picks, _ = learner.query(x[candidates], n_instances=n)
            chosen = candidates[picks]
            in_labelled[chosen] = True
            labelled.extend(chosen.tolist())
            learner.teach(x[chosen], y[chosen])
        acc = float(learner.score(x[a["test"]], y[a["test"]]))
        finals.setdefault(entry["strategy"], []).append(acc)
    Path(result).write_text(json.dumps(finals))


def timed(cmd, env=None):
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def bench_finals(out):
    names = {"Random": "random", "Margin": "margin", "Entropy": "entropy",
             "LeastConfident": "least-confident"}
    finals = {}
    for path in sorted((out / "jobs").glob("*.ron")):
        text = path.read_text()
        strategy = names[text.split("strategy: ", 1)[1].split(",", 1)[0].strip()]
        last = text.rsplit("test_accuracy: ", 1)[1].split(",", 1)[0]
        finals.setdefault(strategy, []).append(float(last))
    return finals


def driver(args):
    root = Path(__file__).resolve().parents[2]
    os.chdir(root)
    work = Path(args.work or tempfile.mkdtemp(prefix="ralbench-qs-race-"))
    work.mkdir(parents=True, exist_ok=True)
    export = work / "export"
    if not (export / "manifest.json").exists():
        subprocess.run([args.bench, "export", SPEC, "--out", str(export)], check=True)
    one_thread = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                      MKL_NUM_THREADS="1")
    sides = {
        "bench --jobs 1": lambda r: timed([args.bench, "run", SPEC, "--device", "cpu",
                                           "--threads", "1", "--jobs", "1",
                                           "--out", str(work / f"bench1-{r}")]),
        "bench (default --jobs)": lambda r: timed([args.bench, "run", SPEC, "--device", "cpu",
                                                   "--threads", "1",
                                                   "--out", str(work / f"benchN-{r}")]),
        "modAL + scikit-learn": lambda r: timed([sys.executable, __file__, "peer",
                                                 "--export", str(export),
                                                 "--result", str(work / f"peer-{r}.json")],
                                                env=one_thread),
    }
    walls = {k: [] for k in sides}
    for r in range(args.repeats):
        order = list(sides) if r % 2 == 0 else list(reversed(sides))
        for name in order:
            for sub in ["bench1", "benchN"]:
                if name.startswith("bench") and (sub == "bench1") == ("--jobs 1" in name):
                    subprocess.run(["rm", "-rf", str(work / f"{sub}-{r}")], check=True)
            walls[name].append(sides[name](r))
    peer = json.loads((work / "peer-0.json").read_text())
    ours = bench_finals(work / "bench1-0")
    print(f"Machine: {os.cpu_count()} cores; {args.repeats} alternating repeats; "
          f"{time.strftime('%Y-%m-%d')}; work dir {work}\n")
    print("| side | process wall, median (min-max) | / bench --jobs 1 |")
    print("| --- | --- | --- |")
    base = statistics.median(walls["bench --jobs 1"])
    for name, w in walls.items():
        m = statistics.median(w)
        print(f"| {name} | {m:.2f} s ({min(w):.2f}-{max(w):.2f}) | {m / base:.2f} |")
    print("\n| strategy | bench final accuracy (mean ± std, 5 seeds) | peer final accuracy |")
    print("| --- | --- | --- |")
    for s in ["random", "margin", "entropy", "least-confident"]:
        b, p = ours.get(s, []), peer.get(s, [])
        fmt = lambda v: f"{statistics.mean(v):.4f} ± {statistics.stdev(v):.4f}" if len(v) > 1 else "n/a"
        print(f"| {s} | {fmt(b)} | {fmt(p)} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    peer = sub.add_parser("peer", help="run the modAL + scikit-learn side once")
    peer.add_argument("--export", required=True)
    peer.add_argument("--result", required=True)
    parser.add_argument("--bench", default="target/release/bench")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", help="working directory [default: a new temporary one]")
    args = parser.parse_args()
    if args.command == "peer":
        peer_main(args.export, args.result)
    else:
        args.bench = str(Path(args.bench).resolve())
        driver(args)


if __name__ == "__main__":
    main()
