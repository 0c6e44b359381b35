//! Training a policy (warm start, epsilon-greedy episodes, double-DQN updates, early stopping)
//! on any [`Environment`].
use super::config::{
    DoubleDqn, DralSpec, EarlyStop, Epsilon, LalRlSpec, Loss, OutputBias, ReplaySampling,
    StateRepr, TargetUpdate,
};
use super::env::{Environment, Observation};
use super::qnet::{self, Arch, QNet};
use super::replay::{Replay, Transition};
use crate::model::ModelError;
use rand::Rng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use tch::nn::OptimizerConfig;
use tch::{Device, Tensor};

/// The training settings both learned strategies share, filled from their specs.
#[derive(Debug, Clone, PartialEq)]
pub struct Learner {
    /// Q-network architecture.
    pub arch: Arch,
    /// Random warm-start episodes.
    pub warm_start: usize,
    /// Updates right after the warm start.
    pub warm_start_updates: usize,
    /// Most iterations.
    pub iterations: usize,
    /// Episodes per iteration.
    pub episodes_per_iteration: usize,
    /// Updates per iteration.
    pub updates_per_iteration: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Discount.
    pub gamma: f64,
    /// Transitions per update.
    pub batch_size: usize,
    /// Replay capacity.
    pub replay: usize,
    /// Replay sampling.
    pub sampling: ReplaySampling,
    /// Target network rule.
    pub target: TargetUpdate,
    /// Double-DQN variant.
    pub double: DoubleDqn,
    /// Exploration.
    pub epsilon: Epsilon,
    /// Early stopping.
    pub early_stop: Option<EarlyStop>,
    /// Loss over a batch.
    pub loss: Loss,
    /// Output-bias initialisation.
    pub output_bias: OutputBias,
    /// State representation.
    pub repr: StateRepr,
}

impl From<&DralSpec> for Learner {
    fn from(d: &DralSpec) -> Learner {
        Learner {
            arch: Arch::Mlp(d.hidden.clone()),
            warm_start: d.warm_start,
            warm_start_updates: d.warm_start_updates,
            iterations: d.iterations,
            episodes_per_iteration: d.episodes_per_iteration,
            updates_per_iteration: d.updates_per_iteration,
            lr: d.lr,
            gamma: d.gamma,
            batch_size: d.batch_size,
            replay: d.replay,
            sampling: d.sampling,
            target: d.target,
            double: d.double,
            epsilon: d.epsilon,
            early_stop: d.early_stop,
            loss: d.loss,
            output_bias: d.output_bias,
            repr: d.state,
        }
    }
}

impl From<&LalRlSpec> for Learner {
    fn from(l: &LalRlSpec) -> Learner {
        Learner {
            arch: Arch::LalRl,
            warm_start: l.warm_start,
            warm_start_updates: l.warm_start_updates,
            iterations: l.iterations,
            episodes_per_iteration: l.episodes_per_iteration,
            updates_per_iteration: l.updates_per_iteration,
            lr: l.lr,
            gamma: l.gamma,
            batch_size: l.batch_size,
            replay: l.replay,
            sampling: ReplaySampling::Prioritised { exponent: 3.0 },
            target: l.target,
            double: DoubleDqn::OnlinePicks,
            epsilon: l.epsilon,
            early_stop: None,
            loss: Loss::Sum,
            output_bias: OutputBias::HalfWarmStartReturn,
            repr: StateRepr::SortedClassZero,
        }
    }
}

/// What training did, per episode and per iteration; deterministic like the results.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingLog {
    /// Summed reward of every episode, warm start included.
    pub episode_rewards: Vec<f64>,
    /// Mean loss of each iteration's updates.
    pub iteration_losses: Vec<f64>,
    /// Epsilon of each iteration.
    #[serde(default)]
    pub iteration_epsilons: Vec<f64>,
    /// Iterations run.
    pub iterations: usize,
    /// Whether early stopping ended training.
    pub stopped_early: bool,
}

impl TrainingLog {
    /// Mean episode reward of each iteration (warm start left out).
    pub fn iteration_rewards(&self, warm_start: usize) -> Vec<f64> {
        let per = (self.episode_rewards.len().saturating_sub(warm_start))
            .checked_div(self.iterations)
            .unwrap_or(1)
            .max(1);
        self.episode_rewards[warm_start.min(self.episode_rewards.len())..]
            .chunks(per)
            .map(|c| c.iter().sum::<f64>() / c.len() as f64)
            .collect()
    }
}

/// The N best positions of `q` (larger first), exact ties in a seeded random order (LAL-RL's
/// dqn.py `get_action` breaks ties at random; here the job's stream decides).
pub fn greedy(q: &Tensor, n: usize, rng: &mut ChaCha20Rng) -> Vec<usize> {
    let values = Vec::<f64>::try_from(q.to_kind(tch::Kind::Double)).expect("Q-values");
    crate::strategy::top_n(&values, n, rng)
}

/// Runs one training episode; `policy` None picks at random, else epsilon-greedy with the
/// network. Transitions go to `replay` when given. Returns the summed reward and the steps.
pub fn episode<E: Environment>(
    env: &mut E,
    policy: Option<(&QNet, f64)>,
    rng: &mut ChaCha20Rng,
    mut replay: Option<&mut Replay>,
) -> Result<(f64, usize), ModelError> {
    let mut obs = env.reset(rng)?;
    let (mut total, mut steps) = (0.0, 0);
    loop {
        let n = env.to_buy();
        let c = obs.actions.size()[0] as usize;
        if n == 0 || c == 0 {
            break;
        }
        let explore = match policy {
            None => true,
            Some((_, eps)) => eps > 0.0 && rng.random::<f64>() < eps,
        };
        let picks = match policy {
            Some((q, _)) if !explore => {
                let values = env.timed(|| tch::no_grad(|| q.q_one(&obs.state, &obs.actions)));
                greedy(&values, n, rng)
            }
            _ => rand::seq::index::sample(rng, c, n.min(c)).into_vec(),
        };
        let step = env.step(&picks, rng)?;
        let done = step.terminated || step.truncated || step.obs.is_none();
        if let Some(r) = replay.as_deref_mut() {
            let (next_state, next_actions) = match &step.obs {
                Some(o) if !done => (o.state.shallow_clone(), o.actions.shallow_clone()),
                // Masked in the TD target; only the shapes matter.
                _ => (obs.state.shallow_clone(), obs.actions.narrow(0, 0, 0)),
            };
            for &p in &picks {
                r.push(Transition {
                    state: obs.state.shallow_clone(),
                    action: obs.actions.get(p as i64),
                    reward: step.reward,
                    next_state: next_state.shallow_clone(),
                    next_actions: next_actions.shallow_clone(),
                    terminal: done,
                });
            }
        }
        total += step.reward;
        steps += 1;
        match step.obs {
            Some(o) if !done => obs = o,
            _ => break,
        }
    }
    Ok((total, steps))
}

/// The greedy policy's mean return over `episodes` episodes (epsilon 0); `policy` None: random.
pub fn mean_return<E: Environment>(
    env: &mut E,
    policy: Option<&QNet>,
    episodes: usize,
    rng: &mut ChaCha20Rng,
) -> Result<f64, ModelError> {
    let mut sum = 0.0;
    for _ in 0..episodes {
        sum += episode(env, policy.map(|q| (q, 0.0)), rng, None)?.0;
    }
    Ok(sum / episodes.max(1) as f64)
}

/// Trains a policy on episodes of `env`; `report` receives one line per iteration.
pub fn train<E: Environment>(
    env: &mut E,
    learner: &Learner,
    rng: &mut ChaCha20Rng,
    mut report: impl FnMut(String),
) -> Result<(QNet, TrainingLog), ModelError> {
    let mut log = TrainingLog::default();
    let mut replay = match learner.sampling {
        ReplaySampling::Prioritised { exponent } => Replay::prioritised(learner.replay, exponent),
        ReplaySampling::Uniform => Replay::uniform(learner.replay),
    };
    for _ in 0..learner.warm_start {
        let (reward, _) = episode(env, None, rng, Some(&mut replay))?;
        log.episode_rewards.push(reward);
    }
    let probe = dims(&replay, env, rng)?;
    let mut online = QNet::new(&learner.arch, probe.0, probe.1, Device::Cpu, rng);
    if learner.output_bias == OutputBias::HalfWarmStartReturn && learner.warm_start > 0 {
        let mean = log.episode_rewards.iter().sum::<f64>() / learner.warm_start as f64;
        online.set_output_bias(mean / 2.0);
    }
    let mut target = online.copy_of(&learner.arch, probe.0, probe.1);
    let mut opt = tch::nn::Adam::default()
        .build(&online.vs, learner.lr)
        .expect("optimiser");
    let mut grad_steps = 0;
    let mut update_many = |count: usize,
                           env: &mut E,
                           online: &mut QNet,
                           target: &mut QNet,
                           replay: &mut Replay,
                           rng: &mut ChaCha20Rng|
     -> f64 {
        let mut sum = 0.0;
        for _ in 0..count {
            if replay.is_empty() {
                break;
            }
            let n = env.top_n();
            sum += env.timed(|| update(online, target, &mut opt, replay, learner, n, rng));
            grad_steps += 1;
            target.follow(online, learner.target, grad_steps);
        }
        if count > 0 { sum / count as f64 } else { 0.0 }
    };
    update_many(
        learner.warm_start_updates,
        env,
        &mut online,
        &mut target,
        &mut replay,
        rng,
    );

    for it in 0..learner.iterations {
        let eps = learner.epsilon.at(it, learner.iterations);
        let mut rewards = 0.0;
        for _ in 0..learner.episodes_per_iteration {
            let (reward, _) = episode(env, Some((&online, eps)), rng, Some(&mut replay))?;
            log.episode_rewards.push(reward);
            rewards += reward;
        }
        let loss = update_many(
            learner.updates_per_iteration,
            env,
            &mut online,
            &mut target,
            &mut replay,
            rng,
        );
        log.iteration_losses.push(loss);
        log.iteration_epsilons.push(eps);
        log.iterations = it + 1;
        report(format!(
            "iteration {}/{}: reward {:.4}, epsilon {eps:.3}, loss {loss:.5}",
            it + 1,
            learner.iterations,
            rewards / learner.episodes_per_iteration.max(1) as f64
        ));
        // Early stopping only once exploration has ended: a stable reward while epsilon is
        // still high says nothing about the greedy policy.
        if let Some(stop) = learner.early_stop
            && eps <= learner.epsilon.end
            && stable(
                &log.episode_rewards[learner.warm_start..],
                stop,
                learner.episodes_per_iteration,
            )
        {
            log.stopped_early = true;
            break;
        }
    }
    Ok((online, log))
}

/// State and action widths, from a stored transition (or a fresh episode if none was stored).
fn dims<E: Environment>(
    replay: &Replay,
    env: &mut E,
    rng: &mut ChaCha20Rng,
) -> Result<(i64, i64), ModelError> {
    if !replay.is_empty() {
        let t = replay.get(0);
        return Ok((t.state.size()[0], t.action.size()[0]));
    }
    let obs: Observation = env.reset(rng)?;
    Ok((obs.state.size()[0], obs.actions.size()[1]))
}

/// Whether the mean episode reward of the last window moved less than the tolerance.
fn stable(rewards: &[f64], stop: EarlyStop, per_iteration: usize) -> bool {
    let w = stop.window * per_iteration.max(1);
    if rewards.len() < 2 * w {
        return false;
    }
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
    let n = rewards.len();
    (mean(&rewards[n - w..]) - mean(&rewards[n - 2 * w..n - w])).abs() < stop.tolerance
}

/// One double-DQN gradient step on a sampled batch; returns the loss.
fn update(
    online: &mut QNet,
    target: &QNet,
    opt: &mut tch::nn::Optimizer,
    replay: &mut Replay,
    learner: &Learner,
    n: usize,
    rng: &mut ChaCha20Rng,
) -> f64 {
    let idx = replay.sample(learner.batch_size, rng);
    let ts: Vec<&Transition> = idx.iter().map(|&i| replay.get(i)).collect();
    let live: Vec<(&Tensor, &Tensor)> = ts
        .iter()
        .filter(|t| !t.terminal)
        .map(|t| (&t.next_state, &t.next_actions))
        .collect();
    let mut futures = qnet::next_values(online, target, &live, n, learner.double).into_iter();
    let y: Vec<f32> = ts
        .iter()
        .map(|t| {
            let future = if t.terminal {
                0.0
            } else {
                learner.gamma * futures.next().expect("one value per live transition")
            };
            (t.reward + future) as f32
        })
        .collect();
    let states = Tensor::stack(
        &ts.iter()
            .map(|t| t.state.shallow_clone())
            .collect::<Vec<_>>(),
        0,
    );
    let actions = Tensor::stack(
        &ts.iter()
            .map(|t| t.action.shallow_clone())
            .collect::<Vec<_>>(),
        0,
    );
    let q = online.q(&states, &actions);
    let delta = &q - Tensor::from_slice(&y);
    let sq = delta.square();
    let loss = match learner.loss {
        Loss::Sum => sq.sum(tch::Kind::Float),
        Loss::Mean => sq.mean(tch::Kind::Float),
    };
    opt.backward_step(&loss);
    let deltas = Vec::<f64>::try_from(delta.detach().to_kind(tch::Kind::Double)).expect("deltas");
    replay.update_priorities(&idx, &deltas);
    loss.double_value(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_stopping_needs_two_stable_windows() {
        let stop = EarlyStop {
            window: 2,
            tolerance: 0.01,
        };
        assert!(!stable(&[0.1, 0.2, 0.3], stop, 1));
        assert!(stable(&[0.5, 0.5, 0.5, 0.505], stop, 1));
        assert!(!stable(&[0.1, 0.1, 0.5, 0.5], stop, 1));
    }

    #[test]
    fn epsilon_follows_the_lal_rl_schedule() {
        let e = Epsilon {
            start: 1.0,
            end: 0.1,
            decay: Some(1000.0),
        };
        assert_eq!(e.at(0, 10), 1.0);
        assert!((e.at(500, 10) - 0.55).abs() < 1e-12);
        assert_eq!(e.at(5000, 10), 0.1);
        // By default the floor is reached at the last iteration, whatever their number.
        let d = Epsilon { decay: None, ..e };
        assert_eq!(d.at(0, 100), 1.0);
        assert!((d.at(99, 100) - 0.1).abs() < 1e-12);
        assert!(d.at(98, 100) > 0.1);
    }
}
