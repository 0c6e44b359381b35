//! The score-based strategies of modAL (least confident, margin, entropy, average confidence):
//! the classifier's probabilities on each candidate become a score, the N best are labelled
//! ([`super::score`], [`super::select`]).
use super::{Strategy, select};
use crate::episode::{Episode, Task};
use crate::spec::StrategySpec;
use rand_chacha::ChaCha20Rng;
use tch::Device;

/// A score-based strategy (the spec variant says which score).
pub struct Uncertainty(pub StrategySpec);

impl Strategy for Uncertainty {
    fn pick(
        &mut self,
        task: &Task,
        ep: &Episode,
        candidates: &[usize],
        n: usize,
        rng: &mut ChaCha20Rng,
    ) -> Vec<usize> {
        let x = task.x_rows(candidates);
        let p = task.timed(|| ep.model.predict_proba(&x).to_device(Device::Cpu));
        let probs = Vec::<f64>::try_from(p.view([-1]).to_kind(tch::Kind::Double))
            .expect("probabilities to f64");
        select(&self.0, &probs, task.n_classes, n, rng)
    }
}
