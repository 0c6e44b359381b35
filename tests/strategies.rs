//! Properties every strategy must keep, over random probability matrices and embeddings.
use proptest::prelude::*;
use ralbench::spec::StrategySpec;
use ralbench::strategy;

/// A random row-stochastic matrix: `rows` x `k`, each row normalised.
fn prob_matrix() -> impl Strategy<Value = (Vec<f64>, usize, usize)> {
    (1usize..40, 2usize..6).prop_flat_map(|(rows, k)| {
        prop::collection::vec(0.0f64..1.0, rows * k).prop_map(move |raw| {
            let mut m = raw;
            for row in m.chunks_mut(k) {
                let s: f64 = row.iter().sum::<f64>() + 1e-12;
                row.iter_mut().for_each(|v| *v /= s);
            }
            (m, rows, k)
        })
    })
}

fn margin(row: &[f64]) -> f64 {
    let mut r = row.to_vec();
    r.sort_by(|a, b| b.total_cmp(a));
    r[0] - r[1]
}

fn entropy(row: &[f64]) -> f64 {
    -row.iter()
        .filter(|&&p| p > 0.0)
        .map(|p| p * p.ln())
        .sum::<f64>()
}

proptest! {
    #[test]
    fn top_n_returns_n_distinct_rows((m, rows, k) in prob_matrix(), n in 0usize..50, seed in 0u64..1000) {
        for s in [StrategySpec::LeastConfident, StrategySpec::Margin, StrategySpec::Entropy, StrategySpec::AverageConfidence] {
            let picks = strategy::select(&s, &m, k, n, &mut ralbench::rng::stream(seed, "p"));
            prop_assert_eq!(picks.len(), n.min(rows));
            let mut d = picks.clone();
            d.sort_unstable();
            d.dedup();
            prop_assert_eq!(d.len(), picks.len());
            prop_assert!(picks.iter().all(|&p| p < rows));
        }
    }

    #[test]
    fn margin_picks_the_smallest_margin((m, rows, k) in prob_matrix(), seed in 0u64..1000) {
        let first = strategy::select(&StrategySpec::Margin, &m, k, 1, &mut ralbench::rng::stream(seed, "p"))[0];
        let best = (0..rows).map(|r| margin(&m[r * k..(r + 1) * k])).fold(f64::INFINITY, f64::min);
        prop_assert!(margin(&m[first * k..(first + 1) * k]) <= best + 1e-12);
    }

    #[test]
    fn entropy_picks_the_largest_entropy((m, rows, k) in prob_matrix(), seed in 0u64..1000) {
        let first = strategy::select(&StrategySpec::Entropy, &m, k, 1, &mut ralbench::rng::stream(seed, "p"))[0];
        let best = (0..rows).map(|r| entropy(&m[r * k..(r + 1) * k])).fold(f64::NEG_INFINITY, f64::max);
        prop_assert!(entropy(&m[first * k..(first + 1) * k]) >= best - 1e-12);
    }

    #[test]
    fn selection_order_follows_the_scores((m, _rows, k) in prob_matrix(), n in 1usize..20, seed in 0u64..1000) {
        let picks = strategy::select(&StrategySpec::LeastConfident, &m, k, n, &mut ralbench::rng::stream(seed, "p"));
        let s: Vec<f64> = picks.iter().map(|&p| strategy::score(&StrategySpec::LeastConfident, &m[p * k..(p + 1) * k])).collect();
        prop_assert!(s.windows(2).all(|w| w[0] >= w[1]));
    }

    #[test]
    fn k_center_never_picks_a_labelled_point(
        points in prop::collection::vec(-10.0f32..10.0, 2 * 30),
        labelled_mask in prop::collection::vec(any::<bool>(), 30),
        n in 1usize..40,
        seed in 0u64..1000,
    ) {
        let all = tch::Tensor::from_slice(&points).view([30, 2]);
        let cand: Vec<i64> = (0..30).filter(|&i| !labelled_mask[i]).map(|i| i as i64).collect();
        let lab: Vec<i64> = (0..30).filter(|&i| labelled_mask[i]).map(|i| i as i64).collect();
        let take = |idx: &[i64]| all.index_select(0, &tch::Tensor::from_slice(idx));
        let picks = strategy::k_center_greedy(&take(&cand), &take(&lab), n, &mut ralbench::rng::stream(seed, "k"));
        prop_assert_eq!(picks.len(), n.min(cand.len()));
        let mut d = picks.clone();
        d.sort_unstable();
        d.dedup();
        prop_assert_eq!(d.len(), picks.len());
        prop_assert!(picks.iter().all(|&p| p < cand.len()));
        // Farthest first: the first pick is at least as far from the labelled set as any candidate.
        if !lab.is_empty() && !cand.is_empty() {
            let dist = |i: i64| {
                lab.iter()
                    .map(|&j| {
                        let (a, b) = (&points[2 * i as usize..2 * i as usize + 2], &points[2 * j as usize..2 * j as usize + 2]);
                        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
                    })
                    .fold(f32::INFINITY, f32::min)
            };
            let first = dist(cand[picks[0]]);
            prop_assert!(cand.iter().all(|&c| dist(c) <= first + 1e-4));
        }
    }
}
