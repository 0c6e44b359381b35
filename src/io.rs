//! Files the harness writes: the one atomic-write helper (a reader never sees a half-written
//! file, and a write that fails, full disk, read-only or unwritable directory, names the file and
//! what to do), the RON layout of every result file, and sha256. Imports nothing of the crate, so
//! every module may use it.
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file that could not be written, and why, in words a user can act on.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {}", path.display(), advice(kind, message))]
pub struct WriteError {
    /// The file (or the directory that should hold it).
    pub path: PathBuf,
    /// What kind of failure (full disk, read-only, ...).
    pub kind: std::io::ErrorKind,
    /// The system's message.
    pub message: String,
}

impl WriteError {
    /// `error` while writing `path`.
    pub fn new(path: &Path, error: &std::io::Error) -> WriteError {
        // The system's own words, without the temporary file's name that tempfile's wrapped
        // errors (creating the temporary file) append.
        let message = error.raw_os_error().map_or_else(
            || {
                let text = error.to_string();
                match text.split_once(" at path ") {
                    Some((head, _)) => head.to_string(),
                    None => text,
                }
            },
            |code| std::io::Error::from_raw_os_error(code).to_string(),
        );
        WriteError {
            path: path.to_owned(),
            kind: error.kind(),
            message,
        }
    }
}

impl From<WriteError> for std::io::Error {
    fn from(e: WriteError) -> std::io::Error {
        std::io::Error::new(e.kind, e.to_string())
    }
}

fn advice(kind: &std::io::ErrorKind, message: &str) -> String {
    use std::io::ErrorKind::*;
    match kind {
        StorageFull | QuotaExceeded => format!(
            "{message}; nothing half-written was kept: free space and run the same command again \
             (finished jobs are kept and reused)"
        ),
        ReadOnlyFilesystem => format!("{message}; choose a writable --out"),
        PermissionDenied => {
            format!("{message}; choose another --out or make the directory writable")
        }
        _ => message.to_string(),
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename; the
/// file gets mode 0644 (readable by the group and others, as results are shared). On failure no
/// file is left but the one that was there before.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let fail = |e: &std::io::Error| WriteError::new(path, e);
    std::fs::create_dir_all(dir).map_err(|e| WriteError::new(dir, &e))?;
    let mut tmp = tempfile::Builder::new()
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .tempfile_in(dir)
        .map_err(|e| fail(&e))?;
    // The bare file's errors: tempfile's own wrapper appends the temporary name.
    tmp.as_file_mut().write_all(bytes).map_err(|e| fail(&e))?;
    tmp.as_file().sync_all().map_err(|e| fail(&e))?;
    tmp.persist(path).map_err(|e| fail(&e.error))?;
    Ok(())
}

/// Creates `dir` and its parents, with the same advice as [`write_atomic`] on failure.
pub fn create_dir(dir: &Path) -> Result<(), WriteError> {
    std::fs::create_dir_all(dir).map_err(|e| WriteError::new(dir, &e))
}

/// Stable, readable RON for every file the harness writes.
pub fn pretty<T: serde::Serialize>(value: &T) -> String {
    let config = ron::ser::PrettyConfig::new().indentor("  ").new_line("\n");
    let mut text = ron::ser::to_string_pretty(value, config).expect("result types serialise");
    text.push('\n');
    text
}

/// sha256 of `bytes` as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
