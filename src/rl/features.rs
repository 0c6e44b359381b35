//! State vectors and action features of the learned strategies.
//!
//! DRAL's action for a candidate x is [score, d_labelled, d_unlabelled] on the classifier's
//! embeddings: the classifier's top probability, the Euclidean distance to the nearest labelled
//! point (the coreset quantity), and the root mean squared distance to the unlabelled pool, which
//! the identity mean_j |x - u_j|^2 = |x|^2 - 2 x.mean(u) + mean(|u|^2) makes linear in the pool.
//! Both distances are divided by their largest value among the candidates, so the Q-network sees
//! numbers in [0, 1] whatever the embedding's scale.
//!
//! LAL-RL's action is [p(class 0), mean cosine distance to all unlabelled points, mean cosine
//! distance to all labelled points] on standardised input features, computed pairwise as its
//! public code does (this is what makes it slow on images).
use super::config::{ActionNorm, StateRepr};
use super::env::Observation;
use crate::episode::{Episode, Task};
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha20Rng;
use tch::{Device, Kind, Tensor};

/// Which action features a learned strategy computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Latent-space [score, d_labelled, d_unlabelled] (the paper's method).
    Dral,
    /// Data-space [p(class 0), mean cosine distance to unlabelled, to labelled] (LAL-RL), on the
    /// task's inputs (standardised flattened rows for LAL-RL).
    LalRl,
}

/// How a learned strategy turns an episode into an observation.
pub struct Features<'a> {
    /// Feature style.
    pub style: Style,
    /// State representation.
    pub repr: StateRepr,
    /// The set-aside D_s rows.
    pub state_set: &'a [usize],
    /// A random subset of D_s of this size per episode (LAL-RL); None: all of D_s.
    pub state_points: Option<usize>,
    /// Scale of DRAL's action features.
    pub action_norm: ActionNorm,
}

impl Features<'_> {
    /// The D_s rows of one episode's state.
    pub fn state_rows(&self, rng: &mut ChaCha20Rng) -> Vec<usize> {
        match self.state_points {
            Some(k) if k < self.state_set.len() => {
                let mut rows: Vec<usize> =
                    self.state_set.choose_multiple(rng, k).copied().collect();
                rows.sort_unstable();
                rows
            }
            _ => self.state_set.to_vec(),
        }
    }

    /// State and action features of `ep` with the unlabelled `candidates` (which are also the
    /// unlabelled set the distances refer to).
    pub fn observe(
        &self,
        task: &Task,
        ep: &Episode,
        state_rows: &[usize],
        candidates: &[usize],
    ) -> Observation {
        let (x_s, x_c) = (task.x_rows(state_rows), task.x_rows(candidates));
        let model = &ep.model;
        let probs_s = task.timed(|| model.predict_proba(&x_s));
        let state = state(&probs_s, self.repr).to_device(Device::Cpu);
        let probs_c = task.timed(|| model.predict_proba(&x_c));
        let x_l = task.x_rows(&ep.labelled);
        let actions = match self.style {
            Style::Dral => {
                let (e_c, e_l) = task.timed(|| (model.embed(&x_c), model.embed(&x_l)));
                let a = dral_actions(&probs_c, &e_c, &e_l, &e_c);
                match self.action_norm {
                    ActionNorm::MaxScaled => a,
                    ActionNorm::Standardised => standardise_columns(&a),
                }
            }
            Style::LalRl => lalrl_actions(&probs_c.select(1, 0), &x_c, &x_c, &x_l),
        };
        Observation {
            state,
            actions: actions.to_kind(Kind::Float).to_device(Device::Cpu),
        }
    }
}

/// The state from the classifier's probabilities on D_s (`[M, K]`).
pub fn state(probs: &Tensor, repr: StateRepr) -> Tensor {
    let probs = probs.to_kind(Kind::Float);
    match repr {
        StateRepr::SortedMaxProb => probs.amax(1, false).sort(0, false).0,
        StateRepr::SortedColumns => probs.sort(0, false).0.transpose(0, 1).reshape([-1]),
        StateRepr::SortedClassZero => probs.select(1, 0).sort(0, false).0,
    }
}

/// DRAL action features, `[C, 3]`, for candidates with probabilities `probs [C, K]` and
/// embeddings `cand [C, d]`, given the labelled `lab [L, d]` and unlabelled `unlab [U, d]` embeddings.
pub fn dral_actions(probs: &Tensor, cand: &Tensor, lab: &Tensor, unlab: &Tensor) -> Tensor {
    let score = probs.to_kind(Kind::Float).amax(1, false);
    let d_lab = if lab.size()[0] > 0 {
        Tensor::cdist(cand, lab, 2.0, None::<i64>).amin(1, false)
    } else {
        Tensor::zeros([cand.size()[0]], (Kind::Float, cand.device()))
    };
    let mean_u = unlab.mean_dim(0, false, Kind::Float);
    let mean_sq_u = row_sq_norms(unlab).mean(Kind::Float);
    let sq = cand.square().sum_dim_intlist(1, false, Kind::Float) - cand.matmul(&mean_u) * 2.0
        + mean_sq_u;
    let d_unlab = sq.clamp_min(0.0).sqrt();
    Tensor::stack(&[score, scaled(&d_lab), scaled(&d_unlab)], 1)
}

/// Floats per temporary in [`row_sq_norms`]: small enough to stay in cache and be reused by the
/// allocator, instead of one pool-sized temporary (200 MB at 1e5 x 512) paged in at every query.
const SQ_CHUNK_FLOATS: i64 = 1 << 16;

/// |x_i|^2 for every row of `x [N, d]`, a block of at least 16 rows at a time; each row's sum is
/// computed exactly as by one `x.square().sum_dim(1)`, so the values are the same. No block has a
/// single row unless `x` has (libtorch sums a lone row by another path, with other rounding).
fn row_sq_norms(x: &Tensor) -> Tensor {
    let (n, d) = (x.size()[0], x.size()[1].max(1));
    if n == 0 {
        return Tensor::zeros([0], (Kind::Float, x.device()));
    }
    let rows = (SQ_CHUNK_FLOATS / d).max(16);
    let mut parts = Vec::new();
    let mut start = 0;
    while start < n {
        let mut len = rows.min(n - start);
        if n - start - len == 1 {
            len += 1;
        }
        parts.push(
            x.narrow(0, start, len)
                .square()
                .sum_dim_intlist(1, false, Kind::Float),
        );
        start += len;
    }
    Tensor::cat(&parts, 0)
}

/// Each column minus its mean, over its standard deviation (population; constant columns become 0).
fn standardise_columns(a: &Tensor) -> Tensor {
    if a.size()[0] < 2 {
        return a.zeros_like();
    }
    let mean = a.mean_dim(0, true, Kind::Float);
    let std = a.std_dim(0, false, true).clamp_min(1e-6);
    (a - mean) / std
}

/// Divides by the largest value (when positive).
fn scaled(t: &Tensor) -> Tensor {
    let m = t.max().double_value(&[]);
    if m > 0.0 { t / m } else { t.shallow_clone() }
}

/// LAL-RL action features, `[C, 3]`: p(class 0) of each candidate (`p0 [C]`), and the mean cosine
/// distance of its standardised features (`cand [C, D]`) to every unlabelled (`unlab [U, D]`,
/// the candidate itself included) and labelled (`lab [L, D]`) point, pairwise.
pub fn lalrl_actions(p0: &Tensor, cand: &Tensor, unlab: &Tensor, lab: &Tensor) -> Tensor {
    let unit = |x: &Tensor| x / x.norm_scalaropt_dim(2, [1], true).clamp_min(1e-12);
    let (c, u, l) = (unit(cand), unit(unlab), unit(lab));
    let mean_dist = |other: &Tensor| {
        if other.size()[0] == 0 {
            Tensor::zeros([c.size()[0]], (Kind::Float, c.device()))
        } else {
            (c.matmul(&other.transpose(0, 1)) * -1.0 + 1.0).mean_dim(1, false, Kind::Float)
        }
    };
    Tensor::stack(&[p0.to_kind(Kind::Float), mean_dist(&u), mean_dist(&l)], 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn t(v: &[f32], shape: &[i64]) -> Tensor {
        Tensor::from_slice(v).view(shape)
    }

    #[test]
    fn blockwise_row_norms_equal_the_one_shot_ones_bit_for_bit() {
        tch::manual_seed(3);
        for (rows, width) in [
            (3000i64, 64i64),
            (5, 70_000),
            (40, 70_000),
            (33, 70_000),
            (0, 8),
            (1, 8),
            (1025, 64),
            (2049, 64),
        ] {
            let x = Tensor::randn([rows, width], (Kind::Float, tch::Device::Cpu)) * 3.0;
            let direct = x.square().sum_dim_intlist(1, false, Kind::Float);
            let blocks = row_sq_norms(&x);
            assert_eq!(
                Vec::<f32>::try_from(&blocks).unwrap(),
                Vec::<f32>::try_from(&direct).unwrap(),
                "{rows} x {width}"
            );
        }
    }

    #[test]
    fn states_sort_what_the_representation_says() {
        let p = t(&[0.2, 0.8, 0.9, 0.1, 0.6, 0.4], &[3, 2]);
        assert_eq!(
            Vec::<f32>::try_from(state(&p, StateRepr::SortedMaxProb)).unwrap(),
            vec![0.6, 0.8, 0.9]
        );
        assert_eq!(
            Vec::<f32>::try_from(state(&p, StateRepr::SortedClassZero)).unwrap(),
            vec![0.2, 0.6, 0.9]
        );
        assert_eq!(
            Vec::<f32>::try_from(state(&p, StateRepr::SortedColumns)).unwrap(),
            vec![0.2, 0.6, 0.9, 0.1, 0.4, 0.8]
        );
    }

    #[test]
    fn dral_features_on_a_hand_made_embedding() {
        // Points on a line: labelled at 0; unlabelled at 1, 3; candidates are the unlabelled.
        let lab = t(&[0.0], &[1, 1]);
        let unlab = t(&[1.0, 3.0], &[2, 1]);
        let probs = t(&[0.7, 0.3, 0.4, 0.6], &[2, 2]);
        let a =
            Vec::<f32>::try_from(dral_actions(&probs, &unlab, &lab, &unlab).view([-1])).unwrap();
        // score = max prob; d_lab = 1, 3 -> scaled 1/3, 1; mean sq dist to {1,3}: 2 and 2 -> equal.
        let expect = [0.7, 1.0 / 3.0, 1.0, 0.6, 1.0, 1.0];
        for (x, e) in a.iter().zip(expect) {
            assert!((x - e).abs() < 1e-6, "{a:?}");
        }
        // The identity equals the direct mean of squared distances.
        let cand = Tensor::rand([7, 5], (Kind::Float, Device::Cpu));
        let u = Tensor::rand([11, 5], (Kind::Float, Device::Cpu));
        let direct = Tensor::cdist(&cand, &u, 2.0, None::<i64>)
            .square()
            .mean_dim(1, false, Kind::Float);
        let mean_u = u.mean_dim(0, false, Kind::Float);
        let via = cand.square().sum_dim_intlist(1, false, Kind::Float) - cand.matmul(&mean_u) * 2.0
            + u.square()
                .sum_dim_intlist(1, false, Kind::Float)
                .mean(Kind::Float);
        assert!((direct - via).abs().max().double_value(&[]) < 1e-5);
    }

    #[test]
    fn standardised_actions_keep_only_the_comparison_between_candidates() {
        let a = t(&[0.9, 0.2, 1.0, 0.7, 0.4, 1.0, 0.5, 0.6, 1.0], &[3, 3]);
        let s = standardise_columns(&a);
        let mean = Vec::<f32>::try_from(s.mean_dim(0, false, Kind::Float)).unwrap();
        assert!(mean.iter().all(|m| m.abs() < 1e-6), "{mean:?}");
        // A column that does not vary between candidates carries nothing: all zeros.
        assert_eq!(Vec::<f32>::try_from(s.select(1, 2)).unwrap(), vec![0.0; 3]);
        // The order within a column is kept.
        let c0 = Vec::<f32>::try_from(s.select(1, 0)).unwrap();
        assert!(c0[0] > c0[1] && c0[1] > c0[2], "{c0:?}");
    }

    #[test]
    fn lal_rl_features_are_mean_cosine_distances() {
        let cand = t(&[1.0, 0.0], &[1, 2]);
        let unlab = t(&[1.0, 0.0, 0.0, 1.0], &[2, 2]); // itself (0) and an orthogonal point (1)
        let lab = t(&[-1.0, 0.0], &[1, 2]); // opposite: distance 2
        let a =
            Vec::<f32>::try_from(lalrl_actions(&t(&[0.3], &[1]), &cand, &unlab, &lab).view([-1]))
                .unwrap();
        assert_eq!(a, vec![0.3, 0.5, 2.0]);
    }
}
