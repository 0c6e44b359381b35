//! Downloads pinned artifacts into a content-addressed cache, verifying size and checksum.
//!
//! A download streams into `<cache>/partial/` while it is hashed; only when size and checksum match
//! is it renamed to `<cache>/blobs/<sha256|md5>/<hex>`. So a file under `blobs/` has always been
//! verified, and a half-downloaded or corrupt one never sits there. Transient failures (connection
//! errors, timeouts, 5xx, a transfer cut short) are retried with exponential backoff, resuming with
//! an HTTP Range request; 4xx responses are not retried.
//!
//! Environment: `BENCH_CACHE` (default: the XDG cache dir + `/ralbench`), `BENCH_OFFLINE=1` (never
//! touch the network), `BENCH_MIRROR` (a base URL or a directory that replaces the upstream host),
//! `BENCH_TIMEOUT_S` (connect and read timeout, default 30).
use super::lock::{Artifact, Checksum};
use md5::Md5;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the cache is and how to reach the network.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// Cache root.
    pub cache: PathBuf,
    /// Never use the network.
    pub offline: bool,
    /// Replaces the scheme and host of every url: `http(s)://...` or a local directory.
    pub mirror: Option<String>,
    /// Connect timeout, and the longest wait for any read.
    pub timeout: Duration,
    /// Retries after the first attempt, for transient failures.
    pub retries: u32,
    /// First backoff; doubles after each retry.
    pub backoff: Duration,
    /// Show a progress bar (only drawn on a terminal).
    pub progress: bool,
}

impl FetchConfig {
    /// The configuration from `BENCH_*` environment variables.
    pub fn from_env() -> FetchConfig {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let cache = var("BENCH_CACHE").map(PathBuf::from).unwrap_or_else(|| {
            dirs::cache_dir()
                .unwrap_or_else(|| PathBuf::from(".cache"))
                .join("ralbench")
        });
        let timeout = var("BENCH_TIMEOUT_S")
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|s| *s > 0.0)
            .map_or(Duration::from_secs(30), Duration::from_secs_f64);
        FetchConfig {
            cache,
            offline: var("BENCH_OFFLINE").is_some_and(|v| v != "0"),
            mirror: var("BENCH_MIRROR"),
            timeout,
            retries: 4,
            backoff: Duration::from_secs(1),
            progress: true,
        }
    }

    /// Where a verified copy with this checksum lives.
    pub fn blob_path(&self, checksum: &Checksum) -> PathBuf {
        match checksum {
            Checksum::Sha256(h) => self.cache.join("blobs/sha256").join(h),
            Checksum::Md5(h) => self.cache.join("blobs/md5").join(h),
        }
    }

    fn partial_path(&self, artifact: &Artifact) -> PathBuf {
        let key = match artifact.checksum() {
            Some(Checksum::Sha256(h) | Checksum::Md5(h)) => h,
            None => artifact.name.clone(),
        };
        self.cache.join("partial").join(format!("{key}.part"))
    }
}

/// Why an artifact could not be provided.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Offline and not cached.
    #[error(
        "{name} is not in the cache and BENCH_OFFLINE is set; on a machine with internet run \
         `bench datasets fetch {name}` and copy its cache ({cache}), or set BENCH_MIRROR to a \
         directory holding {path}"
    )]
    Offline {
        /// Artifact.
        name: String,
        /// Cache root.
        cache: PathBuf,
        /// Upstream path a mirror directory must hold.
        path: String,
    },
    /// The lock has no checksum to verify against.
    #[error(
        "{name} has no checksum in datasets.lock, so a download cannot be verified; run \
         `bench datasets lock {name}` to download it and record its sha256 (trust on first use)"
    )]
    NoChecksum {
        /// Artifact.
        name: String,
    },
    /// The server answered with an error status.
    #[error("GET {url}: HTTP {status}")]
    Status {
        /// Url.
        url: String,
        /// Status line.
        status: String,
    },
    /// Network trouble that outlasted the retries.
    #[error("GET {url}: {message} (gave up after {attempts} attempts)")]
    Transport {
        /// Url.
        url: String,
        /// What went wrong last.
        message: String,
        /// Attempts made.
        attempts: u32,
    },
    /// Size differs from the lock.
    #[error(
        "{name}: size mismatch for {url}: datasets.lock says {expected} bytes, got {actual}; nothing was cached"
    )]
    Size {
        /// Artifact.
        name: String,
        /// Url.
        url: String,
        /// From the lock.
        expected: u64,
        /// Downloaded.
        actual: u64,
    },
    /// Checksum differs from the lock.
    #[error(
        "{name}: {kind} mismatch for {url}: expected {expected}, got {actual}; nothing was cached"
    )]
    Checksum {
        /// Artifact.
        name: String,
        /// Url.
        url: String,
        /// `sha256` or `md5`.
        kind: &'static str,
        /// From the lock.
        expected: String,
        /// Computed.
        actual: String,
    },
    /// A url this tool cannot fetch.
    #[error("{url}: unsupported url (use http://, https:// or file://)")]
    BadUrl {
        /// Url.
        url: String,
    },
    /// Local file trouble.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// I/O error.
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
    move |source| FetchError::Io {
        path: path.to_owned(),
        source,
    }
}

/// What a download produced: the verified file's place and its digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The verified file in the cache.
    pub path: PathBuf,
    /// Its sha256.
    pub sha256: String,
    /// Its size.
    pub size: u64,
}

/// The cached, verified copy of `artifact`, downloading it first when needed.
pub fn fetch(artifact: &Artifact, cfg: &FetchConfig) -> Result<PathBuf, FetchError> {
    let checksum = artifact.checksum().ok_or_else(|| FetchError::NoChecksum {
        name: artifact.name.clone(),
    })?;
    let blob = cfg.blob_path(&checksum);
    if blob.is_file() {
        return Ok(blob);
    }
    download_verified(artifact, cfg, Some(&checksum)).map(|f| f.path)
}

/// Downloads `artifact` whatever the lock holds and returns its digests (for `bench datasets lock`).
/// Size and any checksum the lock has are still enforced.
pub fn fetch_for_lock(artifact: &Artifact, cfg: &FetchConfig) -> Result<Fetched, FetchError> {
    if let Some(c) = artifact.checksum() {
        let blob = cfg.blob_path(&c);
        if blob.is_file() {
            let (sha256, _, size) = digest_file(&blob)?;
            return Ok(Fetched {
                path: blob,
                sha256,
                size,
            });
        }
    }
    download_verified(artifact, cfg, artifact.checksum().as_ref())
}

/// Downloads (or finds) `artifact`, then returns its entry with the sha256 and size of the verified
/// file recorded, the file moved under its sha256 key. `trusted` says whether anything upstream
/// vouched for the bytes (a published sha256) or they are taken on first use.
pub fn pin(artifact: &Artifact, cfg: &FetchConfig) -> Result<(Artifact, Trust), FetchError> {
    let fetched = fetch_for_lock(artifact, cfg)?;
    let target = cfg.blob_path(&Checksum::Sha256(fetched.sha256.clone()));
    if fetched.path != target {
        let dir = target.parent().expect("blob has a parent");
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        std::fs::rename(&fetched.path, &target).map_err(io_err(&target))?;
    }
    let trust = match artifact.checksum() {
        Some(Checksum::Sha256(_)) => Trust::Published,
        Some(Checksum::Md5(_)) => Trust::FirstUseMd5,
        None => Trust::FirstUse,
    };
    let pinned = Artifact {
        sha256: Some(fetched.sha256),
        size: Some(fetched.size),
        ..artifact.clone()
    };
    Ok((pinned, trust))
}

/// How much a recorded sha256 is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// It matched the sha256 upstream publishes.
    Published,
    /// Trust on first use; the bytes matched upstream's md5.
    FirstUseMd5,
    /// Trust on first use; upstream publishes no checksum.
    FirstUse,
}

/// Re-hashes the cached copy of `artifact`; a copy that no longer matches is removed.
/// Returns whether a verified copy is cached.
pub fn verify_cached(artifact: &Artifact, cfg: &FetchConfig) -> Result<bool, FetchError> {
    let Some(checksum) = artifact.checksum() else {
        return Ok(false);
    };
    let blob = cfg.blob_path(&checksum);
    if !blob.is_file() {
        return Ok(false);
    }
    let (sha256, md5, size) = digest_file(&blob)?;
    let result = check(artifact, &blob.display().to_string(), &sha256, &md5, size);
    if let Err(e) = result {
        std::fs::remove_file(&blob).map_err(io_err(&blob))?;
        return Err(e);
    }
    Ok(true)
}

fn download_verified(
    artifact: &Artifact,
    cfg: &FetchConfig,
    checksum: Option<&Checksum>,
) -> Result<Fetched, FetchError> {
    let part = cfg.partial_path(artifact);
    let mut last_err = None;
    for url in &artifact.urls {
        let source = resolve(url, cfg)?;
        if cfg.offline && !matches!(source, Source::File(_)) {
            return Err(FetchError::Offline {
                name: artifact.name.clone(),
                cache: cfg.cache.clone(),
                path: upstream_path(url),
            });
        }
        let hashes = match copy_to_part(&source, &part, artifact, cfg) {
            Ok(h) => h,
            Err(e @ (FetchError::Status { .. } | FetchError::Transport { .. })) => {
                last_err = Some(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        let (sha256, md5, size) = hashes.finish();
        if let Err(e) = check(artifact, source.display(), &sha256, &md5, size) {
            // Corrupt or tampered: never keep it, not even for a resume.
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
        let key = checksum
            .cloned()
            .unwrap_or(Checksum::Sha256(sha256.clone()));
        let blob = cfg.blob_path(&key);
        let dir = blob.parent().expect("blob has a parent");
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        std::fs::rename(&part, &blob).map_err(io_err(&blob))?;
        return Ok(Fetched {
            path: blob,
            sha256,
            size,
        });
    }
    Err(last_err.expect("an artifact has at least one url"))
}

fn check(
    artifact: &Artifact,
    url: &str,
    sha256: &str,
    md5: &str,
    size: u64,
) -> Result<(), FetchError> {
    if let Some(expected) = artifact.size
        && expected != size
    {
        return Err(FetchError::Size {
            name: artifact.name.clone(),
            url: url.to_string(),
            expected,
            actual: size,
        });
    }
    for (kind, expected, actual) in [
        ("sha256", &artifact.sha256, sha256),
        ("md5", &artifact.md5, md5),
    ] {
        if let Some(expected) = expected
            && expected != actual
        {
            return Err(FetchError::Checksum {
                name: artifact.name.clone(),
                url: url.to_string(),
                kind,
                expected: expected.clone(),
                actual: actual.to_string(),
            });
        }
    }
    Ok(())
}

/// Where bytes come from once the mirror is applied.
enum Source {
    Http(String),
    File(PathBuf),
}

impl Source {
    fn display(&self) -> &str {
        match self {
            Source::Http(u) => u,
            Source::File(p) => p.to_str().unwrap_or("(non-UTF-8 path)"),
        }
    }
}

fn upstream_path(url: &str) -> String {
    reqwest::Url::parse(url).map_or_else(|_| url.to_string(), |u| u.path().to_string())
}

fn resolve(url: &str, cfg: &FetchConfig) -> Result<Source, FetchError> {
    let bad = || FetchError::BadUrl {
        url: url.to_string(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|_| bad())?;
    if parsed.scheme() == "file" {
        return parsed.to_file_path().map(Source::File).map_err(|_| bad());
    }
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad());
    }
    Ok(match &cfg.mirror {
        None => Source::Http(url.to_string()),
        Some(m) if m.starts_with("http://") || m.starts_with("https://") => {
            Source::Http(format!("{}{}", m.trim_end_matches('/'), parsed.path()))
        }
        Some(m) => {
            let dir = m.strip_prefix("file://").unwrap_or(m);
            Source::File(Path::new(dir).join(parsed.path().trim_start_matches('/')))
        }
    })
}

/// sha256 and md5 fed as bytes arrive.
#[derive(Clone, Default)]
struct Hashes {
    sha256: Sha256,
    md5: Md5,
    len: u64,
}

impl Hashes {
    fn update(&mut self, bytes: &[u8]) {
        self.sha256.update(bytes);
        self.md5.update(bytes);
        self.len += bytes.len() as u64;
    }

    fn finish(self) -> (String, String, u64) {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        (
            hex(&self.sha256.finalize()),
            hex(&self.md5.finalize()),
            self.len,
        )
    }
}

const CHUNK: usize = 1 << 20;

/// Hashes an existing file in 1 MiB chunks.
fn digest_file(path: &Path) -> Result<(String, String, u64), FetchError> {
    let mut hashes = Hashes::default();
    if path.exists() {
        let mut f = File::open(path).map_err(io_err(path))?;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = f.read(&mut buf).map_err(io_err(path))?;
            if n == 0 {
                break;
            }
            hashes.update(&buf[..n]);
        }
    }
    Ok(hashes.finish())
}

/// Failure of one attempt: retry (keeping the partial file) or give up.
enum Attempt {
    Transient(String),
    Fatal(FetchError),
}

/// Fills the partial file from `source`, retrying and resuming; returns the hashes of its bytes.
fn copy_to_part(
    source: &Source,
    part: &Path,
    artifact: &Artifact,
    cfg: &FetchConfig,
) -> Result<Hashes, FetchError> {
    let dir = part.parent().expect("partial has a parent");
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let bar = progress_bar(&artifact.name, artifact.size, cfg.progress);
    let url = match source {
        Source::File(path) => {
            let mut input = File::open(path).map_err(io_err(path))?;
            let mut out = File::create(part).map_err(io_err(part))?;
            let mut hashes = Hashes::default();
            pump(&mut input, &mut out, &mut hashes, &bar).map_err(|(e, _)| FetchError::Io {
                path: path.clone(),
                source: e,
            })?;
            bar.finish_and_clear();
            return Ok(hashes);
        }
        Source::Http(url) => url,
    };
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(cfg.timeout)
        // Applies to each read of the body as well: a stalled server times out.
        .timeout(cfg.timeout)
        .user_agent(concat!("ralbench/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| FetchError::Transport {
            url: url.clone(),
            message: e.to_string(),
            attempts: 0,
        })?;
    let mut delay = cfg.backoff;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match http_attempt(&client, url, part, artifact, &bar) {
            Ok(hashes) => {
                bar.finish_and_clear();
                return Ok(hashes);
            }
            Err(Attempt::Fatal(e)) => {
                bar.finish_and_clear();
                let _ = std::fs::remove_file(part);
                return Err(e);
            }
            Err(Attempt::Transient(message)) if attempt > cfg.retries => {
                bar.finish_and_clear();
                return Err(FetchError::Transport {
                    url: url.clone(),
                    message,
                    attempts: attempt,
                });
            }
            Err(Attempt::Transient(message)) => {
                bar.println(format!(
                    "{}: {message}; retrying in {delay:?}",
                    artifact.name
                ));
                std::thread::sleep(delay);
                delay *= 2;
            }
        }
    }
}

fn http_attempt(
    client: &reqwest::blocking::Client,
    url: &str,
    part: &Path,
    artifact: &Artifact,
    bar: &indicatif::ProgressBar,
) -> Result<Hashes, Attempt> {
    let fatal_io = |e: std::io::Error| {
        Attempt::Fatal(FetchError::Io {
            path: part.to_owned(),
            source: e,
        })
    };
    let have = std::fs::metadata(part).map_or(0, |m| m.len());
    let mut request = client.get(url);
    if have > 0 {
        request = request.header(reqwest::header::RANGE, format!("bytes={have}-"));
    }
    let mut response = request
        .send()
        .map_err(|e| Attempt::Transient(describe(&e)))?;
    let status = response.status();
    let resume = status == reqwest::StatusCode::PARTIAL_CONTENT && have > 0;
    if status == reqwest::StatusCode::RANGE_NOT_SATISFIABLE {
        // The partial file is not a prefix the server recognises: start over.
        std::fs::remove_file(part).map_err(fatal_io)?;
        return Err(Attempt::Transient(
            "server refused to resume; restarting".into(),
        ));
    }
    if status.is_client_error() {
        return Err(Attempt::Fatal(FetchError::Status {
            url: url.to_string(),
            status: status.to_string(),
        }));
    }
    if !status.is_success() {
        return Err(Attempt::Transient(format!("HTTP {status}")));
    }
    let announced = response
        .content_length()
        .map(|n| if resume { n + have } else { n });
    if let (Some(expected), Some(actual)) = (artifact.size, announced)
        && expected != actual
    {
        return Err(Attempt::Fatal(FetchError::Size {
            name: artifact.name.clone(),
            url: url.to_string(),
            expected,
            actual,
        }));
    }
    let mut hashes = Hashes::default();
    let mut out = if resume {
        // Prime the hashes with the bytes already on disk, then append.
        let mut existing = File::open(part).map_err(fatal_io)?;
        let mut sink = std::io::sink();
        pump(
            &mut existing,
            &mut sink,
            &mut hashes,
            &indicatif::ProgressBar::hidden(),
        )
        .map_err(|(e, _)| fatal_io(e))?;
        std::fs::OpenOptions::new()
            .append(true)
            .open(part)
            .map_err(fatal_io)?
    } else {
        File::create(part).map_err(fatal_io)?
    };
    bar.set_position(hashes.len);
    if let Some(n) = announced {
        bar.set_length(n);
    }
    match pump(&mut response, &mut out, &mut hashes, bar) {
        Ok(()) => {}
        Err((e, Side::Read)) => {
            let timed_out = e.kind() == std::io::ErrorKind::TimedOut
                || e.get_ref()
                    .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
                    .is_some_and(reqwest::Error::is_timeout);
            return Err(Attempt::Transient(if timed_out {
                format!(
                    "transfer stalled: no data within the read timeout (timed out after {} bytes)",
                    hashes.len
                )
            } else {
                format!("transfer interrupted: {}", describe(&e))
            }));
        }
        Err((e, Side::Write)) => return Err(fatal_io(e)),
    }
    out.sync_all().map_err(fatal_io)?;
    if let Some(n) = announced
        && hashes.len < n
    {
        return Err(Attempt::Transient(format!(
            "transfer ended after {} of {n} bytes",
            hashes.len
        )));
    }
    Ok(hashes)
}

/// An error and its causes on one line (reqwest hides "timed out" two levels down).
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text = format!("{text}: {s_text}");
        }
        source = s.source();
    }
    text
}

#[derive(Debug)]
enum Side {
    Read,
    Write,
}

/// Copies in 1 MiB chunks, hashing and counting as it goes.
fn pump(
    input: &mut impl Read,
    out: &mut impl Write,
    hashes: &mut Hashes,
    bar: &indicatif::ProgressBar,
) -> Result<(), (std::io::Error, Side)> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return out.flush().map_err(|e| (e, Side::Write)),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err((e, Side::Read)),
        };
        out.write_all(&buf[..n]).map_err(|e| (e, Side::Write))?;
        hashes.update(&buf[..n]);
        bar.inc(n as u64);
    }
}

fn progress_bar(name: &str, size: Option<u64>, show: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !show || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(size.unwrap_or(0));
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(name.to_string());
    bar
}
