//! Reproduced vs published: a run's cells next to a paper's table (golden/paper/*.ron), with the
//! difference in units of the combined interval.
use crate::data::Origin;
use crate::report::{SummaryRow, summarise};
use crate::run::{Job, JobResult, SPEC_FILE, read_timing};
use crate::spec::Spec;
use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use std::path::Path;

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
        "{} vs {} ({}; published interval: {}; ours: {})\n\n",
        results.display(),
        paper.source,
        paper.dataset,
        paper.interval,
        spec.interval.name()
    );
    out += "| strategy | noise | labels | reproduced | published | difference / interval | time (s) ours / published |\n";
    out += "| --- | --- | --- | --- | --- | --- | --- |\n";
    let (mut compared, mut within, mut absent) = (0, 0, 0);
    for c in &paper.cells {
        let row = rows
            .iter()
            .find(|r| r.dataset == paper.dataset && r.strategy == c.strategy && r.noise == c.noise);
        let cell = row.and_then(|r| r.cells.iter().find(|x| x.labels == c.labels));
        let published = format!("{:.4} ± {:.4}", c.mean, c.interval);
        let time = |r: Option<&SummaryRow>| {
            let ours = r
                .and_then(|r| r.mean_time_s)
                .map_or("n/a".into(), |t| format!("{t:.0}"));
            c.time_s
                .map_or(String::new(), |p| format!("{ours} / {p:.0}"))
        };
        match cell.and_then(|x| x.mean.map(|m| (m, x.interval.unwrap_or(0.0)))) {
            Some((m, i)) => {
                let scale = (i * i + c.interval * c.interval).sqrt();
                let z = if scale > 0.0 {
                    (m - c.mean) / scale
                } else {
                    f64::NAN
                };
                compared += 1;
                within += (z.abs() <= 1.0) as usize;
                out += &format!(
                    "| {} | {} | {} | {m:.4} ± {i:.4} | {published} | {z:+.2} | {} |\n",
                    c.strategy,
                    c.noise,
                    c.labels,
                    time(row)
                );
            }
            None => {
                absent += 1;
                out += &format!(
                    "| {} | {} | {} | missing | {published} | | {} |\n",
                    c.strategy,
                    c.noise,
                    c.labels,
                    time(row)
                );
            }
        }
    }
    out += &format!(
        "\n{compared} of {} published cells compared: {within} within 1 combined interval, {} outside, {absent} missing\n",
        paper.cells.len(),
        compared - within
    );
    Ok(out)
}
