//! Downloads against a scripted server on 127.0.0.1: every failure a user can meet, each checked
//! for the message they see and for a cache that holds nothing unverified.
mod common;
use common::server::{Behaviour, Server};
use ralbench::data::fetch::{self, FetchConfig, FetchError};
use ralbench::data::lock::Artifact;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// 3 MiB of deterministic bytes: more than one 1 MiB chunk.
fn payload() -> Vec<u8> {
    (0..3u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect()
}

fn sha256(bytes: &[u8]) -> String {
    ralbench::io::sha256_hex(bytes)
}

fn artifact(url: String, bytes: &[u8]) -> Artifact {
    Artifact {
        name: "fixture".into(),
        urls: vec![url],
        size: Some(bytes.len() as u64),
        sha256: Some(sha256(bytes)),
        md5: None,
        note: String::new(),
    }
}

fn config(cache: &Path) -> FetchConfig {
    FetchConfig {
        cache: cache.to_owned(),
        offline: false,
        mirror: None,
        timeout: Duration::from_secs(5),
        retries: 3,
        backoff: Duration::from_millis(10),
        progress: false,
    }
}

/// Every file under the cache, relative to it.
fn cache_files(cache: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![cache.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(cache).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

fn assert_nothing_cached(cache: &Path) {
    assert_eq!(
        cache_files(cache),
        Vec::<PathBuf>::new(),
        "unverified bytes left in the cache"
    );
}

#[test]
fn good_download_is_verified_and_stored_under_its_sha256() {
    let body = payload();
    let server = Server::start(vec![("/f.bin", Behaviour::Serve(body.clone()))]);
    let cache = tempfile::tempdir().unwrap();
    let a = artifact(format!("{}/f.bin", server.base), &body);
    let path = fetch::fetch(&a, &config(cache.path())).unwrap();
    assert_eq!(path, cache.path().join("blobs/sha256").join(sha256(&body)));
    assert_eq!(std::fs::read(&path).unwrap(), body);
    assert_eq!(
        cache_files(cache.path()),
        vec![PathBuf::from("blobs/sha256").join(sha256(&body))]
    );
    // Cached: no second request.
    fetch::fetch(&a, &config(cache.path())).unwrap();
    assert_eq!(server.hits("/f.bin"), 1);
}

#[test]
fn wrong_checksum_names_url_and_both_digests_and_caches_nothing() {
    let body = payload();
    let server = Server::start(vec![("/f.bin", Behaviour::Serve(body.clone()))]);
    let cache = tempfile::tempdir().unwrap();
    let mut a = artifact(format!("{}/f.bin", server.base), &body);
    a.sha256 = Some(sha256(b"something else"));
    let e = fetch::fetch(&a, &config(cache.path())).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "fixture: sha256 mismatch for {}/f.bin: expected {}, got {}; nothing was cached",
            server.base,
            sha256(b"something else"),
            sha256(&body)
        )
    );
    assert_nothing_cached(cache.path());
}

#[test]
fn wrong_size_is_refused_and_caches_nothing() {
    let body = payload();
    let server = Server::start(vec![("/f.bin", Behaviour::Serve(body.clone()))]);
    let cache = tempfile::tempdir().unwrap();
    let mut a = artifact(format!("{}/f.bin", server.base), &body);
    a.size = Some(body.len() as u64 + 1);
    let e = fetch::fetch(&a, &config(cache.path())).unwrap_err();
    assert!(matches!(e, FetchError::Size { .. }), "{e}");
    assert!(e.to_string().contains(&format!(
        "size mismatch for {}/f.bin: datasets.lock says {} bytes, got {}",
        server.base,
        body.len() + 1,
        body.len()
    )));
    assert_nothing_cached(cache.path());
}

#[test]
fn truncated_transfer_is_resumed_with_a_range_request() {
    let body = payload();
    let server = Server::start(vec![(
        "/f.bin",
        Behaviour::CutThenServe(1 << 20, body.clone()),
    )]);
    let cache = tempfile::tempdir().unwrap();
    let a = artifact(format!("{}/f.bin", server.base), &body);
    let path = fetch::fetch(&a, &config(cache.path())).unwrap();
    assert_eq!(std::fs::read(path).unwrap(), body);
    assert_eq!(server.hits("/f.bin"), 2);
    assert_eq!(
        *server.ranges.lock().unwrap(),
        vec![format!("{}-", 1 << 20)]
    );
}

#[test]
fn a_download_interrupted_in_an_earlier_process_resumes_where_it_stopped() {
    let body = payload();
    let server = Server::start(vec![("/f.bin", Behaviour::Serve(body.clone()))]);
    let cache = tempfile::tempdir().unwrap();
    let partial = cache
        .path()
        .join("partial")
        .join(format!("{}.part", sha256(&body)));
    std::fs::create_dir_all(partial.parent().unwrap()).unwrap();
    std::fs::write(&partial, &body[..1_500_000]).unwrap();
    let a = artifact(format!("{}/f.bin", server.base), &body);
    let path = fetch::fetch(&a, &config(cache.path())).unwrap();
    assert_eq!(std::fs::read(path).unwrap(), body);
    assert_eq!(*server.ranges.lock().unwrap(), vec!["1500000-".to_string()]);
    assert!(!partial.exists());
}

#[test]
fn a_corrupt_partial_file_is_caught_by_the_checksum_and_removed() {
    let body = payload();
    let server = Server::start(vec![("/f.bin", Behaviour::Serve(body.clone()))]);
    let cache = tempfile::tempdir().unwrap();
    let partial = cache
        .path()
        .join("partial")
        .join(format!("{}.part", sha256(&body)));
    std::fs::create_dir_all(partial.parent().unwrap()).unwrap();
    std::fs::write(&partial, vec![0u8; 1000]).unwrap();
    let a = artifact(format!("{}/f.bin", server.base), &body);
    let e = fetch::fetch(&a, &config(cache.path())).unwrap_err();
    assert!(matches!(e, FetchError::Checksum { .. }), "{e}");
    assert_nothing_cached(cache.path());
    // The next attempt starts clean and succeeds.
    fetch::fetch(&a, &config(cache.path())).unwrap();
}

#[test]
fn not_found_is_reported_once_without_retries() {
    let server = Server::start(vec![]);
    let cache = tempfile::tempdir().unwrap();
    let a = artifact(format!("{}/missing.bin", server.base), b"x");
    let e = fetch::fetch(&a, &config(cache.path())).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("GET {}/missing.bin: HTTP 404 Not Found", server.base)
    );
    assert_eq!(server.hits("/missing.bin"), 1);
    assert_nothing_cached(cache.path());
}

#[test]
fn server_errors_are_retried_until_success() {
    let body = payload();
    let server = Server::start(vec![("/f.bin", Behaviour::FailThenServe(2, body.clone()))]);
    let cache = tempfile::tempdir().unwrap();
    let a = artifact(format!("{}/f.bin", server.base), &body);
    fetch::fetch(&a, &config(cache.path())).unwrap();
    assert_eq!(server.hits("/f.bin"), 3);
}

#[test]
fn persistent_server_errors_give_up_with_the_attempt_count() {
    let server = Server::start(vec![("/f.bin", Behaviour::Status(500))]);
    let cache = tempfile::tempdir().unwrap();
    let a = artifact(format!("{}/f.bin", server.base), b"x");
    let e = fetch::fetch(&a, &config(cache.path())).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "GET {}/f.bin: HTTP 500 Internal Server Error (gave up after 4 attempts)",
            server.base
        )
    );
    assert_nothing_cached(cache.path());
}

#[test]
fn a_stalled_server_times_out_quickly() {
    let body = payload();
    let server = Server::start(vec![("/f.bin", Behaviour::Stall(body.clone()))]);
    let cache = tempfile::tempdir().unwrap();
    let a = artifact(format!("{}/f.bin", server.base), &body);
    let cfg = FetchConfig {
        timeout: Duration::from_millis(300),
        retries: 1,
        ..config(cache.path())
    };
    let started = Instant::now();
    let e = fetch::fetch(&a, &cfg).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        matches!(e, FetchError::Transport { attempts: 2, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("timed out"), "{e}");
    // A partial file may stay for a later resume, but nothing sits among verified files.
    assert!(
        cache_files(cache.path())
            .iter()
            .all(|p| p.starts_with("partial"))
    );
}

#[test]
fn offline_mode_uses_the_cache_and_never_the_network() {
    let body = payload();
    let server = Server::start(vec![("/f.bin", Behaviour::Serve(body.clone()))]);
    let cache = tempfile::tempdir().unwrap();
    let a = artifact(format!("{}/f.bin", server.base), &body);
    let offline = FetchConfig {
        offline: true,
        ..config(cache.path())
    };
    let e = fetch::fetch(&a, &offline).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("fixture is not in the cache and BENCH_OFFLINE is set"),
        "{e}"
    );
    assert_eq!(server.hits("/f.bin"), 0);
    fetch::fetch(&a, &config(cache.path())).unwrap();
    fetch::fetch(&a, &offline).unwrap();
    assert_eq!(server.hits("/f.bin"), 1);
}

#[test]
fn a_mirror_url_or_directory_replaces_the_upstream_host() {
    let body = payload();
    let server = Server::start(vec![(
        "/records/1/files/f.npz",
        Behaviour::Serve(body.clone()),
    )]);
    let a = artifact(
        "https://upstream.invalid/records/1/files/f.npz".into(),
        &body,
    );
    let cache = tempfile::tempdir().unwrap();
    let cfg = FetchConfig {
        mirror: Some(server.base.clone()),
        ..config(cache.path())
    };
    fetch::fetch(&a, &cfg).unwrap();
    assert_eq!(server.hits("/records/1/files/f.npz"), 1);

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("records/1/files")).unwrap();
    std::fs::write(dir.path().join("records/1/files/f.npz"), &body).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let cfg = FetchConfig {
        mirror: Some(dir.path().display().to_string()),
        offline: true, // a local directory is not the network
        ..config(cache.path())
    };
    let path = fetch::fetch(&a, &cfg).unwrap();
    assert_eq!(std::fs::read(path).unwrap(), body);
}

#[test]
fn file_urls_are_copied_and_verified() {
    let body = payload();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("f.bin");
    std::fs::write(&src, &body).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let a = artifact(format!("file://{}", src.display()), &body);
    let path = fetch::fetch(&a, &config(cache.path())).unwrap();
    assert_eq!(std::fs::read(path).unwrap(), body);
}

#[test]
fn an_entry_without_checksum_is_refused_until_pinned() {
    let body = payload();
    let server = Server::start(vec![("/f.bin", Behaviour::Serve(body.clone()))]);
    let cache = tempfile::tempdir().unwrap();
    let a = Artifact {
        size: None,
        sha256: None,
        ..artifact(format!("{}/f.bin", server.base), &body)
    };
    let e = fetch::fetch(&a, &config(cache.path())).unwrap_err();
    assert!(
        e.to_string().contains("run `bench datasets lock fixture`"),
        "{e}"
    );
    assert_eq!(server.hits("/f.bin"), 0);
    let (pinned, trust) = fetch::pin(&a, &config(cache.path())).unwrap();
    assert_eq!(trust, fetch::Trust::FirstUse);
    assert_eq!(pinned.sha256, Some(sha256(&body)));
    assert_eq!(pinned.size, Some(body.len() as u64));
    // Now the pinned entry is served from the cache.
    assert_eq!(
        fetch::fetch(&pinned, &config(cache.path())).unwrap(),
        cache.path().join("blobs/sha256").join(sha256(&body))
    );
    assert_eq!(server.hits("/f.bin"), 1);
}
