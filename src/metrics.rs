//! Classification metrics of a classifier's predictions on the test set: accuracy, balanced
//! accuracy and macro-F1, defined as scikit-learn's `accuracy_score`, `balanced_accuracy_score`
//! and `f1_score(average="macro")` define them.
use serde::{Deserialize, Serialize};

/// The metrics of one set of predictions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Fraction of rows predicted right.
    pub accuracy: f64,
    /// Mean recall over the classes present in the truth (an always-majority classifier scores
    /// 1 / classes, whatever the imbalance).
    pub balanced_accuracy: f64,
    /// Mean F1 = 2 tp / (2 tp + fp + fn) over the classes present in the truth or the predictions.
    pub macro_f1: f64,
}

/// Scores of predicted classes `pred` against true classes `truth` (same length, classes in
/// `0..n_classes`).
pub fn scores(pred: &[i64], truth: &[i64], n_classes: usize) -> Scores {
    assert_eq!(pred.len(), truth.len(), "one prediction per row");
    let (mut tp, mut fp, mut fneg) = (
        vec![0usize; n_classes],
        vec![0usize; n_classes],
        vec![0usize; n_classes],
    );
    for (&p, &t) in pred.iter().zip(truth) {
        let (p, t) = (p as usize, t as usize);
        if p == t {
            tp[t] += 1;
        } else {
            fp[p] += 1;
            fneg[t] += 1;
        }
    }
    let correct: usize = tp.iter().sum();
    let accuracy = correct as f64 / truth.len().max(1) as f64;
    let mean = |v: Vec<f64>| {
        if v.is_empty() {
            0.0
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    let recalls = (0..n_classes)
        .filter(|&c| tp[c] + fneg[c] > 0)
        .map(|c| tp[c] as f64 / (tp[c] + fneg[c]) as f64)
        .collect();
    let f1s = (0..n_classes)
        .filter(|&c| tp[c] + fp[c] + fneg[c] > 0)
        .map(|c| 2.0 * tp[c] as f64 / (2 * tp[c] + fp[c] + fneg[c]) as f64)
        .collect();
    Scores {
        accuracy,
        balanced_accuracy: mean(recalls),
        macro_f1: mean(f1s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majority_classifier_on_imbalanced_data() {
        // 3:1 imbalance, everything predicted as class 0.
        let truth = [0, 0, 0, 1];
        let s = scores(&[0, 0, 0, 0], &truth, 2);
        assert_eq!(s.accuracy, 0.75);
        assert_eq!(s.balanced_accuracy, 0.5);
        // F1: class 0 = 2*3 / (6 + 1) = 6/7, class 1 = 0 (tp 0, fn 1); mean 3/7.
        assert!((s.macro_f1 - 3.0 / 7.0).abs() < 1e-15);
    }

    #[test]
    fn hand_computed_three_classes() {
        // truth 0 0 1 1 2 2, pred 0 1 1 1 0 2:
        // recall 1/2, 2/2, 1/2 -> balanced 2/3;
        // F1 class 0: tp 1 fp 1 fn 1 -> 2/4; class 1: tp 2 fp 1 fn 0 -> 4/5; class 2: tp 1 fp 0
        // fn 1 -> 2/3; macro (0.5 + 0.8 + 2/3) / 3.
        let s = scores(&[0, 1, 1, 1, 0, 2], &[0, 0, 1, 1, 2, 2], 3);
        assert!((s.accuracy - 4.0 / 6.0).abs() < 1e-15);
        assert!((s.balanced_accuracy - 2.0 / 3.0).abs() < 1e-15);
        assert!((s.macro_f1 - (0.5 + 0.8 + 2.0 / 3.0) / 3.0).abs() < 1e-15);
    }

    #[test]
    fn classes_absent_from_truth_and_predictions_do_not_count() {
        // Class 2 never occurs: two classes, both perfect.
        let s = scores(&[0, 1], &[0, 1], 3);
        assert_eq!(
            (s.accuracy, s.balanced_accuracy, s.macro_f1),
            (1.0, 1.0, 1.0)
        );
        // Class 2 predicted but never true: it counts in macro-F1 (as 0), not in recall.
        let s = scores(&[0, 2], &[0, 1], 3);
        assert_eq!(s.balanced_accuracy, 0.5);
        assert!((s.macro_f1 - 1.0 / 3.0).abs() < 1e-15);
    }
}
