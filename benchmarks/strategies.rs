//! Cost of one query (scoring + top-N) per strategy and pool size, on CPU with one thread.
//!
//! `cargo bench --bench strategies`; quick smoke run: `cargo bench --bench strategies -- --quick`.
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ralbench::spec::StrategySpec;
use ralbench::strategy;
use rand::Rng;

/// A row-stochastic pool x k matrix from a fixed stream.
fn probabilities(pool: usize, k: usize) -> Vec<f64> {
    let mut rng = ralbench::rng::stream(0, "bench-probs");
    let mut m: Vec<f64> = (0..pool * k).map(|_| rng.random::<f64>()).collect();
    for row in m.chunks_mut(k) {
        let s: f64 = row.iter().sum();
        row.iter_mut().for_each(|v| *v /= s);
    }
    m
}

fn score_based(c: &mut Criterion) {
    tch::set_num_threads(1);
    let mut group = c.benchmark_group("query");
    for pool in [1_000usize, 10_000, 100_000] {
        for k in [2usize, 8] {
            let probs = probabilities(pool, k);
            for s in [
                StrategySpec::Random,
                StrategySpec::LeastConfident,
                StrategySpec::Margin,
                StrategySpec::Entropy,
                StrategySpec::AverageConfidence,
            ] {
                let id = BenchmarkId::new(format!("{}/k{k}", s.name()), pool);
                group.bench_with_input(id, &probs, |b, probs| {
                    let mut rng = ralbench::rng::stream(1, "bench");
                    b.iter(|| strategy::select(&s, probs, k, 10, &mut rng));
                });
            }
        }
    }
    group.finish();
}

fn k_center(c: &mut Criterion) {
    tch::set_num_threads(1);
    let mut group = c.benchmark_group("k-center");
    group.sample_size(10);
    for pool in [1_000i64, 10_000] {
        for width in [64i64, 512] {
            tch::manual_seed(0);
            let cand = tch::Tensor::randn([pool, width], (tch::Kind::Float, tch::Device::Cpu));
            let lab = tch::Tensor::randn([100, width], (tch::Kind::Float, tch::Device::Cpu));
            let id = BenchmarkId::new(format!("w{width}"), pool);
            group.bench_function(id, |b| {
                let mut rng = ralbench::rng::stream(1, "bench");
                b.iter(|| strategy::k_center_greedy(&cand, &lab, 10, &mut rng));
            });
        }
    }
    group.finish();
}

criterion_group!(benches, score_based, k_center);
criterion_main!(benches);
