//! Query strategies (modAL 0.4.2 semantics), and the top-N batch rule.
//!
//! The score-based strategies turn a row of class probabilities into a score where larger means
//! "label me first". The batch is the N highest scores; ties are broken by a seeded shuffle of the
//! candidates followed by a stable sort, so equal scores are picked in an order fixed by the job's
//! RNG. k-center greedy works on embeddings instead (see [`k_center_greedy`]).
//!
//! ```
//! use ralbench::spec::StrategySpec;
//! let probs = [0.9, 0.1, 0.5, 0.5, 0.7, 0.3]; // three rows, two classes (f64)
//! let mut rng = ralbench::rng::stream(0, "doc");
//! let picked = ralbench::strategy::select(&StrategySpec::Margin, &probs, 2, 1, &mut rng);
//! assert_eq!(picked, vec![1]); // the row with the smallest margin
//! ```
//!
//! Every strategy is a [`Strategy`]: given the running [`Episode`] and its candidates, pick N. The
//! evaluation of every strategy runs [`run_episode`]; the learned strategies (crate::rl) implement
//! the same trait with a trained policy behind it.
//!
//! A new strategy is one file plus one spec variant: write `src/strategy/my_rule.rs` with a type
//! implementing [`Strategy`], add `MyRule` to [`StrategySpec`] (with its name), and return it from
//! [`for_spec`]. The smallest example is [`random::Random`].
pub mod k_center;
pub mod random;
pub mod uncertainty;

use crate::episode::{Episode, Task};
use crate::model::ModelError;
use crate::spec::StrategySpec;
pub use k_center::k_center_greedy;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha20Rng;

/// A query strategy: what to label next.
pub trait Strategy {
    /// Picks up to `n` of `candidates` (the episode's unlabelled rows) for the next step of `ep`;
    /// returns positions in `candidates`, first pick first.
    fn pick(
        &mut self,
        task: &Task,
        ep: &Episode,
        candidates: &[usize],
        n: usize,
        rng: &mut ChaCha20Rng,
    ) -> Vec<usize>;
}

/// The strategy object of a non-learned spec variant; None for DRAL and LAL-RL, whose policy is
/// trained first (crate::rl).
pub fn for_spec(spec: &StrategySpec) -> Option<Box<dyn Strategy>> {
    Some(match spec {
        StrategySpec::Random => Box::new(random::Random),
        StrategySpec::KCenterGreedy => Box::new(k_center::KCenter),
        StrategySpec::LeastConfident
        | StrategySpec::Margin
        | StrategySpec::Entropy
        | StrategySpec::AverageConfidence => Box::new(uncertainty::Uncertainty(spec.clone())),
        StrategySpec::Dral(_) | StrategySpec::LalRl(_) => return None,
    })
}

/// Runs `ep` to the budget with `strategy`: `on_step` sees the episode after its start and after
/// every step. This is every strategy's evaluation episode.
pub fn run_episode(
    task: &Task,
    strategy: &mut dyn Strategy,
    ep: &mut Episode,
    rng: &mut ChaCha20Rng,
    mut on_step: impl FnMut(&Episode),
) -> Result<(), ModelError> {
    on_step(ep);
    loop {
        let n = ep.to_buy(task);
        let candidates = ep.unlabelled();
        if n == 0 || candidates.is_empty() {
            return Ok(());
        }
        let picks = strategy.pick(task, ep, &candidates, n, rng);
        let chosen: Vec<usize> = picks.iter().map(|&p| candidates[p]).collect();
        ep.label(task, &chosen, rng)?;
        on_step(ep);
    }
}

/// Score of one probability row; larger is queried first.
pub fn score(strategy: &StrategySpec, row: &[f64]) -> f64 {
    match strategy {
        // Strategies that do not score probability rows: every candidate ties.
        StrategySpec::Random
        | StrategySpec::KCenterGreedy
        | StrategySpec::Dral(_)
        | StrategySpec::LalRl(_) => 0.0,
        // modAL's avg_confidence: the row mean, highest first. On softmax rows this is 1/K up to
        // rounding, so the pick is decided by rounding and the tie-break: it behaves like random.
        StrategySpec::AverageConfidence => row.iter().sum::<f64>() / row.len() as f64,
        StrategySpec::LeastConfident => 1.0 - max(row),
        StrategySpec::Margin => {
            // modAL: margin = p(1st) - p(2nd), smallest first; a single column has margin 0.
            let (first, second) = top_two(row);
            -(first - second.unwrap_or(first))
        }
        StrategySpec::Entropy => -row
            .iter()
            .copied()
            .filter(|&p| p > 0.0)
            .map(|p| p * p.ln())
            .sum::<f64>(),
    }
}

/// Picks `n` of the `probs.len() / n_classes` candidate rows by a score-based strategy; returns
/// their row positions in selection order (best first). k-center uses [`k_center_greedy`].
pub fn select(
    strategy: &StrategySpec,
    probs: &[f64],
    n_classes: usize,
    n: usize,
    rng: &mut ChaCha20Rng,
) -> Vec<usize> {
    assert!(n_classes > 0 && probs.len().is_multiple_of(n_classes));
    debug_assert!(
        !strategy.needs_embeddings(),
        "{strategy:?} needs embeddings"
    );
    if *strategy == StrategySpec::Random {
        return random_n(probs.len() / n_classes, n, rng);
    }
    let scores: Vec<f64> = probs
        .chunks_exact(n_classes)
        .map(|row| score(strategy, row))
        .collect();
    top_n(&scores, n, rng)
}

/// `n` of `len` positions uniformly without replacement: exactly what [`top_n`] returns when every
/// score ties (the same shuffle, then the first `n`), without the ranking work.
pub fn random_n(len: usize, n: usize, rng: &mut ChaCha20Rng) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.shuffle(rng);
    order.truncate(n);
    order
}

/// The `n` positions with the largest scores; ties in a seeded random order.
///
/// The rule is "shuffle with the job's stream, then stable-sort by score, highest first". A stable
/// sort of the shuffled order is the same as sorting by (score descending, shuffled position), a
/// total order, so a linear-time selection of the first `n` followed by sorting only those gives
/// the same picks in the same order without sorting the whole pool.
pub fn top_n(scores: &[f64], n: usize, rng: &mut ChaCha20Rng) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.shuffle(rng);
    let n = n.min(order.len());
    if n == 0 {
        return vec![];
    }
    let mut keyed: Vec<(usize, usize)> = order.into_iter().enumerate().collect();
    let rank = |a: &(usize, usize), b: &(usize, usize)| {
        scores[b.1].total_cmp(&scores[a.1]).then(a.0.cmp(&b.0))
    };
    if n < keyed.len() {
        keyed.select_nth_unstable_by(n - 1, rank);
        keyed.truncate(n);
    }
    keyed.sort_unstable_by(rank);
    keyed.into_iter().map(|(_, row)| row).collect()
}

fn max(row: &[f64]) -> f64 {
    row.iter().fold(f64::NEG_INFINITY, |m, &p| m.max(p))
}

fn top_two(row: &[f64]) -> (f64, Option<f64>) {
    let mut first = f64::NEG_INFINITY;
    let mut second = None::<f64>;
    for &p in row {
        if p > first {
            if first.is_finite() {
                second = Some(first);
            }
            first = p;
        } else if second.is_none_or(|s| p > s) {
            second = Some(p);
        }
    }
    (first, second)
}

#[cfg(test)]
mod tests {
    use super::*;
    use StrategySpec::*;

    fn rng() -> ChaCha20Rng {
        crate::rng::stream(0, "strategy-test")
    }

    #[test]
    fn scores_match_hand_computed_values() {
        let row = [0.5, 0.3, 0.2];
        assert!((score(&LeastConfident, &row) - 0.5).abs() < 1e-7);
        assert!((score(&Margin, &row) + 0.2).abs() < 1e-7);
        let h = -(0.5f64 * 0.5f64.ln() + 0.3f64 * 0.3f64.ln() + 0.2f64 * 0.2f64.ln());
        assert!((score(&Entropy, &row) - h).abs() < 1e-6);
        // A zero probability contributes 0 to the entropy, not NaN.
        assert_eq!(score(&Entropy, &[1.0, 0.0]), 0.0);
        // Duplicated maximum: margin 0.
        assert_eq!(score(&Margin, &[0.4, 0.4, 0.2]), 0.0);
        // A single column has margin 0 (modAL).
        assert_eq!(score(&Margin, &[1.0]), 0.0);
    }

    #[test]
    fn picks_follow_each_definition() {
        // Rows: confident, very uncertain, medium.
        let p = [0.95, 0.05, 0.0, 0.34, 0.33, 0.33, 0.6, 0.3, 0.1];
        for s in [LeastConfident, Margin, Entropy] {
            assert_eq!(select(&s, &p, 3, 3, &mut rng()), vec![1, 2, 0], "{s:?}");
        }
    }

    #[test]
    fn ties_are_broken_by_the_seed_and_repeat() {
        let scores = [1.0, 0.0, 1.0, 1.0, 0.0, 1.0];
        let a = top_n(&scores, 4, &mut crate::rng::stream(0, "t"));
        assert_eq!(a, top_n(&scores, 4, &mut crate::rng::stream(0, "t")));
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![0, 2, 3, 5]);
        // Some seed orders the tied four differently.
        assert!((1..20).any(|s| top_n(&scores, 4, &mut crate::rng::stream(s, "t")) != a));
    }

    #[test]
    fn random_returns_distinct_rows_and_depends_on_the_seed() {
        let p = vec![0.5; 200];
        let a = select(&Random, &p, 2, 10, &mut rng());
        let mut d = a.clone();
        d.sort_unstable();
        d.dedup();
        assert_eq!(d.len(), 10);
        assert_ne!(
            a,
            select(&Random, &p, 2, 10, &mut crate::rng::stream(9, "x"))
        );
    }

    #[test]
    fn average_confidence_scores_the_row_mean() {
        assert!((score(&AverageConfidence, &[0.2, 0.3, 0.1]) - 0.2).abs() < 1e-7);
        // Rows that sum to 1 all score 1/K up to f32 rounding: nothing but noise tells them apart.
        let p = [0.5f32, 0.5, 0.9, 0.1, 0.25, 0.75].map(f64::from);
        let scores: Vec<f64> = p.chunks(2).map(|r| score(&AverageConfidence, r)).collect();
        assert!(scores.iter().all(|&s| (s - 0.5).abs() < 1e-7), "{scores:?}");
    }

    #[test]
    fn k_center_picks_the_farthest_point_then_updates() {
        use tch::Tensor;
        // Candidates on a line at 0, 1, 5, 10; labelled at 0.
        let cand = Tensor::from_slice(&[0.0f32, 1.0, 5.0, 10.0]).view([4, 1]);
        let lab = Tensor::from_slice(&[0.0f32]).view([1, 1]);
        // 10 is farthest from {0}; then 5 (distance 5 from both 0 and 10); then 1.
        assert_eq!(k_center_greedy(&cand, &lab, 3, &mut rng()), vec![3, 2, 1]);
        // Never more than there is, never twice.
        assert_eq!(k_center_greedy(&cand, &lab, 9, &mut rng()).len(), 4);
        // Nothing labelled: a seeded first pick, then the farthest from it.
        let none = Tensor::zeros([0, 1], (tch::Kind::Float, tch::Device::Cpu));
        let a = k_center_greedy(&cand, &none, 2, &mut crate::rng::stream(1, "k"));
        assert_eq!(
            a,
            k_center_greedy(&cand, &none, 2, &mut crate::rng::stream(1, "k"))
        );
        assert_ne!(a[0], a[1]);
    }

    #[test]
    fn selection_equals_the_documented_shuffle_then_stable_sort() {
        for seed in 0..50 {
            let mut r = crate::rng::stream(seed, "scores");
            // Coarse scores: many ties.
            let scores: Vec<f64> = (0..300)
                .map(|_| (rand::Rng::random_range(&mut r, 0..7)) as f64)
                .collect();
            for n in [0, 1, 5, 64, 299, 300, 400] {
                let mut order: Vec<usize> = (0..scores.len()).collect();
                order.shuffle(&mut crate::rng::stream(seed, "t"));
                order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
                order.truncate(n);
                assert_eq!(top_n(&scores, n, &mut crate::rng::stream(seed, "t")), order);
            }
        }
    }

    #[test]
    fn random_n_is_top_n_on_tied_scores() {
        for n in [0, 3, 50, 80] {
            assert_eq!(
                random_n(50, n, &mut crate::rng::stream(4, "r")),
                top_n(&[0.0; 50], n, &mut crate::rng::stream(4, "r"))
            );
        }
    }

    #[test]
    fn asking_for_more_than_there_is_returns_everything() {
        assert_eq!(top_n(&[0.1, 0.2], 5, &mut rng()), vec![1, 0]);
    }
}
