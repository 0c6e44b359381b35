//! Spec fields of the two learned strategies, with the defaults the paper and the LAL-RL public
//! code give. Where the paper is silent, the choice is a field, documented here.
use crate::spec::{OptimizerSpec, StepTraining};
use serde::{Deserialize, Serialize};

/// Reward of one labelling step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Reward {
    /// ACC(f_{t+1}, D_R) - ACC(f_t, D_R) (the paper's Eq. 2).
    AccuracyDelta,
    /// LAL-RL's LalEnvTargetAccuracy: -1 per step until accuracy on D_R reaches `fraction` x the
    /// accuracy of a classifier trained on the whole pool; the episode ends there (or at the budget).
    TargetAccuracy {
        /// 0.98 in the public code.
        fraction: f64,
    },
}

/// How the target network follows the online network.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum TargetUpdate {
    /// phi' <- tau phi + (1 - tau) phi' after every gradient step (LAL-RL: tau = 0.01).
    Soft {
        /// Mixing weight.
        tau: f64,
    },
    /// phi' <- phi every `every` gradient steps.
    Hard {
        /// Gradient steps between copies.
        every: usize,
    },
}

/// Which network picks the next top-N set in the TD target, and which evaluates it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DoubleDqn {
    /// van Hasselt et al.: the online network picks, the target network evaluates.
    #[default]
    OnlinePicks,
    /// The paper's Eq. 4 as printed: the target network picks, the online network evaluates.
    TargetPicks,
}

/// How a K-class prediction matrix on D_s becomes the state vector (the paper leaves it open).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum StateRepr {
    /// The sorted maximum class probability of each D_s point: |D_s| numbers for any K.
    #[default]
    SortedMaxProb,
    /// Each class column sorted, columns concatenated: K x |D_s| numbers.
    SortedColumns,
    /// LAL-RL's binary state: p(class 0) sorted (on K > 2 classes only column 0 is seen).
    SortedClassZero,
}

/// Epsilon-greedy exploration: epsilon = max(end, start - iteration x (start - end) / decay).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Epsilon {
    /// Value at iteration 0.
    pub start: f64,
    /// Floor.
    pub end: f64,
    /// Iterations to go from start to end; None: the training's iteration count, so the floor is
    /// reached at the last iteration (LAL-RL: 1000 over its 1000 iterations, dqn training loop of
    /// the "build agent example" notebook).
    #[serde(default)]
    pub decay: Option<f64>,
}

impl Epsilon {
    /// Epsilon at a training iteration of `iterations`.
    pub fn at(&self, iteration: usize, iterations: usize) -> f64 {
        let decay = self
            .decay
            .unwrap_or(iterations.saturating_sub(1).max(1) as f64);
        (self.start - iteration as f64 * (self.start - self.end) / decay).max(self.end)
    }
}

/// The loss over a batch of TD errors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Loss {
    /// Sum of squared TD errors (LAL-RL, dqn.py `tf.reduce_sum(tf.square(self._td_error))`).
    #[default]
    Sum,
    /// Mean of squared TD errors.
    Mean,
}

/// The Q-network's output bias before training.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutputBias {
    /// Half the mean return of the warm-start episodes: LAL-RL's -mean(episode length) / 2 for its
    /// -1-per-step reward (dqn.py `bias_average`), the same rule for any reward.
    #[default]
    HalfWarmStartReturn,
    /// Left as initialised.
    Initial,
}

/// How DRAL's action features are put on a common scale before the Q-network sees them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActionNorm {
    /// The score as is; each distance divided by its largest value among the step's candidates.
    #[default]
    MaxScaled,
    /// As MaxScaled, then each feature minus its mean over the step's candidates, divided by its
    /// standard deviation there: only how a candidate compares with the others remains.
    Standardised,
}

impl ActionNorm {
    fn is_max_scaled(&self) -> bool {
        *self == ActionNorm::MaxScaled
    }
}

/// Sampling from the replay buffer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum ReplaySampling {
    /// Uniform without replacement.
    Uniform,
    /// p ~ |TD error|^exponent without replacement, new transitions at the running maximum
    /// (LAL-RL: exponent 3, initial maximum 1000^3).
    Prioritised {
        /// The power of |delta|.
        exponent: f64,
    },
}

/// Stop training once the mean episode reward of the last `window` iterations moves less than
/// `tolerance` from that of the `window` before ("until the average reward has stabilised").
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyStop {
    /// Iterations per averaging window.
    pub window: usize,
    /// Largest change of the windowed mean that counts as stable.
    pub tolerance: f64,
}

/// The paper's method (DRAL): DDQN over [state, (score, d_labelled, d_unlabelled)] on the
/// classifier's embeddings, top-N labels per step. Defaults: the paper where it says (Sec. 3.1,
/// 4.2), else LAL-RL's public code ("all the overlapping reinforcement learning hyperparameters
/// are kept consistent", Sec. 4.2); the README's table gives the source of each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DralSpec {
    /// Labels per step N (Eq. 3); None: the spec's labels_per_step.
    #[serde(default)]
    pub top_n: Option<usize>,
    /// Random episodes that fill the replay buffer first (paper: 16; "larger model": 128).
    #[serde(default = "d_warm_start")]
    pub warm_start: usize,
    /// Updates right after the warm start (LAL-RL: 100).
    #[serde(default = "l_warm_updates")]
    pub warm_start_updates: usize,
    /// Most training iterations (LAL-RL: 1000; each: `episodes_per_iteration` episodes, then updates).
    #[serde(default = "l_iterations")]
    pub iterations: usize,
    /// Episodes per iteration (LAL-RL: 10).
    #[serde(default = "l_episodes")]
    pub episodes_per_iteration: usize,
    /// Gradient updates per iteration (LAL-RL: 60).
    #[serde(default = "l_updates")]
    pub updates_per_iteration: usize,
    /// Hidden widths of the Q-network MLP (paper: 3 x 128, ReLU).
    #[serde(default = "d_hidden")]
    pub hidden: Vec<usize>,
    /// Adam learning rate (paper: 1e-4).
    #[serde(default = "d_lr")]
    pub lr: f64,
    /// Discount (paper: 0.99).
    #[serde(default = "d_gamma")]
    pub gamma: f64,
    /// Mini-batch of transitions per update (LAL-RL: 32).
    #[serde(default = "d_batch")]
    pub batch_size: usize,
    /// Replay buffer capacity (LAL-RL: 1e4).
    #[serde(default = "d_replay")]
    pub replay: usize,
    /// Replay sampling (LAL-RL: prioritised, |delta|^3; DRAL's default: uniform, ours, because
    /// on the accuracy-delta reward the largest TD errors are reward noise, benchmarks/STUDIES.md).
    #[serde(default = "d_sampling")]
    pub sampling: ReplaySampling,
    /// Loss over a batch (LAL-RL: summed).
    #[serde(default)]
    pub loss: Loss,
    /// Output-bias initialisation (LAL-RL: half the warm-start return).
    #[serde(default)]
    pub output_bias: OutputBias,
    /// Target network update (LAL-RL: soft, tau 0.01).
    #[serde(default = "d_target")]
    pub target: TargetUpdate,
    /// Double-DQN variant (Eq. 4).
    #[serde(default)]
    pub double: DoubleDqn,
    /// Exploration schedule (LAL-RL: 1 -> 0.1 linearly over the training iterations).
    #[serde(default = "d_epsilon")]
    pub epsilon: Epsilon,
    /// Early stopping on the mean reward (paper Sec. 4.2); it never fires while epsilon is above
    /// its floor. None: run all iterations.
    #[serde(default = "d_early_stop")]
    pub early_stop: Option<EarlyStop>,
    /// State representation for K classes.
    #[serde(default)]
    pub state: StateRepr,
    /// Scale of the action features (the paper does not say). Left out of a job's canonical RON
    /// when MaxScaled, so adding the field changed no job id.
    #[serde(default, skip_serializing_if = "ActionNorm::is_max_scaled")]
    pub action_norm: ActionNorm,
    /// Reward (paper Eq. 2: accuracy delta on D_R).
    #[serde(default = "d_reward")]
    pub reward: Reward,
    /// Size of a per-episode random subset of the pool that candidates and distances refer to
    /// (LAL-RL's 100-point episode pool); None: the whole pool.
    #[serde(default)]
    pub candidates: Option<usize>,
    /// How f_t is trained after each step of a training episode (paper Sec. 3.1 step 5: one
    /// iteration, read as one epoch).
    #[serde(default = "d_step_training")]
    pub step_training: StepTraining,
    /// How f_t is trained after each step of the evaluation episode (our choice: the setup's
    /// protocol, as every baseline, so the test accuracy at L labels compares the picks alone).
    #[serde(default)]
    pub eval_training: StepTraining,
}

/// LAL-RL (Konyushkova et al. 2018) as its public code does it, with spec overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LalRlSpec {
    /// Labels per step (the original: 1; the open batch port takes the top-N Q-values).
    #[serde(default)]
    pub top_n: Option<usize>,
    /// Random warm-start episodes (public code: 128; the paper's comparison: 16).
    #[serde(default = "l_warm_start")]
    pub warm_start: usize,
    /// Updates right after the warm start (public code: 100).
    #[serde(default = "l_warm_updates")]
    pub warm_start_updates: usize,
    /// Training iterations (public code: 1000).
    #[serde(default = "l_iterations")]
    pub iterations: usize,
    /// Episodes per iteration (public code: 10).
    #[serde(default = "l_episodes")]
    pub episodes_per_iteration: usize,
    /// Gradient updates per iteration (public code: 60).
    #[serde(default = "l_updates")]
    pub updates_per_iteration: usize,
    /// Points of D_s the state is built on, drawn at random per episode (public code: 30,
    /// datasets.py:41-44).
    #[serde(default = "l_state_points")]
    pub state_points: usize,
    /// Adam learning rate (public code: 1e-3).
    #[serde(default = "l_lr")]
    pub lr: f64,
    /// Discount (public code: 1, no discount).
    #[serde(default = "one_f")]
    pub gamma: f64,
    /// Transitions per update (public code: 32).
    #[serde(default = "d_batch")]
    pub batch_size: usize,
    /// Prioritised replay capacity (public code: 1e4).
    #[serde(default = "d_replay")]
    pub replay: usize,
    /// Target update (public code: soft, tau 0.01 after every step).
    #[serde(default = "d_target")]
    pub target: TargetUpdate,
    /// Exploration (public code: max(0.1, 1 - iteration x 0.9 / 1000) over 1000 iterations).
    #[serde(default = "d_epsilon")]
    pub epsilon: Epsilon,
    /// Reward of training episodes (public code: TargetAccuracy(fraction: 0.98)); the evaluation
    /// episode always labels to the budget.
    #[serde(default = "l_reward")]
    pub reward: Reward,
    /// Size of the per-episode random pool that candidates, distances and the target accuracy
    /// refer to (public code: 100); None: the whole pool.
    #[serde(default = "l_candidates")]
    pub candidates: Option<usize>,
    /// The logistic regression's solver (public code: scikit-learn `LogisticRegression()`, i.e.
    /// Lbfgs(c: 1.0, tol: 1e-4, max_iter: 100)); Adam or Sgd train it with the setup's epochs.
    #[serde(default = "l_optimizer")]
    pub optimizer: OptimizerSpec,
}

fn one_f() -> f64 {
    1.0
}
fn d_warm_start() -> usize {
    16
}
fn d_hidden() -> Vec<usize> {
    vec![128, 128, 128]
}
fn d_lr() -> f64 {
    1e-4
}
fn d_gamma() -> f64 {
    0.99
}
fn d_batch() -> usize {
    32
}
fn d_replay() -> usize {
    10_000
}
fn d_target() -> TargetUpdate {
    TargetUpdate::Soft { tau: 0.01 }
}
fn d_epsilon() -> Epsilon {
    Epsilon {
        start: 1.0,
        end: 0.1,
        decay: None,
    }
}
fn d_sampling() -> ReplaySampling {
    ReplaySampling::Uniform
}
fn d_step_training() -> StepTraining {
    StepTraining::OneEpoch
}
fn l_optimizer() -> OptimizerSpec {
    OptimizerSpec::SKLEARN_LOGISTIC
}
fn d_early_stop() -> Option<EarlyStop> {
    Some(EarlyStop {
        window: 10,
        tolerance: 0.005,
    })
}
fn d_reward() -> Reward {
    Reward::AccuracyDelta
}
fn l_warm_start() -> usize {
    128
}
fn l_warm_updates() -> usize {
    100
}
fn l_iterations() -> usize {
    1000
}
fn l_episodes() -> usize {
    10
}
fn l_updates() -> usize {
    60
}
fn l_state_points() -> usize {
    30
}
fn l_lr() -> f64 {
    1e-3
}
fn l_reward() -> Reward {
    Reward::TargetAccuracy { fraction: 0.98 }
}
fn l_candidates() -> Option<usize> {
    Some(100)
}

impl DralSpec {
    /// Checks values a typo could break; the message names the field.
    pub fn check(&self) -> Result<(), (String, String)> {
        common_check(
            self.top_n,
            self.lr,
            self.gamma,
            self.batch_size,
            self.replay,
            self.candidates,
        )?;
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            return Err(("hidden".into(), "list one or more non-zero widths".into()));
        }
        if let Some(e) = self.early_stop
            && e.window == 0
        {
            return Err(("early_stop.window".into(), "must be at least 1".into()));
        }
        check_epsilon(self.epsilon)
    }
}

impl LalRlSpec {
    /// Checks values a typo could break; the message names the field.
    pub fn check(&self) -> Result<(), (String, String)> {
        common_check(
            self.top_n,
            self.lr,
            self.gamma,
            self.batch_size,
            self.replay,
            self.candidates,
        )?;
        if self.state_points == 0 {
            return Err(("state_points".into(), "must be at least 1".into()));
        }
        self.optimizer
            .check()
            .map_err(|(field, message)| (format!("optimizer.{field}"), message))?;
        check_epsilon(self.epsilon)
    }
}

fn check_epsilon(e: Epsilon) -> Result<(), (String, String)> {
    if !(0.0..=1.0).contains(&e.start) || !(0.0..=1.0).contains(&e.end) || e.end > e.start {
        return Err((
            "epsilon".into(),
            "start and end must be in [0, 1] with end <= start".into(),
        ));
    }
    if e.decay.is_some_and(|d| !(d > 0.0 && d.is_finite())) {
        return Err(("epsilon.decay".into(), "must be a positive number".into()));
    }
    Ok(())
}

fn common_check(
    top_n: Option<usize>,
    lr: f64,
    gamma: f64,
    batch: usize,
    replay: usize,
    candidates: Option<usize>,
) -> Result<(), (String, String)> {
    let bad = |f: &str, m: &str| Err((f.to_string(), m.to_string()));
    if top_n == Some(0) {
        return bad("top_n", "must be at least 1");
    }
    if !(lr.is_finite() && lr > 0.0) {
        return bad("lr", "must be a positive number");
    }
    if !(0.0..=1.0).contains(&gamma) {
        return bad("gamma", "must be in [0, 1]");
    }
    if batch == 0 || replay < batch {
        return bad("batch_size", "must be at least 1 and at most replay");
    }
    if candidates == Some(0) {
        return bad("candidates", "must be at least 1");
    }
    Ok(())
}
