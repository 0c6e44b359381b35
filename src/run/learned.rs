//! Jobs of the learned strategies: build the MDP over the job's split, train the policy on pool
//! episodes (or reuse a saved one whose metadata matches), then run it greedily in the same
//! evaluation episode the baselines get (same initial set, test accuracy per step).
use super::job::{Job, JobResult, Point};
use crate::data::{Dataset, split::Split};
use crate::model::ModelError;
use crate::rl::config::Reward;
use crate::rl::env::{Env, Style};
use crate::rl::policy_file::{self, PolicyMeta};
use crate::rl::train::{self, Learner};
use crate::spec::{ClassifierSpec, InputNorm, ModelSpec, StrategySpec};
use std::path::Path;
use tch::{Device, Tensor};

/// Where policies are kept and what the run's compute settings are called in their metadata.
pub struct PolicyStore<'a> {
    /// Directory of `<job-id>.safetensors` files.
    pub dir: &'a Path,
    /// e.g. `cpu-threads1`.
    pub compute: String,
}

/// Runs a DRAL or LAL-RL job; `x` are the job's inputs (noise applied), on the device.
#[allow(clippy::too_many_arguments)]
pub fn run(
    job: &Job,
    data: &Dataset,
    split: &Split,
    x: &Tensor,
    device: Device,
    weights: Option<&Path>,
    initial: Vec<usize>,
    store: &PolicyStore,
    report: &mut dyn FnMut(String),
) -> anyhow::Result<(JobResult, std::time::Duration)> {
    let job_id = job.id();
    let y = Tensor::from_slice(&data.labels).to_device(device);
    let (style, learner, reward, candidates, classifier, state_rows, x_data) = match &job.strategy {
        StrategySpec::Dral(d) => (
            Style::Dral,
            Learner::from(d),
            d.reward,
            d.candidates,
            job.classifier.clone(),
            split.state.clone(),
            None,
        ),
        StrategySpec::LalRl(l) => {
            // LAL-RL's classifier is logistic regression on standardised data-space features.
            let lr = ClassifierSpec {
                model: ModelSpec::LogisticRegression,
                input: InputNorm::Identity,
                ..job.classifier.clone()
            };
            (
                Style::LalRl,
                Learner::from(l),
                l.reward,
                l.candidates,
                lr,
                split.state.iter().copied().take(l.state_points).collect(),
                Some(super::job::standardised(x, &split.pool)),
            )
        }
        other => unreachable!("{} is not a learned strategy", other.name()),
    };
    let flat = [data.dim];
    let mut env = Env {
        style,
        classifier,
        shape: if style == Style::LalRl {
            &flat
        } else {
            &data.shape
        },
        n_classes: data.n_classes,
        device,
        weights: if style == Style::LalRl { None } else { weights },
        model_time: Default::default(),
        x: x_data.as_ref().unwrap_or(x),
        y: &y,
        pool: &split.pool,
        holdout: &split.holdout,
        state_rows,
        test: &split.test,
        repr: learner.repr,
        reward,
        full_pool_accuracy: None,
        budget: job.budget,
        step: job.labels_per_step,
        candidates,
        x_data: None,
    };
    if style == Style::LalRl {
        env.x_data = x_data.as_ref().map(Tensor::shallow_clone);
    }
    let mut train_rng = crate::rng::stream(job.seed, &format!("{job_id}/train"));
    if let Reward::TargetAccuracy { .. } = reward {
        env.full_pool_accuracy = Some(env.pool_accuracy(&mut train_rng)?);
    }

    let path = store.dir.join(format!("{job_id}.safetensors"));
    let wanted = |log| PolicyMeta {
        job_id: job_id.clone(),
        seed: job.seed,
        ralbench_version: env!("CARGO_PKG_VERSION").into(),
        libtorch_version: env!("RALBENCH_LIBTORCH_VERSION").into(),
        compute: store.compute.clone(),
        log,
    };
    let saved = policy_file::read_meta(&path).filter(|m| *m == wanted(m.log.clone()));
    let (policy, log) = match saved {
        Some(meta) => {
            report(format!("reusing the saved policy {}", path.display()));
            let (s, a) = dims(&env, &mut train_rng)?;
            let mut q =
                crate::rl::qnet::QNet::new(&learner.arch, s, a, Device::Cpu, &mut train_rng);
            policy_file::load(&mut q, &path)?;
            (q, meta.log)
        }
        None => {
            let (q, log) = train::train(
                &env,
                &learner,
                job.initial_labelled,
                &mut train_rng,
                &mut *report,
            )?;
            std::fs::create_dir_all(store.dir)?;
            policy_file::save(&q, &wanted(log.clone()), &path)?;
            (q, log)
        }
    };

    // Evaluation: the greedy policy from the shared initial set, test accuracy after each step.
    let mut eval_rng = crate::rng::stream(job.seed, &format!("{job_id}/evaluate"));
    let mut curve = Vec::new();
    let mut queried = Vec::new();
    train::episode(
        &env,
        initial.clone(),
        Some((&policy, 0.0)),
        &mut eval_rng,
        None,
        |ep, picks| {
            let n = ep.labelled.len();
            if !picks.is_empty() {
                queried.push(ep.labelled[n - picks.len()..].to_vec());
            }
            curve.push(Point {
                labels: n,
                test_accuracy: env.test_accuracy(ep),
            });
        },
    )?;
    let result = JobResult {
        job_id,
        job: job.clone(),
        data_origin: data.origin,
        curve,
        initial,
        queried,
        training: Some(log),
    };
    Ok((result, env.model_time.get()))
}

fn dims(env: &Env, rng: &mut rand_chacha::ChaCha20Rng) -> Result<(i64, i64), ModelError> {
    let ep = env.start(env.random_initial(1, rng), rng)?;
    Ok((ep.obs.state.size()[0], ep.obs.actions.size()[1]))
}
