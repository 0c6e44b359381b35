//! Active learning as an episodic MDP (paper Sec. 3.1) over one dataset split.
//!
//! An episode starts from an initial labelled set, trains the classifier on it, and then, at each
//! step, labels the candidates the policy picks, retrains, and pays a reward measured on the
//! hold-out D_R. The state comes from the classifier's predictions on the set-aside D_s.
use super::config::{Reward, StateRepr};
use super::features;
use crate::model::{Classifier, ModelError};
use crate::spec::ClassifierSpec;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha20Rng;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// Which action features the environment computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Latent-space [score, d_labelled, d_unlabelled] (the paper's method).
    Dral,
    /// Data-space [p(class 0), mean cosine distance to unlabelled, to labelled] (LAL-RL).
    LalRl,
}

/// The fixed parts of the MDP.
pub struct Env<'a> {
    /// Feature style.
    pub style: Style,
    /// Classifier trained at every step.
    pub classifier: ClassifierSpec,
    /// Shape of one input row.
    pub shape: &'a [usize],
    /// Number of classes.
    pub n_classes: usize,
    /// Where the classifier runs.
    pub device: Device,
    /// Pretrained weights for the classifier's body.
    pub weights: Option<&'a Path>,
    /// Wall time spent in classifier and policy-network work so far (see [`Env::timed`]).
    pub model_time: std::cell::Cell<std::time::Duration>,
    /// All inputs, `[n, dim]`, on the device.
    pub x: &'a Tensor,
    /// All labels, on the device.
    pub y: &'a Tensor,
    /// Pool D_T rows the policy labels from.
    pub pool: &'a [usize],
    /// Reward hold-out D_R rows.
    pub holdout: &'a [usize],
    /// State set D_s rows.
    pub state_rows: Vec<usize>,
    /// Test rows (evaluation only).
    pub test: &'a [usize],
    /// State representation.
    pub repr: StateRepr,
    /// Reward rule.
    pub reward: Reward,
    /// For TargetAccuracy: accuracy on D_R of a classifier trained on the whole pool.
    pub full_pool_accuracy: Option<f64>,
    /// Labels at which an episode ends.
    pub budget: usize,
    /// Labels per step (N).
    pub step: usize,
    /// Candidates scored per step (seeded subset of the unlabelled pool); None: all.
    pub candidates: Option<usize>,
    /// LAL-RL: standardised flattened inputs `[n, dim]` on the device.
    pub x_data: Option<Tensor>,
}

/// What the policy sees at a step.
#[derive(Debug)]
pub struct Observation {
    /// State vector, `[S]`, CPU.
    pub state: Tensor,
    /// Action features per candidate, `[C, 3]`, CPU.
    pub actions: Tensor,
    /// Dataset rows of the candidates.
    pub candidates: Vec<usize>,
}

/// A running episode.
pub struct Episode {
    /// Labelled rows, in labelling order.
    pub labelled: Vec<usize>,
    in_labelled: Vec<bool>,
    model: Classifier,
    holdout_accuracy: f64,
    /// Whether the episode has ended.
    pub done: bool,
    /// The current observation (meaningless once done).
    pub obs: Observation,
}

fn rows(x: &Tensor, idx: &[usize]) -> Tensor {
    let idx: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
    x.index_select(0, &Tensor::from_slice(&idx).to_device(x.device()))
}

impl Env<'_> {
    /// Runs `f` (classifier or policy-network work), adding its wall time to `model_time`; what
    /// is not timed this way is the harness's share of a learned strategy's job.
    pub fn timed<T>(&self, f: impl FnOnce() -> T) -> T {
        let started = std::time::Instant::now();
        let out = f();
        self.model_time
            .set(self.model_time.get() + started.elapsed());
        out
    }

    fn train(&self, labelled: &[usize], rng: &mut ChaCha20Rng) -> Result<Classifier, ModelError> {
        let (x, y) = (rows(self.x, labelled), rows(self.y, labelled));
        self.timed(|| {
            let mut m = Classifier::new(
                &self.classifier,
                self.shape,
                self.n_classes,
                self.device,
                self.weights,
                rng,
            )?;
            m.fit(&x, &y, rng);
            Ok(m)
        })
    }

    /// Accuracy of `model` on the rows `idx`.
    fn accuracy(&self, model: &Classifier, idx: &[usize]) -> f64 {
        let (x, y) = (rows(self.x, idx), rows(self.y, idx));
        self.timed(|| model.accuracy(&x, &y))
    }

    /// Accuracy on D_R of a classifier trained on the whole pool (LAL-RL's target reference).
    pub fn pool_accuracy(&self, rng: &mut ChaCha20Rng) -> Result<f64, ModelError> {
        let m = self.train(self.pool, rng)?;
        Ok(self.accuracy(&m, self.holdout))
    }

    /// The initial set of a training episode: LAL-RL takes one random pool point per class, DRAL
    /// `size` random pool points.
    pub fn random_initial(&self, size: usize, rng: &mut ChaCha20Rng) -> Vec<usize> {
        match self.style {
            Style::Dral => self.pool.choose_multiple(rng, size).copied().collect(),
            Style::LalRl => {
                let labels = Vec::<i64>::try_from(rows(self.y, self.pool).to_device(Device::Cpu))
                    .expect("labels");
                (0..self.n_classes as i64)
                    .filter_map(|k| {
                        let of_k: Vec<usize> = self
                            .pool
                            .iter()
                            .zip(&labels)
                            .filter(|(_, y)| **y == k)
                            .map(|(&r, _)| r)
                            .collect();
                        of_k.choose(rng).copied()
                    })
                    .collect()
            }
        }
    }

    /// Starts an episode from `initial`.
    pub fn start(&self, initial: Vec<usize>, rng: &mut ChaCha20Rng) -> Result<Episode, ModelError> {
        let mut in_labelled = vec![false; self.x.size()[0] as usize];
        for &i in &initial {
            in_labelled[i] = true;
        }
        let model = self.train(&initial, rng)?;
        let holdout_accuracy = self.accuracy(&model, self.holdout);
        let done = initial.len() >= self.budget;
        let obs = self.observe(&model, &initial, &in_labelled, rng);
        Ok(Episode {
            labelled: initial,
            in_labelled,
            model,
            holdout_accuracy,
            done,
            obs,
        })
    }

    /// Labels the candidates at positions `picks` of the current observation, retrains, and
    /// returns the reward.
    pub fn step(
        &self,
        ep: &mut Episode,
        picks: &[usize],
        rng: &mut ChaCha20Rng,
    ) -> Result<f64, ModelError> {
        for &p in picks {
            let row = ep.obs.candidates[p];
            ep.in_labelled[row] = true;
            ep.labelled.push(row);
        }
        ep.model = self.train(&ep.labelled, rng)?;
        let acc = self.accuracy(&ep.model, self.holdout);
        let (reward, reached) = match self.reward {
            Reward::AccuracyDelta => (acc - ep.holdout_accuracy, false),
            Reward::TargetAccuracy { fraction } => {
                let target = fraction * self.full_pool_accuracy.unwrap_or(1.0);
                (-1.0, acc >= target)
            }
        };
        ep.holdout_accuracy = acc;
        ep.done = reached || ep.labelled.len() >= self.budget;
        ep.obs = self.observe(&ep.model, &ep.labelled, &ep.in_labelled, rng);
        Ok(reward)
    }

    /// Labels to buy at the next step.
    pub fn labels_now(&self, ep: &Episode) -> usize {
        self.step.min(self.budget.saturating_sub(ep.labelled.len()))
    }

    /// Test accuracy of the episode's current classifier.
    pub fn test_accuracy(&self, ep: &Episode) -> f64 {
        self.accuracy(&ep.model, self.test)
    }

    fn observe(
        &self,
        model: &Classifier,
        labelled: &[usize],
        in_labelled: &[bool],
        rng: &mut ChaCha20Rng,
    ) -> Observation {
        let unlabelled: Vec<usize> = self
            .pool
            .iter()
            .copied()
            .filter(|&i| !in_labelled[i])
            .collect();
        let candidates: Vec<usize> = match self.candidates {
            Some(c) if unlabelled.len() > c => {
                let mut pick: Vec<usize> = unlabelled.choose_multiple(rng, c).copied().collect();
                pick.sort_unstable();
                pick
            }
            _ => unlabelled.clone(),
        };
        let (x_s, x_c) = (rows(self.x, &self.state_rows), rows(self.x, &candidates));
        let probs_s = self.timed(|| model.predict_proba(&x_s));
        let state = features::state(&probs_s, self.repr).to_device(Device::Cpu);
        let probs_c = self.timed(|| model.predict_proba(&x_c));
        let actions = match self.style {
            Style::Dral => {
                let (x_l, x_u) = (rows(self.x, labelled), rows(self.x, &unlabelled));
                let (e_c, e_l, e_u) =
                    self.timed(|| (model.embed(&x_c), model.embed(&x_l), model.embed(&x_u)));
                features::dral_actions(&probs_c, &e_c, &e_l, &e_u)
            }
            Style::LalRl => {
                let xd = self
                    .x_data
                    .as_ref()
                    .expect("LAL-RL has data-space features");
                features::lalrl_actions(
                    &probs_c.select(1, 0),
                    &rows(xd, &candidates),
                    &rows(xd, &unlabelled),
                    &rows(xd, labelled),
                )
            }
        };
        Observation {
            state,
            actions: actions.to_kind(Kind::Float).to_device(Device::Cpu),
            candidates,
        }
    }
}
