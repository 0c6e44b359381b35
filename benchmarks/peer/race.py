#!/usr/bin/env python3
"""Races `bench run` against the paper's stack (modAL + PyTorch) on the same active-learning loops.

For each workload (a ralbench CI spec), `bench export` writes the exact inputs of its jobs: the
rows as the classifier sees them, labels, split and initial labelled set. The peer below runs the
same loop on them with modAL's ActiveLearner around a PyTorch module of the same architecture and
initialisation scheme (U(+-1/sqrt(fan_in)) for every weight and bias, PyTorch's default for Linear
and Conv2d), the same optimiser, epochs, batch size, schedule and budget, retrained from scratch
at every step as the specs ask. The weights and mini-batch orders are drawn by each side's own
generator, so accuracies agree in distribution, not bit for bit.

The two sides run alternately (bench first in odd repeats, the peer first in even ones), each in a
fresh process with one thread, and the driver reports per workload and strategy the median of
the summed per-job loop times, their spread, and the ratio. It then feeds the probability
matrices the peer saw at every step to `bench query` and checks that both pick the same rows.

One command from the repository root (creates benchmarks/peer/.venv and builds bench):

    bash benchmarks/peer/race.sh

or, with a venv from requirements.txt and a built binary:

    python benchmarks/peer/race.py --bench target/release/bench --repeats 5
"""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKLOADS = {
    "digits + logistic regression": "specs/ci/quickstart.ron",
    "synthetic-histology 64x64 + small CNN": "specs/ci/synthetic-histology-cnn.ron",
}
SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


# ---------------------------------------------------------------------------------------------
# The peer: modAL + PyTorch
# ---------------------------------------------------------------------------------------------

def peer_main(args):
    import numpy as np
    import torch
    from torch import nn
    from sklearn.base import BaseEstimator, ClassifierMixin
    from modAL.models import ActiveLearner
    from modAL.uncertainty import entropy_sampling, margin_sampling, uncertainty_sampling

    torch.set_num_threads(args.threads)

    def build(model, shape, n_classes):
        if model == "LogisticRegression":
            dim = int(np.prod(shape))
            return nn.Linear(dim, n_classes)
        if isinstance(model, dict) and "SmallCnn" in model:
            layers, c_in = [nn.Unflatten(1, tuple(shape))], shape[0]
            for c in model["SmallCnn"]["channels"]:
                layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
                c_in = c
            layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, n_classes)]
            return nn.Sequential(*layers)
        raise SystemExit(f"peer: model {model!r} is not implemented here")

    class TorchClassifier(BaseEstimator, ClassifierMixin):
        """A PyTorch module behind scikit-learn's interface, retrained from fresh weights by every
        fit (modAL's teach refits on all labelled rows)."""

        def __init__(self, model=None, shape=None, n_classes=2, lr=0.01, weight_decay=0.0,
                     epochs=1, batch_size=32):
            self.model, self.shape, self.n_classes = model, shape, n_classes
            self.lr, self.weight_decay = lr, weight_decay
            self.epochs, self.batch_size = epochs, batch_size

        def fit(self, X, y):
            self.classes_ = np.arange(self.n_classes)
            self.net_ = build(self.model, self.shape, self.n_classes)
            opt = torch.optim.Adam(self.net_.parameters(), lr=self.lr,
                                   weight_decay=self.weight_decay)
            X, y = torch.from_numpy(np.asarray(X)), torch.from_numpy(np.asarray(y))
            n = len(X)
            batch = max(1, min(self.batch_size, n))
            self.net_.train()
            for _ in range(self.epochs):
                order = torch.randperm(n)
                for start in range(0, n, batch):
                    idx = order[start:start + batch]
                    loss = nn.functional.cross_entropy(self.net_(X[idx]), y[idx])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            return self

        def predict_proba(self, X):
            X = torch.from_numpy(np.asarray(X))
            # Rows per forward pass as bench takes them: 512, fewer for a CNN on large images.
            rows = 512 if self.model == "LogisticRegression" else \
                min(512, max(16, (1 << 18) // int(np.prod(self.shape))))
            self.net_.eval()
            with torch.no_grad():
                parts = [self.net_(X[s:s + rows]).softmax(-1) for s in range(0, len(X), rows)]
            return torch.cat(parts).numpy()

        def predict(self, X):
            return self.predict_proba(X).argmax(1)

    def random_sampling(classifier, X, n_instances=1):
        idx = job_rng[0].choice(len(X), n_instances, replace=False)
        return idx, X[idx]

    strategies = {"random": random_sampling, "margin": margin_sampling,
                  "entropy": entropy_sampling, "least-confident": uncertainty_sampling}

    export = Path(args.export)
    manifest = json.loads((export / "manifest.json").read_text())
    arrays = {}
    results = {}
    warmed_up = False
    for entry in manifest["jobs"]:
        if args.strategies and entry["strategy"] not in args.strategies:
            continue
        job = entry["job"]
        cls = job["classifier"]
        if entry["strategy"] not in strategies:
            raise SystemExit(f"peer: strategy {entry['strategy']} is not implemented here")
        if cls.get("retrain", "FromScratch") != "FromScratch" or cls.get("input", "Identity") != "Identity":
            raise SystemExit("peer: only retrain: FromScratch and input: Identity are implemented")
        (opt_kind, opt), = cls["optimizer"].items()
        if opt_kind == "Adam":
            def estimator(epochs, cls=cls, entry=entry, opt=opt):
                return TorchClassifier(cls["model"], entry["shape"], entry["n_classes"],
                                       opt["lr"], opt["weight_decay"], epochs, cls["batch_size"])
        elif opt_kind == "Lbfgs" and cls["model"] == "LogisticRegression":
            # What a user of modAL would pick for a solved logistic regression: scikit-learn's.
            from sklearn.linear_model import LogisticRegression

            def estimator(epochs, opt=opt):
                return LogisticRegression(C=opt["c"], tol=opt["tol"], max_iter=opt["max_iter"])
        else:
            raise SystemExit(f"peer: optimizer {opt_kind} is not implemented here")
        if entry["data"] not in arrays:
            d = export / "data" / entry["data"]
            arrays[entry["data"]] = {k: np.load(d / f"{k}.npy")
                                     for k in ["x", "y", "pool", "test", "initial"]}
        a = arrays[entry["data"]]
        if not warmed_up:
            # Untimed: one short round of the loop first, so the first job does not pay
            # PyTorch's and modAL's one-time initialisation (about 1 s here).
            rows = a["initial"]
            warm = ActiveLearner(
                estimator=estimator(1),
                query_strategy=margin_sampling,
                X_training=a["x"][rows], y_training=a["y"][rows])
            picks, _ = warm.query(a["x"][a["test"]], n_instances=2)
            warm.teach(a["x"][a["test"]][picks], a["y"][a["test"]][picks])
            warm.score(a["x"][a["test"]], a["y"][a["test"]])
            warmed_up = True
        job_rng = [np.random.default_rng(job["seed"])]
        torch.manual_seed(job["seed"])

        started = time.perf_counter()
        x, y = a["x"], a["y"]
        x_test, y_test = x[a["test"]], y[a["test"]]
        labelled = list(a["initial"])
        learner = ActiveLearner(
            estimator=estimator(cls["epochs"]),
            query_strategy=strategies[entry["strategy"]],
            X_training=x[labelled], y_training=y[labelled])
        in_labelled = np.zeros(len(y), dtype=bool)
        in_labelled[labelled] = True
        curve, step = [], 0
        while True:
            curve.append((len(labelled), float(learner.score(x_test, y_test))))
            if len(labelled) >= job["budget"]:
                break
            candidates = a["pool"][~in_labelled[a["pool"]]]
            n = min(job["labels_per_step"], job["budget"] - len(labelled))
            picks, _ = learner.query(x[candidates], n_instances=n)
            if args.record and entry["strategy"] != "random":
                rec = Path(args.record) / f"{entry['id']}-{step:03d}"
                np.save(f"{rec}.proba.npy", learner.predict_proba(x[candidates]))
                np.save(f"{rec}.picks.npy", np.asarray(picks, dtype=np.int64))
            chosen = candidates[picks]
            in_labelled[chosen] = True
            labelled.extend(chosen.tolist())
            learner.teach(x[chosen], y[chosen])
            step += 1
        results[entry["id"]] = {"strategy": entry["strategy"], "seed": job["seed"],
                                "loop_s": time.perf_counter() - started, "curve": curve}
    info = {"torch": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "threads": torch.get_num_threads()}
    Path(args.result).write_text(json.dumps({"info": info, "jobs": results}, indent=1))


# ---------------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------------

def run_bench(bench, spec, out, threads):
    started = time.perf_counter()
    # One job at a time, as the peer's one process runs its loops: the race compares loops.
    subprocess.run([bench, "run", spec, "--out", str(out), "--device", "cpu",
                    "--threads", str(threads), "--jobs", "1"], check=True, capture_output=True,
                   env={**os.environ, **SINGLE_THREAD})
    wall = time.perf_counter() - started
    text = (out / "timing.ron").read_text()
    jobs = {m[1]: float(m[2]) for m in
            re.finditer(r'"([0-9a-f]{16})": Some\(\(\s*total_s: ([0-9.eE+-]+)', text)}
    curves = {}
    for path in (out / "jobs").glob("*.ron"):
        body = path.read_text()
        final = re.findall(r"test_accuracy: ([0-9.eE+-]+)", body)[-1]
        curves[path.stem] = float(final)
    return wall, jobs, curves


def run_peer(export, result, threads, record=None):
    cmd = [sys.executable, __file__, "peer", "--export", str(export), "--result", str(result),
           "--threads", str(threads)]
    if record:
        cmd += ["--record", str(record)]
    started = time.perf_counter()
    subprocess.run(cmd, check=True, env={**os.environ, **SINGLE_THREAD})
    wall = time.perf_counter() - started
    return wall, json.loads(Path(result).read_text())


def check_picks(bench, record):
    """Feeds every recorded probability matrix to `bench query`; the picks must be the peer's
    (as sets; where scores tie exactly, the multisets of scores must agree instead)."""
    import numpy as np
    from modAL.uncertainty import classifier_entropy, classifier_margin, classifier_uncertainty

    class Fixed:
        def __init__(self, proba):
            self.proba = proba

        def predict_proba(self, X, **kwargs):
            return self.proba

    scorers = {"margin": lambda c, X: -classifier_margin(c, X),
               "entropy": classifier_entropy, "least-confident": classifier_uncertainty}
    checked = failed = 0
    for proba_path in sorted(Path(record).glob("*.proba.npy")):
        stem = proba_path.name[:-len(".proba.npy")]
        strategy = stem.split("@")[0]
        theirs = np.load(proba_path.with_name(f"{stem}.picks.npy"))
        out = subprocess.run([bench, "query", "--strategy", strategy, "--proba", str(proba_path),
                              "--n", str(len(theirs))], check=True, capture_output=True,
                             text=True).stdout
        ours = np.array([int(v) for v in out.split()], dtype=np.int64)
        proba = np.load(proba_path).astype(np.float64)
        scores = scorers[strategy](Fixed(proba), np.zeros((len(proba), 1)))
        same = (sorted(ours.tolist()) == sorted(theirs.tolist())
                or np.array_equal(np.sort(scores[ours]), np.sort(scores[theirs])))
        checked += 1
        if not same:
            failed += 1
            print(f"  picks differ: {stem}", file=sys.stderr)
    return checked, failed


def spread(values):
    return f"{statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"


def driver(args):
    root = Path(__file__).resolve().parents[2]
    os.chdir(root)
    bench = str(Path(args.bench).resolve())
    work = Path(args.work or tempfile.mkdtemp(prefix="ralbench-race-"))
    work.mkdir(parents=True, exist_ok=True)
    import torch
    lines = [f"# Race: bench vs modAL {modal_version()} + PyTorch {torch.__version__}", "",
             f"Machine: {cpu_model()}, {os.cpu_count()} cores; {args.repeats} alternating repeats, "
             f"{args.threads} thread(s) each side, {time.strftime('%Y-%m-%d')}.",
             f"Command: `{' '.join([Path(sys.argv[0]).as_posix()] + sys.argv[1:])}`", "",
             "Per-job loop time summed over the jobs of a strategy (bench: `total_s` of "
             "timing.ron, from the job's start to its last accuracy; peer: the same span around "
             "modAL's loop); median (min-max) over repeats. Process: whole command, start-up and "
             "data loading included, every strategy of the spec.", "",
             "| workload | strategy | jobs | bench | peer | peer / bench | final accuracy bench / peer |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    raw = {}
    total_checked = total_failed = 0
    for name, spec in WORKLOADS.items():
        key = Path(spec).stem
        export = work / key / "export"
        if not (export / "manifest.json").exists():
            subprocess.run([bench, "export", spec, "--out", str(export)], check=True)
        manifest = json.loads((export / "manifest.json").read_text())
        by_strategy = {}
        for e in manifest["jobs"]:
            by_strategy.setdefault(e["strategy"], []).append(e["id"])
        bench_loops, peer_loops = {s: [] for s in by_strategy}, {s: [] for s in by_strategy}
        bench_walls, peer_walls = [], []
        for r in range(args.repeats):
            order = ["bench", "peer"] if r % 2 == 0 else ["peer", "bench"]
            for side in order:
                if side == "bench":
                    shutil.rmtree(work / key / f"bench-{r}", ignore_errors=True)
                    wall, jobs, bench_final = run_bench(bench, spec, work / key / f"bench-{r}",
                                                        args.threads)
                    bench_walls.append(wall)
                    for s, ids in by_strategy.items():
                        bench_loops[s].append(sum(jobs[i] for i in ids))
                else:
                    wall, res = run_peer(export, work / key / f"peer-{r}.json", args.threads)
                    peer_walls.append(wall)
                    for s, ids in by_strategy.items():
                        peer_loops[s].append(sum(res["jobs"][i]["loop_s"] for i in ids))
            print(f"{name}: repeat {r + 1}/{args.repeats} done", file=sys.stderr)
        for s, ids in by_strategy.items():
            ratio = statistics.median(peer_loops[s]) / statistics.median(bench_loops[s])
            acc_b = statistics.mean(bench_final[i] for i in ids)
            acc_p = statistics.mean(res["jobs"][i]["curve"][-1][1] for i in ids)
            lines.append(f"| {name} | {s} | {len(ids)} | {spread(bench_loops[s])} | "
                         f"{spread(peer_loops[s])} | {ratio:.1f}x | {acc_b:.3f} / {acc_p:.3f} |")
        ratio = statistics.median(peer_walls) / statistics.median(bench_walls)
        lines.append(f"| {name} | (process) | {len(manifest['jobs'])} | {spread(bench_walls)} | "
                     f"{spread(peer_walls)} | {ratio:.1f}x | |")
        # Same picks for the same probabilities: one more peer run that records every step.
        record = work / key / "record"
        shutil.rmtree(record, ignore_errors=True)
        record.mkdir()
        _, rec = run_peer(export, work / key / "peer-record.json", args.threads, record)
        for e in manifest["jobs"]:
            for p in record.glob(f"{e['id']}-*.npy"):
                p.rename(p.with_name(f"{e['strategy']}@{p.name}"))
        checked, failed = check_picks(bench, record)
        total_checked += checked
        total_failed += failed
        raw[name] = {"spec": spec, "bench_loop_s": bench_loops, "peer_loop_s": peer_loops,
                     "bench_process_s": bench_walls, "peer_process_s": peer_walls,
                     "peer_info": res["info"], "picks_checked": checked, "picks_failed": failed}
    lines += ["", f"Same picks from the same probability matrices (every step of every "
                  f"score-based job the peer ran): {total_checked - total_failed} of "
                  f"{total_checked} steps agree.",
              f"Peer: torch CPU kernels `{raw[name]['peer_info']['cpu_capability']}`; bench pins "
              "libtorch to its AVX2 kernels for bit-stable results."]
    report = "\n".join(lines) + "\n"
    (work / "race.md").write_text(report)
    (work / "race.json").write_text(json.dumps(raw, indent=1))
    print(report)
    print(f"raw numbers: {work / 'race.json'}", file=sys.stderr)
    return 1 if total_failed else 0


def modal_version():
    from importlib.metadata import version
    return version("modAL-python")


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    peer = sub.add_parser("peer", help="run the exported jobs with modAL + PyTorch (internal)")
    peer.add_argument("--export", required=True)
    peer.add_argument("--result", required=True)
    peer.add_argument("--threads", type=int, default=1)
    peer.add_argument("--record")
    peer.add_argument("--strategies", nargs="*")
    parser.add_argument("--bench", default="target/release/bench")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--work", help="working directory [default: a new temporary one]")
    args = parser.parse_args()
    if args.command == "peer":
        peer_main(args)
        return 0
    return driver(args)


if __name__ == "__main__":
    sys.exit(main())
