//! Reproduced vs published: a run's cells next to a paper's table (golden/paper/*.ron), each with
//! a verdict (consistent / higher / lower) from a two-sample Welch test that takes the paper's
//! seed count and reads its "68% confidence level" both ways: as the seeds' standard deviation
//! and as the standard error of their mean.
use crate::data::Origin;
use crate::report::{SummaryRow, summarise};
use crate::run::{Job, JobResult, SPEC_FILE, read_timing};
use crate::spec::Spec;
use crate::stats;
use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Seeds behind each published number (the paper shows 5 random initialisations, Sec. 4).
pub const PUBLISHED_SEEDS: usize = 5;

/// Significance level of the verdicts.
const ALPHA: f64 = 0.05;

/// A published table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperTable {
    /// Where the numbers come from.
    pub source: String,
    /// The dataset, as ralbench names it.
    pub dataset: String,
    /// What the interval is, as the paper says it.
    pub interval: String,
    /// The cells.
    pub cells: Vec<PaperCell>,
}

/// One published number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperCell {
    /// Strategy, as ralbench names it (e.g. `dral`, `dral-n4`, `lal-rl`, `least-confident`).
    pub strategy: String,
    /// Noise label (`0%`, `10%`, ...).
    #[serde(default = "clean")]
    pub noise: String,
    /// Labelled points.
    pub labels: usize,
    /// Mean test accuracy.
    pub mean: f64,
    /// Published interval half-width.
    pub interval: f64,
    /// Published training time in seconds, where the table has one.
    #[serde(default)]
    pub time_s: Option<f64>,
}

fn clean() -> String {
    "0%".into()
}

impl PaperTable {
    /// Reads a paper file.
    pub fn load(path: &Path) -> anyhow::Result<PaperTable> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        ron::from_str(&text).map_err(|e| anyhow::anyhow!("{}:{}", path.display(), e))
    }

    /// The cells `spec` has no counterpart for (strategy, noise and label count all in the spec).
    pub fn missing_in(&self, spec: &Spec) -> Vec<&PaperCell> {
        let jobs = Job::expand(spec);
        self.cells
            .iter()
            .filter(|c| {
                !spec.report_at.contains(&c.labels)
                    || !jobs.iter().any(|j| {
                        j.dataset.name() == self.dataset
                            && j.strategy.name() == c.strategy
                            && j.noise_label() == c.noise
                    })
            })
            .collect()
    }
}

/// The comparison text for a finished output directory and a paper file.
pub fn compare(results: &Path, paper_path: &Path) -> anyhow::Result<String> {
    let paper = PaperTable::load(paper_path)?;
    let (spec, _) = Spec::load(&results.join(SPEC_FILE))
        .with_context(|| format!("{} is not a bench output directory", results.display()))?;
    if let Some(s) = spec
        .setups
        .iter()
        .find(|s| s.dataset.origin() == Origin::Synthetic)
    {
        bail!(
            "{} ran on SYNTHETIC data ({}): it reproduces nothing, so it is not compared with published numbers",
            results.display(),
            s.dataset.name()
        );
    }
    let missing = paper.missing_in(&spec);
    if missing.len() == paper.cells.len() {
        bail!(
            "{} has no cell of {} (dataset {}): wrong spec?",
            results.display(),
            paper_path.display(),
            paper.dataset
        );
    }
    let found: Vec<JobResult> = Job::expand(&spec)
        .iter()
        .filter_map(|j| {
            crate::run::finished(&results.join("jobs").join(format!("{}.ron", j.id())), j)
        })
        .collect();
    let rows: Vec<SummaryRow> = summarise(&spec, &found, &read_timing(results));
    let mut out = format!(
        "{} vs {} ({}; {}; published interval: {}, {PUBLISHED_SEEDS} seeds)\n\n",
        results.display(),
        paper.source,
        paper.dataset,
        spec.metric.name(),
        paper.interval,
    );
    out += "Two-sample Welch t-tests at alpha 0.05 per cell, under both readings of the published \
            interval: as a standard deviation of the seeds, and as the standard error of their mean.\n\n";
    out += "| strategy | noise | labels | reproduced (mean ± std, seeds) | published | difference | if a std: verdict (p) | if a standard error: verdict (p) | time (s) ours / published |\n";
    out += "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
    let (mut compared, mut both, mut as_std, mut as_se, mut absent) = (0, 0, 0, 0, 0);
    for c in &paper.cells {
        let row = rows
            .iter()
            .find(|r| r.dataset == paper.dataset && r.strategy == c.strategy && r.noise == c.noise);
        let values: Vec<f64> = found
            .iter()
            .filter(|r| {
                r.job.dataset.name() == paper.dataset
                    && r.job.strategy.name() == c.strategy
                    && r.job.noise_label() == c.noise
            })
            .filter_map(|r| r.curve.iter().find(|p| p.labels == c.labels))
            .map(|p| p.value(spec.metric))
            .collect();
        let published = format!("{:.4} ± {:.4}", c.mean, c.interval);
        let time = {
            let ours = row
                .and_then(|r| r.mean_time_s)
                .map_or("n/a".into(), |t| format!("{t:.0}"));
            c.time_s
                .map_or(String::new(), |p| format!("{ours} / {p:.0}"))
        };
        if values.is_empty() {
            absent += 1;
            out += &format!(
                "| {} | {} | {} | missing | {published} | | | | {time} |\n",
                c.strategy, c.noise, c.labels
            );
            continue;
        }
        compared += 1;
        let n = values.len();
        let mean = stats::mean(&values);
        let std = if n > 1 {
            stats::std_dev(&values)
        } else {
            f64::NAN
        };
        let verdict = |published_se: f64| -> (String, bool) {
            match stats::welch(
                mean,
                std / (n as f64).sqrt(),
                n,
                c.mean,
                published_se,
                PUBLISHED_SEEDS,
            ) {
                None => ("n = 1: no test".into(), false),
                Some((_, _, p)) if p >= ALPHA => (format!("consistent ({p:.3})"), true),
                Some((_, _, p)) => {
                    let side = if mean > c.mean { "higher" } else { "lower" };
                    (format!("{side} ({p:.3})"), false)
                }
            }
        };
        let (a, a_ok) = verdict(c.interval / (PUBLISHED_SEEDS as f64).sqrt());
        let (b, b_ok) = verdict(c.interval);
        as_std += a_ok as usize;
        as_se += b_ok as usize;
        both += (a_ok && b_ok) as usize;
        out += &format!(
            "| {} | {} | {} | {mean:.4} ± {std:.4}, {n} | {published} | {:+.4} | {a} | {b} | {time} |\n",
            c.strategy,
            c.noise,
            c.labels,
            mean - c.mean,
        );
    }
    out += &format!(
        "\n{compared} of {} published cells compared, {absent} missing: {both} of {compared} consistent under either reading ({as_std} if the interval is a std, {as_se} if it is a standard error)\n",
        paper.cells.len(),
    );
    Ok(out)
}
