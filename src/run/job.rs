//! One job: a single active-learning episode for one (setup, noise, strategy, seed) of a spec.
use crate::data::{Dataset, Origin, split::Split};
use crate::model::Classifier;
use crate::spec::{ClassifierSpec, DatasetSpec, NoiseSpec, Retrain, Spec, SplitSpec, StrategySpec};
use crate::strategy;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::{Duration, Instant};
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

    /// The noise label of this job's table row (`0%` when clean).
    pub fn noise_label(&self) -> String {
        self.noise.as_ref().map_or("0%".into(), NoiseSpec::label)
    }
}

/// Test accuracy at one label count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Labelled points the classifier was trained on.
    pub labels: usize,
    /// Accuracy on the test set.
    pub test_accuracy: f64,
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

/// Runs one episode on `input` (the dataset and the seed's shared split); `weights` initialise a
/// pretrained body; learned strategies train (or reuse) their policy in `store` first, reporting
/// progress.
pub fn run(
    job: &Job,
    input: &JobData,
    device: Device,
    weights: Option<&Path>,
    store: &super::learned::PolicyStore,
    report: &mut dyn FnMut(String),
) -> anyhow::Result<(JobResult, JobTiming)> {
    let started = Instant::now();
    let mut model_time = Duration::ZERO;
    let job_id = job.id();
    let mut rng = crate::rng::stream(job.seed, &job_id);

    let (data, split) = (input.data, input.split);
    let x_all = inputs(job, data, input.features, split).to_device(device);
    if matches!(job.strategy, StrategySpec::Dral(_) | StrategySpec::LalRl(_)) {
        let initial = initial_set(job, split);
        let (result, model_time) = super::learned::run(
            job, data, split, &x_all, device, weights, initial, store, report,
        )?;
        return Ok((
            result,
            JobTiming {
                total_s: started.elapsed().as_secs_f64(),
                model_s: model_time.as_secs_f64(),
            },
        ));
    }
    let y_all = Tensor::from_slice(&data.labels).to_device(device);
    let rows = |idx: &[usize]| {
        let idx: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
        let idx = Tensor::from_slice(&idx).to_device(device);
        (x_all.index_select(0, &idx), y_all.index_select(0, &idx))
    };
    let (x_test, y_test) = rows(&split.test);

    let initial = initial_set(job, split);
    let mut labelled = initial.clone();
    let mut in_labelled = vec![false; data.len()];
    for &i in &labelled {
        in_labelled[i] = true;
    }
    let mut curve = Vec::new();
    let mut queried = Vec::new();
    let mut model: Option<Classifier> = None;
    loop {
        let t = Instant::now();
        if model.is_none() || job.classifier.retrain == Retrain::FromScratch {
            model = Some(Classifier::new(
                &job.classifier,
                &data.shape,
                data.n_classes,
                device,
                weights,
                &mut rng,
            )?);
        }
        let m = model.as_mut().expect("just built");
        let (x_l, y_l) = rows(&labelled);
        m.fit(&x_l, &y_l, &mut rng);
        curve.push(Point {
            labels: labelled.len(),
            test_accuracy: m.accuracy(&x_test, &y_test),
        });
        model_time += t.elapsed();
        if labelled.len() >= job.budget {
            break;
        }

        let candidates: Vec<usize> = split
            .pool
            .iter()
            .copied()
            .filter(|&i| !in_labelled[i])
            .collect();
        let n = job.labels_per_step.min(job.budget - labelled.len());
        let t = Instant::now();
        let picks = match job.strategy {
            StrategySpec::Random => {
                // Random needs no predictions; every candidate scores the same.
                strategy::random_n(candidates.len(), n, &mut rng)
            }
            StrategySpec::Dral(_) | StrategySpec::LalRl(_) => unreachable!("handled above"),
            StrategySpec::KCenterGreedy => {
                let (cand, lab) = (m.embed(&rows(&candidates).0), m.embed(&x_l));
                model_time += t.elapsed();
                strategy::k_center_greedy(&cand, &lab, n, &mut rng)
            }
            ref s => {
                let p = m.predict_proba(&rows(&candidates).0).to_device(Device::Cpu);
                model_time += t.elapsed();
                let probs = Vec::<f64>::try_from(p.view([-1]).to_kind(tch::Kind::Double))
                    .expect("probabilities to f64");
                strategy::select(s, &probs, data.n_classes, n, &mut rng)
            }
        };
        let chosen: Vec<usize> = picks.iter().map(|&p| candidates[p]).collect();
        for &i in &chosen {
            in_labelled[i] = true;
        }
        labelled.extend_from_slice(&chosen);
        queried.push(chosen);
    }
    let result = JobResult {
        job_id,
        job: job.clone(),
        data_origin: data.origin,
        curve,
        initial,
        queried,
        training: None,
    };
    let timing = JobTiming {
        total_s: started.elapsed().as_secs_f64(),
        model_s: model_time.as_secs_f64(),
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
    let idx: Vec<i64> = pool.iter().map(|&i| i as i64).collect();
    let p = x.index_select(0, &Tensor::from_slice(&idx).to_device(x.device()));
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
