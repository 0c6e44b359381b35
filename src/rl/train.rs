//! Training a policy (warm start, epsilon-greedy episodes, double-DQN updates, early stopping)
//! and running it greedily.
use super::config::{DoubleDqn, DralSpec, EarlyStop, Epsilon, LalRlSpec, StateRepr, TargetUpdate};
use super::env::{Env, Episode};
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
    /// Prioritised replay exponent (LAL-RL: 3); None: uniform.
    pub priority_exponent: Option<f64>,
    /// Target network rule.
    pub target: TargetUpdate,
    /// Double-DQN variant.
    pub double: DoubleDqn,
    /// Exploration.
    pub epsilon: Epsilon,
    /// Early stopping.
    pub early_stop: Option<EarlyStop>,
    /// Loss over a batch: sum of squared TD errors (LAL-RL) or their mean.
    pub sum_loss: bool,
    /// LAL-RL's output-bias initialisation from the warm-start episode lengths.
    pub init_bias_from_warm_start: bool,
    /// State representation.
    pub repr: StateRepr,
}

impl From<&DralSpec> for Learner {
    fn from(d: &DralSpec) -> Learner {
        Learner {
            arch: Arch::Mlp(d.hidden.clone()),
            warm_start: d.warm_start,
            warm_start_updates: 0,
            iterations: d.iterations,
            episodes_per_iteration: d.episodes_per_iteration,
            updates_per_iteration: d.updates_per_iteration,
            lr: d.lr,
            gamma: d.gamma,
            batch_size: d.batch_size,
            replay: d.replay,
            priority_exponent: None,
            target: d.target,
            double: d.double,
            epsilon: d.epsilon,
            early_stop: d.early_stop,
            sum_loss: false,
            init_bias_from_warm_start: false,
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
            priority_exponent: Some(3.0),
            target: l.target,
            double: DoubleDqn::OnlinePicks,
            epsilon: l.epsilon,
            early_stop: None,
            sum_loss: true,
            init_bias_from_warm_start: true,
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
    /// Iterations run.
    pub iterations: usize,
    /// Whether early stopping ended training.
    pub stopped_early: bool,
}

/// Runs one episode from `initial`; `policy` None picks at random, else epsilon-greedy with the
/// network. Transitions go to `replay` when given; `on_step` sees the episode after its start
/// (with no picks) and after every step. Returns the episode, its summed reward and its steps.
pub fn episode(
    env: &Env,
    initial: Vec<usize>,
    policy: Option<(&QNet, f64)>,
    rng: &mut ChaCha20Rng,
    mut replay: Option<&mut Replay>,
    mut on_step: impl FnMut(&Episode, &[usize]),
) -> Result<(Episode, f64, usize), ModelError> {
    let mut ep = env.start(initial, rng)?;
    on_step(&ep, &[]);
    let (mut total, mut steps) = (0.0, 0);
    while !ep.done {
        let n = env.labels_now(&ep);
        let c = ep.obs.candidates.len();
        if n == 0 || c == 0 {
            break;
        }
        let explore = match policy {
            None => true,
            Some((_, eps)) => eps > 0.0 && rng.random::<f64>() < eps,
        };
        let picks = match policy {
            Some((q, _)) if !explore => env.timed(|| {
                tch::no_grad(|| qnet::top_n(&q.q_one(&ep.obs.state, &ep.obs.actions), n))
            }),
            _ => rand::seq::index::sample(rng, c, n.min(c)).into_vec(),
        };
        let (state, actions) = (ep.obs.state.shallow_clone(), ep.obs.actions.shallow_clone());
        let reward = env.step(&mut ep, &picks, rng)?;
        on_step(&ep, &picks);
        if let Some(r) = replay.as_deref_mut() {
            for &p in &picks {
                r.push(Transition {
                    state: state.shallow_clone(),
                    action: actions.get(p as i64),
                    reward,
                    next_state: ep.obs.state.shallow_clone(),
                    next_actions: ep.obs.actions.shallow_clone(),
                    terminal: ep.done,
                });
            }
        }
        total += reward;
        steps += 1;
    }
    Ok((ep, total, steps))
}

/// Trains a policy on episodes of `env`. `initial_size` is the size of DRAL's random initial
/// sets; `report` receives one line per iteration.
pub fn train(
    env: &Env,
    learner: &Learner,
    initial_size: usize,
    rng: &mut ChaCha20Rng,
    mut report: impl FnMut(String),
) -> Result<(QNet, TrainingLog), ModelError> {
    let mut log = TrainingLog::default();
    let mut replay = match learner.priority_exponent {
        Some(e) => Replay::prioritised(learner.replay, e),
        None => Replay::uniform(learner.replay),
    };
    let mut lengths = Vec::new();
    for _ in 0..learner.warm_start {
        let initial = env.random_initial(initial_size, rng);
        let (_, reward, steps) = episode(env, initial, None, rng, Some(&mut replay), |_, _| {})?;
        log.episode_rewards.push(reward);
        lengths.push(steps as f64);
    }
    let probe = replay_dims(&replay, env, initial_size, rng)?;
    let mut online = QNet::new(&learner.arch, probe.0, probe.1, Device::Cpu, rng);
    if learner.init_bias_from_warm_start && !lengths.is_empty() {
        online.set_output_bias(-(lengths.iter().sum::<f64>() / lengths.len() as f64) / 2.0);
    }
    let mut target = online.copy_of(&learner.arch, probe.0, probe.1);
    let mut opt = tch::nn::Adam::default()
        .build(&online.vs, learner.lr)
        .expect("optimiser");
    let mut grad_steps = 0;
    let mut update_many = |count: usize,
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
            sum += env.timed(|| update(online, target, &mut opt, replay, learner, env.step, rng));
            grad_steps += 1;
            target.follow(online, learner.target, grad_steps);
        }
        if count > 0 { sum / count as f64 } else { 0.0 }
    };
    update_many(
        learner.warm_start_updates,
        &mut online,
        &mut target,
        &mut replay,
        rng,
    );

    for it in 0..learner.iterations {
        let eps = learner.epsilon.at(it);
        let mut rewards = 0.0;
        for _ in 0..learner.episodes_per_iteration {
            let initial = env.random_initial(initial_size, rng);
            let (_, reward, _) = episode(
                env,
                initial,
                Some((&online, eps)),
                rng,
                Some(&mut replay),
                |_, _| {},
            )?;
            log.episode_rewards.push(reward);
            rewards += reward;
        }
        let loss = update_many(
            learner.updates_per_iteration,
            &mut online,
            &mut target,
            &mut replay,
            rng,
        );
        log.iteration_losses.push(loss);
        log.iterations = it + 1;
        report(format!(
            "iteration {}/{}: reward {:.4}, epsilon {eps:.3}, loss {loss:.5}",
            it + 1,
            learner.iterations,
            rewards / learner.episodes_per_iteration.max(1) as f64
        ));
        if let Some(stop) = learner.early_stop
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
fn replay_dims(
    replay: &Replay,
    env: &Env,
    initial_size: usize,
    rng: &mut ChaCha20Rng,
) -> Result<(i64, i64), ModelError> {
    if !replay.is_empty() {
        let t = replay.get(0);
        return Ok((t.state.size()[0], t.action.size()[0]));
    }
    let ep = env.start(env.random_initial(initial_size, rng), rng)?;
    Ok((ep.obs.state.size()[0], ep.obs.actions.size()[1]))
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
    let y: Vec<f32> = ts
        .iter()
        .map(|t| {
            let future = if t.terminal {
                0.0
            } else {
                learner.gamma
                    * qnet::next_value(
                        online,
                        target,
                        &t.next_state,
                        &t.next_actions,
                        n,
                        learner.double,
                    )
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
    let loss = if learner.sum_loss {
        sq.sum(tch::Kind::Float)
    } else {
        sq.mean(tch::Kind::Float)
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
            decay: 1000.0,
        };
        assert_eq!(e.at(0), 1.0);
        assert!((e.at(500) - 0.55).abs() < 1e-12);
        assert_eq!(e.at(5000), 0.1);
    }
}
