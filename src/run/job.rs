//! One job: a single active-learning episode for one (strategy, seed) of a spec.
use crate::data::{Dataset, Origin, split::Split};
use crate::model::Classifier;
use crate::spec::{ClassifierSpec, DatasetSpec, Retrain, Spec, SplitSpec, StrategySpec};
use crate::strategy;
use serde::{Deserialize, Serialize};
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
    /// The jobs of a spec, strategy-major, seeds in spec order.
    pub fn expand(spec: &Spec) -> Vec<Job> {
        spec.strategies
            .iter()
            .flat_map(|&strategy| {
                spec.seeds.iter().map(move |&seed| Job {
                    dataset: spec.dataset,
                    split: spec.split,
                    classifier: spec.classifier.clone(),
                    strategy,
                    initial_labelled: spec.initial_labelled,
                    labels_per_step: spec.labels_per_step,
                    budget: spec.budget,
                    seed,
                })
            })
            .collect()
    }

    /// Stable id: the first 16 hex digits of sha256 over the job's canonical RON.
    pub fn id(&self) -> String {
        let canonical = ron::to_string(self).expect("a job always serialises");
        crate::io::sha256_hex(canonical.as_bytes())[..16].to_string()
    }

    /// Stream name for draws shared by all jobs of one seed and split (split, initial set).
    pub fn shared_stream_name(&self, what: &str) -> String {
        let split = ron::to_string(&(self.dataset, self.split)).expect("serialises");
        format!("{what}/{split}")
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
}

/// Wall time of one job, split into classifier work and everything else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct JobTiming {
    /// Whole job, seconds.
    pub total_s: f64,
    /// Inside classifier training and inference, seconds.
    pub model_s: f64,
}

/// Runs one episode on `data` with the seed's shared `split`.
pub fn run(job: &Job, data: &Dataset, split: &Split, device: Device) -> (JobResult, JobTiming) {
    let started = Instant::now();
    let mut model_time = Duration::ZERO;
    let job_id = job.id();
    let mut rng = crate::rng::stream(job.seed, &job_id);

    let mut x_all = Tensor::from_slice(&data.features)
        .view([data.len() as i64, data.dim as i64])
        .to_device(device);
    if data.standardise {
        // Statistics of the pool only: the test set must not shape the inputs.
        let idx: Vec<i64> = split.pool.iter().map(|&i| i as i64).collect();
        let pool = x_all.index_select(0, &Tensor::from_slice(&idx).to_device(device));
        let mean = pool.mean_dim(0, true, tch::Kind::Float);
        let std = pool.std_dim(0, false, true).clamp_min(1e-12);
        x_all = (x_all - mean) / std;
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
                data.dim,
                data.n_classes,
                device,
                &mut rng,
            ));
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
        let probs = if job.strategy == StrategySpec::Random {
            // Random needs no predictions; every candidate scores the same.
            vec![0.0; candidates.len()]
        } else {
            let t = Instant::now();
            let p = m.predict_proba(&rows(&candidates).0);
            model_time += t.elapsed();
            Vec::<f32>::try_from(p.view([-1])).expect("probabilities to f32")
        };
        let k = if job.strategy == StrategySpec::Random {
            1
        } else {
            data.n_classes
        };
        let picks = strategy::select(job.strategy, &probs, k, n, &mut rng);
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
    };
    let timing = JobTiming {
        total_s: started.elapsed().as_secs_f64(),
        model_s: model_time.as_secs_f64(),
    };
    (result, timing)
}

/// L_0: `initial_labelled` pool rows drawn uniformly, the same for every strategy of a seed.
fn initial_set(job: &Job, split: &Split) -> Vec<usize> {
    use rand::seq::IndexedRandom;
    let mut rng = crate::rng::stream(job.seed, &job.shared_stream_name("initial"));
    split
        .pool
        .choose_multiple(&mut rng, job.initial_labelled)
        .copied()
        .collect()
}
