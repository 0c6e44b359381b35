//! What a spec will cost before it runs (`bench check SPEC --estimate`): the work of every job
//! counted from the spec alone (classifier gradient steps and L-BFGS solves, classifier forward
//! rows over pool, D_s, D_R and test, distance pairs, Q-network rows), each kind of work timed
//! once on this machine on random tensors of the dataset's shape, and the two multiplied.
//!
//! Nothing is loaded: dataset sizes and shapes come from [`crate::spec::DatasetSpec::shape`], so a paper-scale
//! spec estimates on a machine that has none of its data. What is not counted (noise transforms,
//! data loading, reports) is small next to the classifier on every spec measured; early stopping
//! is taken as never firing and an L-BFGS solve as running to its `max_iter`, so those parts
//! are upper bounds.
use crate::model::Classifier;
use crate::rl::qnet::{Arch, QNet};
use crate::spec::{ClassifierSpec, ModelSpec, OptimizerSpec, Spec, StepTraining, StrategySpec};
use std::collections::BTreeMap;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

use super::Job;

/// Counted work of one job (or of many, summed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Work {
    /// Optimiser steps, each on at most one batch of rows.
    pub grad_steps: f64,
    /// L-BFGS solves, with the labelled rows of each summed (`solve_rows`).
    pub solves: f64,
    /// Rows of all L-BFGS solves together.
    pub solve_rows: f64,
    /// Rows through the classifier at inference (probabilities or embeddings).
    pub forward_rows: f64,
    /// Candidate x reference pairs whose embedding distance is computed.
    pub distance_pairs: f64,
    /// Rows through DRAL's Q-network (an MLP; forward, an update counts its rows three times).
    pub q_rows: f64,
    /// Rows through LAL-RL's small Q-network.
    pub small_q_rows: f64,
    /// Classifiers built (fresh weights, optimiser) and fitted from scratch.
    pub builds: f64,
}

impl Work {
    fn add(&mut self, o: &Work) {
        self.grad_steps += o.grad_steps;
        self.solves += o.solves;
        self.solve_rows += o.solve_rows;
        self.forward_rows += o.forward_rows;
        self.distance_pairs += o.distance_pairs;
        self.q_rows += o.q_rows;
        self.small_q_rows += o.small_q_rows;
        self.builds += o.builds;
    }

    fn scaled(&self, k: f64) -> Work {
        Work {
            grad_steps: self.grad_steps * k,
            solves: self.solves * k,
            solve_rows: self.solve_rows * k,
            forward_rows: self.forward_rows * k,
            distance_pairs: self.distance_pairs * k,
            q_rows: self.q_rows * k,
            small_q_rows: self.small_q_rows * k,
            builds: self.builds * k,
        }
    }
}

/// Seconds per unit of each kind of work, for one setup on this machine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Costs {
    /// One optimiser step on a full batch.
    pub grad_step: f64,
    /// One L-BFGS solve run to its `max_iter`: fixed part and per labelled row.
    pub solve: (f64, f64),
    /// One row through the classifier at inference.
    pub forward_row: f64,
    /// One embedding distance.
    pub distance_pair: f64,
    /// One row through DRAL's Q-network (the paper's 3 x 128 MLP).
    pub q_row: f64,
    /// One row through LAL-RL's Q-network.
    pub small_q_row: f64,
    /// Building one classifier.
    pub build: f64,
}

impl Costs {
    /// Seconds for `w`.
    pub fn seconds(&self, w: &Work) -> f64 {
        w.grad_steps * self.grad_step
            + w.solves * self.solve.0
            + w.solve_rows * self.solve.1
            + w.forward_rows * self.forward_row
            + w.distance_pairs * self.distance_pair
            + w.q_rows * self.q_row
            + w.small_q_rows * self.small_q_row
            + w.builds * self.build
    }
}

/// Rows in each part of the split of `rows` rows (stratification moves a few rows).
struct Parts {
    pool: f64,
    holdout: f64,
    state: f64,
    test: f64,
}

fn parts(spec: &Spec, rows: usize) -> Parts {
    let r = rows as f64;
    let s = spec.split;
    Parts {
        holdout: (r * s.holdout).round(),
        state: (r * s.state).round(),
        test: (r * s.test).round(),
        pool: (r * (1.0 - s.holdout - s.state - s.test)).round(),
    }
}

/// The work of fitting a classifier on `n` labelled rows by the setup's protocol.
fn full_fit(c: &ClassifierSpec, n: usize) -> Work {
    match c.optimizer {
        OptimizerSpec::Lbfgs { .. } => Work {
            solves: 1.0,
            solve_rows: n as f64,
            builds: 1.0,
            ..Work::default()
        },
        _ => Work {
            grad_steps: (c.epochs * n.div_ceil(c.batch_size.max(1))) as f64,
            builds: 1.0,
            ..Work::default()
        },
    }
}

fn step_fit(c: &ClassifierSpec, rule: StepTraining, n: usize) -> Work {
    match (rule, c.optimizer) {
        (StepTraining::Setup, _) | (_, OptimizerSpec::Lbfgs { .. }) => full_fit(c, n),
        (StepTraining::OneEpoch, _) => Work {
            grad_steps: n.div_ceil(c.batch_size.max(1)) as f64,
            ..Work::default()
        },
        (StepTraining::OneGradientStep, _) => Work {
            grad_steps: 1.0,
            ..Work::default()
        },
    }
}

/// What a learned strategy does per step and in training, read from its spec.
struct LearnedShape {
    classifier: ClassifierSpec,
    episodes: usize,
    updates: usize,
    batch: usize,
    episode_pool: Option<usize>,
    state_rows: Option<usize>,
    step_training: StepTraining,
    eval_training: StepTraining,
    /// LAL-RL's small Q-network rather than DRAL's MLP.
    small_q: bool,
}

fn learned_shape(job: &Job) -> Option<LearnedShape> {
    match &job.strategy {
        StrategySpec::Dral(d) => Some(LearnedShape {
            classifier: job.classifier.clone(),
            episodes: d.warm_start + d.iterations * d.episodes_per_iteration,
            updates: d.warm_start_updates + d.iterations * d.updates_per_iteration,
            batch: d.batch_size,
            episode_pool: d.candidates,
            state_rows: None,
            step_training: d.step_training,
            eval_training: d.eval_training,
            small_q: false,
        }),
        StrategySpec::LalRl(l) => Some(LearnedShape {
            classifier: ClassifierSpec {
                model: crate::spec::ModelSpec::LogisticRegression,
                optimizer: l.optimizer,
                ..job.classifier.clone()
            },
            episodes: l.warm_start + l.iterations * l.episodes_per_iteration,
            updates: l.warm_start_updates + l.iterations * l.updates_per_iteration,
            batch: l.batch_size,
            episode_pool: l.candidates,
            state_rows: Some(l.state_points),
            step_training: StepTraining::Setup,
            eval_training: StepTraining::Setup,
            small_q: true,
        }),
        _ => None,
    }
}

/// The counted work of one job of `spec`, and the classifier it is done with.
pub fn job_work(spec: &Spec, job: &Job) -> (Work, ClassifierSpec) {
    let (rows, _, _) = job.dataset.shape();
    let p = parts(spec, rows);
    let schedule = spec.label_schedule_with(job.labels_per_step);
    let last = schedule.len() - 1;
    let learned = learned_shape(job);
    let classifier = learned
        .as_ref()
        .map_or(job.classifier.clone(), |l| l.classifier.clone());
    // One episode: fits by `rule`, `scored` rows per step for the classifier's outputs, plus what
    // a learned strategy adds, and `eval_rows` of evaluation per round.
    let episode = |rule: StepTraining, eval_rows: f64| -> Work {
        let mut w = Work::default();
        for (t, &n) in schedule.iter().enumerate() {
            w.add(&if t == 0 {
                full_fit(&classifier, n)
            } else {
                step_fit(&classifier, rule, n)
            });
            w.forward_rows += eval_rows;
            if t == last {
                continue;
            }
            let unlabelled = (p.pool - n as f64).max(0.0);
            match (&job.strategy, &learned) {
                (StrategySpec::Random, _) => {}
                (StrategySpec::KCenterGreedy, _) => {
                    w.forward_rows += unlabelled + n as f64;
                    w.distance_pairs += unlabelled * (n + job.labels_per_step) as f64;
                }
                (_, Some(l)) => {
                    let pool = l.episode_pool.map_or(p.pool, |c| c as f64);
                    let cand = (pool - n as f64).max(0.0);
                    let state = l.state_rows.map_or(p.state, |s| s as f64);
                    w.forward_rows += pool + n as f64 + state;
                    w.distance_pairs += cand * pool;
                    if l.small_q {
                        w.small_q_rows += cand;
                    } else {
                        w.q_rows += cand;
                    }
                }
                _ => w.forward_rows += unlabelled,
            }
        }
        w
    };
    let work = match &learned {
        None => episode(StepTraining::Setup, p.test),
        Some(l) => {
            let mut w = episode(l.eval_training, p.test);
            w.add(&episode(l.step_training, p.holdout).scaled(l.episodes as f64));
            // Each update: online and target over the next candidates of each transition of
            // a batch (none after the last step; transitions are spread over the steps), and
            // the batch's own rows forward and backward.
            let pool = l.episode_pool.map_or(p.pool, |c| c as f64);
            let next = schedule[1..]
                .iter()
                .enumerate()
                .map(|(t, &n)| {
                    if t + 1 == last {
                        0.0
                    } else {
                        (pool - n as f64).max(0.0)
                    }
                })
                .sum::<f64>()
                / last.max(1) as f64;
            let rows = (l.updates * l.batch) as f64 * (2.0 * next + 3.0);
            if l.small_q {
                w.small_q_rows += rows;
            } else {
                w.q_rows += rows;
            }
            w
        }
    };
    (work, classifier)
}

/// Times each kind of work once for `classifier` on rows of `shape` with `classes` classes
/// (random inputs, one thread as set by the caller), in well under a second per kind.
pub fn calibrate(classifier: &ClassifierSpec, shape: &[usize], classes: usize) -> Costs {
    let mut rng = crate::rng::stream(0, "estimate-calibration");
    // The calibration's random inputs: the same every time (libtorch's generator, seeded here).
    tch::manual_seed(0);
    let dim: i64 = shape.iter().product::<usize>() as i64;
    let opts = (Kind::Float, Device::Cpu);
    // The median of 5 timings: one timing of a few milliseconds is at the mercy of the machine.
    let timed = |f: &mut dyn FnMut()| {
        let mut t: Vec<f64> = (0..5)
            .map(|_| {
                let started = Instant::now();
                f();
                started.elapsed().as_secs_f64()
            })
            .collect();
        t.sort_by(f64::total_cmp);
        t[2]
    };
    let fresh = |rng: &mut _| {
        Classifier::new(classifier, shape, classes, Device::Cpu, None, rng).expect("no weights")
    };
    let batch = classifier.batch_size.max(1) as i64;
    let x = Tensor::rand([batch, dim], opts);
    let y = Tensor::from_slice(&(0..batch).map(|i| i % classes as i64).collect::<Vec<_>>());
    // Gradient steps: 4 epochs on one batch, after one untimed epoch of warm-up.
    let mut one_step = classifier.clone();
    one_step.optimizer = match classifier.optimizer {
        OptimizerSpec::Lbfgs { .. } => OptimizerSpec::Adam {
            lr: 0.01,
            weight_decay: 0.0,
        },
        o => o,
    };
    one_step.epochs = 1;
    let mut c = Classifier::new(&one_step, shape, classes, Device::Cpu, None, &mut rng)
        .expect("no weights");
    c.fit(&x, &y, &mut rng);
    one_step.epochs = 4;
    let mut c4 = Classifier::new(&one_step, shape, classes, Device::Cpu, None, &mut rng)
        .expect("no weights");
    let grad_step = timed(&mut || c4.fit(&x, &y, &mut rng)) / 4.0;
    // Inference: 256 rows.
    let rows = Tensor::rand([256, dim], opts);
    let _ = c.predict_proba(&rows);
    let forward_row = timed(&mut || {
        let _ = c.predict_proba(&rows);
    }) / 256.0;
    // L-BFGS (only for logistic regression): every solve is priced at `max_iter` iterations
    // (tol 0: it never stops early), an upper bound, since random inputs converge in fewer
    // iterations than real ones; timed at 20 and 200 rows shaped like real inputs (standardised
    // features driven by a few latent factors, as pixels are) with a noisy linear teacher's labels.
    let solve = if let OptimizerSpec::Lbfgs { c, max_iter, .. } = classifier.optimizer {
        let factors = 8.min(dim);
        let mixing = Tensor::randn([factors, dim], opts);
        let teacher = Tensor::randn([factors, classes as i64], opts);
        let mut solver = classifier.clone();
        solver.optimizer = OptimizerSpec::Lbfgs {
            c,
            tol: 0.0,
            max_iter,
        };
        let fresh_solver = |r: &mut _| {
            Classifier::new(&solver, shape, classes, Device::Cpu, None, r).expect("no weights")
        };
        let at = |n: i64| {
            let z = Tensor::randn([n, factors], opts);
            let x = z.matmul(&mixing) + Tensor::randn([n, dim], opts) * 0.1;
            let x = (&x - x.mean_dim(0, true, Kind::Float)) / (x.std_dim(0, true, true) + 1e-6);
            let y =
                (z.matmul(&teacher) + Tensor::randn([n, classes as i64], opts)).argmax(1, false);
            // A fresh classifier each time: a refit would warm-start from the solution.
            timed(&mut || {
                let mut r = crate::rng::stream(0, "solve");
                let mut c = fresh_solver(&mut r);
                c.fit(&x, &y, &mut r)
            })
        };
        let _ = at(20);
        let (a, b) = (at(20), at(200));
        let per_row = ((b - a) / 180.0).max(0.0);
        ((a - 20.0 * per_row).max(0.0), per_row)
    } else {
        (0.0, 0.0)
    };
    // Distances: 256 x 1024 in a 64-wide embedding.
    let (a, b) = (
        Tensor::rand([256, 64], opts),
        Tensor::rand([1024, 64], opts),
    );
    let _ = Tensor::cdist(&a, &b, 2.0, None::<i64>);
    let distance_pair = timed(&mut || {
        let _ = Tensor::cdist(&a, &b, 2.0, None::<i64>);
    }) / (256.0 * 1024.0);
    // Q-network: the paper's 3 x 128 MLP on 4096 rows of 100 state + 3 action features.
    let q = QNet::new(&Arch::Mlp(vec![128; 3]), 100, 3, Device::Cpu, &mut rng);
    let (s, act) = (
        Tensor::rand([4096, 100], opts),
        Tensor::rand([4096, 3], opts),
    );
    let _ = tch::no_grad(|| q.q(&s, &act));
    let q_row = timed(&mut || {
        let _ = tch::no_grad(|| q.q(&s, &act));
    }) / 4096.0;
    let small = QNet::new(&Arch::LalRl, 30, 3, Device::Cpu, &mut rng);
    let small_s = Tensor::rand([4096, 30], opts);
    let small_q_row = timed(&mut || {
        let _ = tch::no_grad(|| small.q(&small_s, &act));
    }) / 4096.0;
    let build = {
        let _ = fresh(&mut rng);
        timed(&mut || {
            for _ in 0..10 {
                let _ = fresh(&mut rng);
            }
        }) / 10.0
    };
    Costs {
        build,
        grad_step,
        solve,
        forward_row,
        distance_pair,
        q_row,
        small_q_row,
    }
}

/// An estimate of a whole spec.
#[derive(Debug, Clone)]
pub struct Estimate {
    /// Per setup (dataset name): the summed work of its jobs, and its seconds here.
    pub setups: Vec<(String, Work, f64)>,
    /// Seconds of all jobs one after another.
    pub serial_s: f64,
    /// The longest job's seconds.
    pub longest_s: f64,
    /// Jobs.
    pub jobs: usize,
    /// Seconds per unit of work measured here, per dataset and classifier.
    pub costs: Vec<(String, Costs)>,
}

impl Estimate {
    /// Wall seconds with `workers` jobs at once: the serial time shared out, never below the
    /// longest job.
    pub fn wall_s(&self, workers: usize) -> f64 {
        (self.serial_s / workers.clamp(1, self.jobs.max(1)) as f64).max(self.longest_s)
    }
}

/// Counts and prices every job of `spec` (calibrating once per distinct classifier and dataset).
pub fn estimate(spec: &Spec) -> Estimate {
    let jobs = Job::expand(spec);
    let mut costs: BTreeMap<String, Costs> = BTreeMap::new();
    let mut named: Vec<(String, Costs)> = Vec::new();
    let mut setups: Vec<(String, Work, f64)> = Vec::new();
    let (mut serial_s, mut longest_s) = (0.0, 0.0f64);
    for job in &jobs {
        let (work, classifier) = job_work(spec, job);
        let (_, shape, classes) = job.dataset.shape();
        let key = format!("{:?}/{:?}", job.dataset, classifier);
        let c = *costs.entry(key).or_insert_with(|| {
            let c = calibrate(&classifier, &shape, classes);
            named.push((
                format!("{} with {:?}", job.dataset.name(), classifier.model),
                c,
            ));
            c
        });
        let s = c.seconds(&work);
        serial_s += s;
        longest_s = longest_s.max(s);
        let name = job.dataset.name();
        match setups.iter_mut().find(|(n, _, _)| *n == name) {
            Some((_, w, t)) => {
                w.add(&work);
                *t += s;
            }
            None => setups.push((name, work, s)),
        }
    }
    Estimate {
        setups,
        serial_s,
        longest_s,
        jobs: jobs.len(),
        costs: named,
    }
}

/// The estimate as text: per setup the counts and seconds, then the wall time for `workers`.
pub fn render(spec: &Spec, e: &Estimate, workers: usize) -> String {
    let mut out = format!(
        "{}: estimated from the spec's counts and this machine's speed of each kind of work\n\n",
        spec.name
    );
    out += "| dataset | gradient steps | L-BFGS solves (rows) | classifier rows | distances | Q-network rows (DRAL / LAL-RL) | seconds, one job at a time |\n";
    out += "| --- | --- | --- | --- | --- | --- | --- |\n";
    for (name, w, s) in &e.setups {
        out += &format!(
            "| {name} | {:.3e} | {:.3e} ({:.3e}) | {:.3e} | {:.3e} | {:.3e} / {:.3e} | {s:.1} |\n",
            w.grad_steps,
            w.solves,
            w.solve_rows,
            w.forward_rows,
            w.distance_pairs,
            w.q_rows,
            w.small_q_rows
        );
    }
    let hours = |s: f64| {
        if s >= 3600.0 {
            format!("{:.1} h", s / 3600.0)
        } else {
            format!("{s:.1} s")
        }
    };
    out += &format!(
        "\n{} jobs: {} one at a time; with --jobs {workers}: {} (the longest job alone: {}).\n",
        e.jobs,
        hours(e.serial_s),
        hours(e.wall_s(workers)),
        hours(e.longest_s)
    );
    out += "\nMeasured here, seconds per unit: gradient step, L-BFGS solve (fixed + per row), classifier row, distance, Q-network row (DRAL / LAL-RL), classifier build:\n";
    for (name, c) in &e.costs {
        out += &format!(
            "  {name}: {:.2e}, {:.2e} + {:.2e}, {:.2e}, {:.2e}, {:.2e} / {:.2e}, {:.2e}\n",
            c.grad_step,
            c.solve.0,
            c.solve.1,
            c.forward_row,
            c.distance_pair,
            c.q_row,
            c.small_q_row,
            c.build
        );
    }
    out += "Counts scale to another device: multiply them by that device's seconds per unit. \
            Early stopping is assumed never to fire (learned strategies: an upper bound).\n";
    out
}

/// Bytes per float.
const F32: f64 = 4.0;

/// A rough upper estimate of a run's peak memory in bytes with `workers` jobs at once: every
/// dataset as decoded bytes, as f32 features and as the shared f32 tensor; per running job its
/// inputs (a noisy or standardised copy of the features), the classifier's weights with their
/// gradients and Adam moments, and the activations of one training batch.
pub fn peak_memory(spec: &Spec, workers: usize) -> f64 {
    let mut data = 0.0;
    let mut per_job: f64 = 0.0;
    for setup in &spec.setups {
        let (rows, shape, classes) = setup.dataset.shape();
        let dim: f64 = shape.iter().product::<usize>() as f64;
        let values = rows as f64 * dim;
        data += values * (1.0 + 2.0 * F32);
        let c = &setup.classifier;
        let (params, activation_factor) = match &c.model {
            ModelSpec::LogisticRegression => ((dim + 1.0) * classes as f64, 1.0),
            ModelSpec::Mlp { hidden } => {
                let mut width = dim;
                let mut p = 0.0;
                for &h in hidden {
                    p += (width + 1.0) * h as f64;
                    width = h as f64;
                }
                (p + (width + 1.0) * classes as f64, 2.0)
            }
            ModelSpec::SmallCnn { channels } => (
                channels.iter().map(|&c| 9.0 * (c * c) as f64).sum::<f64>() + 1e4,
                channels.iter().sum::<usize>() as f64,
            ),
            ModelSpec::ResNet18 { .. } => (11.7e6, 60.0),
            ModelSpec::ResNet50 { .. } => (25.6e6, 120.0),
        };
        let batch = c.batch_size.max(1) as f64;
        let job = values * F32 + params * 4.0 * F32 + batch * dim * F32 * activation_factor;
        per_job = per_job.max(job);
    }
    data + per_job * workers.max(1) as f64
}

/// The memory this machine can give a run, in bytes: `BENCH_MAX_MEMORY` (GiB) when set, else
/// MemAvailable from /proc/meminfo; None when neither is known.
pub fn memory_limit() -> Option<f64> {
    if let Ok(v) = std::env::var("BENCH_MAX_MEMORY") {
        return v.trim().parse::<f64>().ok().map(|gib| gib * GIB);
    }
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// Bytes in a GiB.
pub const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Refuses a spec whose estimated peak memory exceeds what the machine has.
pub fn check_memory(spec: &Spec, path: &std::path::Path, workers: usize) -> Result<(), String> {
    let need = peak_memory(spec, workers);
    match memory_limit() {
        Some(limit) if need > limit => Err(format!(
            "{}: this run needs about {:.1} GiB of memory at its peak (data {:.1} GiB, then per \
             running job; --jobs {workers}), and this machine has {:.1} GiB available; shrink the \
             dataset or --jobs, or set BENCH_MAX_MEMORY=<GiB> if the estimate is wrong here",
            path.display(),
            need / GIB,
            peak_memory(spec, 0) / GIB,
            limit / GIB
        )),
        _ => Ok(()),
    }
}
