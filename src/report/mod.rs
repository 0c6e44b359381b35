//! Reports of a run: test accuracy at chosen label counts, mean and interval over seeds, as
//! Markdown (what golden snapshots compare), CSV and RON, an optional wall-time column, and
//! accuracy-vs-labels plots (SVG and PNG).
//!
//! Everything here is computed from the spec and the job results alone, so `bench report` and
//! `bench merge` rebuild exactly what `bench run` wrote.
pub mod html;
pub mod stats;

use crate::data::Origin;
use crate::run::{JobResult, JobTiming};
use crate::spec::{Spec, StrategySpec};
use crate::stats::mean_interval;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// A rendered table: a title, a header row and body rows of text cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// One-line description, naming the interval kind and the data origin.
    pub title: String,
    /// Column names.
    pub header: Vec<String>,
    /// Body rows, as many cells as the header.
    pub rows: Vec<Vec<String>>,
    /// Lines printed under the table (caveats a reader must see).
    pub notes: Vec<String>,
    /// Lines printed after the table on the terminal but not written into table.md (the one-line
    /// summaries of the statistics).
    pub footer: Vec<String>,
}

impl Table {
    /// GitHub-flavoured Markdown, ending in a newline.
    pub fn to_markdown(&self) -> String {
        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
        let mut out = format!("{}\n\n", self.title);
        out += &line(&self.header);
        out += &line(&vec!["---".to_string(); self.header.len()]);
        for row in &self.rows {
            out += &line(row);
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for note in &self.notes {
                out += &format!("Note: {note}\n");
            }
        }
        out
    }
}

/// One table row with its numbers: a (dataset, noise, strategy) and a cell per label count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// Dataset name.
    pub dataset: String,
    /// Noise label, e.g. `10%`.
    pub noise: String,
    /// Strategy name.
    pub strategy: String,
    /// One cell per `report_at` count.
    pub cells: Vec<SummaryCell>,
    /// Mean wall seconds per job (None when unknown, e.g. results reused without timings).
    pub mean_time_s: Option<f64>,
}

/// Accuracy over seeds at one label count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryCell {
    /// Labelled points.
    pub labels: usize,
    /// Seeds with a value.
    pub n: usize,
    /// Mean test accuracy.
    pub mean: Option<f64>,
    /// Interval half-width of the spec's kind (None for fewer than 2 seeds).
    pub interval: Option<f64>,
}

/// The numbers behind the table: one row per (dataset, noise, strategy) in spec order.
pub fn summarise(
    spec: &Spec,
    results: &[JobResult],
    timings: &BTreeMap<String, Option<JobTiming>>,
) -> Vec<SummaryRow> {
    let mut rows = Vec::new();
    for setup in &spec.setups {
        for noise in spec.noise_labels() {
            for strategy in &spec.strategies {
                let mine: Vec<&JobResult> = results
                    .iter()
                    .filter(|r| {
                        r.job.dataset == setup.dataset
                            && r.job.strategy == *strategy
                            && r.job.noise_label() == noise
                    })
                    .collect();
                let key = format!("{}/{noise}/{}", setup.dataset.name(), strategy.name());
                let cells = spec
                    .report_at
                    .iter()
                    .map(|&labels| {
                        let values: Vec<f64> = mine
                            .iter()
                            .filter_map(|r| r.curve.iter().find(|p| p.labels == labels))
                            .map(|p| p.value(spec.metric))
                            .collect();
                        let (mean, interval) = if values.is_empty() {
                            (None, None)
                        } else {
                            let (m, i) =
                                mean_interval(&values, spec.interval, &format!("{key}/{labels}"));
                            (Some(m), i)
                        };
                        SummaryCell {
                            labels,
                            n: values.len(),
                            mean,
                            interval,
                        }
                    })
                    .collect();
                let times: Vec<f64> = mine
                    .iter()
                    .filter_map(|r| timings.get(&r.job_id).copied().flatten())
                    .map(|t| t.total_s)
                    .collect();
                let mean_time_s = (!times.is_empty() && times.len() == mine.len())
                    .then(|| times.iter().sum::<f64>() / times.len() as f64);
                rows.push(SummaryRow {
                    dataset: setup.dataset.name(),
                    noise: noise.clone(),
                    strategy: strategy.name(),
                    cells,
                    mean_time_s,
                });
            }
        }
    }
    rows
}

fn title(spec: &Spec) -> String {
    let origin = |d: &crate::spec::DatasetSpec| match d.origin() {
        Origin::Real => format!("{}, real data", d.name()),
        Origin::Synthetic => format!("{}, SYNTHETIC data, not a paper reproduction", d.name()),
    };
    format!(
        "{}: {}, mean ± {} over {} seeds ({})",
        spec.name,
        spec.metric.name(),
        spec.interval.name(),
        spec.seeds.len(),
        spec.setups
            .iter()
            .map(|s| origin(&s.dataset))
            .collect::<Vec<_>>()
            .join("; "),
    )
}

/// Renders summary rows; with `time`, a last column holds the mean wall time per job.
pub fn render(spec: &Spec, rows: &[SummaryRow], time: bool) -> Table {
    let by_dataset = spec.setups.len() > 1;
    let by_noise = spec.noise.len() > 1;
    let mut header = Vec::new();
    if by_dataset {
        header.push("dataset".to_string());
    }
    if by_noise {
        header.push("noise".to_string());
    }
    header.push("strategy".to_string());
    header.extend(spec.report_at.iter().map(|n| format!("{n} labels")));
    if time {
        header.push("time (s)".to_string());
    }
    let body = rows
        .iter()
        .map(|r| {
            let mut row = Vec::new();
            if by_dataset {
                row.push(r.dataset.clone());
            }
            if by_noise {
                row.push(r.noise.clone());
            }
            row.push(r.strategy.clone());
            for c in &r.cells {
                row.push(match (c.mean, c.interval) {
                    (None, _) => "n/a".into(),
                    (Some(m), Some(i)) => format!("{m:.4} ± {i:.4}"),
                    (Some(m), None) => format!("{m:.4}"),
                });
            }
            if time {
                row.push(r.mean_time_s.map_or("n/a".into(), |t| format!("{t:.1}")));
            }
            row
        })
        .collect();
    let mut notes = Vec::new();
    if spec.strategies.contains(&StrategySpec::AverageConfidence) {
        notes.push(
            "avg-confidence (modAL's avg_confidence) scores the mean of each probability row, which \
             is 1/K on softmax outputs: its picks are decided by rounding and the seeded tie-break, \
             so it behaves like random sampling."
                .to_string(),
        );
    }
    if spec
        .strategies
        .iter()
        .any(|s| matches!(s, StrategySpec::LalRl(_)))
        && spec.setups.iter().any(|s| {
            !matches!(
                s.dataset,
                crate::spec::DatasetSpec::BreastCancer
                    | crate::spec::DatasetSpec::PneumoniaMnist { .. }
                    | crate::spec::DatasetSpec::Kermany2018 { .. }
                    | crate::spec::DatasetSpec::SyntheticXray { .. }
            )
        })
    {
        notes.push(
            "lal-rl sees only p(class 0) in its state and action features, as the original binary \
             code does; on more than two classes the other classes are invisible to its policy."
                .to_string(),
        );
    }
    if time {
        notes.push(
            "time: mean wall seconds per job on this run's machine; it varies between runs.".into(),
        );
    }
    Table {
        title: title(spec),
        header,
        rows: body,
        notes,
        footer: vec![],
    }
}

/// Test accuracy per (dataset, noise, strategy) at the spec's `report_at` counts.
pub fn accuracy_table(spec: &Spec, results: &[JobResult]) -> Table {
    render(spec, &summarise(spec, results, &BTreeMap::new()), false)
}

/// CSV with one row per (dataset, noise, strategy) and, per label count, mean, interval and seeds.
pub fn to_csv(spec: &Spec, rows: &[SummaryRow]) -> String {
    let mut header = vec!["dataset".to_string(), "noise".into(), "strategy".into()];
    for n in &spec.report_at {
        header.push(format!("mean_{n}"));
        header.push(format!("{}_{n}", spec.interval.name().replace(' ', "_")));
        header.push(format!("seeds_{n}"));
    }
    let mut out = header.join(",") + "\n";
    let num = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x}"));
    for r in rows {
        let mut cells = vec![r.dataset.clone(), r.noise.clone(), r.strategy.clone()];
        for c in &r.cells {
            cells.extend([num(c.mean), num(c.interval), c.n.to_string()]);
        }
        out += &(cells.join(",") + "\n");
    }
    out
}

/// Writes table.md, table.csv, table.ron, table-time.md (when the spec asks), stats.md, stats.csv,
/// stats.ron, and the plots (curves, and the critical-difference diagram cd.svg / cd.png where
/// there are at least 2 cells), into `dir`; returns the table to show: the timed one when the spec asks for time, else table.md's.
pub fn write_reports(
    dir: &Path,
    spec: &Spec,
    results: &[JobResult],
    timings: &BTreeMap<String, Option<JobTiming>>,
) -> anyhow::Result<Table> {
    let rows = summarise(spec, results, timings);
    let mut table = render(spec, &rows, false);
    let mut kinds: Vec<&Option<crate::run::Provenance>> = Vec::new();
    for r in results {
        if !kinds.contains(&&r.computed_by) {
            kinds.push(&r.computed_by);
        }
    }
    if kinds.len() > 1 {
        table.notes.push(format!(
            "the job files were computed with {} different provenances (software or settings; \
             see computed_by in jobs/): their numbers are not bit-comparable",
            kinds.len()
        ));
    }
    // Timings are not part of table.ron: it must be identical across reruns.
    let stable: Vec<SummaryRow> = rows
        .iter()
        .map(|r| SummaryRow {
            mean_time_s: None,
            ..r.clone()
        })
        .collect();
    let mut files = vec![
        ("table.md", table.to_markdown()),
        ("table.csv", to_csv(spec, &rows)),
        (
            "table.ron",
            crate::io::pretty(&(table.title.clone(), spec.interval, &stable)),
        ),
    ];
    // With a time column, that is the table to show (the paper's Table 2 has one); table.md
    // stays without it, so it is identical across reruns.
    let statistics = stats::compute(spec, results);
    let stats_md = stats::to_markdown(spec, &statistics);
    files.push(("stats.md", stats_md.clone()));
    files.push(("stats.csv", stats::to_csv(&statistics)));
    files.push(("stats.ron", crate::io::pretty(&statistics)));
    let shown = if spec.report_time {
        let timed = render(spec, &rows, true);
        files.push(("table-time.md", timed.to_markdown()));
        timed
    } else {
        table
    };
    for (name, text) in files {
        let path = dir.join(name);
        crate::io::write_atomic(&path, text.as_bytes())?;
    }
    crate::plot::curves(dir, spec, results)?;
    if let Some(f) = &statistics.friedman {
        crate::plot::critical_difference(
            dir,
            &statistics.strategies,
            &statistics.mean_ranks,
            f.critical_difference,
            f.cells,
        )?;
    }
    html::write(
        dir,
        &html::Page {
            spec,
            results,
            rows: &rows,
            notes: &shown.notes,
            stats: &statistics,
            stats_md: &stats_md,
        },
    )?;
    let mut shown = shown;
    shown.footer = stats::summary(&statistics);
    Ok(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_has_title_header_rule_and_rows() {
        let t = Table {
            title: "t".into(),
            header: vec!["a".into(), "b".into()],
            rows: vec![vec!["1".into(), "2".into()]],
            notes: vec![],
            footer: vec![],
        };
        assert_eq!(
            t.to_markdown(),
            "t\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n"
        );
    }
}
