//! The statistics of a run, as plain functions of numbers: mean and interval over seeds, the area
//! under a learning curve and label efficiency, paired tests (t and exact Wilcoxon signed-rank),
//! Holm's correction, the seed count a paired t-test needs, Welch's two-sample test, average
//! ranks with Friedman's test, and the Nemenyi critical difference.
//!
//! Distributions (Student's t, normal, chi-square) come from `statrs`; the exact Wilcoxon
//! distribution is counted, and the power and studentized-range values are integrals of `statrs`
//! densities and distribution functions. Definitions follow `scipy.stats` where it has the test
//! (tests/data/stats_reference.py writes the values the tests compare with).
use crate::spec::IntervalKind;
use statrs::distribution::{ChiSquared, Continuous, ContinuousCDF, Normal, StudentsT};

/// Mean and interval of `values` (the interval is None for a single value). Bootstrap draws from
/// a fixed stream keyed by `key`, so it is as deterministic as everything else.
pub fn mean_interval(values: &[f64], kind: IntervalKind, key: &str) -> (f64, Option<f64>) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, None);
    }
    let std = std_dev(values);
    let interval = match kind {
        IntervalKind::Std => std,
        IntervalKind::StdErr => std / n.sqrt(),
        IntervalKind::Bootstrap => {
            use rand::Rng;
            let mut rng = crate::rng::stream(0, &format!("bootstrap/{key}"));
            let mut means: Vec<f64> = (0..2000)
                .map(|_| {
                    (0..values.len())
                        .map(|_| values[rng.random_range(0..values.len())])
                        .sum::<f64>()
                        / n
                })
                .collect();
            means.sort_by(f64::total_cmp);
            let q = |p: f64| means[((means.len() - 1) as f64 * p).round() as usize];
            (q(0.84) - q(0.16)) / 2.0
        }
    };
    (mean, Some(interval))
}

/// Mean of `values` (NaN when empty).
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Sample standard deviation (n - 1); NaN for fewer than 2 values.
pub fn std_dev(values: &[f64]) -> f64 {
    let m = mean(values);
    let n = values.len() as f64;
    (values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

/// Area under the learning curve `(labels, value)` (sorted by labels) from its first to its last
/// point by the trapezoid rule, divided by the label range: a value in [0, 1] for a metric in
/// [0, 1], the mean height of the curve. A single point is its own value.
pub fn aulc(curve: &[(f64, f64)]) -> f64 {
    match curve {
        [] => f64::NAN,
        [(_, v)] => *v,
        _ => {
            let area: f64 = curve
                .windows(2)
                .map(|w| (w[1].0 - w[0].0) * (w[0].1 + w[1].1) / 2.0)
                .sum();
            area / (curve[curve.len() - 1].0 - curve[0].0)
        }
    }
}

/// The labels at which the curve `(labels, value)` (sorted by labels) first reaches `target`,
/// linearly interpolated between recorded points; None when it never does.
pub fn labels_to_reach(curve: &[(f64, f64)], target: f64) -> Option<f64> {
    let first = curve.first()?;
    if first.1 >= target {
        return Some(first.0);
    }
    curve.windows(2).find_map(|w| {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        (y1 >= target).then(|| x0 + (x1 - x0) * (target - y0) / (y1 - y0))
    })
}

/// A paired test's outcome.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TestResult {
    /// The statistic: t for the t-test, min(R+, R-) for Wilcoxon (as scipy reports them).
    pub statistic: f64,
    /// Two-sided p-value.
    pub p: f64,
}

/// Paired t-test of differences `d` (scipy's `ttest_rel(a, b)` with d = a - b): None for fewer
/// than 2 differences or when they are all equal (no spread to test against).
pub fn paired_t(d: &[f64]) -> Option<TestResult> {
    let n = d.len();
    if n < 2 {
        return None;
    }
    if d.iter().all(|x| *x == d[0]) {
        return None;
    }
    let sd = std_dev(d);
    let t = mean(d) / (sd / (n as f64).sqrt());
    let dist = StudentsT::new(0.0, 1.0, (n - 1) as f64).expect("df >= 1");
    Some(TestResult {
        statistic: t,
        p: (2.0 * dist.sf(t.abs())).min(1.0),
    })
}

/// Ranks of `values` from 1 (smallest), ties given their average rank.
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = rank;
        }
        i = j + 1;
    }
    ranks
}

/// The number of sign assignments of ranks 1..=n whose positive ranks sum to each total
/// 0..=n(n+1)/2 (the exact null distribution of R+, times 2^n).
fn signed_rank_counts(n: usize) -> Vec<f64> {
    let max = n * (n + 1) / 2;
    let mut counts = vec![0.0f64; max + 1];
    counts[0] = 1.0;
    for r in 1..=n {
        for s in (r..=max).rev() {
            counts[s] += counts[s - r];
        }
    }
    counts
}

/// The smallest two-sided p-value the exact Wilcoxon signed-rank test can give on `n` nonzero
/// differences (all of one sign): 2 / 2^n.
pub fn wilcoxon_min_p(n: usize) -> f64 {
    (2.0 / 2f64.powi(n as i32)).min(1.0)
}

/// Largest `n` for which [`wilcoxon_exact`] counts the distribution (as the issue asks, n <= 25
/// at least; counting is exact in f64 up to n = 49).
pub const WILCOXON_EXACT_MAX: usize = 49;

/// Exact two-sided Wilcoxon signed-rank test of differences `d`, as scipy's
/// `wilcoxon(a, b, method="exact")`: zero differences dropped, tied |d| given average ranks,
/// R+ rounded outward when ties make it non-integral (conservative), p = 2 min(P(R+ >= floor),
/// P(R+ <= ceil)) under the untied distribution, capped at 1. None when no nonzero difference is
/// left or more than [`WILCOXON_EXACT_MAX`] are.
pub fn wilcoxon_exact(d: &[f64]) -> Option<TestResult> {
    let nonzero: Vec<f64> = d.iter().copied().filter(|&x| x != 0.0).collect();
    let n = nonzero.len();
    if n == 0 || n > WILCOXON_EXACT_MAX {
        return None;
    }
    let abs: Vec<f64> = nonzero.iter().map(|x| x.abs()).collect();
    let ranks = average_ranks(&abs);
    let r_plus: f64 = nonzero
        .iter()
        .zip(&ranks)
        .filter(|(x, _)| **x > 0.0)
        .map(|(_, r)| r)
        .sum();
    let r_minus: f64 = nonzero
        .iter()
        .zip(&ranks)
        .filter(|(x, _)| **x < 0.0)
        .map(|(_, r)| r)
        .sum();
    let counts = signed_rank_counts(n);
    let total = 2f64.powi(n as i32);
    let lo = r_plus.floor() as usize;
    let hi = (r_plus.ceil() as usize).min(counts.len() - 1);
    let sf: f64 = counts[lo..].iter().sum::<f64>() / total;
    let cdf: f64 = counts[..=hi].iter().sum::<f64>() / total;
    Some(TestResult {
        // + 0.0: an empty sum is -0.0.
        statistic: r_plus.min(r_minus) + 0.0,
        p: (2.0 * sf.min(cdf)).min(1.0),
    })
}

/// Holm's step-down adjustment of `p` (same order out as in): the i-th smallest p times
/// (m - i + 1), made monotone and capped at 1. NaN entries (no test) are left out of m and kept.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let m = idx.len();
    let mut out = p.to_vec();
    let mut running = 0.0f64;
    for (rank, &i) in idx.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        out[i] = running;
    }
    out
}

/// The integral of `f` over [a, b] by composite Simpson with `2 m` intervals.
fn simpson(a: f64, b: f64, m: usize, f: impl Fn(f64) -> f64) -> f64 {
    let n = 2 * m;
    let h = (b - a) / n as f64;
    let mut s = f(a) + f(b);
    for i in 1..n {
        let w = if i % 2 == 1 { 4.0 } else { 2.0 };
        s += w * f(a + i as f64 * h);
    }
    s * h / 3.0
}

/// Power of the two-sided paired t-test at level `alpha` on `n` pairs whose differences have
/// standardised mean `effect` (mean / sd): P(|T| > t_crit) for T noncentral t with n - 1 degrees
/// of freedom and noncentrality effect sqrt(n), integrated over the chi-square of the variance
/// (T = (Z + delta) / sqrt(V / df)).
pub fn paired_t_power(effect: f64, n: usize, alpha: f64) -> f64 {
    if n < 2 {
        return f64::NAN;
    }
    let df = (n - 1) as f64;
    let crit = StudentsT::new(0.0, 1.0, df)
        .expect("df >= 1")
        .inverse_cdf(1.0 - alpha / 2.0);
    let delta = effect * (n as f64).sqrt();
    let z = Normal::new(0.0, 1.0).expect("standard normal");
    let chi = ChiSquared::new(df).expect("df >= 1");
    // Integrate over w = sqrt(V): the chi-square density times 2w is finite at 0 for every df,
    // and beyond the upper limit the density is negligible.
    let upper = (df + 12.0 * (2.0 * df).sqrt() + 40.0).sqrt();
    simpson(0.0, upper, 1000, |w| {
        if w == 0.0 {
            // The limit of 2 w f(w^2) at 0: 2 / sqrt(2 pi) for df = 1, 0 above.
            return if df == 1.0 {
                2.0 / (2.0 * std::f64::consts::PI).sqrt() * (z.sf(-delta) + z.cdf(-delta))
            } else {
                0.0
            };
        }
        let v = w * w;
        let c = crit * (v / df).sqrt();
        // ln_pdf: the density itself overflows at a few hundred degrees of freedom.
        2.0 * w * chi.ln_pdf(v).exp() * (z.sf(c - delta) + z.cdf(-c - delta))
    })
}

/// What [`seeds_for_power`] found.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum SeedsNeeded {
    /// This many pairs reach the power.
    Seeds(usize),
    /// The differences have no mean (or no spread): no seed count helps or is needed.
    NoEffect,
    /// More than the search's limit.
    MoreThan(usize),
}

/// The smallest number of seeds (pairs) at which a two-sided paired t-test at level `alpha`
/// detects a standardised mean difference `effect` with probability `power`.
pub fn seeds_for_power(effect: f64, alpha: f64, power: f64) -> SeedsNeeded {
    const LIMIT: usize = 10_000;
    if effect == 0.0 || !effect.is_finite() {
        return SeedsNeeded::NoEffect;
    }
    let reaches = |n: usize| paired_t_power(effect.abs(), n, alpha) >= power;
    if reaches(2) {
        return SeedsNeeded::Seeds(2);
    }
    // Power grows with n: double until it is reached, then bisect.
    let (mut lo, mut hi) = (2usize, 4usize);
    while !reaches(hi) {
        if hi >= LIMIT {
            return SeedsNeeded::MoreThan(LIMIT);
        }
        lo = hi;
        hi = (hi * 2).min(LIMIT);
    }
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if reaches(mid) { hi = mid } else { lo = mid }
    }
    SeedsNeeded::Seeds(hi)
}

/// Welch's two-sample t-test from two means, their standard errors and sample sizes: (t, df,
/// two-sided p). None when both standard errors are zero.
pub fn welch(
    m1: f64,
    se1: f64,
    n1: usize,
    m2: f64,
    se2: f64,
    n2: usize,
) -> Option<(f64, f64, f64)> {
    let var = se1 * se1 + se2 * se2;
    if var <= 0.0 || n1 < 2 || n2 < 2 {
        return None;
    }
    let t = (m1 - m2) / var.sqrt();
    let df = var * var / (se1.powi(4) / (n1 - 1) as f64 + se2.powi(4) / (n2 - 1) as f64);
    let p = 2.0 * StudentsT::new(0.0, 1.0, df).ok()?.sf(t.abs());
    Some((t, df, p.min(1.0)))
}

/// Friedman's test over `blocks` (one row per block, one value per treatment; higher is better,
/// rank 1 the best), as scipy's `friedmanchisquare` with its tie correction: (average rank of
/// each treatment, chi-square, p). None for fewer than 2 blocks or treatments, or when every block
/// is all ties.
pub fn friedman(blocks: &[Vec<f64>]) -> Option<(Vec<f64>, f64, f64)> {
    let n = blocks.len();
    let k = blocks.first()?.len();
    let ranks = mean_ranks(blocks);
    if n < 2 || k < 2 {
        return None;
    }
    let (nf, kf) = (n as f64, k as f64);
    let sum_sq: f64 = ranks.iter().map(|r| (r * nf).powi(2)).sum();
    let mut ties = 0.0;
    for row in blocks {
        let mut sorted = row.clone();
        sorted.sort_by(f64::total_cmp);
        let mut i = 0;
        while i < k {
            let mut j = i;
            while j + 1 < k && sorted[j + 1] == sorted[i] {
                j += 1;
            }
            let t = (j - i + 1) as f64;
            ties += t * t * t - t;
            i = j + 1;
        }
    }
    let c = 1.0 - ties / (kf * (kf * kf - 1.0) * nf);
    if c <= 0.0 {
        return None;
    }
    let chi2 = (12.0 / (nf * kf * (kf + 1.0)) * sum_sq - 3.0 * nf * (kf + 1.0)) / c;
    let p = ChiSquared::new(kf - 1.0).ok()?.sf(chi2);
    Some((ranks, chi2, p))
}

/// Average rank of each treatment over `blocks`, rank 1 the highest value of a block.
pub fn mean_ranks(blocks: &[Vec<f64>]) -> Vec<f64> {
    let k = blocks.first().map_or(0, Vec::len);
    let mut sums = vec![0.0; k];
    for row in blocks {
        let neg: Vec<f64> = row.iter().map(|v| -v).collect();
        for (s, r) in sums.iter_mut().zip(average_ranks(&neg)) {
            *s += r;
        }
    }
    sums.iter().map(|s| s / blocks.len() as f64).collect()
}

/// P(range of `k` independent standard normals <= q): the studentized range distribution with
/// infinite degrees of freedom, k * integral phi(z) (Phi(z) - Phi(z - q))^(k-1) dz.
pub fn normal_range_cdf(q: f64, k: usize) -> f64 {
    if q <= 0.0 {
        return 0.0;
    }
    let z = Normal::new(0.0, 1.0).expect("standard normal");
    k as f64
        * simpson(-9.0, 9.0, 2000, |x| {
            z.pdf(x) * (z.cdf(x) - z.cdf(x - q)).powi(k as i32 - 1)
        })
}

/// Nemenyi's critical difference of average ranks for `k` treatments over `n` blocks at level
/// `alpha`: q_alpha sqrt(k (k + 1) / (6 n)), with q_alpha the studentized range quantile (infinite
/// degrees of freedom) over sqrt(2) (Demsar 2006, Sec. 3.2.2).
pub fn nemenyi_cd(k: usize, n: usize, alpha: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 20.0f64);
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if normal_range_cdf(mid, k) < 1.0 - alpha {
            lo = mid
        } else {
            hi = mid
        }
    }
    let q = (lo + hi) / 2.0 / 2f64.sqrt();
    q * (k as f64 * (k as f64 + 1.0) / (6.0 * n as f64)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_intervals_match_hand_computation() {
        let v = [0.5, 0.7, 0.9];
        let (m, s) = mean_interval(&v, IntervalKind::Std, "t");
        assert!((m - 0.7).abs() < 1e-12);
        assert!((s.unwrap() - 0.2).abs() < 1e-12);
        let (_, se) = mean_interval(&v, IntervalKind::StdErr, "t");
        assert!((se.unwrap() - 0.2 / 3f64.sqrt()).abs() < 1e-12);
        assert_eq!(mean_interval(&[0.3], IntervalKind::Std, "t"), (0.3, None));
    }

    #[test]
    fn bootstrap_interval_is_deterministic_and_about_the_standard_error() {
        let v = [0.50, 0.55, 0.60, 0.65, 0.70];
        let (_, a) = mean_interval(&v, IntervalKind::Bootstrap, "k");
        let (_, b) = mean_interval(&v, IntervalKind::Bootstrap, "k");
        assert_eq!(a, b);
        let (_, se) = mean_interval(&v, IntervalKind::StdErr, "k");
        let (a, se) = (a.unwrap(), se.unwrap());
        // The bootstrap's 68% half-width is close to the plug-in standard error (n-1 vs n).
        assert!((a - se).abs() < 0.3 * se, "{a} vs {se}");
    }

    #[test]
    fn aulc_by_hand() {
        // 10 -> 20 labels: 0.5 -> 0.7, 20 -> 30: 0.7 -> 0.7. Area 6 + 7 = 13 over 20 labels.
        let c = [(10.0, 0.5), (20.0, 0.7), (30.0, 0.7)];
        assert!((aulc(&c) - 0.65).abs() < 1e-15);
        // Unequal steps: (0,0) (1,1) (4,1): area 0.5 + 3 = 3.5 over 4.
        assert!((aulc(&[(0.0, 0.0), (1.0, 1.0), (4.0, 1.0)]) - 0.875).abs() < 1e-15);
        assert_eq!(aulc(&[(5.0, 0.3)]), 0.3);
        // A flat curve's area is its height.
        assert!((aulc(&[(10.0, 0.8), (50.0, 0.8)]) - 0.8).abs() < 1e-15);
    }

    #[test]
    fn label_efficiency_by_hand() {
        let c = [(10.0, 0.5), (20.0, 0.7), (30.0, 0.9)];
        // 0.8 lies half-way between 20 and 30 labels.
        assert!((labels_to_reach(&c, 0.8).unwrap() - 25.0).abs() < 1e-12);
        assert_eq!(labels_to_reach(&c, 0.5), Some(10.0));
        assert_eq!(labels_to_reach(&c, 0.4), Some(10.0));
        assert_eq!(labels_to_reach(&c, 0.9), Some(30.0));
        assert_eq!(labels_to_reach(&c, 0.95), None);
        // A dip does not count: the first crossing.
        let d = [(10.0, 0.5), (20.0, 0.9), (30.0, 0.6), (40.0, 0.95)];
        assert!((labels_to_reach(&d, 0.7).unwrap() - 15.0).abs() < 1e-12);
    }

    #[test]
    fn average_ranks_share_ties() {
        assert_eq!(average_ranks(&[3.0, 1.0, 2.0]), vec![3.0, 1.0, 2.0]);
        assert_eq!(
            average_ranks(&[1.0, 2.0, 2.0, 5.0]),
            vec![1.0, 2.5, 2.5, 4.0]
        );
    }

    #[test]
    fn wilcoxon_on_five_pairs_cannot_go_below_one_sixteenth() {
        let all_positive = [0.1, 0.2, 0.3, 0.4, 0.5];
        let w = wilcoxon_exact(&all_positive).unwrap();
        assert_eq!(w.statistic, 0.0);
        assert!((w.p - 0.0625).abs() < 1e-15);
        assert_eq!(wilcoxon_min_p(5), 0.0625);
        // Zeros are dropped.
        assert!(wilcoxon_exact(&[0.0, 0.0]).is_none());
        // Counts of 1..=3: sums 0..6 occur 1,1,1,2,1,1,1 times.
        assert_eq!(
            signed_rank_counts(3),
            vec![1.0, 1.0, 1.0, 2.0, 1.0, 1.0, 1.0]
        );
    }

    #[test]
    fn holm_by_hand() {
        // Sorted 0.01, 0.02, 0.04 with m = 3: 0.03, 0.04, 0.04 (monotone).
        let adj = holm(&[0.04, 0.01, 0.02]);
        let want = [0.04, 0.03, 0.04];
        for (a, w) in adj.iter().zip(want) {
            assert!((a - w).abs() < 1e-15, "{adj:?}");
        }
        let with_nan = holm(&[f64::NAN, 0.2]);
        assert!(with_nan[0].is_nan());
        assert_eq!(with_nan[1], 0.2);
        assert_eq!(holm(&[0.6, 0.7]), vec![1.0, 1.0]);
    }

    #[test]
    fn t_test_refuses_what_it_cannot_test() {
        assert!(paired_t(&[0.1]).is_none());
        assert!(paired_t(&[0.1, 0.1, 0.1]).is_none());
    }

    #[test]
    fn nemenyi_critical_values_match_demsar_table() {
        // Demsar (2006), Table 5(a), q_0.05 for k = 2..10.
        let table = [
            1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164,
        ];
        for (i, want) in table.iter().enumerate() {
            let k = i + 2;
            let q = nemenyi_cd(k, 1, 0.05) / (k as f64 * (k as f64 + 1.0) / 6.0).sqrt();
            assert!((q - want).abs() < 1e-3, "k = {k}: {q} vs {want}");
        }
    }

    #[test]
    fn power_grows_with_seeds_and_effect() {
        let a = paired_t_power(0.5, 10, 0.05);
        assert!(a < paired_t_power(0.5, 20, 0.05));
        assert!(a < paired_t_power(1.0, 10, 0.05));
        // With no effect the power is the level.
        let p0 = paired_t_power(0.0, 10, 0.05);
        assert!((p0 - 0.05).abs() < 1e-5, "{p0}");
        assert_eq!(seeds_for_power(0.0, 0.05, 0.8), SeedsNeeded::NoEffect);
    }
}
