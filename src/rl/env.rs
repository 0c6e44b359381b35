//! Active learning as an episodic MDP (paper Sec. 3.1) for the policy's training, over the same
//! [`Episode`] every evaluation runs.
//!
//! [`Environment`] is what the trainer ([`super::train`]) sees: reset, then steps that label the
//! picked candidates and pay a reward. [`AlEnv`] is the real one: a training episode starts from
//! `initial_labelled` random pool rows (the size of the evaluation's shared L_0, so the policy is
//! trained in the states it is evaluated in; the LAL-RL public code also trains and tests with one
//! reset, envs.py `LalEnv.reset`), optionally inside a random per-episode pool of candidates
//! (LAL-RL's 100 points), with a random subset of D_s for LAL-RL's state (datasets.py:41-44).
use super::config::Reward;
use super::features::Features;
use crate::episode::{Episode, Task};
use crate::model::ModelError;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha20Rng;
use tch::Tensor;

/// What the policy sees at a step.
#[derive(Debug)]
pub struct Observation {
    /// State vector, `[S]`, CPU, float.
    pub state: Tensor,
    /// Action features per candidate, `[C, A]`, CPU, float.
    pub actions: Tensor,
}

/// The outcome of one step.
#[derive(Debug)]
pub struct Step {
    /// The next observation; None once the episode has ended.
    pub obs: Option<Observation>,
    /// r_{t+1}.
    pub reward: f64,
    /// The task reached a terminal state (LAL-RL's target accuracy).
    pub terminated: bool,
    /// A limit was hit (the labelling budget, or no candidates left).
    pub truncated: bool,
}

/// An episodic environment with a set of candidate actions per step.
pub trait Environment {
    /// Starts a new episode and returns its first observation.
    fn reset(&mut self, rng: &mut ChaCha20Rng) -> Result<Observation, ModelError>;
    /// Takes the candidates at positions `picks` of the last observation.
    fn step(&mut self, picks: &[usize], rng: &mut ChaCha20Rng) -> Result<Step, ModelError>;
    /// Candidates to pick at the next step (N, or what the budget leaves).
    fn to_buy(&self) -> usize;
    /// N, the picks of a full step (the size of the top-N set in the TD target, Eq. 4).
    fn top_n(&self) -> usize;
    /// Runs policy-network work `f`; the real environment adds its time to the job's model time.
    fn timed<T>(&self, f: impl FnOnce() -> T) -> T {
        f()
    }
}

/// Draws an episode's pool: `size` random rows of `pool` that are not in `initial` (all of them
/// when None), in pool order.
pub fn episode_pool(
    pool: &[usize],
    initial: &[usize],
    size: Option<usize>,
    rng: &mut ChaCha20Rng,
) -> Vec<usize> {
    let rest: Vec<usize> = pool
        .iter()
        .copied()
        .filter(|r| !initial.contains(r))
        .collect();
    match size {
        Some(k) if k < rest.len() => {
            let mut pick: Vec<usize> = rest.choose_multiple(rng, k).copied().collect();
            pick.sort_unstable();
            pick
        }
        _ => rest,
    }
}

/// The real environment over one job's split.
pub struct AlEnv<'a> {
    /// Data, classifier and schedule (its `training` is the training episodes' rule).
    pub task: &'a Task<'a>,
    /// State and action features.
    pub features: Features<'a>,
    /// The job's pool D_T.
    pub pool: &'a [usize],
    /// Reward hold-out D_R.
    pub holdout: &'a [usize],
    /// Reward rule.
    pub reward: Reward,
    /// Per-episode pool size (None: the whole pool).
    pub episode_pool: Option<usize>,
    /// |L_0| of a training episode.
    pub initial_size: usize,
    running: Option<Running>,
}

struct Running {
    ep: Episode,
    state_rows: Vec<usize>,
    candidates: Vec<usize>,
    accuracy: f64,
    target: f64,
}

impl<'a> AlEnv<'a> {
    /// An environment; nothing runs until [`Environment::reset`].
    pub fn new(
        task: &'a Task<'a>,
        features: Features<'a>,
        pool: &'a [usize],
        holdout: &'a [usize],
        reward: Reward,
        episode_pool: Option<usize>,
        initial_size: usize,
    ) -> AlEnv<'a> {
        AlEnv {
            task,
            features,
            pool,
            holdout,
            reward,
            episode_pool,
            initial_size,
            running: None,
        }
    }

    fn observe(&self, r: &Running) -> Observation {
        self.features
            .observe(self.task, &r.ep, &r.state_rows, &r.candidates)
    }
}

impl Environment for AlEnv<'_> {
    fn reset(&mut self, rng: &mut ChaCha20Rng) -> Result<Observation, ModelError> {
        let initial: Vec<usize> = self
            .pool
            .choose_multiple(rng, self.initial_size)
            .copied()
            .collect();
        let pool = episode_pool(self.pool, &initial, self.episode_pool, rng);
        let state_rows = self.features.state_rows(rng);
        // LAL-RL's target: a fraction of the D_R accuracy of the classifier trained on the whole
        // episode pool (envs.py `LalEnvTargetAccuracy._set_target_quality`, on its 100 points).
        let target = match self.reward {
            Reward::TargetAccuracy { fraction } => {
                let mut all = initial.clone();
                all.extend_from_slice(&pool);
                let mut m = self.task.new_classifier(rng)?;
                let (x, y) = (self.task.x_rows(&all), self.task.y_rows(&all));
                self.task.timed(|| m.fit(&x, &y, rng));
                fraction * self.task.accuracy(&m, self.holdout)
            }
            Reward::AccuracyDelta => 0.0,
        };
        let ep = Episode::start(self.task, pool, initial, rng)?;
        let accuracy = self.task.accuracy(&ep.model, self.holdout);
        let candidates = ep.unlabelled();
        let running = Running {
            ep,
            state_rows,
            candidates,
            accuracy,
            target,
        };
        let obs = self.observe(&running);
        self.running = Some(running);
        Ok(obs)
    }

    fn step(&mut self, picks: &[usize], rng: &mut ChaCha20Rng) -> Result<Step, ModelError> {
        let mut r = self.running.take().expect("reset before step");
        let chosen: Vec<usize> = picks.iter().map(|&p| r.candidates[p]).collect();
        r.ep.label(self.task, &chosen, rng)?;
        let accuracy = self.task.accuracy(&r.ep.model, self.holdout);
        let (reward, terminated) = match self.reward {
            Reward::AccuracyDelta => (accuracy - r.accuracy, false),
            Reward::TargetAccuracy { .. } => (-1.0, accuracy >= r.target),
        };
        r.accuracy = accuracy;
        r.candidates = r.ep.unlabelled();
        let truncated = r.ep.to_buy(self.task) == 0 || r.candidates.is_empty();
        let obs = (!terminated && !truncated).then(|| self.observe(&r));
        self.running = Some(r);
        Ok(Step {
            obs,
            reward,
            terminated,
            truncated,
        })
    }

    fn to_buy(&self) -> usize {
        self.running.as_ref().map_or(0, |r| r.ep.to_buy(self.task))
    }

    fn top_n(&self) -> usize {
        self.task.step
    }

    fn timed<T>(&self, f: impl FnOnce() -> T) -> T {
        self.task.timed(f)
    }
}
