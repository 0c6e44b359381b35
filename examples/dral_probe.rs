//! What a policy can gain in DRAL's training environment, and what a trained one does gain.
//! Prints the numbers of benchmarks/STUDIES.md ("Replay sampling").
//!
//!   cargo run --release --example dral_probe -- SPEC SEED [EPISODES] [uniform|prioritised] [standardised]
//!
//! On the split of SPEC's DRAL job with SEED (for example specs/studies/digits-dral.ron: real UCI
//! digits, MLP [32]), with f_t trained as the spec's `step_training` says (default: one epoch per
//! step), it plays EPISODES training episodes (default 40) with each of six fixed rules over
//! DRAL's action features: random picks, the N lowest or highest scores, the N farthest from the
//! labelled set, the N nearest to or farthest from the unlabelled mass. Every rule sees the same
//! episodes (the same L_0 and candidate pool per episode), so the returns compare the rules alone.
//! With a third argument it first trains DRAL with the spec's settings and that replay sampling,
//! and prints its training reward per tenth and its greedy return over the same episodes; a
//! fourth argument `standardised` trains it on standardised action features instead.
use ralbench::rl::config::ReplaySampling;
use ralbench::rl::env::{AlEnv, Environment};
use ralbench::rl::features::{Features, Style};
use ralbench::rl::train::{self, Learner};
use ralbench::stats::{mean, std_dev};

mod common;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = std::path::PathBuf::from(args.next().ok_or_else(|| {
        anyhow::anyhow!(
            "usage: dral_probe SPEC SEED [EPISODES] [uniform|prioritised] [standardised]"
        )
    })?);
    let seed: u64 = args.next().map_or(Ok(0), |s| s.parse())?;
    let episodes: usize = args.next().map_or(Ok(40), |s| s.parse())?;
    let sampling = match args.next().as_deref() {
        None => None,
        Some("uniform") => Some(ReplaySampling::Uniform),
        Some("prioritised") => Some(ReplaySampling::Prioritised { exponent: 3.0 }),
        Some(other) => anyhow::bail!("sampling must be uniform or prioritised, not {other}"),
    };
    let action_norm = match args.next().as_deref() {
        None => None,
        Some("standardised") => Some(ralbench::rl::config::ActionNorm::Standardised),
        Some(other) => anyhow::bail!("the fourth argument can only be standardised, not {other}"),
    };
    let setup = common::DralJob::load(&path, seed)?;
    let (job, dral, split) = (&setup.job, &setup.dral, &setup.split);
    let task = setup.task(dral.step_training);
    let features = Features {
        style: Style::Dral,
        repr: dral.state,
        state_set: &split.state,
        state_points: None,
        action_norm: action_norm.unwrap_or(dral.action_norm),
    };
    let mut env = AlEnv::new(
        &task,
        features,
        &split.pool,
        &split.holdout,
        dral.reward,
        dral.candidates,
        job.initial_labelled,
    );
    // Episode k always starts from the stream "probe/k": the same L_0 and pool for every rule.
    let episode_rng = |k: usize| ralbench::rng::stream(seed, &format!("probe/{k}"));

    if let Some(sampling) = sampling {
        let learner = Learner {
            sampling,
            ..Learner::from(dral)
        };
        let mut rng = ralbench::rng::stream(seed, "probe/train");
        let (q, log) = train::train(&mut env, &learner, &mut rng, |_| {})?;
        let r = log.iteration_rewards(learner.warm_start);
        let tenths: Vec<String> = r
            .chunks((r.len() / 10).max(1))
            .map(|c| format!("{:.4}", mean(c)))
            .collect();
        let fifth = (r.len() / 5).max(1);
        println!(
            "seed {seed}, {sampling:?}: training reward per tenth {}; first fifth {:.4}, last fifth {:.4}",
            tenths.join(" "),
            mean(&r[..fifth]),
            mean(&r[r.len() - fifth..])
        );
        let mut greedy = Vec::new();
        for k in 0..episodes {
            greedy.push(train::episode(&mut env, Some((&q, 0.0)), &mut episode_rng(k), None)?.0);
        }
        println!(
            "seed {seed}, {sampling:?}: greedy return {:.4} over {episodes} episodes",
            mean(&greedy)
        );
    }

    // (name, feature column and sign to rank by; None: random picks).
    let rules: [(&str, Option<(i64, f64)>); 6] = [
        ("random", None),
        ("lowest score", Some((0, -1.0))),
        ("highest score", Some((0, 1.0))),
        ("farthest from L", Some((1, 1.0))),
        ("nearest to U", Some((2, -1.0))),
        ("farthest from U", Some((2, 1.0))),
    ];
    for (name, rule) in rules {
        let mut returns = Vec::new();
        for k in 0..episodes {
            let mut rng = episode_rng(k);
            let mut pick_rng = ralbench::rng::stream(seed, &format!("probe/picks/{k}"));
            let mut obs = env.reset(&mut rng)?;
            let mut total = 0.0;
            loop {
                let (n, c) = (env.to_buy(), obs.actions.size()[0] as usize);
                if n == 0 || c == 0 {
                    break;
                }
                let picks: Vec<usize> = match rule {
                    None => rand::seq::index::sample(&mut pick_rng, c, n.min(c)).into_vec(),
                    Some((column, sign)) => {
                        let v = Vec::<f64>::try_from(
                            (obs.actions.select(1, column) * sign).to_kind(tch::Kind::Double),
                        )?;
                        ralbench::strategy::top_n(&v, n, &mut pick_rng)
                    }
                };
                let step = env.step(&picks, &mut rng)?;
                total += step.reward;
                match step.obs {
                    Some(o) if !(step.terminated || step.truncated) => obs = o,
                    _ => break,
                }
            }
            returns.push(total);
        }
        println!(
            "seed {seed}, {name}: return {:.4} (sd {:.4}) over {episodes} episodes",
            mean(&returns),
            std_dev(&returns)
        );
    }
    Ok(())
}
