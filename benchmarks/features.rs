//! Cost of the learned strategies' per-step features, on CPU with one thread:
//! DRAL's latent-space distances vs pool size and embedding width (linear in the pool by the
//! mean-squared-distance identity), and LAL-RL's pairwise data-space cosine distances vs image size.
//!
//! `cargo bench --bench features`; smoke run: `cargo test --release --benches`.
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ralbench::rl::features;
use tch::{Device, Kind, Tensor};

fn randn(rows: i64, cols: i64, seed: i64) -> Tensor {
    tch::manual_seed(seed);
    Tensor::randn([rows, cols], (Kind::Float, Device::Cpu))
}

fn dral(c: &mut Criterion) {
    tch::set_num_threads(1);
    let mut group = c.benchmark_group("dral-features");
    group.sample_size(10);
    for width in [64i64, 512, 2048] {
        for pool in [1_000i64, 10_000, 100_000] {
            if pool * width > 100_000 * 512 {
                continue; // 100k x 2048 floats is 800 MB: beyond this machine's sensible range
            }
            let unlab = randn(pool, width, 1);
            let cand = unlab.narrow(0, 0, 100);
            let lab = randn(50, width, 2);
            let probs = Tensor::rand([100, 8], (Kind::Float, Device::Cpu)).softmax(-1, Kind::Float);
            group.bench_function(BenchmarkId::new(format!("w{width}"), pool), |b| {
                b.iter(|| features::dral_actions(&probs, &cand, &lab, &unlab))
            });
        }
    }
    group.finish();
}

fn lal_rl(c: &mut Criterion) {
    tch::set_num_threads(1);
    let mut group = c.benchmark_group("lal-rl-features");
    group.sample_size(10);
    // 28x28 grey, 64x64x3, 150x150x3 (the colorectal tiles), pool of 1000, 100 candidates.
    for (name, dim) in [
        ("28x28x1", 784i64),
        ("64x64x3", 12_288),
        ("150x150x3", 67_500),
    ] {
        let unlab = randn(1000, dim, 3);
        let cand = unlab.narrow(0, 0, 100);
        let lab = randn(20, dim, 4);
        let p0 = Tensor::rand([100], (Kind::Float, Device::Cpu));
        group.bench_function(name, |b| {
            b.iter(|| features::lalrl_actions(&p0, &cand, &unlab, &lab))
        });
    }
    group.finish();
}

criterion_group!(benches, dral, lal_rl);
criterion_main!(benches);
