//! Whether a difference between strategies is real: stats.md, stats.csv and stats.ron beside the
//! table, built from the job results alone (so `bench report` and `bench merge` rebuild them).
//!
//! Per (dataset, noise) cell: each strategy's final metric (at the budget), its AULC and the labels
//! it needs to reach random's final metric; each strategy against random and against the cell's
//! best, paired by seed (the jobs of a seed share the split, L_0 and the classifier's draws), with
//! the paired t-test and the exact Wilcoxon signed-rank test, Holm-corrected over the whole table,
//! and the seed count a paired t-test would need. Over all cells: wins / ties / losses against
//! random per seed, a penalty matrix, average ranks with Friedman's test and the Nemenyi critical
//! difference (diagram in cd.svg / cd.png when there are at least 2 cells).
use crate::run::JobResult;
use crate::spec::{Metric, Spec};
use crate::stats::{self, SeedsNeeded, TestResult};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Significance level of every test here.
pub const ALPHA: f64 = 0.05;
/// Power the seed-count estimate aims at.
pub const POWER: f64 = 0.8;

/// All statistics of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// The metric every number is of.
    pub metric: Metric,
    /// Significance level.
    pub alpha: f64,
    /// One entry per (dataset, noise) cell, in spec order.
    pub cells: Vec<CellStats>,
    /// Paired comparisons of all cells, Holm-corrected together.
    pub comparisons: Vec<Comparison>,
    /// Per strategy: wins, ties and losses against random over every (cell, seed) pair.
    pub against_random: Vec<WinTieLoss>,
    /// Strategies, in spec order (the penalty matrix's rows and columns, the ranks' order).
    pub strategies: Vec<String>,
    /// `penalty[i][j]`: over cells, the fraction of reported label counts after L_0 at which
    /// strategy i beat strategy j (paired t-test, p < alpha, higher mean), summed.
    pub penalty: Vec<Vec<f64>>,
    /// Average rank (1 = best final mean) of each strategy over the cells.
    pub mean_ranks: Vec<f64>,
    /// Friedman's test over the cells (None with fewer than 2 cells).
    pub friedman: Option<Friedman>,
}

/// One (dataset, noise) cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellStats {
    /// Dataset name.
    pub dataset: String,
    /// Noise label.
    pub noise: String,
    /// Per strategy, in spec order.
    pub strategies: Vec<StrategyStats>,
    /// The strategy with the highest mean final metric.
    pub best: String,
}

/// One strategy in one cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyStats {
    /// Strategy name.
    pub strategy: String,
    /// Seeds with a result.
    pub seeds: usize,
    /// Mean metric at the budget.
    pub final_mean: f64,
    /// Mean AULC (area under the learning curve, normalised by the label range).
    pub aulc_mean: f64,
    /// Labels the mean curve needs to reach random's mean final metric (None: never reached, or
    /// no random in the spec).
    pub labels_to_random: Option<f64>,
    /// `labels_to_random` over the budget.
    pub ratio_to_budget: Option<f64>,
}

/// What a comparison measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Measure {
    /// The metric at the budget.
    Final,
    /// The area under the learning curve.
    Aulc,
}

impl Measure {
    fn name(self) -> &'static str {
        match self {
            Measure::Final => "final",
            Measure::Aulc => "AULC",
        }
    }
}

/// A strategy against a reference strategy in one cell, paired by seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Dataset name.
    pub dataset: String,
    /// Noise label.
    pub noise: String,
    /// The strategy.
    pub strategy: String,
    /// The reference: `random` or the cell's best.
    pub against: String,
    /// Final metric or AULC.
    pub measure: Measure,
    /// Seeds both have, ascending.
    pub seeds: Vec<u64>,
    /// Strategy minus reference, per seed.
    pub differences: Vec<f64>,
    /// Mean difference.
    pub mean_difference: f64,
    /// Paired t-test (None: fewer than 2 seeds or constant differences).
    pub t_test: Option<TestResult>,
    /// Exact Wilcoxon signed-rank test (None: no nonzero difference).
    pub wilcoxon: Option<TestResult>,
    /// Holm-adjusted t-test p over the table.
    pub t_p_holm: Option<f64>,
    /// Holm-adjusted Wilcoxon p over the table.
    pub wilcoxon_p_holm: Option<f64>,
    /// The smallest p the exact Wilcoxon test can give at this many nonzero differences.
    pub wilcoxon_floor: Option<f64>,
    /// Seeds a paired t-test needs to detect the observed mean difference (alpha, power 0.8).
    pub seeds_needed: Option<SeedsNeeded>,
}

/// Wins, ties and losses of one strategy against random.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WinTieLoss {
    /// Strategy.
    pub strategy: String,
    /// Pairs where it ended higher.
    pub wins: usize,
    /// Pairs where it ended equal.
    pub ties: usize,
    /// Pairs where it ended lower.
    pub losses: usize,
}

/// Friedman's test of the strategies' ranks over the cells, with Nemenyi's critical difference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Friedman {
    /// Cells (blocks).
    pub cells: usize,
    /// Chi-square statistic (tie-corrected).
    pub chi2: f64,
    /// p-value.
    pub p: f64,
    /// Nemenyi critical difference of average ranks at alpha.
    pub critical_difference: f64,
}

/// The (labels, metric) curve of a job.
fn curve(r: &JobResult, metric: Metric) -> Vec<(f64, f64)> {
    r.curve
        .iter()
        .map(|p| (p.labels as f64, p.value(metric)))
        .collect()
}

fn final_value(r: &JobResult, metric: Metric) -> Option<f64> {
    r.curve.last().map(|p| p.value(metric))
}

/// Per seed, the value of `measure` for the jobs in `jobs`.
fn per_seed(jobs: &[&JobResult], metric: Metric, measure: Measure) -> BTreeMap<u64, f64> {
    jobs.iter()
        .filter_map(|r| {
            let v = match measure {
                Measure::Final => final_value(r, metric)?,
                Measure::Aulc => stats::aulc(&curve(r, metric)),
            };
            Some((r.job.seed, v))
        })
        .collect()
}

/// Metric at `labels` per seed.
fn at_labels(jobs: &[&JobResult], metric: Metric, labels: usize) -> BTreeMap<u64, f64> {
    jobs.iter()
        .filter_map(|r| {
            let p = r.curve.iter().find(|p| p.labels == labels)?;
            Some((r.job.seed, p.value(metric)))
        })
        .collect()
}

/// The seed-wise mean curve (label counts every job of `jobs` has).
fn mean_curve(jobs: &[&JobResult], metric: Metric) -> Vec<(f64, f64)> {
    let mut by: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for r in jobs {
        for p in &r.curve {
            by.entry(p.labels).or_default().push(p.value(metric));
        }
    }
    by.into_iter()
        .filter(|(_, v)| v.len() == jobs.len())
        .map(|(l, v)| (l as f64, stats::mean(&v)))
        .collect()
}

/// Differences a - b over the seeds both have.
fn paired(a: &BTreeMap<u64, f64>, b: &BTreeMap<u64, f64>) -> (Vec<u64>, Vec<f64>) {
    a.iter()
        .filter_map(|(s, x)| b.get(s).map(|y| (*s, x - y)))
        .unzip()
}

fn compare(
    (dataset, noise): (&str, &str),
    (strategy, against): (&str, &str),
    measure: Measure,
    a: &BTreeMap<u64, f64>,
    b: &BTreeMap<u64, f64>,
) -> Comparison {
    let (seeds, differences) = paired(a, b);
    let mean_difference = stats::mean(&differences);
    let nonzero = differences.iter().filter(|d| **d != 0.0).count();
    let sd = stats::std_dev(&differences);
    let seeds_needed = (differences.len() >= 2).then(|| {
        if sd > 0.0 {
            stats::seeds_for_power(mean_difference / sd, ALPHA, POWER)
        } else {
            SeedsNeeded::NoEffect
        }
    });
    Comparison {
        dataset: dataset.into(),
        noise: noise.into(),
        strategy: strategy.into(),
        against: against.into(),
        measure,
        t_test: stats::paired_t(&differences),
        wilcoxon: stats::wilcoxon_exact(&differences),
        wilcoxon_floor: (nonzero > 0).then(|| stats::wilcoxon_min_p(nonzero)),
        seeds,
        differences,
        mean_difference,
        t_p_holm: None,
        wilcoxon_p_holm: None,
        seeds_needed,
    }
}

/// The statistics of `results` (the jobs of `spec`).
pub fn compute(spec: &Spec, results: &[JobResult]) -> Stats {
    let metric = spec.metric;
    let names: Vec<String> = spec.strategies.iter().map(|s| s.name()).collect();
    let k = names.len();
    let has_random = names.iter().any(|n| n == "random");
    let after_l0: Vec<usize> = spec
        .report_at
        .iter()
        .copied()
        .filter(|&l| l > spec.initial_labelled)
        .collect();
    let mut cells = Vec::new();
    let mut comparisons = Vec::new();
    let mut wtl: Vec<(usize, usize, usize)> = vec![(0, 0, 0); k];
    let mut penalty = vec![vec![0.0; k]; k];
    let mut blocks = Vec::new();
    for setup in &spec.setups {
        let dataset = setup.dataset.name();
        for noise in spec.noise_labels() {
            let jobs: Vec<Vec<&JobResult>> = spec
                .strategies
                .iter()
                .map(|s| {
                    results
                        .iter()
                        .filter(|r| {
                            r.job.dataset == setup.dataset
                                && r.job.strategy == *s
                                && r.job.noise_label() == noise
                        })
                        .collect()
                })
                .collect();
            let finals: Vec<BTreeMap<u64, f64>> = jobs
                .iter()
                .map(|j| per_seed(j, metric, Measure::Final))
                .collect();
            let aulcs: Vec<BTreeMap<u64, f64>> = jobs
                .iter()
                .map(|j| per_seed(j, metric, Measure::Aulc))
                .collect();
            let final_means: Vec<f64> = finals
                .iter()
                .map(|m| stats::mean(&m.values().copied().collect::<Vec<_>>()))
                .collect();
            let random = names.iter().position(|n| n == "random");
            let target = random.map(|r| final_means[r]);
            let strategies: Vec<StrategyStats> = (0..k)
                .map(|i| {
                    let reach = target
                        .filter(|t| t.is_finite())
                        .and_then(|t| stats::labels_to_reach(&mean_curve(&jobs[i], metric), t));
                    StrategyStats {
                        strategy: names[i].clone(),
                        seeds: jobs[i].len(),
                        final_mean: final_means[i],
                        aulc_mean: stats::mean(&aulcs[i].values().copied().collect::<Vec<_>>()),
                        labels_to_random: reach,
                        ratio_to_budget: reach.map(|l| l / spec.budget as f64),
                    }
                })
                .collect();
            let best = (0..k)
                .filter(|&i| final_means[i].is_finite())
                .max_by(|&a, &b| final_means[a].total_cmp(&final_means[b]).then(b.cmp(&a)))
                .unwrap_or(0);
            let key = (dataset.as_str(), noise.as_str());
            for (reference, why) in [(random, "random"), (Some(best), "best")] {
                let Some(r) = reference else { continue };
                if why == "best" && random == Some(best) {
                    continue;
                }
                // Random against the best is the best against random, already listed.
                for i in (0..k).filter(|&i| i != r && !(why == "best" && Some(i) == random)) {
                    for (measure, values) in [(Measure::Final, &finals), (Measure::Aulc, &aulcs)] {
                        comparisons.push(compare(
                            key,
                            (&names[i], &names[r]),
                            measure,
                            &values[i],
                            &values[r],
                        ));
                    }
                }
            }
            if let Some(r) = random {
                for i in 0..k {
                    let (_, d) = paired(&finals[i], &finals[r]);
                    for x in d {
                        match x.total_cmp(&0.0) {
                            std::cmp::Ordering::Greater => wtl[i].0 += 1,
                            std::cmp::Ordering::Equal => wtl[i].1 += 1,
                            std::cmp::Ordering::Less => wtl[i].2 += 1,
                        }
                    }
                }
            }
            for &labels in &after_l0 {
                let at: Vec<BTreeMap<u64, f64>> =
                    jobs.iter().map(|j| at_labels(j, metric, labels)).collect();
                for i in 0..k {
                    for j in 0..k {
                        let (_, d) = paired(&at[i], &at[j]);
                        if let Some(t) = stats::paired_t(&d)
                            && t.p < ALPHA
                            && stats::mean(&d) > 0.0
                        {
                            penalty[i][j] += 1.0 / after_l0.len() as f64;
                        }
                    }
                }
            }
            if final_means.iter().all(|m| m.is_finite()) {
                blocks.push(final_means.clone());
            }
            cells.push(CellStats {
                dataset: dataset.clone(),
                noise: noise.clone(),
                strategies,
                best: names[best].clone(),
            });
        }
    }
    holm_over_table(&mut comparisons);
    let friedman = (blocks.len() >= 2 && k >= 2)
        .then(|| stats::friedman(&blocks))
        .flatten()
        .map(|(_, chi2, p)| Friedman {
            cells: blocks.len(),
            chi2,
            p,
            critical_difference: stats::nemenyi_cd(k, blocks.len(), ALPHA),
        });
    Stats {
        metric,
        alpha: ALPHA,
        cells,
        comparisons,
        against_random: if has_random {
            names
                .iter()
                .zip(wtl)
                .filter(|(n, _)| *n != "random")
                .map(|(n, (wins, ties, losses))| WinTieLoss {
                    strategy: n.clone(),
                    wins,
                    ties,
                    losses,
                })
                .collect()
        } else {
            vec![]
        },
        strategies: names,
        penalty,
        mean_ranks: stats::mean_ranks(&blocks),
        friedman,
    }
}

fn holm_over_table(comparisons: &mut [Comparison]) {
    let ts: Vec<f64> = comparisons
        .iter()
        .map(|c| c.t_test.map_or(f64::NAN, |t| t.p))
        .collect();
    let ws: Vec<f64> = comparisons
        .iter()
        .map(|c| c.wilcoxon.map_or(f64::NAN, |t| t.p))
        .collect();
    for ((c, t), w) in comparisons
        .iter_mut()
        .zip(stats::holm(&ts))
        .zip(stats::holm(&ws))
    {
        c.t_p_holm = (!t.is_nan()).then_some(t);
        c.wilcoxon_p_holm = (!w.is_nan()).then_some(w);
    }
}

fn p_text(p: Option<f64>) -> String {
    p.map_or("no test".into(), |p| {
        if p < 1e-4 {
            format!("{p:.1e}")
        } else {
            format!("{p:.4}")
        }
    })
}

fn seeds_text(s: Option<SeedsNeeded>) -> String {
    match s {
        None => "n/a".into(),
        Some(SeedsNeeded::Seeds(n)) => n.to_string(),
        Some(SeedsNeeded::NoEffect) => "no effect".into(),
        Some(SeedsNeeded::MoreThan(n)) => format!("> {n}"),
    }
}

/// stats.md: the tables and the plain-words caveats.
pub fn to_markdown(spec: &Spec, s: &Stats) -> String {
    let seeds = spec.seeds.len();
    let mut out = format!(
        "{}: statistics of {} over {seeds} seeds (paired by seed; alpha {}; Holm over each test column)\n\n",
        spec.name,
        s.metric.name(),
        s.alpha
    );
    if seeds < 2 {
        out += "n = 1: no test. One seed gives no spread to test a difference against.\n\n";
    } else if (stats::wilcoxon_min_p(seeds)) >= s.alpha {
        out += &format!(
            "With {seeds} seeds the exact two-sided Wilcoxon test cannot go below p = {:.4}: it cannot \
             reach significance at alpha {} whatever the data; the t-test can, under its normality \
             assumption.\n\n",
            stats::wilcoxon_min_p(seeds),
            s.alpha
        );
    }
    out += "## Per cell\n\n";
    out += &format!(
        "| dataset | noise | strategy | seeds | final | AULC | labels to random's final | / budget ({}) |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n",
        spec.budget
    );
    for c in &s.cells {
        for st in &c.strategies {
            let best = if st.strategy == c.best { " (best)" } else { "" };
            out += &format!(
                "| {} | {} | {}{best} | {} | {:.4} | {:.4} | {} | {} |\n",
                c.dataset,
                c.noise,
                st.strategy,
                st.seeds,
                st.final_mean,
                st.aulc_mean,
                st.labels_to_random
                    .map_or("not reached".into(), |l| format!("{l:.1}")),
                st.ratio_to_budget.map_or("".into(), |r| format!("{r:.2}")),
            );
        }
    }
    out += "\n## Paired tests\n\n";
    out += "| dataset | noise | strategy | vs | measure | mean diff | per seed | t p | t p (Holm) | Wilcoxon p | Wilcoxon p (Holm) | seeds for power 0.8 |\n";
    out += "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
    for c in &s.comparisons {
        out += &format!(
            "| {} | {} | {} | {} | {} | {:+.4} | {} | {} | {} | {} | {} | {} |\n",
            c.dataset,
            c.noise,
            c.strategy,
            c.against,
            c.measure.name(),
            c.mean_difference,
            c.differences
                .iter()
                .map(|d| format!("{d:+.3}"))
                .collect::<Vec<_>>()
                .join(" "),
            p_text(c.t_test.map(|t| t.p)),
            p_text(c.t_p_holm),
            p_text(c.wilcoxon.map(|t| t.p)),
            p_text(c.wilcoxon_p_holm),
            seeds_text(c.seeds_needed),
        );
    }
    if !s.against_random.is_empty() {
        out += "\n## Against random, per seed (final metric)\n\n| strategy | wins | ties | losses |\n| --- | --- | --- | --- |\n";
        for w in &s.against_random {
            out += &format!(
                "| {} | {} | {} | {} |\n",
                w.strategy, w.wins, w.ties, w.losses
            );
        }
    }
    out += "\n## Penalty matrix\n\nRow beats column: per cell, the fraction of label counts after L_0 where a paired t-test gives p < alpha with the row ahead, summed over cells.\n\n";
    out += &format!("| | {} |\n", s.strategies.join(" | "));
    out += &format!("| --- |{}\n", " --- |".repeat(s.strategies.len()));
    for (name, row) in s.strategies.iter().zip(&s.penalty) {
        out += &format!(
            "| {name} | {} |\n",
            row.iter()
                .map(|v| format!("{v:.2}"))
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    out += "\n## Ranks\n\n";
    out += &format!(
        "| strategy | average rank over {} cells |\n| --- | --- |\n",
        s.cells.len()
    );
    for (name, r) in s.strategies.iter().zip(&s.mean_ranks) {
        out += &format!("| {name} | {r:.2} |\n");
    }
    out += "\n";
    out += &summary(s).join("\n");
    out.push('\n');
    out
}

/// One line per test family, printed under the table by `bench run` and `bench report`.
pub fn summary(s: &Stats) -> Vec<String> {
    let mut lines = Vec::new();
    let vs_random: Vec<&Comparison> = s
        .comparisons
        .iter()
        .filter(|c| c.against == "random" && c.measure == Measure::Final)
        .collect();
    if vs_random.is_empty() {
        lines.push("paired tests: no random strategy to compare with".into());
    } else if vs_random.iter().all(|c| c.t_test.is_none()) {
        lines.push("paired tests vs random: n = 1 (or constant differences): no test".into());
    } else {
        let sig = |f: fn(&Comparison) -> Option<f64>| {
            vs_random
                .iter()
                .filter(|c| f(c).is_some_and(|p| p < s.alpha))
                .count()
        };
        lines.push(format!(
            "paired tests vs random (final {}): {} of {} differences significant at {} by t (Holm), {} by exact Wilcoxon (Holm)",
            s.metric.name(),
            sig(|c| c.t_p_holm),
            vs_random.len(),
            s.alpha,
            sig(|c| c.wilcoxon_p_holm),
        ));
    }
    if !s.against_random.is_empty() {
        lines.push(format!(
            "wins/ties/losses vs random per seed: {}",
            s.against_random
                .iter()
                .map(|w| format!("{} {}/{}/{}", w.strategy, w.wins, w.ties, w.losses))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    match &s.friedman {
        Some(f) => lines.push(format!(
            "ranks over {} cells: Friedman chi2 {:.2}, p {}; Nemenyi critical difference {:.2} (cd.svg)",
            f.cells,
            f.chi2,
            p_text(Some(f.p)),
            f.critical_difference
        )),
        None => lines.push(format!(
            "ranks: {} cell(s), no rank test (it needs at least 2)",
            s.cells.len()
        )),
    }
    lines
}

/// stats.csv: one row per paired comparison.
pub fn to_csv(s: &Stats) -> String {
    let mut out = String::from(
        "dataset,noise,strategy,against,measure,seeds,differences,mean_difference,t,t_p,t_p_holm,wilcoxon_w,wilcoxon_p,wilcoxon_p_holm,wilcoxon_floor,seeds_for_power\n",
    );
    let num = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x}"));
    for c in &s.comparisons {
        out += &format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            c.dataset,
            c.noise,
            c.strategy,
            c.against,
            c.measure.name(),
            c.seeds
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            c.differences
                .iter()
                .map(|d| format!("{d}"))
                .collect::<Vec<_>>()
                .join(" "),
            c.mean_difference,
            num(c.t_test.map(|t| t.statistic)),
            num(c.t_test.map(|t| t.p)),
            num(c.t_p_holm),
            num(c.wilcoxon.map(|t| t.statistic)),
            num(c.wilcoxon.map(|t| t.p)),
            num(c.wilcoxon_p_holm),
            num(c.wilcoxon_floor),
            seeds_text(c.seeds_needed),
        );
    }
    out
}
