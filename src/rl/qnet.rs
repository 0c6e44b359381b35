//! Q-networks over (state, action features), their target copies and the top-N rules (Eq. 3, 4).
use super::config::{DoubleDqn, TargetUpdate};
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

/// The two architectures.
#[derive(Debug, Clone, PartialEq)]
pub enum Arch {
    /// DRAL: MLP with ReLU over [state, action] (paper: 3 x 128).
    Mlp(Vec<usize>),
    /// LAL-RL: state -> 10 sigmoid; [that, action] -> 5 sigmoid -> 1.
    LalRl,
}

/// A Q-network with its weights.
pub struct QNet {
    /// The weights (saved in policy files).
    pub vs: nn::VarStore,
    net: Net,
}

enum Net {
    Mlp(nn::Sequential),
    LalRl {
        state: nn::Linear,
        joint: nn::Linear,
        out: nn::Linear,
    },
}

impl QNet {
    /// Fresh weights drawn from `rng`.
    pub fn new(
        arch: &Arch,
        state_dim: i64,
        action_dim: i64,
        device: Device,
        rng: &mut rand_chacha::ChaCha20Rng,
    ) -> QNet {
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let net = match arch {
            Arch::Mlp(hidden) => {
                let mut seq = nn::seq();
                let mut width = state_dim + action_dim;
                for (i, &h) in hidden.iter().enumerate() {
                    seq = seq
                        .add(nn::linear(
                            &root / format!("fc{i}"),
                            width,
                            h as i64,
                            Default::default(),
                        ))
                        .add_fn(|x| x.relu());
                    width = h as i64;
                }
                Net::Mlp(seq.add(nn::linear(&root / "out", width, 1, Default::default())))
            }
            Arch::LalRl => Net::LalRl {
                state: nn::linear(&root / "state", state_dim, 10, Default::default()),
                joint: nn::linear(&root / "joint", 10 + action_dim, 5, Default::default()),
                out: nn::linear(&root / "out", 5, 1, Default::default()),
            },
        };
        crate::model::init_weights(&vs, rng);
        QNet { vs, net }
    }

    /// Q for row-aligned pairs: `states [B, S]`, `actions [B, A]` -> `[B]`.
    pub fn q(&self, states: &Tensor, actions: &Tensor) -> Tensor {
        match &self.net {
            Net::Mlp(seq) => seq
                .forward(&Tensor::cat(&[states, actions], 1))
                .squeeze_dim(1),
            Net::LalRl { state, joint, out } => {
                let h = state.forward(states).sigmoid();
                let j = joint.forward(&Tensor::cat(&[&h, actions], 1)).sigmoid();
                out.forward(&j).squeeze_dim(1)
            }
        }
    }

    /// Q of one state with each of `actions [C, A]` -> `[C]`.
    pub fn q_one(&self, state: &Tensor, actions: &Tensor) -> Tensor {
        let c = actions.size()[0];
        self.q(&state.unsqueeze(0).expand([c, -1], false), actions)
    }

    /// Sets the output bias (LAL-RL starts it at -mean(warm-start episode length) / 2).
    pub fn set_output_bias(&mut self, value: f64) {
        tch::no_grad(|| {
            for (name, mut t) in self.vs.variables() {
                if name == "out.bias" {
                    let _ = t.fill_(value);
                }
            }
        });
    }

    /// A copy with the same architecture and weights (the target network).
    pub fn copy_of(&self, arch: &Arch, state_dim: i64, action_dim: i64) -> QNet {
        let mut scratch = crate::rng::stream(0, "target-network-shape");
        let mut target = QNet::new(arch, state_dim, action_dim, self.vs.device(), &mut scratch);
        target.vs.copy(&self.vs).expect("same architecture");
        target
    }

    /// Moves the target towards `online` after a gradient step.
    pub fn follow(&mut self, online: &QNet, rule: TargetUpdate, step: usize) {
        match rule {
            TargetUpdate::Hard { every } => {
                if every > 0 && step.is_multiple_of(every) {
                    self.vs.copy(&online.vs).expect("same architecture");
                }
            }
            TargetUpdate::Soft { tau } => tch::no_grad(|| {
                let src = online.vs.variables();
                for (name, mut t) in self.vs.variables() {
                    let o = &src[&name];
                    t.copy_(&(o * tau + &t * (1.0 - tau)));
                }
            }),
        }
    }
}

/// Eq. 3: the positions of the N largest Q-values, exact ties to the lower position (a total
/// order in Rust, not libtorch's `topk`, whose order among ties is unspecified).
pub fn top_n(q: &Tensor, n: usize) -> Vec<usize> {
    top_n_of(
        &Vec::<f64>::try_from(q.to_kind(Kind::Double)).expect("Q-values"),
        n,
    )
}

/// [`top_n`] on values already in Rust.
fn top_n_of(values: &[f64], n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    order.truncate(n);
    order
}

/// The value of each s' in the TD target (Eq. 4): one network picks the top-N set at s', the
/// other scores it; the set's value is the mean of its Q-values, so a target stays on the scale
/// of one action's return whatever N is. One forward pass per network covers every (state,
/// candidate) pair of the batch.
pub fn next_values(
    online: &QNet,
    target: &QNet,
    items: &[(&Tensor, &Tensor)],
    n: usize,
    double: DoubleDqn,
) -> Vec<f64> {
    let sizes: Vec<i64> = items.iter().map(|(_, a)| a.size()[0]).collect();
    if items.is_empty() || sizes.iter().sum::<i64>() == 0 {
        return vec![0.0; items.len()];
    }
    let states: Vec<Tensor> = items
        .iter()
        .zip(&sizes)
        .map(|((s, _), &c)| s.unsqueeze(0).expand([c, -1], false))
        .collect();
    let actions: Vec<Tensor> = items.iter().map(|(_, a)| a.shallow_clone()).collect();
    let (states, actions) = (Tensor::cat(&states, 0), Tensor::cat(&actions, 0));
    let (picker, scorer) = match double {
        DoubleDqn::OnlinePicks => (online, target),
        DoubleDqn::TargetPicks => (target, online),
    };
    let (p, v) = tch::no_grad(|| {
        let values = |net: &QNet| {
            Vec::<f64>::try_from(net.q(&states, &actions).to_kind(Kind::Double)).expect("Q")
        };
        (values(picker), values(scorer))
    });
    let mut out = Vec::with_capacity(items.len());
    let mut start = 0usize;
    for &c in &sizes {
        let c = c as usize;
        let order = top_n_of(&p[start..start + c], n);
        let value = order.iter().map(|&i| v[start + i]).sum::<f64>() / order.len().max(1) as f64;
        out.push(value);
        start += c;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One next state's value, computed the plain way: the reference [`next_values`] is checked against.
    fn next_value(
        online: &QNet,
        target: &QNet,
        next_state: &Tensor,
        next_actions: &Tensor,
        n: usize,
        double: DoubleDqn,
    ) -> f64 {
        tch::no_grad(|| {
            let (picker, scorer) = match double {
                DoubleDqn::OnlinePicks => (online, target),
                DoubleDqn::TargetPicks => (target, online),
            };
            let set = top_n(&picker.q_one(next_state, next_actions), n);
            let values = scorer.q_one(next_state, next_actions).to_kind(Kind::Double);
            set.iter()
                .map(|&i| values.double_value(&[i as i64]))
                .sum::<f64>()
                / set.len().max(1) as f64
        })
    }

    fn net(arch: &Arch) -> QNet {
        QNet::new(arch, 4, 3, Device::Cpu, &mut crate::rng::stream(0, "q"))
    }

    #[test]
    fn top_n_takes_the_largest_q_values() {
        let q = Tensor::from_slice(&[0.1f32, 0.9, -1.0, 0.5, 0.9]);
        assert_eq!(top_n(&q, 2).len(), 2);
        let mut two = top_n(&q, 2);
        two.sort_unstable();
        assert_eq!(two, vec![1, 4]);
        assert_eq!(top_n(&q, 3)[2], 3);
        assert_eq!(top_n(&q, 9).len(), 5);
        // Exact ties go to the lower position, always.
        assert_eq!(top_n(&q, 1), vec![1]);
        assert_eq!(top_n(&Tensor::from_slice(&[0.5f32; 6]), 3), vec![0, 1, 2]);
    }

    #[test]
    fn next_value_picks_with_one_network_and_scores_with_the_other() {
        let arch = Arch::Mlp(vec![8]);
        let online = net(&arch);
        let target = QNet::new(&arch, 4, 3, Device::Cpu, &mut crate::rng::stream(1, "q"));
        let s = Tensor::from_slice(&[0.1f32, 0.2, 0.3, 0.4]);
        let a = Tensor::rand([6, 3], (Kind::Float, Device::Cpu));
        let qo = online.q_one(&s, &a);
        let qt = target.q_one(&s, &a);
        let set = top_n(&qo, 2);
        let expected = set
            .iter()
            .map(|&i| qt.double_value(&[i as i64]))
            .sum::<f64>()
            / 2.0;
        let got = next_value(&online, &target, &s, &a, 2, DoubleDqn::OnlinePicks);
        assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
        let set = top_n(&qt, 2);
        let expected = set
            .iter()
            .map(|&i| qo.double_value(&[i as i64]))
            .sum::<f64>()
            / 2.0;
        let got = next_value(&online, &target, &s, &a, 2, DoubleDqn::TargetPicks);
        assert!((got - expected).abs() < 1e-6);
    }

    #[test]
    fn batched_next_values_equal_the_one_at_a_time_ones() {
        let arch = Arch::Mlp(vec![8]);
        let (online, target) = (net(&arch), net(&Arch::Mlp(vec![8])));
        let states: Vec<Tensor> = (0..3)
            .map(|_| Tensor::rand([4], (Kind::Float, Device::Cpu)))
            .collect();
        let actions: Vec<Tensor> = [5, 1, 7]
            .iter()
            .map(|&c| Tensor::rand([c, 3], (Kind::Float, Device::Cpu)))
            .collect();
        let items: Vec<(&Tensor, &Tensor)> = states.iter().zip(&actions).collect();
        for double in [DoubleDqn::OnlinePicks, DoubleDqn::TargetPicks] {
            let batched = next_values(&online, &target, &items, 2, double);
            for ((s, a), b) in items.iter().zip(&batched) {
                let one = next_value(&online, &target, s, a, 2, double);
                assert!((one - b).abs() < 1e-6, "{one} vs {b}");
            }
        }
    }

    #[test]
    fn soft_and_hard_target_updates() {
        for arch in [Arch::Mlp(vec![8, 8]), Arch::LalRl] {
            let online = net(&arch);
            let mut target = QNet::new(&arch, 4, 3, Device::Cpu, &mut crate::rng::stream(5, "q"));
            let before = target.vs.variables();
            let src = online.vs.variables();
            let old: Vec<(String, Tensor)> =
                before.iter().map(|(k, v)| (k.clone(), v.copy())).collect();
            target.follow(&online, TargetUpdate::Soft { tau: 0.25 }, 1);
            let after = target.vs.variables();
            for (name, was) in &old {
                let want = &src[name] * 0.25 + was * 0.75;
                let diff = (&after[name] - want).abs().max().double_value(&[]);
                assert!(diff < 1e-6, "{name}: {diff}");
            }
            // Hard: copies only on multiples of `every`.
            target.follow(&online, TargetUpdate::Hard { every: 3 }, 2);
            assert!(
                (&target.vs.variables()["out.bias"] - &src["out.bias"])
                    .abs()
                    .max()
                    .double_value(&[])
                    > 0.0
            );
            target.follow(&online, TargetUpdate::Hard { every: 3 }, 3);
            for (name, v) in target.vs.variables() {
                assert_eq!(
                    (&v - &src[&name]).abs().max().double_value(&[]),
                    0.0,
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn lal_rl_output_bias_can_be_set() {
        let mut q = net(&Arch::LalRl);
        q.set_output_bias(-2.5);
        assert_eq!(q.vs.variables()["out.bias"].double_value(&[0]), -2.5);
    }
}
