//! Trained policies as safetensors files with metadata, so a run can reuse one instead of
//! retraining. The metadata is one RON string under the key `ralbench` (a single key keeps the
//! file's bytes deterministic; safetensors writes its metadata map in hash order).
use super::qnet::QNet;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// What a policy file says about where it came from; a saved policy is reused only when all of
/// it matches the job at hand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyMeta {
    /// Job id (hash of the job's canonical RON, strategy settings included).
    pub job_id: String,
    /// The job's seed.
    pub seed: u64,
    /// ralbench version.
    pub ralbench_version: String,
    /// libtorch version.
    pub libtorch_version: String,
    /// Device kind and thread count the policy was trained with.
    pub compute: String,
    /// The training record, restored with the policy so a reused policy gives the same result file.
    pub log: super::train::TrainingLog,
}

/// Why a policy file could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PolicyFileError {
    /// The file.
    pub path: std::path::PathBuf,
    /// What went wrong.
    pub message: String,
}

/// Writes the Q-network's weights (sorted by name, f32) and `meta` atomically to `path`.
pub fn save(q: &QNet, meta: &PolicyMeta, path: &Path) -> Result<(), PolicyFileError> {
    let err = |message: String| PolicyFileError {
        path: path.to_owned(),
        message,
    };
    let vars: std::collections::BTreeMap<String, tch::Tensor> =
        q.vs.variables().into_iter().collect();
    let mut buffers = Vec::new();
    for (name, t) in &vars {
        let values = Vec::<f32>::try_from(
            t.to_kind(tch::Kind::Float)
                .to_device(tch::Device::Cpu)
                .view([-1]),
        )
        .map_err(|e| err(e.to_string()))?;
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
        buffers.push((name.clone(), shape, bytes));
    }
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = buffers
        .iter()
        .map(|(name, shape, bytes)| {
            let view =
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                    .expect("shape matches the bytes");
            (name.clone(), view)
        })
        .collect();
    let meta_ron = ron::to_string(meta).expect("metadata serialises");
    let info = Some(HashMap::from([("ralbench".to_string(), meta_ron)]));
    let bytes = safetensors::tensor::serialize(views, &info).map_err(|e| err(e.to_string()))?;
    crate::io::write_atomic(path, &bytes).map_err(|e| err(e.to_string()))
}

/// The metadata of a policy file, if it has readable ralbench metadata.
pub fn read_meta(path: &Path) -> Option<PolicyMeta> {
    let bytes = std::fs::read(path).ok()?;
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).ok()?;
    let text = meta.metadata().as_ref()?.get("ralbench")?.clone();
    ron::from_str(&text).ok()
}

/// Loads the weights of `path` into `q` (same architecture).
pub fn load(q: &mut QNet, path: &Path) -> Result<(), PolicyFileError> {
    let err = |message: String| PolicyFileError {
        path: path.to_owned(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let file = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| err(e.to_string()))?;
    tch::no_grad(|| {
        for (name, mut var) in q.vs.variables() {
            let view = file.tensor(&name).map_err(|_| {
                err(format!(
                    "no tensor {name}: not a policy of this architecture"
                ))
            })?;
            if view.dtype() != safetensors::Dtype::F32 {
                return Err(err(format!(
                    "{name} holds {:?} values; a policy holds F32",
                    view.dtype()
                )));
            }
            let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
            if shape != var.size() {
                return Err(err(format!(
                    "{name} has shape {shape:?}, the network {:?}",
                    var.size()
                )));
            }
            let values: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            var.copy_(
                &tch::Tensor::from_slice(&values)
                    .view(shape.as_slice())
                    .to_device(var.device()),
            );
        }
        Ok(())
    })
}

/// The state and action widths of the policy saved at `path` for architecture `arch`.
pub fn dims(path: &Path, arch: &super::qnet::Arch) -> Result<(i64, i64), PolicyFileError> {
    let err = |message: String| PolicyFileError {
        path: path.to_owned(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let file = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| err(e.to_string()))?;
    let width = |name: &str| {
        file.tensor(name)
            // An empty tensor is no layer (and its width could be anything).
            .map(|t| match t.shape() {
                [rows, cols] if *rows > 0 => *cols as i64,
                _ => 0,
            })
            .map_err(|_| {
                err(format!(
                    "no tensor {name}: not a policy of this architecture"
                ))
            })
    };
    let (state, action) = match arch {
        // fc0 takes [state, 3 action features].
        super::qnet::Arch::Mlp(_) => (width("fc0.weight")? - 3, 3),
        super::qnet::Arch::LalRl => (width("state.weight")?, width("joint.weight")? - 10),
    };
    if state < 1 || action < 1 {
        return Err(err(format!(
            "its input widths (state {state}, action {action}) are not those of a policy"
        )));
    }
    Ok((state, action))
}
