//! One active-learning episode, the single loop that every strategy's evaluation and the learned
//! strategies' training episodes run (paper Sec. 3.1, steps 1-6).
//!
//! An episode starts from an initial labelled set L_0 inside a pool of rows it may label, trains a
//! fresh classifier f_0 on L_0 with the setup's protocol, and then, step by step, labels the rows a
//! strategy picks and trains f_t again as [`StepTraining`] says: with the setup's protocol (what
//! the baselines' evaluation does), or one more epoch / gradient step with the weights kept (the
//! paper's training episodes). It is truncated when the budget is met; whether it also terminates
//! earlier (LAL-RL's target accuracy) is for the caller (Gymnasium keeps the two apart, so does
//! this crate: an evaluation always labels to the budget).
use crate::model::{Classifier, ModelError};
use crate::spec::{ClassifierSpec, Retrain, StepTraining};
use rand_chacha::ChaCha20Rng;
use std::cell::Cell;
use std::path::Path;
use std::time::{Duration, Instant};
use tch::Tensor;

/// The fixed parts of every episode of one job: data, classifier, schedule.
pub struct Task<'a> {
    /// All inputs, `[n, dim]`, on the device the classifier runs on.
    pub x: &'a Tensor,
    /// All labels (int64), on the device.
    pub y: &'a Tensor,
    /// Shape of one input row.
    pub shape: &'a [usize],
    /// Number of classes.
    pub n_classes: usize,
    /// Pretrained weights for the classifier's body.
    pub weights: Option<&'a Path>,
    /// The classifier and its protocol.
    pub classifier: ClassifierSpec,
    /// How f_t is trained after each step.
    pub training: StepTraining,
    /// Labels at which an episode is truncated.
    pub budget: usize,
    /// Labels per step (N).
    pub step: usize,
    /// Wall time spent in classifier and policy-network work (see [`Task::timed`]).
    pub model_time: Cell<Duration>,
    /// Where the classifier's draws come from: the caller's stream (None), or streams shared by
    /// every strategy of a seed, one per round (common random numbers).
    pub shared_draws: Option<SharedDraws>,
}

/// Classifier draws (initial weights, mini-batch order) shared by every strategy of one seed:
/// round t (t = 0 for L_0, t = k after the k-th step) draws from `stream(seed, "{name}/round/{t}")`,
/// so two strategies differ only by what they labelled, never by their classifier's luck.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedDraws {
    /// The spec seed.
    pub seed: u64,
    /// The stream family (a job's shared stream name).
    pub name: String,
}

impl SharedDraws {
    /// The stream of round `round`.
    pub fn round(&self, round: usize) -> ChaCha20Rng {
        crate::rng::stream(self.seed, &format!("{}/round/{round}", self.name))
    }
}

impl Task<'_> {
    /// The stream for round `round`'s classifier draws: the shared one, else `None` (the caller's).
    fn round_stream(&self, round: usize) -> Option<ChaCha20Rng> {
        self.shared_draws.as_ref().map(|d| d.round(round))
    }

    /// Runs `f` (classifier or policy-network work), adding its wall time to `model_time`; what
    /// is not timed this way is the harness's share of a job.
    pub fn timed<T>(&self, f: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let out = f();
        self.model_time
            .set(self.model_time.get() + started.elapsed());
        out
    }

    /// Inputs of the dataset rows `idx`.
    pub fn x_rows(&self, idx: &[usize]) -> Tensor {
        rows(self.x, idx)
    }

    /// Labels of the dataset rows `idx`.
    pub fn y_rows(&self, idx: &[usize]) -> Tensor {
        rows(self.y, idx)
    }

    /// A fresh classifier (weights drawn from `rng`).
    pub fn new_classifier(&self, rng: &mut ChaCha20Rng) -> Result<Classifier, ModelError> {
        self.timed(|| {
            Classifier::new(
                &self.classifier,
                self.shape,
                self.n_classes,
                self.x.device(),
                self.weights,
                rng,
            )
        })
    }

    /// Accuracy, balanced accuracy and macro-F1 of `model` on the dataset rows `idx`.
    pub fn scores(&self, model: &Classifier, idx: &[usize]) -> crate::metrics::Scores {
        let (x, y) = (self.x_rows(idx), self.y_rows(idx));
        let pred = self.timed(|| model.predict(&x));
        let truth = Vec::<i64>::try_from(&y.to_device(tch::Device::Cpu)).expect("int64 labels");
        crate::metrics::scores(&pred, &truth, self.n_classes)
    }

    /// Accuracy of `model` on the dataset rows `idx`.
    pub fn accuracy(&self, model: &Classifier, idx: &[usize]) -> f64 {
        let (x, y) = (self.x_rows(idx), self.y_rows(idx));
        self.timed(|| model.accuracy(&x, &y))
    }
}

/// `x[idx]` along the first dimension.
pub fn rows(x: &Tensor, idx: &[usize]) -> Tensor {
    let idx: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
    x.index_select(0, &Tensor::from_slice(&idx).to_device(x.device()))
}

/// A running episode.
pub struct Episode {
    /// Rows the episode may label (the job's pool, or a per-episode subset of it).
    pool: Vec<usize>,
    /// Labelled rows, in labelling order (L_0 first).
    pub labelled: Vec<usize>,
    in_labelled: Vec<bool>,
    /// The current classifier f_t.
    pub model: Classifier,
    /// Rows bought at each step, in selection order.
    pub queried: Vec<Vec<usize>>,
}

impl Episode {
    /// Starts from `initial` (which need not lie in `pool`): a fresh classifier trained on it with
    /// the setup's protocol (step 1).
    pub fn start(
        task: &Task,
        pool: Vec<usize>,
        initial: Vec<usize>,
        rng: &mut ChaCha20Rng,
    ) -> Result<Episode, ModelError> {
        let mut in_labelled = vec![false; task.x.size()[0] as usize];
        for &i in &initial {
            in_labelled[i] = true;
        }
        let mut shared = task.round_stream(0);
        let rng = shared.as_mut().unwrap_or(rng);
        let mut model = task.new_classifier(rng)?;
        let (x, y) = (task.x_rows(&initial), task.y_rows(&initial));
        task.timed(|| model.fit(&x, &y, rng));
        Ok(Episode {
            pool,
            labelled: initial,
            in_labelled,
            model,
            queried: Vec::new(),
        })
    }

    /// Unlabelled rows of the episode's pool, in pool order: the candidates of the next step.
    pub fn unlabelled(&self) -> Vec<usize> {
        self.pool
            .iter()
            .copied()
            .filter(|&i| !self.in_labelled[i])
            .collect()
    }

    /// Labels to buy at the next step: N, or what is left of the budget (0: truncated).
    pub fn to_buy(&self, task: &Task) -> usize {
        task.step
            .min(task.budget.saturating_sub(self.labelled.len()))
    }

    /// Labels `chosen` (steps 4-5): adds them to L_t and trains f_t as the task says.
    pub fn label(
        &mut self,
        task: &Task,
        chosen: &[usize],
        rng: &mut ChaCha20Rng,
    ) -> Result<(), ModelError> {
        for &i in chosen {
            self.in_labelled[i] = true;
        }
        self.labelled.extend_from_slice(chosen);
        self.queried.push(chosen.to_vec());
        let mut shared = task.round_stream(self.queried.len());
        let rng = shared.as_mut().unwrap_or(rng);
        if task.training == StepTraining::Setup && task.classifier.retrain == Retrain::FromScratch {
            self.model = task.new_classifier(rng)?;
        }
        let (x, y) = (task.x_rows(&self.labelled), task.y_rows(&self.labelled));
        task.timed(|| self.model.train_more(&x, &y, task.training, rng));
        Ok(())
    }
}
