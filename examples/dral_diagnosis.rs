//! Why DRAL learned nothing on digits when its training episodes retrained the classifier from
//! scratch at every step, and what changes when f_t is trained one epoch per step (paper Sec. 3.1).
//! Prints the numbers of benchmarks/STUDIES.md ("DRAL on digits: diagnosis").
//!
//!   cargo run --release --example dral_diagnosis [-- SEED]
//!
//! On the split of specs/studies/digits-dral.ron (real UCI digits, MLP [32]) it measures, for each
//! step-training rule:
//! 1. the accuracy-delta reward's signal and noise: how much the reward of one step differs between
//!    pick sets from the same state, against how much it differs between repeats of one pick set
//!    (what a policy cannot predict);
//! 2. what a policy trained under that rule learned (40 iterations x 10 episodes, else the spec's
//!    DRAL settings): on 30 fresh states, the rank correlation of Q with each action feature, and
//!    the mean hold-out gain of greedy episodes against random ones.
use ralbench::data::split;
use ralbench::episode::{Episode, Task};
use ralbench::rl::env::{AlEnv, Environment};
use ralbench::rl::features::{Features, Style};
use ralbench::rl::train::{self, Learner};
use ralbench::spec::StepTraining;
use rand::seq::IndexedRandom;

mod common;

fn main() -> anyhow::Result<()> {
    let seed: u64 = std::env::args().nth(1).map_or(Ok(0), |s| s.parse())?;
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/studies/digits-dral.ron");
    let setup = common::DralJob::load(&path, seed)?;
    let (job, dral, split) = (&setup.job, &setup.dral, &setup.split);
    println!(
        "digits, seed {seed}: pool {}, D_R {}, D_s {}",
        split.pool.len(),
        split.holdout.len(),
        split.state.len()
    );

    for rule in [StepTraining::Setup, StepTraining::OneEpoch] {
        let task = setup.task(rule);
        println!("\n== step training {rule:?}");
        reward_noise(&task, split, job.initial_labelled, seed)?;

        let mut learner = Learner::from(dral);
        learner.iterations = 40;
        let features = || Features {
            style: Style::Dral,
            repr: learner.repr,
            state_set: &split.state,
            state_points: None,
            action_norm: dral.action_norm,
        };
        let mut env = AlEnv::new(
            &task,
            features(),
            &split.pool,
            &split.holdout,
            dral.reward,
            dral.candidates,
            job.initial_labelled,
        );
        let mut rng = ralbench::rng::stream(seed, "diagnosis/train");
        let (q, log) = train::train(&mut env, &learner, &mut rng, |_| {})?;
        let rewards = log.iteration_rewards(learner.warm_start);
        let fifth = (rewards.len() / 5).max(1);
        let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
        println!(
            "training: mean episode reward, first fifth {:.4}, last fifth {:.4}",
            mean(&rewards[..fifth]),
            mean(&rewards[rewards.len() - fifth..])
        );
        let mut rng = ralbench::rng::stream(seed, "diagnosis/evaluate");
        let mut corr = [0.0f64; 3];
        let states = 30;
        for _ in 0..states {
            let obs = env.reset(&mut rng)?;
            let qv = Vec::<f64>::try_from(
                tch::no_grad(|| q.q_one(&obs.state, &obs.actions)).to_kind(tch::Kind::Double),
            )?;
            for (f, c) in corr.iter_mut().enumerate() {
                let feat = Vec::<f64>::try_from(
                    obs.actions.select(1, f as i64).to_kind(tch::Kind::Double),
                )?;
                *c += spearman(&qv, &feat) / states as f64;
            }
        }
        println!(
            "Q vs action features (mean Spearman over {states} states): score {:+.2}, d_labelled {:+.2}, d_unlabelled {:+.2}",
            corr[0], corr[1], corr[2]
        );
        let mut rng = ralbench::rng::stream(seed, "diagnosis/returns");
        let greedy = train::mean_return(&mut env, Some(&q), 20, &mut rng)?;
        let mut rng = ralbench::rng::stream(seed, "diagnosis/returns");
        let random = train::mean_return(&mut env, None, 20, &mut rng)?;
        println!(
            "episode return (hold-out gain L_0 -> budget), 20 episodes: greedy {greedy:.4}, random {random:.4}"
        );
    }
    Ok(())
}

/// Signal and noise of the accuracy-delta reward of one step. For 10 random L_0 (the state), 4
/// random pick sets each (the actions) and 4 repeats of each (what the state does not fix):
/// signal = spread between the pick sets' mean rewards within one L_0, noise = spread between
/// repeats of one pick set.
fn reward_noise(
    task: &Task,
    split: &split::Split,
    initial: usize,
    seed: u64,
) -> anyhow::Result<()> {
    let mut draw = ralbench::rng::stream(seed, "diagnosis/pairs");
    let (states, actions, repeats) = (10, 4, 4);
    let sd = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
    };
    let (mut signal, mut noise, mut all) = (0.0, 0.0, Vec::new());
    for s in 0..states {
        let l0: Vec<usize> = split
            .pool
            .choose_multiple(&mut draw, initial)
            .copied()
            .collect();
        let rest: Vec<usize> = split
            .pool
            .iter()
            .copied()
            .filter(|r| !l0.contains(r))
            .collect();
        // f_t is part of the state: the same f_t for every action and repeat of this L_0.
        let f_t = format!("diagnosis/f_t/{s}");
        let start = Episode::start(
            task,
            split.pool.clone(),
            l0.clone(),
            &mut ralbench::rng::stream(seed, &f_t),
        )?;
        let before = task.accuracy(&start.model, &split.holdout);
        let mut means = Vec::new();
        for a in 0..actions {
            let picks: Vec<usize> = rest
                .choose_multiple(&mut draw, task.step)
                .copied()
                .collect();
            let mut rewards = Vec::new();
            for r in 0..repeats {
                let mut ep = Episode::start(
                    task,
                    split.pool.clone(),
                    l0.clone(),
                    &mut ralbench::rng::stream(seed, &f_t),
                )?;
                ep.label(
                    task,
                    &picks,
                    &mut ralbench::rng::stream(seed, &format!("diagnosis/step/{s}/{a}/{r}")),
                )?;
                rewards.push(task.accuracy(&ep.model, &split.holdout) - before);
            }
            noise += sd(&rewards) / (states * actions) as f64;
            means.push(rewards.iter().sum::<f64>() / repeats as f64);
            all.extend(rewards);
        }
        signal += sd(&means) / states as f64;
    }
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    println!(
        "reward of one step from L_0: mean {mean:+.4}; between pick sets (what a policy can learn) {signal:.4}, between repeats of one pick set (noise) {noise:.4}, ratio {:.2}",
        signal / noise.max(1e-12)
    );
    Ok(())
}

/// Spearman rank correlation (average ranks for ties).
fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let rank = |v: &[f64]| {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
        let mut r = vec![0.0; v.len()];
        let mut i = 0;
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
                j += 1;
            }
            for k in i..=j {
                r[idx[k]] = (i + j) as f64 / 2.0;
            }
            i = j + 1;
        }
        r
    };
    let (ra, rb) = (rank(a), rank(b));
    let n = a.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    if va == 0.0 || vb == 0.0 {
        0.0
    } else {
        cov / (va * vb).sqrt()
    }
}
