//! One job: a single active-learning episode for one (setup, noise, strategy, seed) of a spec.
use crate::data::{Dataset, Origin, split::Split};
use crate::episode::{Episode, SharedDraws, Task};
use crate::spec::{
    ClassifierSpec, DatasetSpec, Metric, NoiseSpec, Spec, SplitSpec, StepTraining, StrategySpec,
};
use crate::strategy;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;
use tch::{Device, Tensor};

/// Everything that determines a job's numbers; its canonical RON hashes to the job id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// Dataset.
    pub dataset: DatasetSpec,
    /// Split fractions.
    pub split: SplitSpec,
    /// Classifier and training.
    pub classifier: ClassifierSpec,
    /// Noise on the pool; None for clean images (left out of the canonical RON then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<NoiseSpec>,
    /// Query strategy.
    pub strategy: StrategySpec,
    /// |L_0|.
    pub initial_labelled: usize,
    /// Labels per step.
    pub labels_per_step: usize,
    /// Labelling budget.
    pub budget: usize,
    /// Seed.
    pub seed: u64,
}

impl Job {
    /// The jobs of a spec: setup-major, then noise, strategy and seed, each in spec order.
    pub fn expand(spec: &Spec) -> Vec<Job> {
        let clean = [None];
        let noises: Vec<Option<NoiseSpec>> = if spec.noise.is_empty() {
            clean.to_vec()
        } else {
            spec.noise
                .iter()
                .map(|n| (n.fraction > 0.0).then(|| n.clone()))
                .collect()
        };
        let mut jobs = Vec::new();
        for setup in &spec.setups {
            for noise in &noises {
                for strategy in &spec.strategies {
                    for &seed in &spec.seeds {
                        jobs.push(Job {
                            dataset: setup.dataset,
                            split: spec.split,
                            classifier: setup.classifier.clone(),
                            noise: noise.clone(),
                            strategy: strategy.clone(),
                            initial_labelled: spec.initial_labelled,
                            labels_per_step: strategy.labels_per_step(spec.labels_per_step),
                            budget: spec.budget,
                            seed,
                        });
                    }
                }
            }
        }
        jobs
    }

    /// Stable id: the first 16 hex digits of sha256 over the job's canonical RON.
    pub fn id(&self) -> String {
        let canonical = ron::to_string(self).expect("a job always serialises");
        crate::io::sha256_hex(canonical.as_bytes())[..16].to_string()
    }

    /// Stream name for draws shared by all jobs of one seed and split (split, initial set,
    /// noise), so every strategy of a seed sees the same sets and the same noisy images.
    pub fn shared_stream_name(&self, what: &str) -> String {
        let split = ron::to_string(&(self.dataset, self.split)).expect("serialises");
        format!("{what}/{split}")
    }

    /// The classifier draws of the evaluation episode, shared by every strategy of the seed
    /// (common random numbers: the same initial weights and mini-batch order in every round).
    pub fn classifier_draws(&self) -> SharedDraws {
        SharedDraws {
            seed: self.seed,
            name: self.shared_stream_name("classifier"),
        }
    }

    /// The noise label of this job's table row (`0%` when clean).
    pub fn noise_label(&self) -> String {
        self.noise.as_ref().map_or("0%".into(), NoiseSpec::label)
    }
}

/// The test-set metrics at one label count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Labelled points the classifier was trained on.
    pub labels: usize,
    /// Accuracy on the test set.
    pub test_accuracy: f64,
    /// Balanced accuracy (mean per-class recall) on the test set.
    pub test_balanced_accuracy: f64,
    /// Macro-F1 on the test set.
    pub test_macro_f1: f64,
}

impl Point {
    /// The point's metrics of the test set's predictions after `labels` labels.
    pub fn new(labels: usize, scores: crate::metrics::Scores) -> Point {
        Point {
            labels,
            test_accuracy: scores.accuracy,
            test_balanced_accuracy: scores.balanced_accuracy,
            test_macro_f1: scores.macro_f1,
        }
    }

    /// The value of `metric`.
    pub fn value(&self, metric: Metric) -> f64 {
        match metric {
            Metric::Accuracy => self.test_accuracy,
            Metric::BalancedAccuracy => self.test_balanced_accuracy,
            Metric::MacroF1 => self.test_macro_f1,
        }
    }
}

/// What a job produced: deterministic for a given job, device and thread count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobResult {
    /// The job id.
    pub job_id: String,
    /// The job itself.
    pub job: Job,
    /// Real or synthetic data.
    pub data_origin: Origin,
    /// Test accuracy after each step, the initial set first.
    pub curve: Vec<Point>,
    /// Dataset rows of the initial labelled set.
    pub initial: Vec<usize>,
    /// Dataset rows bought at each step, in selection order.
    pub queried: Vec<Vec<usize>>,
    /// Policy training record of a learned strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<crate::rl::train::TrainingLog>,
    /// What computed the result (set when the run writes the file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub computed_by: Option<Provenance>,
}

/// What computed a job: the software and the settings whose change changes result bits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// ralbench version.
    pub ralbench_version: String,
    /// Commit the binary was built from.
    pub git_sha: String,
    /// tch version.
    pub tch_version: String,
    /// libtorch version.
    pub libtorch_version: String,
    /// Device kind, threads, determinism, CPU code path and its pinning.
    pub compute: crate::device::ComputeSettings,
}

impl Provenance {
    /// This binary's provenance under `compute`.
    pub fn current(compute: &crate::device::ComputeSettings) -> Provenance {
        Provenance {
            ralbench_version: env!("CARGO_PKG_VERSION").into(),
            git_sha: env!("RALBENCH_GIT_SHA").into(),
            tch_version: super::TCH_VERSION.into(),
            libtorch_version: env!("RALBENCH_LIBTORCH_VERSION").into(),
            compute: compute.clone(),
        }
    }

    /// The first field in which `self` differs from `other`: (name, self's value, other's).
    pub fn difference(&self, other: &Provenance) -> Option<(&'static str, String, String)> {
        let (a, b) = (&self.compute, &other.compute);
        let fields: [(&'static str, String, String); 9] = [
            (
                "ralbench_version",
                self.ralbench_version.clone(),
                other.ralbench_version.clone(),
            ),
            ("git_sha", self.git_sha.clone(), other.git_sha.clone()),
            (
                "tch_version",
                self.tch_version.clone(),
                other.tch_version.clone(),
            ),
            (
                "libtorch_version",
                self.libtorch_version.clone(),
                other.libtorch_version.clone(),
            ),
            ("device", a.kind.clone(), b.kind.clone()),
            ("threads", a.threads.to_string(), b.threads.to_string()),
            (
                "deterministic",
                a.deterministic.to_string(),
                b.deterministic.to_string(),
            ),
            (
                "cpu_capability",
                a.cpu_capability.clone(),
                b.cpu_capability.clone(),
            ),
            (
                "cpu_pinning",
                format!("{:?}", a.cpu_pinning),
                format!("{:?}", b.cpu_pinning),
            ),
        ];
        fields.into_iter().find(|(_, x, y)| x != y)
    }
}

/// Wall time of one job, split into classifier work and everything else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct JobTiming {
    /// Whole job, seconds.
    pub total_s: f64,
    /// Inside classifier training and inference, seconds.
    pub model_s: f64,
}

/// What a job runs on: the dataset, its rows as one (CPU) tensor made once per dataset, and the
/// seed's shared split.
pub struct JobData<'a> {
    /// The dataset.
    pub data: &'a Dataset,
    /// `data.features` as an `[n, dim]` tensor; never modified (noise works on a copy).
    pub features: &'a Tensor,
    /// The split of the job's seed.
    pub split: &'a Split,
}

/// Runs the evaluation episode of a non-learned strategy on `input` (the dataset and the seed's
/// shared split); `weights` initialise a pretrained body. Learned strategies go through
/// [`super::learned::run`].
pub fn run(
    job: &Job,
    input: &JobData,
    device: Device,
    weights: Option<&Path>,
) -> anyhow::Result<(JobResult, JobTiming)> {
    let started = Instant::now();
    let job_id = job.id();
    let mut rng = crate::rng::stream(job.seed, &job_id);
    let (data, split) = (input.data, input.split);
    let x_all = inputs(job, data, input.features, split).to_device(device);
    let y_all = Tensor::from_slice(&data.labels).to_device(device);
    let task = Task {
        x: &x_all,
        y: &y_all,
        shape: &data.shape,
        n_classes: data.n_classes,
        weights,
        classifier: job.classifier.clone(),
        training: StepTraining::Setup,
        budget: job.budget,
        step: job.labels_per_step,
        model_time: Default::default(),
        shared_draws: Some(job.classifier_draws()),
    };
    let mut strategy = strategy::for_spec(&job.strategy)
        .ok_or_else(|| anyhow::anyhow!("{} is a learned strategy", job.strategy.name()))?;
    let initial = initial_set(job, split);
    let mut ep = Episode::start(&task, split.pool.clone(), initial.clone(), &mut rng)?;
    let mut curve = Vec::new();
    strategy::run_episode(&task, strategy.as_mut(), &mut ep, &mut rng, |ep| {
        curve.push(Point::new(
            ep.labelled.len(),
            task.scores(&ep.model, &split.test),
        ))
    })?;
    let result = JobResult {
        job_id,
        job: job.clone(),
        data_origin: data.origin,
        curve,
        initial,
        queried: ep.queried,
        training: None,
        computed_by: None,
    };
    let timing = JobTiming {
        total_s: started.elapsed().as_secs_f64(),
        model_s: task.model_time.get().as_secs_f64(),
    };
    Ok((result, timing))
}

/// The feature matrix (n x dim, CPU) the job trains on: noise applied to the chosen pool images,
/// tabular features standardised with pool statistics.
pub(crate) fn inputs(job: &Job, data: &Dataset, features: &Tensor, split: &Split) -> Tensor {
    let mut x = features.shallow_clone();
    if let Some(noise) = &job.noise {
        x = features.copy();
        let name = job.shared_stream_name(&format!(
            "noise/{}",
            ron::to_string(noise).expect("serialises")
        ));
        let mut rng = crate::rng::stream(job.seed, &name);
        let shape: Vec<i64> = data.shape.iter().map(|&d| d as i64).collect();
        for row in crate::noise::noisy_rows(&split.pool, noise.fraction, &mut rng) {
            let img = x.get(row as i64).view(shape.as_slice());
            let noisy = crate::noise::apply_all(&noise.transforms, &img, &mut rng);
            x.get(row as i64).copy_(&noisy.view([-1]));
        }
    }
    if data.standardise {
        return standardised(&x, &split.pool);
    }
    x
}

/// Features standardised with the mean and std of the `pool` rows only (the test set must not
/// shape the inputs); constant features are left centred.
pub fn standardised(x: &Tensor, pool: &[usize]) -> Tensor {
    let p = crate::episode::rows(x, pool);
    let mean = p.mean_dim(0, true, tch::Kind::Float);
    let std = p.std_dim(0, false, true).clamp_min(1e-6);
    (x - mean) / std
}

/// L_0: `initial_labelled` pool rows drawn uniformly, the same for every strategy of a seed.
pub(crate) fn initial_set(job: &Job, split: &Split) -> Vec<usize> {
    use rand::seq::IndexedRandom;
    let mut rng = crate::rng::stream(job.seed, &job.shared_stream_name("initial"));
    split
        .pool
        .choose_multiple(&mut rng, job.initial_labelled)
        .copied()
        .collect()
}
