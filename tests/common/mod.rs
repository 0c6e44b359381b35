//! Helpers shared by the integration tests: the `bench` binary and the repository root.
#![allow(dead_code)]
use std::path::{Path, PathBuf};

pub mod server;

/// The repository root (specs/, golden/, tests/data/ are relative to it).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `bench` run from the repository root.
pub fn bench() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("bench").expect("the bench binary is built");
    cmd.current_dir(root());
    cmd
}

/// Runs `bench run SPEC --out OUT --device cpu --threads THREADS` and asserts success.
pub fn run_spec(spec: &str, out: &Path, threads: usize) -> assert_cmd::assert::Assert {
    run_spec_with(spec, out, threads, &[])
}

/// [`run_spec`] with further arguments (e.g. `--shard 1/3`).
pub fn run_spec_with(
    spec: &str,
    out: &Path,
    threads: usize,
    extra: &[&str],
) -> assert_cmd::assert::Assert {
    bench()
        .args([
            "run",
            spec,
            "--device",
            "cpu",
            "--threads",
            &threads.to_string(),
        ])
        .args(extra)
        .arg("--out")
        .arg(out)
        .assert()
        .success()
}

/// Every file under `dir` except timing.ron and report.html (they show wall times and the
/// run's date), as (relative path, bytes), sorted.
pub fn result_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable results dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .file_name()
                .is_some_and(|n| n != "timing.ron" && n != "report.html")
            {
                let bytes = std::fs::read(&path).expect("readable result file");
                files.push((
                    path.strip_prefix(dir).expect("under dir").to_path_buf(),
                    bytes,
                ));
            }
        }
    }
    files.sort();
    files
}

/// Asserts that every strategy of a seed (per dataset and noise level) has the same metrics at
/// L_0 in the job files under `out/jobs`: the paired design (common random numbers) gives each
/// strategy the same initial set and the same classifier draws, so nothing differs before the
/// first query. LAL-RL runs its own classifier (logistic regression, as its public code) and is
/// left out.
pub fn assert_same_start(out: &Path) {
    use ralbench::run::JobResult;
    use std::collections::BTreeMap;
    let mut starts: BTreeMap<String, Vec<(String, [f64; 3])>> = BTreeMap::new();
    for entry in std::fs::read_dir(out.join("jobs")).expect("jobs dir") {
        let path = entry.expect("dir entry").path();
        let text = std::fs::read_to_string(&path).expect("readable job file");
        let r: JobResult = ron::from_str(&text).expect("a job result");
        if matches!(r.job.strategy, ralbench::spec::StrategySpec::LalRl(_)) {
            continue;
        }
        let p = r.curve[0];
        let key = format!(
            "{} {} {:?} seed {}",
            r.job.dataset.name(),
            r.job.noise_label(),
            r.job.classifier,
            r.job.seed
        );
        starts.entry(key).or_default().push((
            r.job.strategy.name(),
            [p.test_accuracy, p.test_balanced_accuracy, p.test_macro_f1],
        ));
    }
    assert!(!starts.is_empty(), "no job files under {}", out.display());
    for (key, all) in starts {
        for (name, m) in &all {
            assert_eq!(
                *m, all[0].1,
                "{key}: {name} starts at {m:?}, {} at {:?}",
                all[0].0, all[0].1
            );
        }
    }
}

/// The report of an output directory is there and its plots read well: `report.html` exists,
/// and in `curves.svg` the label axis has whole-number ticks and the metric axis is fitted to the
/// data (it neither starts at 0 nor ends above 1 unless the curves come near).
pub fn assert_plots_readable(out: &Path) {
    assert!(out.join("report.html").exists(), "report.html written");
    let svg = std::fs::read_to_string(out.join("curves.svg")).expect("curves.svg written");
    // Tick labels are the <text> elements holding only a number.
    let numbers: Vec<&str> = svg
        .split("<text")
        .skip(1)
        .filter_map(|t| {
            t.split_once('>')
                .map(|(_, r)| r.split('<').next().unwrap_or(""))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.parse::<f64>().is_ok())
        .collect();
    let (decimals, integers): (Vec<&str>, Vec<&str>) =
        numbers.iter().partition(|t| t.contains('.'));
    assert!(!integers.is_empty(), "label-axis ticks: {numbers:?}");
    // Metric ticks have two decimals; a label tick printed as a float ("20.0") would show here.
    for t in &decimals {
        assert_eq!(
            t.split('.').nth(1).map(str::len),
            Some(2),
            "tick {t}: {numbers:?}"
        );
    }
    let ticks: Vec<f64> = decimals.iter().map(|t| t.parse().unwrap()).collect();
    let (lo, hi) = ticks
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &t| (a.min(t), b.max(t)));
    let results: Vec<ralbench::run::JobResult> = std::fs::read_dir(out.join("jobs"))
        .unwrap()
        .map(|e| ron::from_str(&std::fs::read_to_string(e.unwrap().path()).unwrap()).unwrap())
        .collect();
    let values: Vec<f64> = results
        .iter()
        .flat_map(|r| r.curve.iter().map(|p| p.test_accuracy))
        .collect();
    let (dmin, dmax) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    // Fitted: the axis spans at most the data's range plus a margin (ticks fall inside the
    // axis, and mean curves inside the data's range).
    assert!(
        lo >= dmin - 0.25 && hi <= (dmax + 0.25).min(1.0),
        "metric ticks {lo}..{hi} for data in {dmin}..{dmax}"
    );
}
