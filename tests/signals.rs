//! SIGINT and SIGTERM sent to a real `bench run`: the first stops it at the next safe point
//! (finished jobs written, the lock released, a message on how to resume, exit 128 + signal);
//! a second ends it at once. A rerun resumes from what was kept.
mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SPEC: &str = "specs/ci/synthetic-histology-cnn.ron";

fn start(out: &Path) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("bench"))
        .current_dir(common::root())
        .args([
            "run",
            SPEC,
            "--device",
            "cpu",
            "--threads",
            "1",
            "--jobs",
            "1",
            "--out",
        ])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bench starts")
}

fn job_files(out: &Path) -> usize {
    std::fs::read_dir(out.join("jobs"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".ron"))
                .count()
        })
        .unwrap_or(0)
}

/// Waits until the run has written its first job file.
fn wait_for_a_job(out: &Path) {
    let started = Instant::now();
    while job_files(out) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no job finished"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

fn finish(child: Child) -> (i32, String) {
    let out = child.wait_with_output().expect("bench ends");
    (
        out.status.code().expect("an exit code, not a kill"),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn one_signal_stops_at_a_safe_point_and_the_run_resumes() {
    for (sig, code, name) in [
        (libc::SIGTERM, 143, "SIGTERM"),
        (libc::SIGINT, 130, "SIGINT"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let child = start(dir.path());
        wait_for_a_job(dir.path());
        signal(&child, sig);
        let (status, stderr) = finish(child);
        assert_eq!(status, code, "{stderr}");
        assert!(
            stderr.contains(&format!("interrupted by {name}"))
                && stderr.contains("run the same command again to resume"),
            "{stderr}"
        );
        assert!(!dir.path().join(".lock").exists(), "the lock is released");
        let kept = job_files(dir.path());
        assert!((1..9).contains(&kept), "{kept} job files kept");
        common::run_spec_with(SPEC, dir.path(), 1, &["--jobs", "1"]).stderr(
            predicates::str::contains(format!("{} jobs run, {kept} reused", 9 - kept)),
        );
    }
}

#[test]
fn a_second_signal_ends_the_run_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let child = start(dir.path());
    wait_for_a_job(dir.path());
    signal(&child, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(50));
    let sent = Instant::now();
    signal(&child, libc::SIGINT);
    let (status, _) = finish(child);
    assert_eq!(status, 130);
    // It does not wait for the running job (about a second on this spec) to finish.
    assert!(
        sent.elapsed() < Duration::from_millis(500),
        "{:?}",
        sent.elapsed()
    );
    // A rerun finishes the spec (the lock of the dead process is not in the way).
    common::run_spec_with(SPEC, dir.path(), 1, &["--jobs", "1"]);
    assert_eq!(job_files(dir.path()), 9);
}
