//! A lock file so two runs never write the same output directory at once.
use std::io::Write;
use std::path::{Path, PathBuf};

/// Held while a run writes its output directory; removed on drop.
#[derive(Debug)]
pub struct OutputLock {
    path: PathBuf,
}

impl OutputLock {
    /// Takes `<dir>/.lock`; a lock left by a process that no longer exists is taken over.
    pub fn acquire(dir: &Path) -> Result<OutputLock, String> {
        crate::io::create_dir(dir).map_err(|e| e.to_string())?;
        let path = dir.join(".lock");
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    let _ = writeln!(f, "{}", std::process::id());
                    return Ok(OutputLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let pid = std::fs::read_to_string(&path).unwrap_or_default();
                    let pid = pid.trim();
                    let alive = !pid.is_empty() && Path::new("/proc").join(pid).exists();
                    if alive {
                        return Err(format!(
                            "{}: another bench run (pid {pid}) is writing this directory; wait for it, or use another --out",
                            dir.display()
                        ));
                    }
                    // Stale: its process is gone (killed, crashed).
                    let _ = std::fs::remove_file(&path);
                }
                Err(e) => return Err(crate::io::WriteError::new(&path, &e).to_string()),
            }
        }
        Err(format!("{}: could not take the lock", path.display()))
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_lock_refuses_and_a_stale_one_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let held = OutputLock::acquire(dir.path()).unwrap();
        let e = OutputLock::acquire(dir.path()).unwrap_err();
        assert!(e.contains("another bench run"), "{e}");
        drop(held);
        assert!(!dir.path().join(".lock").exists());
        // A pid that cannot exist.
        std::fs::write(dir.path().join(".lock"), "999999999\n").unwrap();
        OutputLock::acquire(dir.path()).unwrap();
    }
}
