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
