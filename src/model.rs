//! Classifiers in libtorch (tch): built from a [`ClassifierSpec`], fitted on the labelled set,
//! queried for class probabilities and for embeddings (the latent features distance-based
//! strategies use).
//!
//! Every model is a body (input -> embedding) and a linear head (embedding -> logits):
//! logistic regression's body is the identity (its embedding is the input), an MLP's is its hidden
//! layers, a CNN's or ResNet's is everything up to the global pooling. CPU and CUDA run the same
//! code. Weights are initialised from the job's ChaCha stream ([`init_weights`]), never from
//! libtorch's global generator, and mini-batch order comes from the same stream.
pub mod logreg;

use crate::spec::{ClassifierSpec, InputNorm, ModelSpec, OptimizerSpec, StepTraining};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha20Rng;
use std::path::Path;
use tch::nn::{self, ModuleT, OptimizerConfig};
use tch::{Device, Kind, Tensor};

/// Rows per forward pass at inference, to bound memory on large pools.
const INFERENCE_BATCH: usize = 512;

/// Input floats per forward pass of a convolutional model at inference: its activations are
/// channels x the image, and batches much larger than this leave the caches (measured on a small
/// CNN (8, 16 channels) at 64 x 64 x 3, 250 rows: 21 rows per pass took 21-42 ms, 512 rows per
/// pass 45-52 ms; per-row results do not depend on the batch, the golden tables did not change).
const CONV_INFERENCE_FLOATS: usize = 1 << 18;

/// A trainable classifier with its weights.
pub struct Classifier {
    vs: nn::VarStore,
    body: Box<dyn ModuleT>,
    head: nn::Linear,
    spec: ClassifierSpec,
    /// Shape of one input row: `[dim]` or `[channels, height, width]`.
    shape: Vec<i64>,
    /// Number of classes.
    n_classes: usize,
    /// Whether the weights have been fitted (an L-BFGS fit warm-starts from them then).
    fitted: bool,
    /// The optimiser of the last fit, kept so training can continue with its state.
    opt: Option<nn::Optimizer>,
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier")
            .field("model", &self.spec.model)
            .field("shape", &self.shape)
            .finish()
    }
}

/// Why a classifier could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The pretrained weights file does not fit the model.
    #[error("{path}: {message}")]
    Weights {
        /// Weights file.
        path: std::path::PathBuf,
        /// What did not fit.
        message: String,
    },
}

impl Classifier {
    /// Builds fresh weights for rows of `shape` and `n_classes` classes; `rng` supplies
    /// libtorch's seed; `weights` (safetensors) initialise a ResNet body when given.
    pub fn new(
        spec: &ClassifierSpec,
        shape: &[usize],
        n_classes: usize,
        device: Device,
        weights: Option<&Path>,
        rng: &mut ChaCha20Rng,
    ) -> Result<Classifier, ModelError> {
        let mut vs = nn::VarStore::new(device);
        let root = vs.root();
        let shape: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let flat: i64 = shape.iter().product();
        let channels = if spec.input == InputNorm::ImageNet {
            3
        } else {
            shape.first().copied().unwrap_or(1)
        };
        let (body, width): (Box<dyn ModuleT>, i64) = match &spec.model {
            ModelSpec::LogisticRegression => (Box::new(nn::func_t(|x, _| x.shallow_clone())), flat),
            ModelSpec::Mlp { hidden } => {
                let mut seq = nn::seq_t();
                let mut width = flat;
                for (i, &h) in hidden.iter().enumerate() {
                    let h = h as i64;
                    seq = seq
                        .add(nn::linear(
                            &root / format!("hidden{i}"),
                            width,
                            h,
                            Default::default(),
                        ))
                        .add_fn(|x| x.relu());
                    width = h;
                }
                (Box::new(seq), width)
            }
            ModelSpec::SmallCnn { channels: widths } => {
                let mut seq = nn::seq_t();
                let mut c_in = channels;
                let conv = nn::ConvConfig {
                    padding: 1,
                    ..Default::default()
                };
                for (i, &c) in widths.iter().enumerate() {
                    let c = c as i64;
                    seq = seq
                        .add(nn::conv2d(&root / format!("conv{i}"), c_in, c, 3, conv))
                        .add_fn(relu_max_pool_2x2);
                    c_in = c;
                }
                let seq = seq.add_fn(|x| x.adaptive_avg_pool2d([1, 1]).flatten(1, -1));
                (Box::new(seq), c_in)
            }
            ModelSpec::ResNet18 { .. } => (
                Box::new(tch::vision::resnet::resnet18_no_final_layer(&root)),
                512,
            ),
            ModelSpec::ResNet50 { .. } => (
                Box::new(tch::vision::resnet::resnet50_no_final_layer(&root)),
                2048,
            ),
        };
        // Named "head", not torchvision's "fc", so pretrained files never fill it.
        let head = nn::linear(&root / "head", width, n_classes as i64, Default::default());
        init_weights(&vs, rng);
        if let Some(path) = weights {
            load_body(&mut vs, path)?;
        }
        Ok(Classifier {
            vs,
            body,
            head,
            spec: spec.clone(),
            shape,
            n_classes,
            fitted: false,
            opt: None,
        })
    }

    /// Rows `x` (n x dim, float, flat) as the body expects them: reshaped and normalised.
    fn prepare(&self, x: &Tensor) -> Tensor {
        let n = x.size()[0];
        let x = if self.shape.len() == 3
            && !matches!(
                self.spec.model,
                ModelSpec::LogisticRegression | ModelSpec::Mlp { .. }
            ) {
            let mut dims = vec![n];
            dims.extend_from_slice(&self.shape);
            x.view(dims.as_slice())
        } else {
            x.shallow_clone()
        };
        match self.spec.input {
            InputNorm::Identity => x,
            InputNorm::ImageNet => {
                let x = if x.dim() == 4 && x.size()[1] == 1 {
                    x.repeat([1, 3, 1, 1])
                } else {
                    x
                };
                let opts = (Kind::Float, x.device());
                let mean = Tensor::from_slice(&[0.485f32, 0.456, 0.406])
                    .to_device(opts.1)
                    .view([1, 3, 1, 1]);
                let std = Tensor::from_slice(&[0.229f32, 0.224, 0.225])
                    .to_device(opts.1)
                    .view([1, 3, 1, 1]);
                (x - mean) / std
            }
        }
    }

    fn logits(&self, x: &Tensor, train: bool) -> Tensor {
        self.body
            .forward_t(&self.prepare(x), train)
            .apply(&self.head)
    }

    /// Trains on rows `x` (n x dim, float) with labels `y` (n, int64) for the spec's epochs, with
    /// a fresh optimiser; an L-BFGS logistic regression is solved instead (from zero on fresh
    /// weights, else warm-started from the current ones).
    pub fn fit(&mut self, x: &Tensor, y: &Tensor, rng: &mut ChaCha20Rng) {
        if let OptimizerSpec::Lbfgs { .. } = self.spec.optimizer {
            self.solve(x, y);
            return;
        }
        self.opt = Some(self.optimizer());
        // One order, reshuffled every epoch (each shuffle permutes the previous epoch's order).
        let mut order: Vec<i64> = (0..x.size()[0]).collect();
        for _ in 0..self.spec.epochs {
            self.epoch(x, y, &mut order, rng);
        }
        self.fitted = true;
    }

    /// Trains a little more on `x`, `y`, keeping weights and optimiser state: one epoch or one
    /// mini-batch gradient step (an L-BFGS model is re-solved from its current weights).
    /// [`StepTraining::Setup`] is [`Classifier::fit`].
    pub fn train_more(&mut self, x: &Tensor, y: &Tensor, how: StepTraining, rng: &mut ChaCha20Rng) {
        if how == StepTraining::Setup || matches!(self.spec.optimizer, OptimizerSpec::Lbfgs { .. })
        {
            return self.fit(x, y, rng);
        }
        if self.opt.is_none() {
            self.opt = Some(self.optimizer());
        }
        match how {
            StepTraining::OneEpoch => {
                let mut order: Vec<i64> = (0..x.size()[0]).collect();
                self.epoch(x, y, &mut order, rng)
            }
            _ => {
                let n = x.size()[0] as usize;
                let batch = self.spec.batch_size.min(n).max(1);
                let rows: Vec<i64> = rand::seq::index::sample(rng, n, batch)
                    .into_iter()
                    .map(|i| i as i64)
                    .collect();
                self.gradient_step(x, y, &rows);
            }
        }
        self.fitted = true;
    }

    fn optimizer(&self) -> nn::Optimizer {
        match self.spec.optimizer {
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
            OptimizerSpec::Lbfgs { .. } => unreachable!("L-BFGS is solved, not stepped"),
        }
        .expect("optimiser over a fresh VarStore")
    }

    /// One pass over the rows in mini-batches, after shuffling `order` (the rows' order so far).
    fn epoch(&mut self, x: &Tensor, y: &Tensor, order: &mut [i64], rng: &mut ChaCha20Rng) {
        let n = x.size()[0] as usize;
        let batch = self.spec.batch_size.min(n).max(1);
        order.shuffle(rng);
        for chunk in order.chunks(batch) {
            // Batch norm cannot train on a single row; skip such a remainder.
            if chunk.len() < 2 && self.has_batch_norm() {
                continue;
            }
            self.gradient_step(x, y, chunk);
        }
    }

    fn gradient_step(&mut self, x: &Tensor, y: &Tensor, rows: &[i64]) {
        let idx = Tensor::from_slice(rows).to_device(self.vs.device());
        let logits = self.logits(&x.index_select(0, &idx), true);
        let loss = logits.cross_entropy_for_logits(&y.index_select(0, &idx));
        self.opt
            .as_mut()
            .expect("optimiser built")
            .backward_step(&loss);
    }

    /// Solves the L-BFGS logistic regression and writes the answer into the head.
    fn solve(&mut self, x: &Tensor, y: &Tensor) {
        let OptimizerSpec::Lbfgs { c, tol, max_iter } = self.spec.optimizer else {
            unreachable!("only called for Lbfgs");
        };
        let x = self.prepare(x).flatten(1, -1);
        let start = self.fitted.then(|| {
            (
                self.head.ws.shallow_clone(),
                self.head.bs.as_ref().expect("bias").shallow_clone(),
            )
        });
        let fitted = logreg::fit(
            &x,
            y,
            self.n_classes,
            logreg::Settings { c, tol, max_iter },
            start.as_ref().map(|(w, b)| (w, b)),
        );
        tch::no_grad(|| {
            self.head.ws.copy_(&fitted.weight);
            if let Some(b) = self.head.bs.as_mut() {
                b.copy_(&fitted.bias);
            }
        });
        self.fitted = true;
    }

    fn has_batch_norm(&self) -> bool {
        matches!(
            self.spec.model,
            ModelSpec::ResNet18 { .. } | ModelSpec::ResNet50 { .. }
        )
    }

    fn batched(&self, x: &Tensor, f: impl Fn(&Tensor) -> Tensor) -> Tensor {
        let rows = match self.spec.model {
            ModelSpec::LogisticRegression | ModelSpec::Mlp { .. } => INFERENCE_BATCH,
            _ => {
                let floats = self.shape.iter().product::<i64>().max(1) as usize;
                (CONV_INFERENCE_FLOATS / floats).clamp(16, INFERENCE_BATCH)
            }
        };
        tch::no_grad(|| {
            let n = x.size()[0];
            let parts: Vec<Tensor> = (0..n)
                .step_by(rows)
                .map(|start| f(&x.narrow(0, start, (rows as i64).min(n - start))))
                .collect();
            Tensor::cat(&parts, 0)
        })
    }

    /// Class probabilities (n x n_classes, f32, on the model's device) for rows `x`.
    pub fn predict_proba(&self, x: &Tensor) -> Tensor {
        self.batched(x, |b| self.logits(b, false).softmax(-1, Kind::Float))
    }

    /// Embeddings (n x width, f32, on the model's device): the head's input.
    pub fn embed(&self, x: &Tensor) -> Tensor {
        self.batched(x, |b| {
            self.body
                .forward_t(&self.prepare(b), false)
                .to_kind(Kind::Float)
        })
    }

    /// The most probable class of each row of `x` (ties: the lowest class, as argmax).
    pub fn predict(&self, x: &Tensor) -> Vec<i64> {
        let pred = self
            .predict_proba(x)
            .argmax(-1, false)
            .to_device(Device::Cpu);
        Vec::<i64>::try_from(&pred).expect("int64 classes")
    }

    /// Fraction of rows whose most probable class equals the label.
    pub fn accuracy(&self, x: &Tensor, y: &Tensor) -> f64 {
        let pred = self.predict_proba(x).argmax(-1, false);
        let correct = pred.eq_tensor(y).sum(Kind::Int64).to_device(Device::Cpu);
        i64::try_from(&correct).expect("scalar count") as f64 / y.size()[0] as f64
    }
}

unsafe extern "C" {
    fn ralbench_relu_max_pool_2x2(x: *const torch_sys::C_tensor) -> *mut torch_sys::C_tensor;
    fn ralbench_pool_error() -> *const std::ffi::c_char;
}

/// `x.relu().max_pool2d_default(2)` (2 x 2 windows, stride 2) with the same values and the same
/// gradients, bit for bit, in one pass forward and one backward on CPU (`csrc/pool.cpp`):
/// libtorch's ops make five full-size passes over the activations (ReLU, pooling, and in backward
/// a zero fill, a scatter and the ReLU's threshold), and its kernel for NCHW tensors visits one
/// window element at a time. Other devices and kinds take libtorch's ops.
pub fn relu_max_pool_2x2(x: &Tensor) -> Tensor {
    if x.dim() != 4 || x.device() != Device::Cpu || x.kind() != Kind::Float {
        return x.relu().max_pool2d_default(2);
    }
    let x = x.contiguous();
    // SAFETY: `x` is a live tensor for the whole call; the shim returns a new tensor that the
    // caller owns (freed by tch's Drop), or null with a message.
    let out = unsafe { ralbench_relu_max_pool_2x2(x.as_ptr()) };
    if out.is_null() {
        // SAFETY: a NUL-terminated string owned by this thread's shim state.
        let why = unsafe { std::ffi::CStr::from_ptr(ralbench_pool_error()) };
        panic!("fused ReLU + max-pool failed: {}", why.to_string_lossy());
    }
    // SAFETY: `out` is a valid, uniquely owned tensor pointer.
    unsafe { Tensor::from_ptr(out) }
}

/// Re-initialises every weight matrix or kernel (and its bias) of `vs` from `rng`, with libtorch's
/// default for linear and conv layers: U(-1/sqrt(fan_in), 1/sqrt(fan_in)). Variables are visited
/// in name order; 1-D weights (batch norm) and buffers keep their constant initial values. Drawing
/// from the job's stream rather than libtorch's global generator keeps results independent of
/// anything else running in the process.
pub fn init_weights(vs: &nn::VarStore, rng: &mut ChaCha20Rng) {
    use rand::Rng;
    let vars: std::collections::BTreeMap<String, Tensor> = vs.variables().into_iter().collect();
    let fan_in = |w: &Tensor| w.size()[1..].iter().product::<i64>().max(1) as f64;
    tch::no_grad(|| {
        for (name, var) in &vars {
            let bound = if let Some(stem) = name.strip_suffix(".bias") {
                match vars.get(&format!("{stem}.weight")) {
                    Some(w) if w.dim() >= 2 => 1.0 / fan_in(w).sqrt(),
                    _ => continue,
                }
            } else if var.dim() >= 2 {
                1.0 / fan_in(var).sqrt()
            } else {
                continue;
            };
            let values: Vec<f32> = (0..var.numel())
                .map(|_| rng.random_range(-bound..bound) as f32)
                .collect();
            let mut v = var.shallow_clone();
            v.copy_(
                &Tensor::from_slice(&values)
                    .view(var.size().as_slice())
                    .to_device(var.device()),
            );
        }
    });
}

/// Loads every body parameter from a safetensors file; the head stays as initialised.
fn load_body(vs: &mut nn::VarStore, path: &Path) -> Result<(), ModelError> {
    let err = |message: String| ModelError::Weights {
        path: path.to_owned(),
        message,
    };
    let missing = vs.load_partial(path).map_err(|e| err(e.to_string()))?;
    let missing: Vec<String> = missing
        .into_iter()
        .filter(|n| !n.starts_with("head."))
        .collect();
    if !missing.is_empty() {
        return Err(err(format!(
            "lacks {} parameters of the model (e.g. {}); is it a torchvision-named ResNet of the same depth?",
            missing.len(),
            missing[0]
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Retrain;

    fn spec(model: ModelSpec, epochs: usize) -> ClassifierSpec {
        ClassifierSpec {
            model,
            optimizer: OptimizerSpec::Adam {
                lr: 0.05,
                weight_decay: 0.0,
            },
            epochs,
            batch_size: 64,
            retrain: Retrain::FromScratch,
            input: InputNorm::Identity,
        }
    }

    #[test]
    fn learns_a_separable_problem_and_repeats_bit_for_bit() {
        // Linearly separable: class = sign of the first feature.
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
                let mut c = Classifier::new(
                    &spec(model.clone(), 200),
                    &[2],
                    2,
                    Device::Cpu,
                    None,
                    &mut rng,
                )
                .unwrap();
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

    #[test]
    fn fused_relu_max_pool_matches_libtorch_in_values_and_gradients() {
        let mut rng = crate::rng::stream(0, "pool-test");
        for shape in [
            [4i64, 8, 64, 64],
            [3, 5, 67, 65],
            [2, 3, 9, 11],
            [1, 2, 2, 3],
        ] {
            let n: i64 = shape.iter().product();
            let values: Vec<f32> = (0..n)
                .map(|_| {
                    // Many exact ties (zeros, -0, repeated positive and negative values), NaNs
                    // and infinities.
                    let v: f32 = rand::Rng::random_range(&mut rng, -3.0..3.0);
                    match v {
                        v if v > 2.9 => f32::NAN,
                        v if v > 2.8 => f32::INFINITY,
                        v if v < -2.9 => f32::NEG_INFINITY,
                        v if v < -2.5 => -0.0,
                        v => (v * 4.0).round() / 4.0,
                    }
                })
                .collect();
            let x = Tensor::from_slice(&values).view(shape);
            let grad: Vec<f32> = (0..n / 4)
                .map(|i| match i % 15 {
                    13 => -0.0,
                    14 => f32::NAN,
                    k => k as f32 - 6.0,
                })
                .collect();
            let grad = Tensor::from_slice(&grad);
            let run = |fused: bool| {
                let x = x.copy().set_requires_grad(true);
                let y = if fused {
                    relu_max_pool_2x2(&x)
                } else {
                    x.relu().max_pool2d_default(2)
                };
                let g = grad
                    .narrow(0, 0, y.numel() as i64)
                    .view(y.size().as_slice());
                // d(sum(y * g))/dy = 1 * g: g bit for bit, -0 and NaN included.
                (&y * g).sum(Kind::Float).backward();
                let bits = |t: &Tensor| {
                    Vec::<f32>::try_from(t.contiguous().view([-1]))
                        .unwrap()
                        .iter()
                        .map(|v| v.to_bits())
                        .collect::<Vec<_>>()
                };
                (bits(&y.detach()), bits(&x.grad()), y.size())
            };
            let (fused, plain) = (run(true), run(false));
            assert_eq!(fused.2, plain.2, "{shape:?}");
            assert_eq!(fused.0, plain.0, "values differ, {shape:?}");
            assert_eq!(fused.1, plain.1, "gradients differ, {shape:?}");
            let inference = tch::no_grad(|| relu_max_pool_2x2(&x));
            assert!(!inference.requires_grad());
            assert_eq!(inference.size(), plain.2);
        }
    }

    #[test]
    fn embeddings_have_the_documented_widths() {
        let mut rng = crate::rng::stream(0, "embed");
        let x = Tensor::rand([5, 3 * 32 * 32], (Kind::Float, Device::Cpu));
        let cases = [
            (ModelSpec::LogisticRegression, 3 * 32 * 32),
            (
                ModelSpec::Mlp {
                    hidden: vec![16, 8],
                },
                8,
            ),
            (
                ModelSpec::SmallCnn {
                    channels: vec![4, 6],
                },
                6,
            ),
            (ModelSpec::ResNet18 { pretrained: None }, 512),
        ];
        for (model, width) in cases {
            let c = Classifier::new(
                &spec(model.clone(), 1),
                &[3, 32, 32],
                4,
                Device::Cpu,
                None,
                &mut rng,
            )
            .unwrap();
            assert_eq!(c.embed(&x).size(), vec![5, width], "{model:?}");
            let p = c.predict_proba(&x);
            assert_eq!(p.size(), vec![5, 4]);
            let sums = Vec::<f32>::try_from(p.sum_dim_intlist(1, false, Kind::Float)).unwrap();
            assert!(
                sums.iter().all(|s| (s - 1.0).abs() < 1e-5),
                "{model:?}: {sums:?}"
            );
        }
    }

    #[test]
    fn pretrained_weights_fill_the_body_and_a_mismatch_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r18.safetensors");
        let mut rng = crate::rng::stream(0, "weights");
        let s = spec(ModelSpec::ResNet18 { pretrained: None }, 1);
        let a = Classifier::new(&s, &[3, 32, 32], 2, Device::Cpu, None, &mut rng).unwrap();
        a.vs.save(&path).unwrap();
        let b = Classifier::new(&s, &[3, 32, 32], 2, Device::Cpu, Some(&path), &mut rng).unwrap();
        let x = Tensor::rand([2, 3 * 32 * 32], (Kind::Float, Device::Cpu));
        assert_eq!(
            (a.embed(&x) - b.embed(&x)).abs().max().double_value(&[]),
            0.0
        );
        let s50 = spec(ModelSpec::ResNet50 { pretrained: None }, 1);
        let e =
            Classifier::new(&s50, &[3, 32, 32], 2, Device::Cpu, Some(&path), &mut rng).unwrap_err();
        assert!(
            e.to_string().starts_with(&path.display().to_string()),
            "{e}"
        );
    }
}
