//! Logistic regression solved to convergence, as scikit-learn's `LogisticRegression(C)` with the
//! lbfgs solver fits it, in libtorch (so it runs on the GPU too).
//!
//! The objective is scikit-learn's (`sklearn/linear_model/_logistic.py`, `LinearModelLoss` with
//! `l2_reg_strength = 1 / (C n)`): the mean cross-entropy plus `||W||^2 / (2 C n)`, the
//! intercept unpenalised. Only the classes present in the labelled set are fitted (scikit-learn's
//! `classes_`); two classes are one logistic (`coef_` has one row), more are multinomial. Absent
//! classes get probability 0. The minimiser is full-batch L-BFGS (10 pairs of history, backtracking
//! Armijo line search) in double precision; it stops when the largest absolute gradient entry is at
//! most `tol` (scipy's `gtol`, which scikit-learn sets to `tol`), when the objective stops moving
//! (scipy's `ftol` = 64 machine epsilons, as scikit-learn sets it), or after `max_iter` iterations.
//! A multinomial intercept is determined only up to a shared constant; it is returned centred
//! (summing to zero over the fitted classes).
//!
//! The objective and its gradient (the matrix products over the labelled rows) run on the
//! episode's device; the L-BFGS vector algebra, on a few thousand numbers, runs on the host in
//! f64, where one libtorch call per vector operation cost more than the arithmetic (the
//! quickstart's fits took 2.3x as long that way). The two-loop recursion is the textbook one
//! (Nocedal & Wright, Alg. 7.4).
use tch::{Device, Kind, Tensor};

/// What the solver returns: weights `[K, d]` and bias `[K]` (f32, on the inputs' device) for the
/// K output classes of the model, with the absent classes at [`ABSENT_LOGIT`].
#[derive(Debug)]
pub struct Fitted {
    /// Weight rows, one per class.
    pub weight: Tensor,
    /// Bias per class.
    pub bias: Tensor,
    /// L-BFGS iterations used.
    pub iterations: usize,
    /// Whether the gradient tolerance (or the objective tolerance) was met.
    pub converged: bool,
}

/// Bias of a class absent from the labelled set: its softmax probability is exactly 0 in f32.
pub const ABSENT_LOGIT: f64 = -1e4;

/// Solver settings (scikit-learn's C, tol, max_iter).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Inverse L2 strength.
    pub c: f64,
    /// Largest absolute gradient entry at which the solver stops.
    pub tol: f64,
    /// Most iterations.
    pub max_iter: usize,
}

/// Fits on rows `x [n, d]` with labels `y [n]` (int64, in 0..k); `start` is `(weight [k, d],
/// bias [k])` of a previous fit to warm-start from, or None to start at zero (scikit-learn).
pub fn fit(
    x: &Tensor,
    y: &Tensor,
    k: usize,
    s: Settings,
    start: Option<(&Tensor, &Tensor)>,
) -> Fitted {
    let device = x.device();
    let (n, d) = (x.size()[0], x.size()[1]);
    let labels = Vec::<i64>::try_from(y.to_device(Device::Cpu)).expect("int64 labels");
    let mut present: Vec<i64> = labels.clone();
    present.sort_unstable();
    present.dedup();
    let mut weight = Tensor::zeros([k as i64, d], (Kind::Double, device));
    let mut bias = Tensor::full([k as i64], ABSENT_LOGIT, (Kind::Double, device));
    let (mut iterations, mut converged) = (0, true);
    match present.len() {
        0 => {}
        1 => {
            let _ = bias.get(present[0]).fill_(0.0);
        }
        m => {
            let xd = Tensor::cat(
                &[
                    x.to_kind(Kind::Double),
                    Tensor::ones([n, 1], (Kind::Double, device)),
                ],
                1,
            );
            // Position of each label among the present classes.
            let local: Vec<i64> = labels
                .iter()
                .map(|l| present.binary_search(l).expect("present") as i64)
                .collect();
            let local = Tensor::from_slice(&local).to_device(device);
            let idx = Tensor::from_slice(&present).to_device(device);
            let rows = if m == 2 { 1 } else { m as i64 };
            // Parameters as [rows, d + 1]: weights, then the intercept column.
            let theta0 = match start {
                Some((w, b)) => {
                    let w = w.to_kind(Kind::Double).index_select(0, &idx);
                    let b = b.to_kind(Kind::Double).index_select(0, &idx);
                    let full = Tensor::cat(&[w, b.unsqueeze(1)], 1);
                    if m == 2 {
                        full.get(1) - full.get(0)
                    } else {
                        full
                    }
                }
                None => Tensor::zeros([rows, d + 1], (Kind::Double, device)),
            }
            .reshape([-1]);
            let theta0 = Vec::<f64>::try_from(theta0.to_device(Device::Cpu)).expect("f64");
            let onehot = if rows == 1 {
                local.to_kind(Kind::Double).unsqueeze(1)
            } else {
                local.one_hot(rows).to_kind(Kind::Double)
            };
            let problem = Problem {
                x: xd,
                onehot,
                rows,
                d,
                penalty: 1.0 / (s.c * n as f64),
            };
            let out = minimise(&problem, theta0, s);
            iterations = out.1;
            converged = out.2;
            let theta = Tensor::from_slice(&out.0)
                .to_device(device)
                .view([rows, d + 1]);
            let (w, mut b) = (theta.narrow(1, 0, d), theta.select(1, d));
            let (w, b) = if m == 2 {
                // p(second) = sigmoid(x.w + b) = softmax over [0, x.w + b].
                (
                    Tensor::cat(&[w.zeros_like(), w], 0),
                    Tensor::cat(&[b.zeros_like().view([1]), b.view([1])], 0),
                )
            } else {
                b = &b - b.mean(Kind::Double);
                (w, b)
            };
            weight = weight.index_copy(0, &idx, &w);
            bias = bias.index_copy(0, &idx, &b);
        }
    }
    Fitted {
        weight: weight.to_kind(Kind::Float),
        bias: bias.to_kind(Kind::Float),
        iterations,
        converged,
    }
}

/// The regularised mean cross-entropy of one labelled set.
struct Problem {
    /// Inputs with a trailing column of ones, `[n, d + 1]`, double.
    x: Tensor,
    /// Targets: `[n, 1]` labels in {0, 1} (binary) or `[n, rows]` one-hot rows, double.
    onehot: Tensor,
    /// 1 (binary logistic) or the number of fitted classes.
    rows: i64,
    d: i64,
    /// 1 / (C n).
    penalty: f64,
}

impl Problem {
    /// Objective and gradient at `theta` (flat `[rows * (d + 1)]`, row-major, the intercept
    /// last in each row). The data term runs on the inputs' device; the L2 term, which leaves
    /// the intercepts out, on the host.
    fn eval(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let n = self.x.size()[0] as f64;
        let w = Tensor::from_slice(theta)
            .to_device(self.x.device())
            .view([self.rows, self.d + 1]);
        let z = self.x.matmul(&w.tr());
        let (loss, residual) = if self.rows == 1 {
            // log(1 + e^z) - y z, stably.
            let loss = (z.softplus() - &self.onehot * &z).sum(Kind::Double);
            (loss, z.sigmoid() - &self.onehot)
        } else {
            let logp = z.log_softmax(1, Kind::Double);
            let loss = -(&logp * &self.onehot).sum(Kind::Double);
            (loss, logp.exp() - &self.onehot)
        };
        let grad = residual.tr().matmul(&self.x);
        let mut grad =
            Vec::<f64>::try_from(grad.reshape([-1]).to_device(Device::Cpu)).expect("f64 gradient");
        let width = (self.d + 1) as usize;
        let mut reg = 0.0;
        for (j, (g, &t)) in grad.iter_mut().zip(theta).enumerate() {
            *g /= n;
            if j % width != width - 1 {
                reg += t * t;
                *g += self.penalty * t;
            }
        }
        (loss.double_value(&[]) / n + 0.5 * self.penalty * reg, grad)
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

/// L-BFGS from `theta`; returns the minimiser, the iterations used and whether it converged.
/// The vector algebra (two-loop recursion, line search steps) runs on the host in f64: a few
/// thousand numbers, where one libtorch call would cost more than the arithmetic.
fn minimise(p: &Problem, mut theta: Vec<f64>, s: Settings) -> (Vec<f64>, usize, bool) {
    const HISTORY: usize = 10;
    const ARMIJO: f64 = 1e-4;
    const MAX_HALVINGS: usize = 50;
    let ftol = 64.0 * f64::EPSILON;
    let (mut f, mut g) = p.eval(&theta);
    let mut pairs: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> = Default::default();
    for it in 0..s.max_iter {
        if max_abs(&g) <= s.tol {
            return (theta, it, true);
        }
        // Two-loop recursion: direction = -H g.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(pairs.len());
        for (sv, yv, rho) in pairs.iter().rev() {
            let a = rho * dot(sv, &q);
            for (qi, yi) in q.iter_mut().zip(yv) {
                *qi -= a * yi;
            }
            alphas.push(a);
        }
        let gamma = pairs
            .back()
            .map_or(1.0, |(sv, yv, _)| dot(sv, yv) / dot(yv, yv));
        let mut r: Vec<f64> = q.iter().map(|x| x * gamma).collect();
        for ((sv, yv, rho), a) in pairs.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(yv, &r);
            for (ri, si) in r.iter_mut().zip(sv) {
                *ri += (a - b) * si;
            }
        }
        let mut dir: Vec<f64> = r.iter().map(|x| -x).collect();
        let mut slope = dot(&g, &dir);
        if slope >= 0.0 {
            // Not a descent direction (stale curvature): restart from steepest descent.
            pairs.clear();
            dir = g.iter().map(|x| -x).collect();
            slope = dot(&g, &dir);
        }
        // First step of a fresh history is scaled so it moves by at most 1 (scipy does the same).
        let mut step = if pairs.is_empty() {
            (1.0 / g.iter().map(|x| x.abs()).sum::<f64>()).min(1.0)
        } else {
            1.0
        };
        let mut accepted = None;
        for _ in 0..MAX_HALVINGS {
            let cand: Vec<f64> = theta.iter().zip(&dir).map(|(t, d)| t + step * d).collect();
            let (fc, gc) = p.eval(&cand);
            if fc <= f + ARMIJO * step * slope {
                accepted = Some((cand, fc, gc));
                break;
            }
            step *= 0.5;
        }
        let Some((next, f_next, g_next)) = accepted else {
            // No decrease along the direction at machine precision: as converged as it gets.
            return (theta, it, max_abs(&g) <= s.tol);
        };
        let sv: Vec<f64> = next.iter().zip(&theta).map(|(a, b)| a - b).collect();
        let yv: Vec<f64> = g_next.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&sv, &yv);
        if sy > 1e-12 * dot(&yv, &yv).max(f64::MIN_POSITIVE) {
            if pairs.len() == HISTORY {
                pairs.pop_front();
            }
            pairs.push_back((sv, yv, 1.0 / sy));
        }
        let moved = (f - f_next) / f.abs().max(f_next.abs()).max(1.0);
        theta = next;
        f = f_next;
        g = g_next;
        if moved <= ftol {
            return (theta, it + 1, true);
        }
    }
    let done = max_abs(&g) <= s.tol;
    (theta, s.max_iter, done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(tol: f64) -> Settings {
        Settings {
            c: 1.0,
            tol,
            max_iter: 1000,
        }
    }

    /// The optimum of the regularised objective has a zero gradient; check it directly.
    #[test]
    fn the_solution_zeroes_the_gradient_binary_and_multinomial() {
        let mut rng = crate::rng::stream(0, "logreg");
        for k in [2usize, 3, 5] {
            let n = 60;
            let xs: Vec<f32> = (0..n * 4)
                .map(|_| rand::Rng::random_range(&mut rng, -2.0..2.0))
                .collect();
            let ys: Vec<i64> = (0..n).map(|i| (i % k) as i64).collect();
            let x = Tensor::from_slice(&xs).view([n as i64, 4]);
            let y = Tensor::from_slice(&ys);
            let f = fit(&x, &y, k, settings(1e-9), None);
            assert!(f.converged, "k = {k}: {} iterations", f.iterations);
            // Re-evaluate the gradient of the objective at the answer.
            let rows = if k == 2 { 1 } else { k as i64 };
            let theta = if k == 2 {
                Tensor::cat(&[f.weight.get(1), f.bias.get(1).view([1])], 0)
            } else {
                Tensor::cat(&[&f.weight, &f.bias.unsqueeze(1)], 1).reshape([-1])
            }
            .to_kind(Kind::Double);
            let onehot = if k == 2 {
                y.to_kind(Kind::Double).unsqueeze(1)
            } else {
                y.one_hot(k as i64).to_kind(Kind::Double)
            };
            let p = Problem {
                x: Tensor::cat(
                    &[
                        x.to_kind(Kind::Double),
                        Tensor::ones([n as i64, 1], (Kind::Double, Device::Cpu)),
                    ],
                    1,
                ),
                onehot,
                rows,
                d: 4,
                penalty: 1.0 / n as f64,
            };
            let theta = Vec::<f64>::try_from(theta.reshape([-1])).expect("f64");
            let (_, g) = p.eval(&theta);
            // f32 storage of the answer limits how small the gradient can be.
            let gmax = max_abs(&g);
            assert!(
                gmax < 1e-5,
                "k = {k}: |g| {gmax:e} after {} iterations",
                f.iterations
            );
        }
    }

    #[test]
    fn absent_classes_get_probability_zero_and_one_class_is_certain() {
        let x = Tensor::from_slice(&[0.0f32, 1.0, 2.0, 3.0]).view([4, 1]);
        let y = Tensor::from_slice(&[1i64, 1, 3, 3]);
        let f = fit(&x, &y, 5, settings(1e-8), None);
        let p = (x.matmul(&f.weight.tr()) + &f.bias).softmax(1, Kind::Float);
        let absent = p.index_select(1, &Tensor::from_slice(&[0i64, 2, 4]));
        assert_eq!(absent.abs().max().double_value(&[]), 0.0);
        let one = fit(
            &x,
            &Tensor::from_slice(&[2i64, 2, 2, 2]),
            3,
            settings(1e-8),
            None,
        );
        let p = (x.matmul(&one.weight.tr()) + &one.bias).softmax(1, Kind::Float);
        assert_eq!(p.select(1, 2).min().double_value(&[]), 1.0);
    }

    #[test]
    fn a_warm_start_at_the_answer_stops_at_once() {
        let x = Tensor::from_slice(&[0.0f32, 1.0, 2.0, 3.0, 0.5, 2.5]).view([6, 1]);
        let y = Tensor::from_slice(&[0i64, 0, 1, 1, 1, 0]);
        let a = fit(&x, &y, 2, settings(1e-6), None);
        let b = fit(&x, &y, 2, settings(1e-6), Some((&a.weight, &a.bias)));
        assert!(
            b.iterations < a.iterations / 2,
            "{} vs {}",
            b.iterations,
            a.iterations
        );
    }
}
