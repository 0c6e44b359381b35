//! Result tables: test accuracy at chosen label counts, mean and interval over seeds.
//!
//! The one table renderer; its Markdown is what golden snapshots compare.
use crate::data::{Dataset, Origin};
use crate::run::JobResult;
use crate::spec::{IntervalKind, Spec};

/// A rendered table: a title, a header row and body rows of text cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// One-line description, naming the interval kind and the data origin.
    pub title: String,
    /// Column names.
    pub header: Vec<String>,
    /// Body rows, as many cells as the header.
    pub rows: Vec<Vec<String>>,
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
        out
    }
}

/// Mean and interval of `values` (the interval is None for a single value).
pub fn mean_interval(values: &[f64], kind: IntervalKind) -> (f64, Option<f64>) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, None);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let std = var.sqrt();
    let interval = match kind {
        IntervalKind::Std => std,
        IntervalKind::StdErr => std / n.sqrt(),
    };
    (mean, Some(interval))
}

/// Test accuracy per strategy (rows, in spec order) at each of the spec's `report_at` counts.
pub fn accuracy_table(spec: &Spec, data: &Dataset, results: &[JobResult]) -> Table {
    let origin = match data.origin {
        Origin::Real => "real data",
        Origin::Synthetic => "SYNTHETIC data, not a paper reproduction",
    };
    let title = format!(
        "{}: test accuracy, mean ± {} over {} seeds ({}, {origin})",
        spec.name,
        spec.interval.name(),
        spec.seeds.len(),
        data.name,
    );
    let mut header = vec!["strategy".to_string()];
    header.extend(spec.report_at.iter().map(|n| format!("{n} labels")));
    let rows = spec
        .strategies
        .iter()
        .map(|&strategy| {
            let mut row = vec![strategy.name().to_string()];
            for &n in &spec.report_at {
                let values: Vec<f64> = results
                    .iter()
                    .filter(|r| r.job.strategy == strategy)
                    .filter_map(|r| r.curve.iter().find(|p| p.labels == n))
                    .map(|p| p.test_accuracy)
                    .collect();
                row.push(match mean_interval(&values, spec.interval) {
                    _ if values.is_empty() => "n/a".into(),
                    (m, Some(i)) => format!("{m:.4} ± {i:.4}"),
                    (m, None) => format!("{m:.4}"),
                });
            }
            row
        })
        .collect();
    Table {
        title,
        header,
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_intervals_match_hand_computation() {
        let v = [0.5, 0.7, 0.9];
        let (m, s) = mean_interval(&v, IntervalKind::Std);
        assert!((m - 0.7).abs() < 1e-12);
        assert!((s.unwrap() - 0.2).abs() < 1e-12);
        let (_, se) = mean_interval(&v, IntervalKind::StdErr);
        assert!((se.unwrap() - 0.2 / 3f64.sqrt()).abs() < 1e-12);
        assert_eq!(mean_interval(&[0.3], IntervalKind::Std), (0.3, None));
    }

    #[test]
    fn markdown_has_title_header_rule_and_rows() {
        let t = Table {
            title: "t".into(),
            header: vec!["a".into(), "b".into()],
            rows: vec![vec!["1".into(), "2".into()]],
        };
        assert_eq!(
            t.to_markdown(),
            "t\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n"
        );
    }
}
