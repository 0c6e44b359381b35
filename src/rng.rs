//! The one way to get randomness: a ChaCha20 stream keyed by (spec seed, purpose).
//!
//! `purpose` is a job id for a job's own draws, or a name such as `split/...` for draws that must
//! be shared by every job of one seed (the data split, the initial labelled set). Nothing in the
//! crate uses a global or time-based RNG.
//!
//! ```
//! use rand::RngCore;
//! let mut a = ralbench::rng::stream(0, "job-1");
//! let mut b = ralbench::rng::stream(0, "job-1");
//! assert_eq!(a.next_u64(), b.next_u64());
//! ```
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

/// A deterministic ChaCha20 stream for `(seed, purpose)`.
pub fn stream(seed: u64, purpose: &str) -> ChaCha20Rng {
    let mut h = Sha256::new();
    h.update(b"ralbench/rng/v1\0");
    h.update(seed.to_le_bytes());
    h.update(purpose.as_bytes());
    ChaCha20Rng::from_seed(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    #[test]
    fn purposes_and_seeds_give_different_streams() {
        let a = stream(1, "x").next_u64();
        assert_ne!(a, stream(2, "x").next_u64());
        assert_ne!(a, stream(1, "y").next_u64());
        assert_eq!(a, stream(1, "x").next_u64());
    }
}
