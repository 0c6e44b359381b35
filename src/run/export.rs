//! `bench export`: the exact inputs of a spec's jobs as .npy files and a JSON manifest, so an
//! outside implementation (benchmarks/peer/) can run the same active-learning loop on the same
//! data: the same split, initial labelled set and noisy, standardised images.
//!
//! Layout of the output directory:
//! - `manifest.json`: `{"spec", "jobs": [{"id", "strategy", "data", "shape", "n_classes",
//!   "origin", "job"}]}`, where `job` is the [`Job`] itself (externally tagged enums) and `data`
//!   names a folder under `data/`;
//! - `data/<key>/x.npy` (rows x features, float32, as the classifier sees them), `y.npy` (int64
//!   labels), `pool.npy`, `test.npy`, `initial.npy` (int64 row indices, `initial` in draw order).
//!
//! Jobs of the same seed, split and noise share one data folder. Learned and embedding-based
//! strategies are left out: only random and the score-based strategies are exported.
use super::{Job, Plan, job, setup_index};
use crate::data::Origin;
use crate::spec::StrategySpec;
use anyhow::Context;
use ndarray::{Array1, Array2};
use serde::Serialize;
use std::path::Path;

/// One exported job, as the manifest lists it.
#[derive(Debug, Serialize)]
pub struct ExportedJob {
    /// The job id (as in `jobs/<id>.ron` of a run).
    pub id: String,
    /// The strategy's name (`margin`, ...).
    pub strategy: String,
    /// Folder under `data/` with this job's arrays.
    pub data: String,
    /// Shape of one row.
    pub shape: Vec<usize>,
    /// Number of classes.
    pub n_classes: usize,
    /// Real or synthetic data.
    pub origin: Origin,
    /// The job.
    pub job: Job,
}

/// The manifest.
#[derive(Debug, Serialize)]
pub struct Manifest {
    /// Spec name.
    pub spec: String,
    /// Exported jobs in run order.
    pub jobs: Vec<ExportedJob>,
}

/// Whether the peer scripts can run this strategy.
fn exportable(strategy: &StrategySpec) -> bool {
    matches!(
        strategy,
        StrategySpec::Random
            | StrategySpec::Margin
            | StrategySpec::Entropy
            | StrategySpec::LeastConfident
            | StrategySpec::AverageConfidence
    )
}

impl Plan {
    /// Writes the manifest and arrays of every exportable job under `out`; returns the
    /// manifest and how many jobs were left out.
    pub fn export(&self, out: &Path) -> anyhow::Result<(Manifest, usize)> {
        let mut manifest = Manifest {
            spec: self.spec.name.clone(),
            jobs: Vec::new(),
        };
        let mut skipped = 0;
        for j in &self.jobs {
            if !exportable(&j.strategy) {
                skipped += 1;
                continue;
            }
            let setup = setup_index(&self.spec, j);
            let (data, split) = (&self.data[setup], &self.splits[&(setup, j.seed)]);
            let key_text = ron::to_string(&(j.dataset, j.split, &j.noise, j.seed))?;
            let key = crate::io::sha256_hex(key_text.as_bytes())[..16].to_string();
            let dir = out.join("data").join(&key);
            if !dir.exists() {
                write_arrays(&dir, j, data, &self.features[setup], split)
                    .with_context(|| format!("cannot write {}", dir.display()))?;
            }
            manifest.jobs.push(ExportedJob {
                id: j.id(),
                strategy: j.strategy.name(),
                data: key,
                shape: data.shape.clone(),
                n_classes: data.n_classes,
                origin: data.origin,
                job: j.clone(),
            });
        }
        let path = out.join("manifest.json");
        let text = serde_json::to_string_pretty(&manifest)? + "\n";
        crate::io::write_atomic(&path, text.as_bytes())?;
        Ok((manifest, skipped))
    }
}

/// The arrays of one (seed, split, noise), written to a temporary folder and renamed into place,
/// so a half-written folder is never taken for a finished one.
fn write_arrays(
    dir: &Path,
    j: &Job,
    data: &crate::data::Dataset,
    features: &tch::Tensor,
    split: &crate::data::split::Split,
) -> anyhow::Result<()> {
    let parent = dir.parent().expect("data/<key>");
    std::fs::create_dir_all(parent)?;
    let tmp = tempfile::tempdir_in(parent)?;
    let x = job::inputs(j, data, features, split);
    let x: Vec<f32> = Vec::try_from(x.view([-1]))?;
    let x = Array2::from_shape_vec((data.len(), data.dim), x)?;
    ndarray_npy::write_npy(tmp.path().join("x.npy"), &x)?;
    ndarray_npy::write_npy(tmp.path().join("y.npy"), &Array1::from(data.labels.clone()))?;
    let rows = |r: &[usize]| Array1::from_iter(r.iter().map(|&i| i as i64));
    ndarray_npy::write_npy(tmp.path().join("pool.npy"), &rows(&split.pool))?;
    ndarray_npy::write_npy(tmp.path().join("test.npy"), &rows(&split.test))?;
    let initial = job::initial_set(j, split);
    ndarray_npy::write_npy(tmp.path().join("initial.npy"), &rows(&initial))?;
    std::fs::rename(tmp.keep(), dir)?;
    Ok(())
}
