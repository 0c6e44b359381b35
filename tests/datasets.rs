//! `bench datasets ...` and `bench run` on downloaded and synthetic data, as a user runs them:
//! a pinned fixture served from 127.0.0.1 through BENCH_MIRROR, with its own lock and cache.
mod common;
use common::server::{Behaviour, Server};
use predicates::prelude::*;
use std::path::Path;

const NPZ_PATH: &str = "/records/10519652/files/pneumoniamnist.npz";

/// A small PneumoniaMNIST-shaped .npz (28 x 28 grey, labels (n, 1)): bright images are class 1.
fn fixture_npz() -> Vec<u8> {
    use ndarray::{Array2, Array3};
    let file = tempfile::NamedTempFile::new().unwrap();
    let mut npz = ndarray_npy::NpzWriter::new_compressed(file.reopen().unwrap());
    for (part, n) in [("train", 60), ("val", 20), ("test", 20)] {
        let x = Array3::<u8>::from_shape_fn((n, 28, 28), |(i, r, c)| {
            let base = if i % 2 == 1 { 170 } else { 70 };
            (base + (r * 7 + c * 3 + i * 11) % 40) as u8
        });
        let y = Array2::<u8>::from_shape_fn((n, 1), |(i, _)| (i % 2) as u8);
        npz.add_array(format!("{part}_images"), &x).unwrap();
        npz.add_array(format!("{part}_labels"), &y).unwrap();
    }
    npz.finish().unwrap();
    std::fs::read(file.path()).unwrap()
}

fn write_lock(dir: &Path, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join("datasets.lock");
    std::fs::write(
        &path,
        format!(
            r#"[
  (name: "pathmnist", urls: ["https://zenodo.org/records/10519652/files/pathmnist.npz"], md5: Some("{md5}")),
  (name: "pneumoniamnist", urls: ["https://zenodo.org{NPZ_PATH}"], size: Some({size}), sha256: Some("{sha}")),
]
"#,
            size = bytes.len(),
            sha = ralbench::io::sha256_hex(bytes),
            md5 = "0".repeat(32),
        ),
    )
    .unwrap();
    path
}

fn bench_with(lock: &Path, cache: &Path, mirror: &str) -> assert_cmd::Command {
    let mut cmd = common::bench();
    cmd.env("BENCH_LOCK", lock)
        .env("BENCH_CACHE", cache)
        .env("BENCH_MIRROR", mirror)
        .env("BENCH_TIMEOUT_S", "5")
        .env_remove("BENCH_OFFLINE");
    cmd
}

fn blobs(cache: &Path) -> usize {
    std::fs::read_dir(cache.join("blobs/sha256")).map_or(0, |d| d.count())
}

#[test]
fn list_shows_every_entry_of_the_repository_lock() {
    let cache = tempfile::tempdir().unwrap();
    let out = common::bench()
        .args(["datasets", "list"])
        .env("BENCH_CACHE", cache.path())
        .env_remove("BENCH_LOCK")
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let lock = ralbench::data::lock::Lock::load(&common::root().join("datasets.lock")).unwrap();
    for name in lock.names() {
        assert!(
            stdout.lines().any(|l| l.starts_with(&format!("{name} "))),
            "{name} missing:\n{stdout}"
        );
    }
    assert!(stdout.contains("md5 only"), "{stdout}");
}

#[test]
fn fetch_through_a_mirror_verifies_caches_and_runs_offline_afterwards() {
    let npz = fixture_npz();
    let server = Server::start(vec![(NPZ_PATH, Behaviour::Serve(npz.clone()))]);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let lock = write_lock(dir.path(), &npz);

    bench_with(&lock, &cache, &server.base)
        .args(["datasets", "fetch", "pneumoniamnist"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("pneumoniamnist: verified, "));
    assert_eq!(blobs(&cache), 1);
    bench_with(&lock, &cache, &server.base)
        .args(["datasets", "list"])
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"pneumoniamnist +\S+ \S+  sha256 +verified").unwrap());

    // The spec runs with the network off, from the cache.
    let spec = dir.path().join("pneumonia.ron");
    std::fs::write(
        &spec,
        r#"Spec(
    name: "pneumonia-fixture",
    setups: [Setup(
        dataset: PneumoniaMnist(size: 28),
        classifier: Classifier(model: LogisticRegression, optimizer: Adam(lr: 0.05, weight_decay: 0.0), epochs: 20, batch_size: 16),
    )],
    split: Split(holdout: 0.1, test: 0.3),
    strategies: [Random, Margin],
    initial_labelled: 4,
    labels_per_step: 4,
    budget: 12,
    report_at: [4, 12],
    seeds: [0, 1],
)"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    let assert = bench_with(&lock, &cache, &server.base)
        .env("BENCH_OFFLINE", "1")
        .args(["run", "--device", "cpu", "--out"])
        .arg(&out)
        .arg(&spec)
        .assert()
        .success()
        .stdout(predicate::str::contains("(pneumoniamnist, real data)"));
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("| margin | "), "{stdout}");
    let run = std::fs::read_to_string(out.join("run.ron")).unwrap();
    assert!(
        run.contains(&ralbench::io::sha256_hex(&npz)),
        "dataset sha256 not in provenance"
    );
    assert_eq!(server.hits(NPZ_PATH), 1);
}

#[test]
fn a_tampered_fixture_gives_the_mismatch_error_and_caches_nothing() {
    let npz = fixture_npz();
    let mut tampered = npz.clone();
    let mid = tampered.len() / 2;
    tampered[mid] ^= 0xff;
    let server = Server::start(vec![(NPZ_PATH, Behaviour::Serve(tampered.clone()))]);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let lock = write_lock(dir.path(), &npz);
    bench_with(&lock, &cache, &server.base)
        .args(["datasets", "fetch", "pneumoniamnist"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "error: pneumoniamnist: sha256 mismatch for {}{NPZ_PATH}: expected {}, got {}; nothing was cached",
            server.base,
            ralbench::io::sha256_hex(&npz),
            ralbench::io::sha256_hex(&tampered)
        )));
    assert_eq!(blobs(&cache), 0);
    assert_eq!(std::fs::read_dir(cache.join("partial")).unwrap().count(), 0);
}

#[test]
fn offline_run_without_the_cached_file_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let lock = write_lock(dir.path(), b"x");
    let spec = dir.path().join("s.ron");
    std::fs::write(
        &spec,
        r#"Spec(name: "s", setups: [Setup(dataset: PneumoniaMnist(size: 28),
    classifier: Classifier(model: LogisticRegression, optimizer: Adam(lr: 0.05, weight_decay: 0.0), epochs: 1, batch_size: 16))],
    split: Split(holdout: 0.1, test: 0.3),
    strategies: [Random], initial_labelled: 4, labels_per_step: 4, budget: 8, report_at: [8], seeds: [0])"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    bench_with(&lock, &dir.path().join("cache"), "http://127.0.0.1:9")
        .env("BENCH_OFFLINE", "1")
        .args(["run", "--out"])
        .arg(&out)
        .arg(&spec)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "pneumoniamnist is not in the cache and BENCH_OFFLINE is set",
        ));
    assert!(!out.exists());
}

#[test]
fn lock_records_a_sha256_on_first_use_and_says_so() {
    let body = b"pathmnist stand-in".to_vec();
    let md5 = format!("{:x}", md5_digest(&body));
    let server = Server::start(vec![(
        "/records/10519652/files/pathmnist.npz",
        Behaviour::Serve(body.clone()),
    )]);
    let dir = tempfile::tempdir().unwrap();
    let lock = write_lock(dir.path(), b"x");
    let text = std::fs::read_to_string(&lock)
        .unwrap()
        .replace(&"0".repeat(32), &md5);
    std::fs::write(&lock, text).unwrap();
    let cache = dir.path().join("cache");
    bench_with(&lock, &cache, &server.base)
        .args(["datasets", "lock", "pathmnist"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "pathmnist: sha256 {} recorded in",
            ralbench::io::sha256_hex(&body)
        )))
        .stdout(predicate::str::contains(
            "trust on first use: upstream publishes only an md5",
        ));
    let updated = ralbench::data::lock::Lock::load(&lock).unwrap();
    let entry = updated.get("pathmnist").unwrap();
    assert_eq!(
        entry.sha256.as_deref(),
        Some(ralbench::io::sha256_hex(&body).as_str())
    );
    assert_eq!(entry.size, Some(body.len() as u64));
    // Now pinned by sha256 and already cached: fetch needs no network.
    bench_with(&lock, &cache, "http://127.0.0.1:9")
        .env("BENCH_OFFLINE", "1")
        .args(["datasets", "fetch", "pathmnist"])
        .assert()
        .success();
}

#[test]
fn a_bad_lock_file_is_refused_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("datasets.lock");
    std::fs::write(&lock, "[\n  (name: \"a\", urls: [\"u\"], sha: None),\n]\n").unwrap();
    common::bench()
        .env("BENCH_LOCK", &lock)
        .args(["datasets", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("{}:2:", lock.display())))
        .stderr(predicate::str::contains("Unexpected field named `sha`"));
}

#[test]
fn synthetic_histology_at_150_pixels_runs_offline_and_says_synthetic() {
    let out = tempfile::tempdir().unwrap();
    common::bench()
        .env("BENCH_OFFLINE", "1")
        .args([
            "run",
            "specs/ci/synthetic-histology.ron",
            "--device",
            "cpu",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "(synthetic-histology, SYNTHETIC data, not a paper reproduction)",
        ));
    let job = std::fs::read_dir(out.path().join("jobs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(
        std::fs::read_to_string(job)
            .unwrap()
            .contains("data_origin: Synthetic")
    );
}

fn md5_digest(bytes: &[u8]) -> u128 {
    use md5::Digest;
    u128::from_be_bytes(md5::Md5::digest(bytes).into())
}
