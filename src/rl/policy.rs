//! A trained policy as a query strategy: observe the episode as training did, score every
//! candidate with the Q-network, label the top N (Eq. 3).
use super::features::Features;
use super::qnet::QNet;
use super::train::greedy;
use crate::episode::{Episode, Task};
use crate::strategy::Strategy;
use rand_chacha::ChaCha20Rng;

/// The greedy policy of a learned strategy.
pub struct Learned<'a> {
    /// The trained Q-network.
    pub q: &'a QNet,
    /// How the episode becomes an observation.
    pub features: Features<'a>,
    /// The D_s rows of this episode's state.
    pub state_rows: Vec<usize>,
}

impl Strategy for Learned<'_> {
    fn pick(
        &mut self,
        task: &Task,
        ep: &Episode,
        candidates: &[usize],
        n: usize,
        rng: &mut ChaCha20Rng,
    ) -> Vec<usize> {
        let obs = self
            .features
            .observe(task, ep, &self.state_rows, candidates);
        let q = task.timed(|| tch::no_grad(|| self.q.q_one(&obs.state, &obs.actions)));
        greedy(&q, n, rng)
    }
}
