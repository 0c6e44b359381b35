//! Benchmark specs: the RON files under `specs/`, parsed strictly and validated before any work.
//!
//! A spec declares setups (a dataset and its classifier), the split, noise configurations, the
//! strategies to compare, the labelling schedule and the seeds; its jobs are the grid
//! setup x noise x strategy x seed. Every field is checked: a typo is a syntax error with
//! `file:line:col`, an inconsistent value an error naming the field path.
//!
//! ```
//! let text = r#"Spec(
//!     name: "tiny",
//!     setups: [Setup(
//!         dataset: Digits,
//!         classifier: Classifier(
//!             model: LogisticRegression,
//!             optimizer: Adam(lr: 0.05, weight_decay: 0.0),
//!             epochs: 50,
//!             batch_size: 64,
//!         ),
//!     )],
//!     split: Split(holdout: 0.2, test: 0.2),
//!     strategies: [Random, Margin],
//!     initial_labelled: 10,
//!     labels_per_step: 10,
//!     budget: 30,
//!     report_at: [10, 30],
//!     seeds: [0, 1],
//! )"#;
//! let spec = ralbench::spec::Spec::parse(text, "tiny.ron".as_ref()).unwrap();
//! assert_eq!(spec.label_schedule(), vec![10, 20, 30]);
//! ```
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Everything a benchmark run needs to know, as written in a spec file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Short name; the default output directory is `results/<name>`.
    pub name: String,
    /// Free text shown in reports.
    #[serde(default)]
    pub description: String,
    /// Datasets, each with the classifier trained on it; every setup runs every strategy.
    pub setups: Vec<Setup>,
    /// How each dataset is cut into pool, hold-out, state and test sets.
    pub split: SplitSpec,
    /// Image-noise configurations applied to the pool; `[]` means clean images only.
    #[serde(default)]
    pub noise: Vec<NoiseSpec>,
    /// The query strategies to compare, in table order.
    pub strategies: Vec<StrategySpec>,
    /// Size of the initial labelled set L_0 (drawn from the pool, shared by all strategies of a seed).
    pub initial_labelled: usize,
    /// Labels bought per step (the paper's N).
    pub labels_per_step: usize,
    /// Total labelled points at which an episode ends (initial set included).
    pub budget: usize,
    /// Label counts at which the table reports test accuracy.
    pub report_at: Vec<usize>,
    /// The interval printed after the mean over seeds.
    #[serde(default)]
    pub interval: IntervalKind,
    /// What the tables show: `Accuracy` (default), `BalancedAccuracy` or `MacroF1`.
    #[serde(default)]
    pub metric: Metric,
    /// Seeds; each (strategy, seed) pair is one job.
    pub seeds: Vec<u64>,
    /// Also write table-time.md with the mean wall time per row (the paper's Table 2 has one).
    #[serde(default)]
    pub report_time: bool,
    /// Ask libtorch for deterministic algorithms (the default).
    #[serde(default = "yes")]
    pub deterministic: bool,
}

fn yes() -> bool {
    true
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

fn is_identity(v: &InputNorm) -> bool {
    *v == InputNorm::Identity
}

/// One dataset and the classifier trained on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    /// Which dataset (see `bench datasets list`).
    pub dataset: DatasetSpec,
    /// The classifier trained on the labelled set each round.
    pub classifier: ClassifierSpec,
}

/// Noise on a fraction of the pool (training) images, paper Sec. 4.4.2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "Noise")]
pub struct NoiseSpec {
    /// Fraction of pool images that get noise (round(fraction x pool size) images).
    pub fraction: f64,
    /// Transforms applied in order to each chosen image.
    pub transforms: Vec<crate::noise::Transform>,
}

impl NoiseSpec {
    /// The label used in tables, e.g. `10%`.
    pub fn label(&self) -> String {
        format!("{}%", (self.fraction * 100.0 * 1000.0).round() / 1000.0)
    }
}

/// The datasets a spec can name (`bench datasets list` shows them and their artifacts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Dataset")]
pub enum DatasetSpec {
    /// UCI optical digits, 1797 x 64, 10 classes (real, bundled by smartcore).
    Digits,
    /// Wisconsin breast cancer, 569 x 30, binary (real, bundled by smartcore), standardised.
    BreastCancer,
    /// SYNTHETIC 8-class RGB textures at `size` x `size` (8..=150).
    SyntheticHistology {
        /// Side length in pixels.
        size: usize,
        /// Images per class.
        per_class: usize,
        /// Generator seed (independent of the run seeds).
        seed: u64,
    },
    /// SYNTHETIC binary grey chest-X-ray-like images at `size` x `size` (28..=224).
    SyntheticXray {
        /// Side length in pixels.
        size: usize,
        /// Images per class.
        per_class: usize,
        /// Generator seed (independent of the run seeds).
        seed: u64,
    },
    /// Kather et al. 2016 colorectal histology tiles (artifact kather2016-tiles), resized to `size`.
    Kather2016 {
        /// Side length in pixels (the tiles are 150).
        size: usize,
    },
    /// PneumoniaMNIST at `size` 28, 64, 128 or 224 (artifacts pneumoniamnist[-SIZE]).
    PneumoniaMnist {
        /// Side length in pixels.
        size: usize,
    },
    /// PathMNIST 28 x 28 RGB, 9 classes (artifact pathmnist), resized to `size`.
    PathMnist {
        /// Side length in pixels.
        size: usize,
    },
    /// Kermany et al. 2018 chest X-rays (artifact kermany2018), grey, resized to `size`.
    Kermany2018 {
        /// Side length in pixels.
        size: usize,
    },
}

impl Setup {
    fn check(&self) -> Result<(), (String, String)> {
        self.dataset.check()?;
        let c = &self.classifier;
        let bad = |field: &str, message: String| Err((format!("classifier.{field}"), message));
        if c.epochs == 0 {
            return bad("epochs", "must be at least 1".into());
        }
        if c.batch_size == 0 {
            return bad("batch_size", "must be at least 1".into());
        }
        if matches!(c.optimizer, OptimizerSpec::Lbfgs { .. })
            && c.model != ModelSpec::LogisticRegression
        {
            return bad(
                "optimizer",
                "Lbfgs solves logistic regression only; use Adam or Sgd for this model".into(),
            );
        }
        c.optimizer
            .check()
            .map_err(|(field, message)| (format!("classifier.optimizer.{field}"), message))?;
        match &c.model {
            ModelSpec::Mlp { hidden } => {
                if let Some(i) = hidden.iter().position(|&w| w == 0) {
                    return bad(
                        &format!("model.hidden[{i}]"),
                        "width must be at least 1".into(),
                    );
                }
            }
            ModelSpec::SmallCnn { channels } => {
                if channels.is_empty() || channels.contains(&0) {
                    return bad(
                        "model.channels",
                        "list one or more non-zero widths, e.g. [16, 32]".into(),
                    );
                }
                if !self.dataset.is_image() {
                    return bad("model", "a CNN needs an image dataset".into());
                }
            }
            ModelSpec::ResNet18 { .. } | ModelSpec::ResNet50 { .. } if !self.dataset.is_image() => {
                return bad("model", "a ResNet needs an image dataset".into());
            }
            _ => {}
        }
        Ok(())
    }
}

impl DatasetSpec {
    /// (rows, shape of one row, classes), known without the data: from the bundled sets, the
    /// generators' parameters, and the published sizes of the downloaded ones (datasets.lock's
    /// artifacts: PneumoniaMNIST 4708 + 524 + 624, Kather 2016 5000 tiles, PathMNIST 89996 +
    /// 10004 + 7180, Kermany 2018 5232 + 624), images resized to `size`.
    pub fn shape(&self) -> (usize, Vec<usize>, usize) {
        match *self {
            DatasetSpec::Digits => (1797, vec![1, 8, 8], 10),
            DatasetSpec::BreastCancer => (569, vec![30], 2),
            DatasetSpec::SyntheticHistology {
                size, per_class, ..
            } => (8 * per_class, vec![3, size, size], 8),
            DatasetSpec::SyntheticXray {
                size, per_class, ..
            } => (2 * per_class, vec![1, size, size], 2),
            DatasetSpec::PneumoniaMnist { size } => (5856, vec![1, size, size], 2),
            DatasetSpec::Kather2016 { size } => (5000, vec![3, size, size], 8),
            DatasetSpec::PathMnist { size } => (107_180, vec![3, size, size], 9),
            DatasetSpec::Kermany2018 { size } => (5856, vec![1, size, size], 2),
        }
    }

    /// Whether rows are images (channels x height x width) rather than feature vectors.
    pub fn is_image(&self) -> bool {
        !matches!(self, DatasetSpec::BreastCancer)
    }

    fn check(&self) -> Result<(), (String, String)> {
        let range = |field: &str, v: usize, lo: usize, hi: usize| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err((
                    format!("dataset.{field}"),
                    format!("{v} must be in {lo}..={hi}"),
                ))
            }
        };
        match *self {
            DatasetSpec::Digits | DatasetSpec::BreastCancer => Ok(()),
            DatasetSpec::SyntheticHistology {
                size, per_class, ..
            } => {
                range("size", size, 8, 150)?;
                range("per_class", per_class, 1, 100_000)
            }
            DatasetSpec::SyntheticXray {
                size, per_class, ..
            } => {
                range("size", size, 28, 224)?;
                range("per_class", per_class, 1, 100_000)
            }
            DatasetSpec::PneumoniaMnist { size } if ![28, 64, 128, 224].contains(&size) => Err((
                "dataset.size".into(),
                format!("{size}: PneumoniaMNIST comes in sizes 28, 64, 128 and 224"),
            )),
            DatasetSpec::PneumoniaMnist { .. } => Ok(()),
            DatasetSpec::Kather2016 { size }
            | DatasetSpec::PathMnist { size }
            | DatasetSpec::Kermany2018 { size } => range("size", size, 8, 512),
        }
    }
}

/// Fractions of the dataset held out for rewards and for testing; the rest is the pool.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "Split")]
pub struct SplitSpec {
    /// Fraction for the reward hold-out set D_R.
    pub holdout: f64,
    /// Fraction set aside for the state set D_s (used by the learned strategies).
    /// Left out of canonical job RON when 0, so adding the field changed no job id.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub state: f64,
    /// Fraction for the test set.
    pub test: f64,
}

/// A classifier and how it is trained every round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "Classifier")]
pub struct ClassifierSpec {
    /// The network.
    pub model: ModelSpec,
    /// The optimiser and its settings.
    pub optimizer: OptimizerSpec,
    /// Passes over the labelled set per round.
    pub epochs: usize,
    /// Mini-batch size (the whole labelled set when it is smaller).
    pub batch_size: usize,
    /// Whether each round starts from fresh weights or continues from the last round's.
    #[serde(default)]
    pub retrain: Retrain,
    /// Input normalisation (left out of canonical job RON when Identity).
    #[serde(default, skip_serializing_if = "is_identity")]
    pub input: InputNorm,
}

/// Network architectures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Model")]
pub enum ModelSpec {
    /// Multinomial logistic regression (one linear layer + softmax).
    LogisticRegression,
    /// Fully connected ReLU network with the given hidden widths.
    Mlp {
        /// Hidden layer widths, input side first.
        hidden: Vec<usize>,
    },
    /// Small CNN: per width, a 3x3 conv + ReLU + 2x2 max-pool; then global average pooling
    /// (the embedding) and a linear head.
    SmallCnn {
        /// Conv widths, input side first, e.g. [16, 32].
        channels: Vec<usize>,
    },
    /// torchvision ResNet-18 body (512-wide embedding) with a linear head.
    ResNet18 {
        /// datasets.lock artifact with safetensors weights for the body; None: random init.
        pretrained: Option<String>,
    },
    /// torchvision ResNet-50 body (2048-wide embedding) with a linear head (the paper's model).
    ResNet50 {
        /// datasets.lock artifact with safetensors weights for the body; None: random init.
        pretrained: Option<String>,
    },
}

/// How pixels in [0, 1] are normalised before the network sees them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum InputNorm {
    /// As loaded: pixels in [0, 1], tabular features as the dataset gives them.
    #[default]
    Identity,
    /// ImageNet channel mean/std (what pretrained torchvision weights expect); grey images are
    /// repeated to three channels.
    ImageNet,
}

/// Optimisers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Optimizer")]
pub enum OptimizerSpec {
    /// Adam with decoupled-free L2 weight decay (libtorch's Adam).
    Adam {
        /// Learning rate.
        lr: f64,
        /// L2 penalty.
        weight_decay: f64,
    },
    /// Stochastic gradient descent.
    Sgd {
        /// Learning rate.
        lr: f64,
        /// Momentum.
        momentum: f64,
        /// L2 penalty.
        weight_decay: f64,
    },
    /// Logistic regression solved, not iterated: scikit-learn's `LogisticRegression(C=c)`
    /// objective (mean cross-entropy + ||W||^2 / (2 C n), intercept unpenalised; binary problems
    /// as one logistic, more classes multinomial) minimised by full-batch L-BFGS in double
    /// precision, stopping when max |gradient| <= tol or after max_iter iterations (scikit-learn's
    /// `tol` and `max_iter`). Epochs and batch size do not apply. Only for LogisticRegression.
    Lbfgs {
        /// Inverse L2 strength (scikit-learn's C; default 1).
        #[serde(default = "one_f")]
        c: f64,
        /// Gradient tolerance (scikit-learn: 1e-4).
        #[serde(default = "lbfgs_tol")]
        tol: f64,
        /// Most iterations (scikit-learn: 100).
        #[serde(default = "lbfgs_max_iter")]
        max_iter: usize,
    },
}

fn one_f() -> f64 {
    1.0
}
fn lbfgs_tol() -> f64 {
    1e-4
}
fn lbfgs_max_iter() -> usize {
    100
}

impl OptimizerSpec {
    /// Checks the values a typo could break; the error names the field (`lr`, `c`, ...).
    pub fn check(&self) -> Result<(), (String, String)> {
        let positive = |field: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err((field.to_string(), format!("{v} must be a positive number")))
            }
        };
        match *self {
            OptimizerSpec::Adam { lr, .. } | OptimizerSpec::Sgd { lr, .. } => positive("lr", lr),
            OptimizerSpec::Lbfgs { c, tol, max_iter } => {
                positive("c", c)?;
                positive("tol", tol)?;
                if max_iter == 0 {
                    return Err(("max_iter".into(), "must be at least 1".into()));
                }
                Ok(())
            }
        }
    }

    /// scikit-learn's `LogisticRegression()` defaults: C = 1, tol = 1e-4, max_iter = 100.
    pub const SKLEARN_LOGISTIC: OptimizerSpec = OptimizerSpec::Lbfgs {
        c: 1.0,
        tol: 1e-4,
        max_iter: 100,
    };
}

/// The retraining protocol between active-learning rounds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Retrain {
    /// Fresh weights every round (the paper's re-initialisation).
    #[default]
    FromScratch,
    /// Keep the previous round's weights and train further.
    FineTune,
}

/// How the classifier f_t is trained after a labelling step inside an episode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepTraining {
    /// The setup's protocol: `retrain` (fresh weights, or the last round's) and `epochs` passes.
    #[default]
    Setup,
    /// One epoch over L_t, weights and optimiser state kept; fresh weights only when the episode
    /// starts (the paper's "train f_t one iteration", Sec. 3.1 step 5, read as one epoch).
    OneEpoch,
    /// One mini-batch gradient step on L_t, weights kept (the other reading of "one iteration").
    OneGradientStep,
}

/// Query strategies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Strategy")]
pub enum StrategySpec {
    /// Uniform without replacement.
    Random,
    /// Smallest gap between the two most probable classes.
    Margin,
    /// Largest predictive entropy (natural log).
    Entropy,
    /// Largest 1 - max probability (modAL's uncertainty sampling).
    LeastConfident,
    /// Highest mean probability (modAL's avg_confidence); on softmax outputs every row's mean is
    /// 1/K, so picks come down to rounding and the seeded tie-break.
    AverageConfidence,
    /// k-center greedy coreset on the classifier's embeddings (Sener & Savarese 2018).
    KCenterGreedy,
    /// The paper's learned strategy (DDQN on latent-space action features, top-N per step).
    Dral(crate::rl::config::DralSpec),
    /// LAL-RL (Konyushkova et al. 2018) as its public code does it.
    LalRl(crate::rl::config::LalRlSpec),
}

impl StrategySpec {
    /// The name used in tables and on the command line (`dral-n4` when N is set).
    pub fn name(&self) -> String {
        match self {
            StrategySpec::Random => "random".into(),
            StrategySpec::Margin => "margin".into(),
            StrategySpec::Entropy => "entropy".into(),
            StrategySpec::LeastConfident => "least-confident".into(),
            StrategySpec::AverageConfidence => "avg-confidence".into(),
            StrategySpec::KCenterGreedy => "k-center".into(),
            StrategySpec::Dral(d) => d.top_n.map_or("dral".into(), |n| format!("dral-n{n}")),
            StrategySpec::LalRl(l) => l.top_n.map_or("lal-rl".into(), |n| format!("lal-rl-n{n}")),
        }
    }

    /// The strategies `bench query` can run (the learned ones need a trained policy).
    pub const QUERYABLE: [StrategySpec; 6] = [
        StrategySpec::Random,
        StrategySpec::LeastConfident,
        StrategySpec::Margin,
        StrategySpec::Entropy,
        StrategySpec::AverageConfidence,
        StrategySpec::KCenterGreedy,
    ];

    /// Whether a policy is trained before the evaluation (DRAL, LAL-RL).
    pub fn is_learned(&self) -> bool {
        matches!(self, StrategySpec::Dral(_) | StrategySpec::LalRl(_))
    }

    /// Whether the strategy needs the classifier's embeddings (else only probabilities).
    pub fn needs_embeddings(&self) -> bool {
        *self == StrategySpec::KCenterGreedy
    }

    /// Labels this strategy buys per step, given the spec's default.
    pub fn labels_per_step(&self, default: usize) -> usize {
        match self {
            StrategySpec::Dral(d) => d.top_n.unwrap_or(default),
            StrategySpec::LalRl(l) => l.top_n.unwrap_or(default),
            _ => default,
        }
    }
}

/// The metric the tables, plots and statistics show (every job file stores all of them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Metric {
    /// Test accuracy (the paper's metric).
    #[default]
    Accuracy,
    /// Mean per-class recall on the test set.
    BalancedAccuracy,
    /// Mean per-class F1 on the test set.
    MacroF1,
}

impl Metric {
    /// The name printed in titles.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "test accuracy",
            Metric::BalancedAccuracy => "test balanced accuracy",
            Metric::MacroF1 => "test macro-F1",
        }
    }
}

/// The interval reported around the mean over seeds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Interval")]
pub enum IntervalKind {
    /// Sample standard deviation (n - 1).
    #[default]
    Std,
    /// Standard error of the mean.
    StdErr,
    /// Half the distance between the 16th and 84th percentiles of 2000 bootstrap means.
    Bootstrap,
}

impl IntervalKind {
    /// The name printed in table headers.
    pub fn name(self) -> &'static str {
        match self {
            IntervalKind::Std => "std",
            IntervalKind::StdErr => "standard error",
            IntervalKind::Bootstrap => "bootstrap 16-84% half-width",
        }
    }
}

/// Why a spec was refused.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The file could not be read.
    #[error("{path}: cannot read spec: {source}")]
    Read {
        /// The spec file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// RON syntax, an unknown field or variant, a wrong type.
    #[error("{path}:{line}:{col}: {message}")]
    Syntax {
        /// The spec file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// What the parser expected.
        message: String,
    },
    /// A well-formed spec whose values do not fit together.
    #[error("{path}: {field}: {message}")]
    Invalid {
        /// The spec file.
        path: PathBuf,
        /// Field path, e.g. `report_at[2]`.
        field: String,
        /// What is wrong and what to do.
        message: String,
    },
}

impl Spec {
    /// Reads, parses and validates a spec file.
    pub fn load(path: &Path) -> Result<(Spec, String), SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
            path: path.to_owned(),
            source,
        })?;
        let spec = Spec::parse(&text, path)?;
        Ok((spec, text))
    }

    /// Parses and validates spec text; `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Spec, SpecError> {
        let spec: Spec = ron::Options::default()
            // `Dral(top_n: 4)` rather than `Dral((top_n: 4))`.
            .with_default_extension(ron::extensions::Extensions::UNWRAP_VARIANT_NEWTYPES)
            .from_str(text)
            .map_err(|e| SpecError::Syntax {
                path: path.to_owned(),
                line: e.span.start.line,
                col: e.span.start.col,
                message: e.code.to_string(),
            })?;
        spec.validate()
            .map_err(|(field, message)| SpecError::Invalid {
                path: path.to_owned(),
                field,
                message,
            })?;
        Ok(spec)
    }

    /// Label counts at which the classifier is evaluated: the initial set, then one per step.
    pub fn label_schedule(&self) -> Vec<usize> {
        self.label_schedule_with(self.labels_per_step)
    }

    /// The noise labels of the table rows, in spec order (`0%` alone when there is no noise).
    pub fn noise_labels(&self) -> Vec<String> {
        if self.noise.is_empty() {
            vec!["0%".into()]
        } else {
            self.noise.iter().map(NoiseSpec::label).collect()
        }
    }

    /// The label schedule for `step` labels per step.
    pub fn label_schedule_with(&self, step: usize) -> Vec<usize> {
        let mut counts = vec![self.initial_labelled];
        let mut n = self.initial_labelled;
        while n < self.budget {
            n = (n + step).min(self.budget);
            counts.push(n);
        }
        counts
    }

    fn validate(&self) -> Result<(), (String, String)> {
        let bad = |field: &str, message: String| Err((field.to_string(), message));
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return bad(
                "name",
                format!(
                    "{:?} must be non-empty and use only letters, digits, '-' and '_' (it names the output directory)",
                    self.name
                ),
            );
        }
        if self.setups.is_empty() {
            return bad(
                "setups",
                "list at least one Setup(dataset: ..., classifier: ...)".into(),
            );
        }
        for (i, setup) in self.setups.iter().enumerate() {
            setup
                .check()
                .map_err(|(field, message)| (format!("setups[{i}].{field}"), message))?;
            if self.setups[..i].iter().any(|s| s.dataset == setup.dataset) {
                return bad(
                    &format!("setups[{i}].dataset"),
                    "this dataset already has a setup".into(),
                );
            }
        }
        let SplitSpec {
            holdout,
            state,
            test,
        } = self.split;
        for (field, v) in [
            ("split.holdout", holdout),
            ("split.state", state),
            ("split.test", test),
        ] {
            if !(0.0..1.0).contains(&v) {
                return bad(field, format!("{v} must be in [0, 1)"));
            }
        }
        if test == 0.0 {
            return bad(
                "split.test",
                "must be > 0: accuracy is measured on the test set".into(),
            );
        }
        if holdout + state + test >= 0.9 {
            return bad(
                "split",
                format!(
                    "holdout + state + test = {} leaves less than 10% for the pool",
                    holdout + state + test
                ),
            );
        }
        for (i, noise) in self.noise.iter().enumerate() {
            if !(0.0..=1.0).contains(&noise.fraction) {
                return bad(
                    &format!("noise[{i}].fraction"),
                    format!("{} must be in [0, 1]", noise.fraction),
                );
            }
            if noise.fraction > 0.0 && noise.transforms.is_empty() {
                return bad(
                    &format!("noise[{i}].transforms"),
                    "a noisy fraction needs at least one transform".into(),
                );
            }
            for (j, t) in noise.transforms.iter().enumerate() {
                t.check()
                    .map_err(|m| (format!("noise[{i}].transforms[{j}]"), m))?;
            }
            if noise.fraction > 0.0
                && let Some(j) = self.setups.iter().position(|s| !s.dataset.is_image())
            {
                return bad(
                    &format!("noise[{i}]"),
                    format!(
                        "noise transforms need images, but setups[{j}] ({:?}) is tabular",
                        self.setups[j].dataset
                    ),
                );
            }
            if self.noise[..i].contains(noise) {
                return bad(&format!("noise[{i}]"), "listed twice".into());
            }
        }
        if self.strategies.is_empty() {
            return bad(
                "strategies",
                "list at least one strategy, e.g. [Random, Margin]".into(),
            );
        }
        for (i, s) in self.strategies.iter().enumerate() {
            if self.strategies[..i].contains(s) {
                return bad(
                    &format!("strategies[{i}]"),
                    format!("{} is listed twice", s.name()),
                );
            }
            let checked = match s {
                StrategySpec::Dral(d) => d.check(),
                StrategySpec::LalRl(l) => l.check(),
                _ => Ok(()),
            };
            checked.map_err(|(f, m)| (format!("strategies[{i}].{f}"), m))?;
            if matches!(s, StrategySpec::Dral(_) | StrategySpec::LalRl(_))
                && (self.split.state == 0.0 || self.split.holdout == 0.0)
            {
                return bad(
                    "split",
                    format!(
                        "{} needs a state set and a reward hold-out: set split.state and split.holdout above 0",
                        s.name()
                    ),
                );
            }
        }
        if self.initial_labelled == 0 {
            return bad("initial_labelled", "must be at least 1".into());
        }
        if self.labels_per_step == 0 {
            return bad("labels_per_step", "must be at least 1".into());
        }
        if self.budget < self.initial_labelled {
            return bad(
                "budget",
                format!(
                    "{} is smaller than initial_labelled ({}); raise budget or lower initial_labelled",
                    self.budget, self.initial_labelled
                ),
            );
        }
        // Before any schedule is built: a budget beyond every row of a dataset would only end in
        // the pool check after the data is loaded, and its schedule can outgrow memory.
        for (i, setup) in self.setups.iter().enumerate() {
            let (rows, _, _) = setup.dataset.shape();
            if self.budget > rows {
                return bad(
                    "budget",
                    format!(
                        "{} labels, but setups[{i}] ({:?}) has only {rows} rows in all; lower budget",
                        self.budget, setup.dataset
                    ),
                );
            }
        }
        if self.report_at.is_empty() {
            return bad(
                "report_at",
                "list at least one label count to report".into(),
            );
        }
        for (i, n) in self.report_at.iter().enumerate() {
            for s in &self.strategies {
                let schedule = self.label_schedule_with(s.labels_per_step(self.labels_per_step));
                if !schedule.contains(n) {
                    return bad(
                        &format!("report_at[{i}]"),
                        format!(
                            "{n} labels is never reached by {}; its schedule is {schedule:?}",
                            s.name()
                        ),
                    );
                }
            }
            if i > 0 && self.report_at[i - 1] >= *n {
                return bad(
                    &format!("report_at[{i}]"),
                    "label counts must be increasing".into(),
                );
            }
        }
        if self.seeds.is_empty() {
            return bad(
                "seeds",
                "list at least one seed, e.g. [0, 1, 2, 3, 4]".into(),
            );
        }
        for (i, s) in self.seeds.iter().enumerate() {
            if self.seeds[..i].contains(s) {
                return bad(&format!("seeds[{i}]"), format!("seed {s} is listed twice"));
            }
        }
        Ok(())
    }
}
