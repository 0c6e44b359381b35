//! Model-side costs on CPU (one thread): a Q-network forward over candidates, one double-DQN
//! TD target, and one classifier training epoch (small CNN, ResNet-18) at 64 x 64.
//!
//! `cargo bench --bench training`; smoke run: `cargo test --release --benches`.
use criterion::{Criterion, criterion_group, criterion_main};
use ralbench::model::Classifier;
use ralbench::rl::config::DoubleDqn;
use ralbench::rl::qnet::{self, Arch, QNet};
use ralbench::spec::{ClassifierSpec, InputNorm, ModelSpec, OptimizerSpec, Retrain};
use tch::{Device, Kind, Tensor};

fn ddqn(c: &mut Criterion) {
    tch::set_num_threads(1);
    let mut rng = ralbench::rng::stream(0, "bench-q");
    let online = QNet::new(
        &Arch::Mlp(vec![128, 128, 128]),
        50,
        3,
        Device::Cpu,
        &mut rng,
    );
    let target = QNet::new(
        &Arch::Mlp(vec![128, 128, 128]),
        50,
        3,
        Device::Cpu,
        &mut rng,
    );
    let state = Tensor::rand([50], (Kind::Float, Device::Cpu));
    let actions = Tensor::rand([1000, 3], (Kind::Float, Device::Cpu));
    c.bench_function("ddqn/forward-1000-candidates", |b| {
        b.iter(|| tch::no_grad(|| online.q_one(&state, &actions)))
    });
    c.bench_function("ddqn/td-target-top4-of-1000", |b| {
        b.iter(|| {
            qnet::next_values(
                &online,
                &target,
                &[(&state, &actions)],
                4,
                DoubleDqn::OnlinePicks,
            )
        })
    });
}

fn epoch(c: &mut Criterion) {
    tch::set_num_threads(1);
    let mut group = c.benchmark_group("classifier-epoch-64x64-256-images");
    group.sample_size(10);
    let x = Tensor::rand([256, 3 * 64 * 64], (Kind::Float, Device::Cpu));
    let y = Tensor::randint(8, [256], (Kind::Int64, Device::Cpu));
    for (name, model) in [
        (
            "small-cnn",
            ModelSpec::SmallCnn {
                channels: vec![16, 32],
            },
        ),
        ("resnet18", ModelSpec::ResNet18 { pretrained: None }),
    ] {
        let spec = ClassifierSpec {
            model,
            optimizer: OptimizerSpec::Adam {
                lr: 1e-3,
                weight_decay: 0.0,
            },
            epochs: 1,
            batch_size: 32,
            retrain: Retrain::FineTune,
            input: InputNorm::Identity,
        };
        let mut rng = ralbench::rng::stream(0, "bench-epoch");
        let mut clf = Classifier::new(&spec, &[3, 64, 64], 8, Device::Cpu, None, &mut rng).unwrap();
        group.bench_function(name, |b| b.iter(|| clf.fit(&x, &y, &mut rng)));
    }
    group.finish();
}

criterion_group!(benches, ddqn, epoch);
criterion_main!(benches);
