//! The learners on a problem whose answer is known: in a synthetic environment (labelled
//! SYNTHETIC; nothing here is a reproduction) each step offers 40 candidates with three action
//! features drawn at random, and a pick earns exactly its first feature. The best policy takes the
//! N candidates with the largest first feature; random picks earn 0.5 per pick on average. DRAL's
//! and LAL-RL's trainers, with their spec defaults except for the number of episodes, must learn a
//! greedy policy that clearly beats random on every seed, and must not when the reward is
//! shuffled (each pick paid a value drawn independently of everything observed, with the same
//! distribution, so no feature predicts it). A greedy policy
//! over a Q-function fitted to noise still picks consistently by whatever direction the noise left
//! in it, so on one seed it can land far above or far below random; what it cannot do, if nothing
//! leaks the reward into the features, is beat random by the margin on every seed.
use ralbench::model::ModelError;
use ralbench::rl::config::{DralSpec, LalRlSpec};
use ralbench::rl::env::{Environment, Observation, Step};
use ralbench::rl::train::{self, Learner};
use rand::Rng;
use rand_chacha::ChaCha20Rng;
use tch::{Kind, Tensor};

const CANDIDATES: usize = 40;
const STEPS: usize = 5;
const N: usize = 2;
const STATE: i64 = 6;

/// SYNTHETIC: rewards known by construction.
struct KnownValue {
    shuffled: bool,
    step: usize,
    features: Vec<[f32; 3]>,
}

impl KnownValue {
    fn new(shuffled: bool) -> KnownValue {
        KnownValue {
            shuffled,
            step: 0,
            features: vec![],
        }
    }

    fn observe(&mut self, rng: &mut ChaCha20Rng) -> Observation {
        self.features = (0..CANDIDATES)
            .map(|_| [0; 3].map(|_| rng.random::<f32>() - 0.5))
            .collect();
        let flat: Vec<f32> = self.features.iter().flatten().copied().collect();
        let progress = self.step as f32 / STEPS as f32;
        Observation {
            state: Tensor::full([STATE], progress as f64, (Kind::Float, tch::Device::Cpu)),
            actions: Tensor::from_slice(&flat).view([CANDIDATES as i64, 3]),
        }
    }
}

impl Environment for KnownValue {
    fn reset(&mut self, rng: &mut ChaCha20Rng) -> Result<Observation, ModelError> {
        self.step = 0;
        Ok(self.observe(rng))
    }

    fn step(&mut self, picks: &[usize], rng: &mut ChaCha20Rng) -> Result<Step, ModelError> {
        // Shuffled: each pick earns what a pick drawn independently of everything observed would
        // (paying a random candidate of this step would leak the step's mean first feature).
        let reward = picks
            .iter()
            .map(|&p| {
                let value = if self.shuffled {
                    rng.random::<f32>() - 0.5
                } else {
                    self.features[p][0]
                };
                value as f64 + 0.5
            })
            .sum::<f64>();
        self.step += 1;
        let truncated = self.step == STEPS;
        let obs = (!truncated).then(|| self.observe(rng));
        Ok(Step {
            obs,
            reward,
            terminated: false,
            truncated,
        })
    }

    fn to_buy(&self) -> usize {
        if self.step < STEPS { N } else { 0 }
    }

    fn top_n(&self) -> usize {
        N
    }
}

fn dral() -> Learner {
    let spec: DralSpec = ron::from_str(
        "(warm_start: 16, iterations: 20, episodes_per_iteration: 4, updates_per_iteration: 20)",
    )
    .unwrap();
    Learner::from(&spec)
}

fn lal_rl() -> Learner {
    let spec: LalRlSpec = ron::from_str(
        "(warm_start: 16, iterations: 20, episodes_per_iteration: 4, updates_per_iteration: 20)",
    )
    .unwrap();
    Learner::from(&spec)
}

/// (greedy return, random return) per seed, on fresh evaluation episodes with the true reward.
fn returns(learner: &Learner, shuffled: bool, seed: u64) -> (f64, f64) {
    let mut rng = ralbench::rng::stream(seed, "learnability/train");
    let mut env = KnownValue::new(shuffled);
    let (q, _) = train::train(&mut env, learner, &mut rng, |_| {}).unwrap();
    let eval = |policy| {
        let mut rng = ralbench::rng::stream(seed, "learnability/evaluate");
        let mut truth = KnownValue::new(false);
        train::mean_return(&mut truth, policy, 200, &mut rng).unwrap()
    };
    (eval(Some(&q)), eval(None))
}

/// The clear margin: random earns 0.5 per pick, 5 steps x 2 picks = 5.0; the best policy ~9.7.
const MARGIN: f64 = 2.0;

fn check(name: &str, learner: Learner) {
    let mut shuffled_wins = 0;
    for seed in 0..5 {
        let (greedy, random) = returns(&learner, false, seed);
        eprintln!("{name} seed {seed}, true signal: greedy {greedy:.3}, random {random:.3}");
        assert!(
            greedy > random + MARGIN,
            "{name} seed {seed}: greedy {greedy:.3} vs random {random:.3} on the true signal"
        );
        let (greedy, random) = returns(&learner, true, seed);
        eprintln!("{name} seed {seed}, shuffled: greedy {greedy:.3}, random {random:.3}");
        shuffled_wins += (greedy > random + MARGIN) as usize;
    }
    assert!(
        shuffled_wins < 5,
        "{name}: trained on shuffled rewards, the greedy policy still beat random by {MARGIN} on every seed"
    );
}

#[test]
fn dral_learns_the_known_value_and_nothing_from_a_shuffled_reward() {
    check("DRAL", dral());
}

#[test]
fn lal_rl_learns_the_known_value_and_nothing_from_a_shuffled_reward() {
    check("LAL-RL", lal_rl());
}
