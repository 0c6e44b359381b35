//! Classifiers in libtorch (tch): built from a [`ClassifierSpec`], fitted on the labelled set,
//! queried for class probabilities.
//!
//! Weight initialisation draws from libtorch's generator, which is re-seeded from the job's ChaCha
//! stream right before a model is built; mini-batch order comes from the job's stream directly.
use crate::spec::{ClassifierSpec, ModelSpec, OptimizerSpec};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha20Rng;
use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Tensor};

/// A trainable classifier with its weights.
pub struct Classifier {
    vs: nn::VarStore,
    net: nn::Sequential,
    spec: ClassifierSpec,
}

impl Classifier {
    /// Builds fresh weights; `rng` supplies libtorch's seed.
    pub fn new(
        spec: &ClassifierSpec,
        dim: usize,
        n_classes: usize,
        device: Device,
        rng: &mut ChaCha20Rng,
    ) -> Classifier {
        tch::manual_seed(crate::rng::torch_seed(rng));
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let mut net = nn::seq();
        let mut width = dim as i64;
        if let ModelSpec::Mlp { hidden } = &spec.model {
            for (i, &h) in hidden.iter().enumerate() {
                let h = h as i64;
                net = net
                    .add(nn::linear(
                        &root / format!("hidden{i}"),
                        width,
                        h,
                        Default::default(),
                    ))
                    .add_fn(|x| x.relu());
                width = h;
            }
        }
        net = net.add(nn::linear(
            &root / "head",
            width,
            n_classes as i64,
            Default::default(),
        ));
        Classifier {
            vs,
            net,
            spec: spec.clone(),
        }
    }

    /// Trains on rows `x` (n x dim, float) with labels `y` (n, int64) for the spec's epochs.
    pub fn fit(&mut self, x: &Tensor, y: &Tensor, rng: &mut ChaCha20Rng) {
        let n = x.size()[0] as usize;
        let batch = self.spec.batch_size.min(n).max(1);
        let mut opt = match self.spec.optimizer {
            OptimizerSpec::Adam { lr, weight_decay } => nn::Adam {
                wd: weight_decay,
                ..Default::default()
            }
            .build(&self.vs, lr),
            OptimizerSpec::Sgd {
                lr,
                momentum,
                weight_decay,
            } => nn::Sgd {
                momentum,
                wd: weight_decay,
                ..Default::default()
            }
            .build(&self.vs, lr),
        }
        .expect("optimiser over a fresh VarStore");
        let device = self.vs.device();
        let mut order: Vec<i64> = (0..n as i64).collect();
        for _ in 0..self.spec.epochs {
            order.shuffle(rng);
            for chunk in order.chunks(batch) {
                let idx = Tensor::from_slice(chunk).to_device(device);
                let logits = self.net.forward(&x.index_select(0, &idx));
                let loss = logits.cross_entropy_for_logits(&y.index_select(0, &idx));
                opt.backward_step(&loss);
            }
        }
    }

    /// Class probabilities (n x n_classes, f32 on the CPU) for rows `x`.
    pub fn predict_proba(&self, x: &Tensor) -> Tensor {
        tch::no_grad(|| {
            self.net
                .forward(x)
                .softmax(-1, Kind::Float)
                .to_device(Device::Cpu)
        })
    }

    /// Fraction of rows whose most probable class equals the label.
    pub fn accuracy(&self, x: &Tensor, y: &Tensor) -> f64 {
        let pred = self.predict_proba(x).argmax(-1, false);
        let correct = pred.eq_tensor(&y.to_device(Device::Cpu)).sum(Kind::Int64);
        i64::try_from(&correct).expect("scalar count") as f64 / y.size()[0] as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Retrain;

    fn spec(model: ModelSpec) -> ClassifierSpec {
        ClassifierSpec {
            model,
            optimizer: OptimizerSpec::Adam {
                lr: 0.05,
                weight_decay: 0.0,
            },
            epochs: 200,
            batch_size: 64,
            retrain: Retrain::FromScratch,
        }
    }

    #[test]
    fn learns_a_separable_problem_and_repeats_bit_for_bit() {
        // Two Gaussian-free, linearly separable blobs: class = sign of the first feature.
        let xs: Vec<f32> = (0..200)
            .flat_map(|i| {
                let s = if i % 2 == 0 { 1.0 } else { -1.0 };
                [s * (1.0 + (i % 7) as f32 / 7.0), (i % 5) as f32 / 5.0]
            })
            .collect();
        let ys: Vec<i64> = (0..200).map(|i| (i % 2 == 0) as i64).collect();
        let x = Tensor::from_slice(&xs).view([200, 2]);
        let y = Tensor::from_slice(&ys);
        for model in [
            ModelSpec::LogisticRegression,
            ModelSpec::Mlp { hidden: vec![8] },
        ] {
            let run = || {
                let mut rng = crate::rng::stream(0, "model-test");
                let mut c = Classifier::new(&spec(model.clone()), 2, 2, Device::Cpu, &mut rng);
                c.fit(&x, &y, &mut rng);
                (
                    c.accuracy(&x, &y),
                    Vec::<f32>::try_from(c.predict_proba(&x).view([-1])).unwrap(),
                )
            };
            let (acc, p1) = run();
            let (_, p2) = run();
            assert_eq!(acc, 1.0, "{model:?}");
            assert_eq!(p1, p2, "{model:?} is not deterministic");
        }
    }
}
