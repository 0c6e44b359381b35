//! Random sampling: uniform without replacement, the reference every strategy is measured against.
use super::{Strategy, random_n};
use crate::episode::{Episode, Task};
use rand_chacha::ChaCha20Rng;

/// Uniform random picks (no predictions needed).
pub struct Random;

impl Strategy for Random {
    fn pick(
        &mut self,
        _task: &Task,
        _ep: &Episode,
        candidates: &[usize],
        n: usize,
        rng: &mut ChaCha20Rng,
    ) -> Vec<usize> {
        random_n(candidates.len(), n, rng)
    }
}
