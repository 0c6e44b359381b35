//! Links the binary to libtorch so it runs without LD_LIBRARY_PATH, compiles the C++ shims
//! (determinism switches, per-worker CUDA streams,
//! the fused ReLU + max-pool of the small CNN),
//! and, with RALBENCH_CUDA=1, keeps libtorch_cuda linked for GPU builds.
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=csrc/determinism.cpp");
    println!("cargo:rerun-if-changed=csrc/streams.cpp");
    println!("cargo:rerun-if-changed=csrc/pool.cpp");
    println!("cargo:rerun-if-env-changed=RALBENCH_CUDA");
    println!("cargo:rerun-if-env-changed=LIBTORCH");

    // torch-sys (links = "tch") exports its libtorch lib dir to direct dependants.
    let lib_dir = std::env::var("DEP_TCH_LIBTORCH_LIB")
        .map(PathBuf::from)
        .expect("torch-sys did not report its libtorch directory; run scripts/setup.sh first");
    let lib_dir = lib_dir.canonicalize().unwrap_or(lib_dir);
    let root = lib_dir
        .parent()
        .expect("libtorch lib dir has a parent")
        .to_path_buf();

    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib_dir.display());

    // Provenance: the libtorch version (the wheel's torch/version.py) and the git commit.
    let libtorch_version = std::fs::read_to_string(root.join("version.py"))
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("__version__ = "))
                .map(|v| v.trim_matches(['\'', '"']).to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=RALBENCH_LIBTORCH_VERSION={libtorch_version}");
    let git_sha = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=RALBENCH_GIT_SHA={git_sha}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");

    cc::Build::new()
        .cpp(true)
        .file("csrc/determinism.cpp")
        .file("csrc/streams.cpp")
        .file("csrc/pool.cpp")
        .include(root.join("include"))
        .include(root.join("include/torch/csrc/api/include"))
        .flag("-std=c++17")
        // No debug info: it doubles the compile time of libtorch's autograd headers (pool.cpp).
        .debug(false)
        .define("_GLIBCXX_USE_CXX11_ABI", "1")
        .warnings(false)
        .compile("ralbench_shims");

    // rustc passes --as-needed, which drops libtorch_cuda.so: nothing references it directly,
    // it registers the CUDA backend from its static initialisers.
    if std::env::var("RALBENCH_CUDA").is_ok_and(|v| v == "1") {
        println!("cargo:rustc-link-search=native={}", lib_dir.display());
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}
