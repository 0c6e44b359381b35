//! Seeded, stratified splits of a dataset into pool (D_T), reward hold-out (D_R), state set (D_s)
//! and test set.
//!
//! The split depends only on the seed and the split fractions, so every strategy of one seed sees
//! the same sets.
use crate::spec::SplitSpec;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha20Rng;

/// Row indices of each part, each sorted ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// The unlabelled pool the strategies query from.
    pub pool: Vec<usize>,
    /// The reward hold-out set D_R.
    pub holdout: Vec<usize>,
    /// The set-aside state set D_s.
    pub state: Vec<usize>,
    /// The test set accuracy is reported on.
    pub test: Vec<usize>,
}

/// Splits rows per class: each class gives round(fraction x class size) rows to test, hold-out and
/// state (in that order, each capped by what is left); the rest goes to the pool.
pub fn stratified(labels: &[i64], spec: SplitSpec, rng: &mut ChaCha20Rng) -> Split {
    let n_classes = labels.iter().max().map_or(0, |&m| m as usize + 1);
    let mut split = Split {
        pool: vec![],
        holdout: vec![],
        state: vec![],
        test: vec![],
    };
    for k in 0..n_classes {
        let mut rows: Vec<usize> = (0..labels.len())
            .filter(|&i| labels[i] == k as i64)
            .collect();
        rows.shuffle(rng);
        let n = rows.len() as f64;
        let mut rest = &rows[..];
        for (fraction, part) in [
            (spec.test, &mut split.test),
            (spec.holdout, &mut split.holdout),
            (spec.state, &mut split.state),
        ] {
            let take = ((fraction * n).round() as usize).min(rest.len());
            part.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
        }
        split.pool.extend_from_slice(rest);
    }
    for part in [
        &mut split.pool,
        &mut split.holdout,
        &mut split.state,
        &mut split.test,
    ] {
        part.sort_unstable();
    }
    split
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_disjoint_cover_everything_and_keep_class_balance() {
        let labels: Vec<i64> = (0..1000).map(|i| (i % 4) as i64).collect();
        let spec = SplitSpec {
            holdout: 0.1,
            state: 0.05,
            test: 0.2,
        };
        let s = stratified(&labels, spec, &mut crate::rng::stream(3, "split"));
        let mut all: Vec<usize> = [&s.pool[..], &s.holdout[..], &s.state[..], &s.test[..]].concat();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        // 250 per class: 50 test, 25 hold-out, round(12.5) = 13 state.
        assert_eq!(
            (s.test.len(), s.holdout.len(), s.state.len(), s.pool.len()),
            (200, 100, 52, 648)
        );
        for k in 0..4 {
            assert_eq!(s.test.iter().filter(|&&i| labels[i] == k).count(), 50);
        }
    }

    #[test]
    fn same_seed_same_split_other_seed_other_split() {
        let labels: Vec<i64> = (0..300).map(|i| (i % 3) as i64).collect();
        let spec = SplitSpec {
            holdout: 0.2,
            state: 0.0,
            test: 0.2,
        };
        let a = stratified(&labels, spec, &mut crate::rng::stream(0, "split"));
        let b = stratified(&labels, spec, &mut crate::rng::stream(0, "split"));
        let c = stratified(&labels, spec, &mut crate::rng::stream(1, "split"));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
