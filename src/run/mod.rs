//! Runs a spec: expands it into jobs, runs each (skipping those already finished in the output
//! directory), and writes one result file per job, the run's provenance and its table.
//!
//! Output directory layout:
//! - `jobs/<job-id>.ron`: one [`JobResult`] per job, written atomically when the job ends;
//! - `run.ron`: [`RunSummary`], provenance without timestamps (byte-identical across reruns);
//! - `timing.ron`: wall times, which vary from run to run;
//! - `table.md`: the accuracy table.
pub mod job;

use crate::data::{self, Dataset, split};
use crate::device::{self, ComputeSettings, DeviceChoice};
use crate::io::write_atomic;
use crate::report;
use crate::spec::Spec;
pub use job::{Job, JobResult, JobTiming};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// tch, as pinned in Cargo.toml (checked by a test).
pub const TCH_VERSION: &str = "0.24.0";

/// How to run: where, on what, with how many threads.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Output directory.
    pub out: PathBuf,
    /// Device choice.
    pub device: DeviceChoice,
    /// libtorch threads.
    pub threads: usize,
}

/// Provenance of a run; contains nothing that changes between two identical runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Spec name.
    pub spec: String,
    /// sha256 of the spec file's bytes.
    pub spec_sha256: String,
    /// Dataset name.
    pub dataset: String,
    /// Real or synthetic.
    pub data_origin: data::Origin,
    /// sha256 of the dataset as loaded.
    pub dataset_sha256: String,
    /// ralbench version.
    pub ralbench_version: String,
    /// Commit the binary was built from.
    pub git_sha: String,
    /// tch version.
    pub tch_version: String,
    /// libtorch version.
    pub libtorch_version: String,
    /// Device, threads, determinism, CPU code path.
    pub compute: ComputeSettings,
    /// Job ids in run order.
    pub jobs: Vec<String>,
}

/// Wall-clock record of a run; differs between runs by nature.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunTiming {
    /// Seconds since the Unix epoch when the run started.
    pub started_unix_s: u64,
    /// Wall seconds for the whole run.
    pub wall_s: f64,
    /// Per job id: timing, or None when reused from an earlier run.
    pub jobs: BTreeMap<String, Option<JobTiming>>,
}

/// What a finished run hands back to the caller.
pub struct RunOutcome {
    /// The rendered accuracy table.
    pub table: report::Table,
    /// Jobs run now.
    pub ran: usize,
    /// Jobs reused from the output directory.
    pub reused: usize,
}

/// Refusals that come from the input, detected before anything is written.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The pool cannot supply the budget.
    #[error(
        "{path}: budget: {budget} labels, but the pool of {dataset} has only {pool} rows after the split; lower budget or split fractions"
    )]
    PoolTooSmall {
        /// Spec file.
        path: PathBuf,
        /// Budget asked for.
        budget: usize,
        /// Dataset name.
        dataset: String,
        /// Pool rows.
        pool: usize,
    },
    /// Device could not be used.
    #[error("{0}")]
    Device(String),
    /// The dataset could not be provided.
    #[error(transparent)]
    Data(#[from] data::DataError),
}

/// Everything checked and prepared before the output directory is touched.
pub struct Plan {
    spec: Spec,
    spec_sha256: String,
    data: Dataset,
    jobs: Vec<Job>,
    splits: BTreeMap<u64, split::Split>,
}

impl Plan {
    /// Loads the data, expands the jobs, makes the splits, and checks the pool is large enough.
    pub fn new(
        spec: Spec,
        spec_text: &str,
        spec_path: &Path,
        sources: &data::Sources,
    ) -> Result<Plan, PlanError> {
        let data = data::load(spec.dataset, sources)?;
        let jobs = Job::expand(&spec);
        let mut splits = BTreeMap::new();
        for job in &jobs {
            splits.entry(job.seed).or_insert_with(|| {
                let mut rng = crate::rng::stream(job.seed, &job.shared_stream_name("split"));
                split::stratified(&data.labels, spec.split, &mut rng)
            });
        }
        if let Some(s) = splits.values().find(|s| s.pool.len() < spec.budget) {
            return Err(PlanError::PoolTooSmall {
                path: spec_path.to_owned(),
                budget: spec.budget,
                dataset: data.name.clone(),
                pool: s.pool.len(),
            });
        }
        Ok(Plan {
            spec_sha256: crate::io::sha256_hex(spec_text.as_bytes()),
            spec,
            data,
            jobs,
            splits,
        })
    }

    /// The jobs in run order.
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    /// Runs every job not already finished under `opts.out`, then writes summary and table.
    pub fn execute(&self, opts: &RunOptions) -> anyhow::Result<RunOutcome> {
        use anyhow::Context;
        let (device, compute) =
            device::configure(opts.device, opts.threads, self.spec.deterministic)
                .map_err(PlanError::Device)?;
        let started = std::time::Instant::now();
        let started_unix_s = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let jobs_dir = opts.out.join("jobs");
        std::fs::create_dir_all(&jobs_dir)
            .with_context(|| format!("cannot create output directory {}", jobs_dir.display()))?;

        let progress = Progress::new(self.jobs.len() as u64);
        let mut results = Vec::with_capacity(self.jobs.len());
        let mut timings = BTreeMap::new();
        let (mut ran, mut reused) = (0, 0);
        for job in &self.jobs {
            let id = job.id();
            let path = jobs_dir.join(format!("{id}.ron"));
            let label = format!("{} seed {}", job.strategy.name(), job.seed);
            if let Some(done) = finished(&path, job) {
                progress.job_done(&label, &done, None);
                results.push(done);
                timings.insert(id, None);
                reused += 1;
                continue;
            }
            let (result, timing) = job::run(job, &self.data, &self.splits[&job.seed], device);
            write_atomic(&path, pretty(&result).as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            progress.job_done(&label, &result, Some(timing));
            results.push(result);
            timings.insert(id, Some(timing));
            ran += 1;
        }
        progress.finish();

        let summary = RunSummary {
            spec: self.spec.name.clone(),
            spec_sha256: self.spec_sha256.clone(),
            dataset: self.data.name.clone(),
            data_origin: self.data.origin,
            dataset_sha256: self.data.sha256.clone(),
            ralbench_version: env!("CARGO_PKG_VERSION").into(),
            git_sha: env!("RALBENCH_GIT_SHA").into(),
            tch_version: TCH_VERSION.into(),
            libtorch_version: env!("RALBENCH_LIBTORCH_VERSION").into(),
            compute,
            jobs: results.iter().map(|r| r.job_id.clone()).collect(),
        };
        let table = report::accuracy_table(&self.spec, &self.data, &results);
        let timing = RunTiming {
            started_unix_s,
            wall_s: started.elapsed().as_secs_f64(),
            jobs: timings,
        };
        for (name, text) in [
            ("run.ron", pretty(&summary)),
            ("timing.ron", pretty(&timing)),
            ("table.md", table.to_markdown()),
        ] {
            let path = opts.out.join(name);
            write_atomic(&path, text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(RunOutcome { table, ran, reused })
    }
}

/// A finished result for `job` at `path`, if one is there and matches.
fn finished(path: &Path, job: &Job) -> Option<JobResult> {
    let text = std::fs::read_to_string(path).ok()?;
    let result: JobResult = ron::from_str(&text).ok()?;
    (result.job == *job).then_some(result)
}

/// Stable, readable RON for every file the harness writes.
pub fn pretty<T: Serialize>(value: &T) -> String {
    let config = ron::ser::PrettyConfig::new().indentor("  ").new_line("\n");
    let mut text = ron::ser::to_string_pretty(value, config).expect("result types serialise");
    text.push('\n');
    text
}

/// A progress bar on a terminal, one plain line per job elsewhere.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: u64,
    done: std::cell::Cell<u64>,
}

impl Progress {
    fn new(total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30}] {pos}/{len} jobs  {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar
        });
        Progress {
            bar,
            total,
            done: 0.into(),
        }
    }

    fn job_done(&self, label: &str, result: &JobResult, timing: Option<JobTiming>) {
        self.done.set(self.done.get() + 1);
        let last = result.curve.last().map_or(f64::NAN, |p| p.test_accuracy);
        let how = timing.map_or("reused".to_string(), |t| format!("{:.1} s", t.total_s));
        let line = format!("{label}: final accuracy {last:.4} ({how})");
        match &self.bar {
            Some(bar) => {
                bar.set_message(line);
                bar.inc(1);
            }
            None => eprintln!("[{}/{}] {line}", self.done.get(), self.total),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tch_version_constant_matches_the_cargo_pin() {
        let manifest = include_str!("../../Cargo.toml");
        assert!(manifest.contains(&format!("tch = \"={}\"", super::TCH_VERSION)));
    }
}
