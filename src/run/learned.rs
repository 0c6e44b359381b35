//! Jobs of the learned strategies: train the policy on pool episodes (or reuse a saved one whose
//! metadata matches), then run it greedily in the evaluation episode every strategy runs
//! ([`crate::strategy::run_episode`]: same shared initial set, labels to the budget, test accuracy
//! per step).
use super::job::{self, Job, JobData, JobResult, JobTiming, Point};
use crate::episode::{Episode, Task};
use crate::rl::config::{ActionNorm, Reward};
use crate::rl::env::{AlEnv, episode_pool};
use crate::rl::features::{Features, Style};
use crate::rl::policy::Learned;
use crate::rl::policy_file::{self, PolicyMeta};
use crate::rl::qnet::QNet;
use crate::rl::train::{self, Learner};
use crate::spec::{ClassifierSpec, InputNorm, ModelSpec, StepTraining, StrategySpec};
use crate::strategy;
use std::path::Path;
use std::time::Instant;
use tch::{Device, Tensor};

/// Where policies are kept and what the run's compute settings are called in their metadata.
pub struct PolicyStore<'a> {
    /// Directory of `<job-id>.safetensors` files.
    pub dir: &'a Path,
    /// e.g. `cpu-threads1`.
    pub compute: String,
}

/// What differs between DRAL and LAL-RL once their specs are read.
struct Plan {
    style: Style,
    learner: Learner,
    reward: Reward,
    episode_pool: Option<usize>,
    state_points: Option<usize>,
    action_norm: ActionNorm,
    classifier: ClassifierSpec,
    step_training: StepTraining,
    eval_training: StepTraining,
}

fn plan(job: &Job) -> Plan {
    match &job.strategy {
        StrategySpec::Dral(d) => Plan {
            style: Style::Dral,
            learner: Learner::from(d),
            reward: d.reward,
            episode_pool: d.candidates,
            state_points: None,
            action_norm: d.action_norm,
            classifier: job.classifier.clone(),
            step_training: d.step_training,
            eval_training: d.eval_training,
        },
        StrategySpec::LalRl(l) => Plan {
            style: Style::LalRl,
            learner: Learner::from(l),
            reward: l.reward,
            episode_pool: l.candidates,
            state_points: Some(l.state_points),
            action_norm: ActionNorm::MaxScaled,
            // LAL-RL's classifier: logistic regression on standardised data-space features,
            // refitted at every step (envs.py `LalEnv.step`: `self.model.fit`).
            classifier: ClassifierSpec {
                model: ModelSpec::LogisticRegression,
                optimizer: l.optimizer,
                input: InputNorm::Identity,
                retrain: crate::spec::Retrain::FromScratch,
                ..job.classifier.clone()
            },
            step_training: StepTraining::Setup,
            eval_training: StepTraining::Setup,
        },
        other => unreachable!("{} is not a learned strategy", other.name()),
    }
}

/// Runs a DRAL or LAL-RL job on `input`, training (or reusing) its policy in `store` first and
/// reporting training progress.
pub fn run(
    job: &Job,
    input: &JobData,
    device: Device,
    weights: Option<&Path>,
    store: &PolicyStore,
    report: &mut dyn FnMut(String),
) -> anyhow::Result<(JobResult, JobTiming)> {
    let started = Instant::now();
    let job_id = job.id();
    let (data, split) = (input.data, input.split);
    if split.state.is_empty() || split.holdout.is_empty() {
        anyhow::bail!(
            "{}: split.state and split.holdout must give at least one row each on this dataset \
             (state {}, hold-out {}); raise the fractions or use more data",
            job.strategy.name(),
            split.state.len(),
            split.holdout.len()
        );
    }
    let x = job::inputs(job, data, input.features, split).to_device(device);
    let y = Tensor::from_slice(&data.labels).to_device(device);
    let p = plan(job);
    let flat = [data.dim];
    let (x, shape, weights) = match p.style {
        Style::Dral => (x, &data.shape[..], weights),
        // Data space: flattened inputs standardised with pool statistics (datasets.py
        // `_scale_data`), no pretrained body.
        Style::LalRl => (job::standardised(&x, &split.pool), &flat[..], None),
    };
    let task_with = |training, shared_draws| Task {
        x: &x,
        y: &y,
        shape,
        n_classes: data.n_classes,
        weights,
        classifier: p.classifier.clone(),
        training,
        budget: job.budget,
        step: job.labels_per_step,
        model_time: Default::default(),
        shared_draws,
    };
    // Training episodes draw from the job's own stream; the evaluation shares the seed's
    // classifier draws with every other strategy (common random numbers).
    let (train_task, eval_task) = (
        task_with(p.step_training, None),
        task_with(p.eval_training, Some(job.classifier_draws())),
    );
    let features = || Features {
        style: p.style,
        repr: p.learner.repr,
        state_set: &split.state,
        state_points: p.state_points,
        action_norm: p.action_norm,
    };
    let mut env = AlEnv::new(
        &train_task,
        features(),
        &split.pool,
        &split.holdout,
        p.reward,
        p.episode_pool,
        job.initial_labelled,
    );
    let mut train_rng = crate::rng::stream(job.seed, &format!("{job_id}/train"));

    let path = store.dir.join(format!("{job_id}.safetensors"));
    let wanted = |log| PolicyMeta {
        job_id: job_id.clone(),
        seed: job.seed,
        ralbench_version: env!("CARGO_PKG_VERSION").into(),
        libtorch_version: env!("RALBENCH_LIBTORCH_VERSION").into(),
        compute: store.compute.clone(),
        log,
    };
    let saved = match policy_file::read_meta(&path) {
        Some(m) if m == wanted(m.log.clone()) => Some(m),
        Some(m) => {
            eprintln!(
                "warning: {} was trained for another job or setting (job {}, {}); training again",
                path.display(),
                m.job_id,
                m.compute
            );
            None
        }
        None if path.exists() => {
            eprintln!(
                "warning: {} does not parse as a policy file; training again",
                path.display()
            );
            None
        }
        None => None,
    };
    let (policy, log) = match saved {
        Some(meta) => {
            report(format!("reusing the saved policy {}", path.display()));
            let (s, a) = policy_file::dims(&path, &p.learner.arch)?;
            let mut q = QNet::new(&p.learner.arch, s, a, Device::Cpu, &mut train_rng);
            policy_file::load(&mut q, &path)?;
            (q, meta.log)
        }
        None => {
            let (q, log) = train::train(&mut env, &p.learner, &mut train_rng, &mut *report)?;
            std::fs::create_dir_all(store.dir)?;
            policy_file::save(&q, &wanted(log.clone()), &path)?;
            (q, log)
        }
    };

    // Evaluation: the greedy policy from the shared initial set to the budget, drawing its
    // episode pool and state points the way a training episode does.
    let mut eval_rng = crate::rng::stream(job.seed, &format!("{job_id}/evaluate"));
    let initial = job::initial_set(job, split);
    let pool = episode_pool(&split.pool, &initial, p.episode_pool, &mut eval_rng);
    let eval_features = features();
    let state_rows = eval_features.state_rows(&mut eval_rng);
    let mut learned = Learned {
        q: &policy,
        features: eval_features,
        state_rows,
    };
    let mut ep = Episode::start(&eval_task, pool, initial.clone(), &mut eval_rng)?;
    let mut curve = Vec::new();
    strategy::run_episode(&eval_task, &mut learned, &mut ep, &mut eval_rng, |ep| {
        curve.push(Point::new(
            ep.labelled.len(),
            eval_task.scores(&ep.model, &split.test),
        ))
    })?;
    let result = JobResult {
        job_id,
        job: job.clone(),
        data_origin: data.origin,
        curve,
        initial,
        queried: ep.queried,
        training: Some(log),
        computed_by: None,
    };
    let model = train_task.model_time.get() + eval_task.model_time.get();
    Ok((
        result,
        JobTiming {
            total_s: started.elapsed().as_secs_f64(),
            model_s: model.as_secs_f64(),
        },
    ))
}
