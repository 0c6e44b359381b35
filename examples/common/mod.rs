//! What the DRAL examples share: one DRAL job of a spec, with its data, split and tensors prepared
//! as `bench run` prepares them, on one CPU thread with the pinned code path.
use ralbench::data::{self, Dataset, Sources, split};
use ralbench::episode::Task;
use ralbench::rl::config::DralSpec;
use ralbench::run::Job;
use ralbench::spec::{Spec, StepTraining, StrategySpec};
use std::path::Path;
use tch::Tensor;

/// A DRAL job ready to build environments on.
pub struct DralJob {
    /// The job (its seed, classifier, schedule).
    pub job: Job,
    /// Its DRAL settings.
    pub dral: DralSpec,
    /// The dataset.
    pub data: Dataset,
    /// The job's split.
    pub split: split::Split,
    /// Features, rows x dim (standardised on the pool where the dataset asks for it).
    pub x: Tensor,
    /// Labels.
    pub y: Tensor,
}

impl DralJob {
    /// The DRAL job of the spec at `path` with `seed`.
    pub fn load(path: &Path, seed: u64) -> anyhow::Result<DralJob> {
        ralbench::device::pin_cpu_code_path();
        ralbench::device::configure(ralbench::device::DeviceChoice::Cpu, 1, true)
            .map_err(anyhow::Error::msg)?;
        let (spec, _) = Spec::load(path)?;
        let job = Job::expand(&spec)
            .into_iter()
            .find(|j| j.seed == seed && matches!(j.strategy, StrategySpec::Dral(_)))
            .ok_or_else(|| {
                anyhow::anyhow!("{} has no DRAL job with seed {seed}", path.display())
            })?;
        let StrategySpec::Dral(dral) = job.strategy.clone() else {
            unreachable!("found as a DRAL job")
        };
        let data = data::load(job.dataset, &Sources::from_env()?)?;
        let split = split::stratified(
            &data.labels,
            spec.split,
            &mut ralbench::rng::stream(seed, &job.shared_stream_name("split")),
        );
        let mut x = Tensor::from_slice(&data.features).view([data.len() as i64, data.dim as i64]);
        if data.standardise {
            x = ralbench::run::job::standardised(&x, &split.pool);
        }
        let y = Tensor::from_slice(&data.labels);
        Ok(DralJob {
            job,
            dral,
            data,
            split,
            x,
            y,
        })
    }

    /// The job's labelling task with f_t trained by `training` after each step.
    pub fn task(&self, training: StepTraining) -> Task<'_> {
        Task {
            x: &self.x,
            y: &self.y,
            shape: &self.data.shape,
            n_classes: self.data.n_classes,
            weights: None,
            classifier: self.job.classifier.clone(),
            training,
            budget: self.job.budget,
            step: self.job.labels_per_step,
            model_time: Default::default(),
            shared_draws: None,
        }
    }
}
