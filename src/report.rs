//! Result tables: test accuracy at chosen label counts, mean and interval over seeds.
//!
//! The one table renderer; its Markdown is what golden snapshots compare.
use crate::data::{Dataset, Origin};
use crate::run::JobResult;
use crate::spec::{IntervalKind, Spec, StrategySpec};

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

/// Test accuracy at each of the spec's `report_at` counts, one row per (dataset, noise,
/// strategy) in spec order. `data` holds one dataset per setup. The dataset and noise columns
/// appear only when the spec has more than one of them.
pub fn accuracy_table(spec: &Spec, data: &[Dataset], results: &[JobResult]) -> Table {
    let origin = |d: &Dataset| match d.origin {
        Origin::Real => format!("{}, real data", d.name),
        Origin::Synthetic => format!("{}, SYNTHETIC data, not a paper reproduction", d.name),
    };
    let title = format!(
        "{}: test accuracy, mean ± {} over {} seeds ({})",
        spec.name,
        spec.interval.name(),
        spec.seeds.len(),
        data.iter().map(origin).collect::<Vec<_>>().join("; "),
    );
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

    let noise_labels: Vec<String> = if spec.noise.is_empty() {
        vec!["0%".into()]
    } else {
        spec.noise.iter().map(|n| n.label()).collect()
    };
    let mut rows = Vec::new();
    for (setup, d) in spec.setups.iter().zip(data) {
        for noise in &noise_labels {
            for strategy in &spec.strategies {
                let mine: Vec<&JobResult> = results
                    .iter()
                    .filter(|r| {
                        r.job.dataset == setup.dataset
                            && r.job.strategy == *strategy
                            && r.job.noise_label() == *noise
                    })
                    .collect();
                let mut row = Vec::new();
                if by_dataset {
                    row.push(d.name.clone());
                }
                if by_noise {
                    row.push(noise.clone());
                }
                row.push(strategy.name().to_string());
                for &n in &spec.report_at {
                    let values: Vec<f64> = mine
                        .iter()
                        .filter_map(|r| r.curve.iter().find(|p| p.labels == n))
                        .map(|p| p.test_accuracy)
                        .collect();
                    row.push(match mean_interval(&values, spec.interval) {
                        _ if values.is_empty() => "n/a".into(),
                        (m, Some(i)) => format!("{m:.4} ± {i:.4}"),
                        (m, None) => format!("{m:.4}"),
                    });
                }
                rows.push(row);
            }
        }
    }
    let mut notes = Vec::new();
    if spec.strategies.contains(&StrategySpec::AverageConfidence) {
        notes.push(
            "avg-confidence (modAL's avg_confidence) scores the mean of each probability row, which \
             is 1/K on softmax outputs: its picks are decided by rounding and the seeded tie-break, \
             so it behaves like random sampling."
                .to_string(),
        );
    }
    Table {
        title,
        header,
        rows,
        notes,
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
            notes: vec![],
        };
        assert_eq!(
            t.to_markdown(),
            "t\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n"
        );
    }
}
