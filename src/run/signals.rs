//! SIGINT and SIGTERM (Slurm sends SIGTERM before it kills a job at its time limit): the first
//! asks the run to stop at the next safe point (no new job starts; jobs already running finish
//! and are written), the second ends the process at once with 128 + the signal's number.
use std::sync::atomic::{AtomicI32, Ordering};

/// The first signal received, 0 for none.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    // Only async-signal-safe work here: an atomic swap, and _exit on the second signal.
    if RECEIVED.swap(signal, Ordering::SeqCst) != 0 {
        // SAFETY: _exit is async-signal-safe and ends the process without running destructors.
        unsafe { libc::_exit(128 + signal) };
    }
}

/// Installs the handlers (`bench run` does, before any job starts).
pub fn install() {
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only touches an atomic and calls _exit.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}

/// The signal that asked the run to stop, if one did.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// A run stopped by a signal after its running jobs finished.
#[derive(Debug, thiserror::Error)]
#[error(
    "interrupted by {name}: {finished} of {total} jobs are finished and kept in {out}; run the same command again to resume"
)]
pub struct Interrupted {
    /// The signal's number.
    pub signal: i32,
    /// Its name.
    pub name: &'static str,
    /// Jobs with a result file now.
    pub finished: usize,
    /// Jobs of the run (or shard).
    pub total: usize,
    /// Output directory.
    pub out: String,
}

/// The name of `signal`.
pub fn name(signal: i32) -> &'static str {
    match signal {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}
