//! Where and how libtorch computes: device choice, thread count, deterministic algorithms, and the
//! pinned CPU code path that keeps result bits independent of the processor model.
use serde::{Deserialize, Serialize};
use std::str::FromStr;

unsafe extern "C" {
    fn ralbench_set_deterministic(on: bool);
    fn ralbench_deterministic() -> bool;
    fn ralbench_cpu_capability(buf: *mut std::ffi::c_char, len: usize);
    fn ralbench_use_pool_stream(device: i32) -> i32;
}

/// Gives the calling thread its own CUDA stream from libtorch's pool when `device` is a GPU, so
/// the workers of a `--jobs N` pool overlap on one device; each job's kernels stay in order on
/// its stream, so its results are those of one job in flight. Returns whether it did (false on
/// CPU, and in a build without the CUDA backend).
pub fn use_own_stream(device: tch::Device) -> bool {
    match device {
        // SAFETY: the shim catches every C++ exception and returns -1.
        tch::Device::Cuda(i) => unsafe { ralbench_use_pool_stream(i as i32) == 0 },
        _ => false,
    }
}

/// Waits for every stream of `device` (a GPU): before workers read tensors made on the default
/// stream. Nothing to do on CPU.
pub fn synchronize(device: tch::Device) {
    if let tch::Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

/// Environment that pins libtorch's CPU kernels and oneDNN to AVX2 and MKL to its COMPATIBLE
/// branch. libtorch reads these lazily, so they must be in the environment before the first
/// tensor op. MKL's AVX2 branch is only reproducible across Intel processors (on others MKL falls
/// back to AUTO dispatch: measured, golden tables recorded on an AMD EPYC differed on an Intel Xeon
/// in avg-confidence and 67,500-feature logistic regression cells); COMPATIBLE (SSE2) is the branch
/// MKL runs the same way on any x86-64 processor.
pub const CPU_PINNING: [(&str, &str); 3] = [
    ("ATEN_CPU_CAPABILITY", "avx2"),
    ("MKL_CBWR", "COMPATIBLE,STRICT"),
    ("ONEDNN_MAX_CPU_ISA", "AVX2"),
];

/// Puts [`CPU_PINNING`] (and the cuBLAS workspace setting that deterministic CUDA needs) into this
/// process's environment, keeping any value the user set. Call first thing in `main`.
pub fn pin_cpu_code_path() {
    for (key, value) in CPU_PINNING
        .iter()
        .chain(&[("CUBLAS_WORKSPACE_CONFIG", ":4096:8")])
    {
        if std::env::var_os(key).is_none() {
            // SAFETY: called at the start of main, before any other thread exists.
            unsafe { std::env::set_var(key, value) };
        }
    }
}

/// The `--device` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceChoice {
    /// CUDA when libtorch sees a GPU, else CPU.
    Auto,
    /// Always the CPU.
    Cpu,
    /// The first GPU; an error when there is none.
    Cuda,
}

impl FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" => Ok(DeviceChoice::Cuda),
            _ => Err(format!("expected auto, cpu or cuda, got {s:?}")),
        }
    }
}

/// The device a run uses and the settings that shape its numbers; recorded in provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputeSettings {
    /// `cpu` or `cuda`.
    pub kind: String,
    /// libtorch intra-op threads.
    pub threads: usize,
    /// Deterministic algorithms on.
    pub deterministic: bool,
    /// CPU kernel family libtorch dispatches to (`default`, `avx2`, `avx512`).
    pub cpu_capability: String,
    /// The pinning variables as they were in the environment.
    pub cpu_pinning: Vec<(String, String)>,
}

/// Resolves the device, sets threads and determinism, and reports what is in force.
pub fn configure(
    choice: DeviceChoice,
    threads: usize,
    deterministic: bool,
) -> Result<(tch::Device, ComputeSettings), String> {
    let device = match choice {
        DeviceChoice::Cpu => tch::Device::Cpu,
        DeviceChoice::Auto => tch::Device::cuda_if_available(),
        DeviceChoice::Cuda if tch::Cuda::is_available() => tch::Device::Cuda(0),
        DeviceChoice::Cuda => {
            return Err(
                "--device cuda: libtorch sees no GPU (a CPU-only machine, or a binary \
                        built without RALBENCH_CUDA=1); use --device cpu or auto"
                    .into(),
            );
        }
    };
    tch::set_num_threads(threads as i32);
    let mut buf = [0 as std::ffi::c_char; 64];
    // SAFETY: the shim writes at most buf.len() bytes, NUL included.
    let on = unsafe {
        ralbench_set_deterministic(deterministic);
        ralbench_cpu_capability(buf.as_mut_ptr(), buf.len());
        ralbench_deterministic()
    };
    // SAFETY: NUL-terminated by the shim.
    let cpu_capability = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .to_lowercase();
    if device.is_cuda() {
        tch::Cuda::cudnn_set_benchmark(false);
    }
    let cpu_pinning = CPU_PINNING
        .iter()
        .map(|(k, _)| (k.to_string(), std::env::var(k).unwrap_or_default()))
        .collect();
    Ok((
        device,
        ComputeSettings {
            kind: if device.is_cuda() { "cuda" } else { "cpu" }.into(),
            threads,
            deterministic: on,
            cpu_capability,
            cpu_pinning,
        },
    ))
}

#[cfg(test)]
mod stream_tests {
    /// A worker gets its own stream exactly where there is a CUDA device to give one on; on CPU
    /// (and in a build without the CUDA backend) the call is a harmless no.
    #[test]
    fn own_streams_exist_only_with_cuda() {
        assert!(!super::use_own_stream(tch::Device::Cpu));
        assert_eq!(
            super::use_own_stream(tch::Device::Cuda(0)),
            tch::Cuda::is_available()
        );
    }
}
