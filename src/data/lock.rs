//! `datasets.lock`: the pinned artifacts (name, urls, size, checksums) specs may use.
//!
//! A RON list, sorted by name, one `Artifact(...)` per entry. Checksums are what upstream
//! publishes: sha256 where there is one, md5 where that is all there is (the sha256 is then
//! recorded on first verified download by `bench datasets lock NAME`: trust on first use).
//!
//! ```
//! let text = format!(
//!     r#"[Artifact(name: "a", urls: ["file:///tmp/a.npz"], size: Some(3), sha256: Some("{}"))]"#,
//!     "0".repeat(64)
//! );
//! let lock = ralbench::data::lock::Lock::parse(&text, "datasets.lock".as_ref()).unwrap();
//! assert_eq!(lock.get("a").unwrap().size, Some(3));
//! ```
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One downloadable file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// Name used on the command line and by dataset loaders.
    pub name: String,
    /// Where it can be downloaded, tried in order.
    pub urls: Vec<String>,
    /// Size in bytes, when known.
    #[serde(default)]
    pub size: Option<u64>,
    /// sha256 (lower-case hex), when known.
    #[serde(default)]
    pub sha256: Option<String>,
    /// md5 (lower-case hex), where that is all upstream publishes.
    #[serde(default)]
    pub md5: Option<String>,
    /// Licence and source of the checksums, for people reading the lock.
    #[serde(default)]
    pub note: String,
}

/// The checksum a cached copy is verified against and keyed by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    /// Published or recorded sha256.
    Sha256(String),
    /// Published md5 only (weaker; `bench datasets lock` records a sha256).
    Md5(String),
}

impl Artifact {
    /// The strongest checksum the lock has for this artifact.
    pub fn checksum(&self) -> Option<Checksum> {
        match (&self.sha256, &self.md5) {
            (Some(s), _) => Some(Checksum::Sha256(s.clone())),
            (None, Some(m)) => Some(Checksum::Md5(m.clone())),
            (None, None) => None,
        }
    }
}

/// The parsed lock file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    /// Entries, sorted by name.
    pub artifacts: Vec<Artifact>,
    /// The file it came from.
    pub path: PathBuf,
}

/// Why a lock file was refused.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Could not read it.
    #[error("{path}: cannot read the lock file: {source}")]
    Read {
        /// Lock file.
        path: PathBuf,
        /// I/O error.
        source: std::io::Error,
    },
    /// RON syntax or an unknown field.
    #[error("{path}:{line}:{col}: {message}")]
    Syntax {
        /// Lock file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// Parser message.
        message: String,
    },
    /// Well-formed but inconsistent.
    #[error("{path}: {name}: {message}")]
    Invalid {
        /// Lock file.
        path: PathBuf,
        /// Artifact name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A name nobody declared.
    #[error("unknown dataset artifact {name:?}; known: {known}")]
    Unknown {
        /// Asked-for name.
        name: String,
        /// Known names, comma-separated.
        known: String,
    },
}

const HEADER: &str = "\
// Pinned dataset artifacts: one entry per file, sorted by name. Checksums are what upstream
// publishes (sha256, or md5 where that is all there is); `bench datasets lock NAME` records a
// sha256 from a verified download. Edit by hand only to add an entry; keep it sorted.
";

impl Lock {
    /// Reads and checks a lock file.
    pub fn load(path: &Path) -> Result<Lock, LockError> {
        let text = std::fs::read_to_string(path).map_err(|source| LockError::Read {
            path: path.to_owned(),
            source,
        })?;
        Lock::parse(&text, path)
    }

    /// Parses and checks lock text; `path` is used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Lock, LockError> {
        let artifacts: Vec<Artifact> =
            ron::Options::default()
                .from_str(text)
                .map_err(|e| LockError::Syntax {
                    path: path.to_owned(),
                    line: e.span.start.line,
                    col: e.span.start.col,
                    message: e.code.to_string(),
                })?;
        let lock = Lock {
            artifacts,
            path: path.to_owned(),
        };
        lock.check()?;
        Ok(lock)
    }

    fn check(&self) -> Result<(), LockError> {
        let invalid = |name: &str, message: String| LockError::Invalid {
            path: self.path.clone(),
            name: name.to_string(),
            message,
        };
        for (i, a) in self.artifacts.iter().enumerate() {
            if a.name.is_empty() {
                return Err(invalid(&format!("(entry {i})"), "name is empty".into()));
            }
            if i > 0 && self.artifacts[i - 1].name >= a.name {
                return Err(invalid(
                    &a.name,
                    format!(
                        "entries must be sorted by name with no duplicates (after {:?})",
                        self.artifacts[i - 1].name
                    ),
                ));
            }
            if a.urls.is_empty() {
                return Err(invalid(&a.name, "no urls".into()));
            }
            for (field, value, len) in [("sha256", &a.sha256, 64), ("md5", &a.md5, 32)] {
                if let Some(v) = value
                    && (v.len() != len
                        || !v
                            .bytes()
                            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
                {
                    return Err(invalid(
                        &a.name,
                        format!("{field} {v:?} is not {len} lower-case hex digits"),
                    ));
                }
            }
        }
        // TFDS's rule: one url, one content. Two entries disagreeing about a url is an error.
        for (i, a) in self.artifacts.iter().enumerate() {
            for b in &self.artifacts[i + 1..] {
                if let Some(url) = a.urls.iter().find(|u| b.urls.contains(u))
                    && (a.sha256 != b.sha256 || a.md5 != b.md5 || a.size != b.size)
                {
                    return Err(invalid(
                        &b.name,
                        format!(
                            "url {url} is also pinned by {:?} with a different size or checksum",
                            a.name
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The entry called `name`, or an error listing the known names.
    pub fn get(&self, name: &str) -> Result<&Artifact, LockError> {
        self.artifacts
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| LockError::Unknown {
                name: name.to_string(),
                known: self.names().join(", "),
            })
    }

    /// Entry names in order.
    pub fn names(&self) -> Vec<&str> {
        self.artifacts.iter().map(|a| a.name.as_str()).collect()
    }

    /// Replaces (or adds) an entry, keeping the order, and writes the file atomically.
    pub fn update(&mut self, artifact: Artifact) -> std::io::Result<()> {
        match self.artifacts.iter_mut().find(|a| a.name == artifact.name) {
            Some(slot) => *slot = artifact,
            None => self.artifacts.push(artifact),
        }
        self.artifacts.sort_by(|a, b| a.name.cmp(&b.name));
        let body = crate::io::pretty(&self.artifacts);
        crate::io::write_atomic(&self.path, format!("{HEADER}{body}").as_bytes())
            .map_err(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Lock, LockError> {
        Lock::parse(text, "datasets.lock".as_ref())
    }

    #[test]
    fn the_repository_lock_parses() {
        let lock =
            Lock::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets.lock")).unwrap();
        for name in [
            "kather2016-tiles",
            "pneumoniamnist",
            "pneumoniamnist-224",
            "pathmnist",
            "kermany2018",
        ] {
            assert!(lock.get(name).is_ok(), "{name} missing");
        }
    }

    #[test]
    fn same_url_with_two_checksums_is_refused() {
        let e = parse(&format!(
            r#"[Artifact(name: "a", urls: ["http://x/f"], sha256: Some("{}")),
               Artifact(name: "b", urls: ["http://x/f"], sha256: Some("{}"))]"#,
            "a".repeat(64),
            "b".repeat(64)
        ))
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("url http://x/f is also pinned by \"a\""),
            "{e}"
        );
    }

    #[test]
    fn unsorted_bad_hex_and_unknown_fields_are_refused() {
        let e = parse(r#"[Artifact(name: "b", urls: ["u1"]), Artifact(name: "a", urls: ["u2"])]"#)
            .unwrap_err();
        assert!(e.to_string().contains("sorted"), "{e}");
        let e = parse(r#"[Artifact(name: "a", urls: ["u"], md5: Some("XYZ"))]"#).unwrap_err();
        assert!(
            e.to_string()
                .contains("md5 \"XYZ\" is not 32 lower-case hex digits"),
            "{e}"
        );
        let e = parse("[Artifact(name: \"a\",\n urls: [\"u\"], sha: None)]").unwrap_err();
        assert!(e.to_string().starts_with("datasets.lock:2:"), "{e}");
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let lock = parse(r#"[Artifact(name: "a", urls: ["u"]), Artifact(name: "b", urls: ["v"])]"#)
            .unwrap();
        assert_eq!(
            lock.get("c").unwrap_err().to_string(),
            "unknown dataset artifact \"c\"; known: a, b"
        );
    }
}
