//! Query strategies on a probability matrix (modAL 0.4.2 semantics), and the top-N batch rule.
//!
//! Each strategy turns a row of class probabilities into a score where larger means "label me
//! first". The batch is the N highest scores; ties are broken by a seeded shuffle of the candidates
//! followed by a stable sort, so equal scores are picked in an order fixed by the job's RNG.
//!
//! ```
//! use ralbench::spec::StrategySpec;
//! let probs = [0.9, 0.1, 0.5, 0.5, 0.7, 0.3]; // three rows, two classes
//! let mut rng = ralbench::rng::stream(0, "doc");
//! let picked = ralbench::strategy::select(StrategySpec::Margin, &probs, 2, 1, &mut rng);
//! assert_eq!(picked, vec![1]); // the row with the smallest margin
//! ```
use crate::spec::StrategySpec;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha20Rng;

/// Score of one probability row; larger is queried first.
pub fn score(strategy: StrategySpec, row: &[f32]) -> f64 {
    match strategy {
        StrategySpec::Random => 0.0,
        StrategySpec::LeastConfident => 1.0 - max(row),
        StrategySpec::Margin => {
            // modAL: margin = p(1st) - p(2nd), smallest first; a single column has margin 0.
            let (first, second) = top_two(row);
            -(first - second.unwrap_or(first))
        }
        StrategySpec::Entropy => -row
            .iter()
            .map(|&p| p as f64)
            .filter(|&p| p > 0.0)
            .map(|p| p * p.ln())
            .sum::<f64>(),
    }
}

/// Picks `n` of the `probs.len() / n_classes` candidate rows; returns their row positions in
/// selection order (best first).
pub fn select(
    strategy: StrategySpec,
    probs: &[f32],
    n_classes: usize,
    n: usize,
    rng: &mut ChaCha20Rng,
) -> Vec<usize> {
    assert!(n_classes > 0 && probs.len().is_multiple_of(n_classes));
    let scores: Vec<f64> = probs
        .chunks_exact(n_classes)
        .map(|row| score(strategy, row))
        .collect();
    top_n(&scores, n, rng)
}

/// The `n` positions with the largest scores; ties in a seeded random order.
pub fn top_n(scores: &[f64], n: usize, rng: &mut ChaCha20Rng) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.shuffle(rng);
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    order.truncate(n);
    order
}

fn max(row: &[f32]) -> f64 {
    row.iter().fold(f64::NEG_INFINITY, |m, &p| m.max(p as f64))
}

fn top_two(row: &[f32]) -> (f64, Option<f64>) {
    let mut first = f64::NEG_INFINITY;
    let mut second = None::<f64>;
    for &p in row {
        let p = p as f64;
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
        let row = [0.5f32, 0.3, 0.2];
        assert!((score(LeastConfident, &row) - 0.5).abs() < 1e-7);
        assert!((score(Margin, &row) + 0.2).abs() < 1e-7);
        let h = -(0.5f64 * 0.5f64.ln() + 0.3f64 * 0.3f64.ln() + 0.2f64 * 0.2f64.ln());
        assert!((score(Entropy, &row) - h).abs() < 1e-6);
        // A zero probability contributes 0 to the entropy, not NaN.
        assert_eq!(score(Entropy, &[1.0, 0.0]), 0.0);
        // Duplicated maximum: margin 0.
        assert_eq!(score(Margin, &[0.4, 0.4, 0.2]), 0.0);
        // A single column has margin 0 (modAL).
        assert_eq!(score(Margin, &[1.0]), 0.0);
    }

    #[test]
    fn picks_follow_each_definition() {
        // Rows: confident, very uncertain, medium.
        let p = [0.95f32, 0.05, 0.0, 0.34, 0.33, 0.33, 0.6, 0.3, 0.1];
        for s in [LeastConfident, Margin, Entropy] {
            assert_eq!(select(s, &p, 3, 3, &mut rng()), vec![1, 2, 0], "{s:?}");
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
        let p = vec![0.5f32; 200];
        let a = select(Random, &p, 2, 10, &mut rng());
        let mut d = a.clone();
        d.sort_unstable();
        d.dedup();
        assert_eq!(d.len(), 10);
        assert_ne!(
            a,
            select(Random, &p, 2, 10, &mut crate::rng::stream(9, "x"))
        );
    }

    #[test]
    fn asking_for_more_than_there_is_returns_everything() {
        assert_eq!(top_n(&[0.1, 0.2], 5, &mut rng()), vec![1, 0]);
    }
}
