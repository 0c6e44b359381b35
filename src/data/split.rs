//! Seeded, stratified splits of a dataset into pool (D_T), hold-out (D_R) and test sets.
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
    /// The test set accuracy is reported on.
    pub test: Vec<usize>,
}

/// Splits rows per class: each class contributes round(fraction x class size) rows to hold-out and test.
pub fn stratified(labels: &[i64], spec: SplitSpec, rng: &mut ChaCha20Rng) -> Split {
    let n_classes = labels.iter().max().map_or(0, |&m| m as usize + 1);
    let mut split = Split {
        pool: vec![],
        holdout: vec![],
        test: vec![],
    };
    for k in 0..n_classes {
        let mut rows: Vec<usize> = (0..labels.len())
            .filter(|&i| labels[i] == k as i64)
            .collect();
        rows.shuffle(rng);
        let n = rows.len() as f64;
        let n_test = (spec.test * n).round() as usize;
        let n_holdout = ((spec.holdout * n).round() as usize).min(rows.len() - n_test);
        split.test.extend_from_slice(&rows[..n_test]);
        split
            .holdout
            .extend_from_slice(&rows[n_test..n_test + n_holdout]);
        split.pool.extend_from_slice(&rows[n_test + n_holdout..]);
    }
    split.pool.sort_unstable();
    split.holdout.sort_unstable();
    split.test.sort_unstable();
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
            test: 0.2,
        };
        let s = stratified(&labels, spec, &mut crate::rng::stream(3, "split"));
        let mut all: Vec<usize> = [&s.pool[..], &s.holdout[..], &s.test[..]].concat();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        assert_eq!(
            (s.test.len(), s.holdout.len(), s.pool.len()),
            (200, 100, 700)
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
            test: 0.2,
        };
        let a = stratified(&labels, spec, &mut crate::rng::stream(0, "split"));
        let b = stratified(&labels, spec, &mut crate::rng::stream(0, "split"));
        let c = stratified(&labels, spec, &mut crate::rng::stream(1, "split"));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
