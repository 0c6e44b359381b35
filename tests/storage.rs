//! Output that cannot be written: a full disk and a read-only output directory end with a clear
//! error naming the file, leave no partial file, and (full disk) a rerun after freeing space
//! resumes to the same bytes as an uninterrupted run. Real file systems: small tmpfs mounts,
//! which need root (CI runs as root); elsewhere the tests skip with a message.
mod common;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (e.g. "48k"); None (and a message) where mounting is not allowed.
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mnt");
        std::fs::create_dir(&path).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .output()
            .is_ok_and(|o| o.status.success());
        if !mounted {
            eprintln!(
                "skipped: mounting a tmpfs needs root (or a container allowed to mount); \
                 CI runs this test as root"
            );
            return None;
        }
        Some(Tmpfs { _dir: dir, path })
    }

    fn remount(&self, options: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.path)
            .status()
            .unwrap();
        assert!(status.success(), "remount {options}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn run(out: &Path) -> std::process::Output {
    common::bench()
        .args(["run", "specs/ci/quickstart.ron", "--threads", "1", "--out"])
        .arg(out)
        .output()
        .unwrap()
}

/// Every file under `dir`, relative.
fn all_files(dir: &Path) -> Vec<PathBuf> {
    common::result_files(dir)
        .into_iter()
        .map(|(p, _)| p)
        .collect()
}

#[test]
fn a_full_disk_names_the_file_keeps_no_partial_file_and_a_rerun_resumes() {
    // 48 KiB: room for the spec and some of the 20 job files (one 4 KiB page each), not all.
    let Some(fs) = Tmpfs::mount("48k") else {
        return;
    };
    let out = fs.path.join("out");
    let full = run(&out);
    let stderr = String::from_utf8_lossy(&full.stderr);
    assert_eq!(full.status.code(), Some(1), "{stderr}");
    let last = stderr.lines().last().unwrap();
    assert!(
        last.starts_with(&format!(
            "error: cannot write {}",
            out.join("jobs/").display()
        )) && last.contains("No space left on device")
            && last.contains("free space and run the same command again")
            && !last.contains("jobs/.tmp"),
        "{last}"
    );
    // What is there is whole: the spec copy and job files that parse as their jobs.
    let kept = all_files(&out);
    assert!(!kept.is_empty());
    for file in &kept {
        let name = file.to_string_lossy();
        assert!(
            name == "spec.ron" || (name.starts_with("jobs/") && name.ends_with(".ron")),
            "{name} should not be there"
        );
        if name.starts_with("jobs/") {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(out.join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(
                mode & 0o777,
                0o644,
                "{name}: results are readable by others"
            );
            let text = std::fs::read_to_string(out.join(file)).unwrap();
            ron::from_str::<ralbench::run::JobResult>(&text)
                .unwrap_or_else(|e| panic!("{name} is not a whole job file: {e}"));
        }
    }
    let finished = kept.len() - 1;
    assert!(
        finished > 0 && finished < 20,
        "{finished} jobs before the disk filled"
    );
    assert!(!out.join(".lock").exists(), "the lock is released on error");

    // Space freed: the same command resumes and ends where an uninterrupted run ends.
    fs.remount("size=16m");
    let rerun = run(&out);
    let stderr = String::from_utf8_lossy(&rerun.stderr);
    assert!(rerun.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("{} jobs run, {finished} reused", 20 - finished)),
        "{stderr}"
    );
    let whole = tempfile::tempdir().unwrap();
    assert!(run(whole.path()).status.success());
    assert_eq!(
        common::result_files(&out),
        common::result_files(whole.path()),
        "resumed after a full disk = uninterrupted"
    );
}

#[test]
fn a_read_only_output_directory_is_named_before_any_work() {
    let Some(fs) = Tmpfs::mount("1m") else {
        return;
    };
    let existing = fs.path.join("out");
    std::fs::create_dir(&existing).unwrap();
    fs.remount("ro");
    for out in [existing.clone(), fs.path.join("new/out")] {
        let result = run(&out);
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("Read-only file system") && stderr.contains("choose a writable --out"),
            "{stderr}"
        );
        assert!(
            stderr.contains(&*fs.path.to_string_lossy()),
            "names the path: {stderr}"
        );
        assert!(
            !stderr.contains("digits"),
            "nothing ran before the refusal: {stderr}"
        );
    }
    assert!(all_files(&existing).is_empty());
}
