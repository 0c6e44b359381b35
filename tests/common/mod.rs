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

/// Every file under `dir` except timing.ron (wall times), as (relative path, bytes), sorted.
pub fn result_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable results dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n != "timing.ron") {
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
