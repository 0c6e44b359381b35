//! Experience replay: a ring buffer of transitions, sampled uniformly or by priority
//! (LAL-RL: p ~ |TD error|^3, new transitions at the current maximum), without replacement.
use rand::Rng;
use rand_chacha::ChaCha20Rng;
use tch::Tensor;

/// One labelled candidate: state, its action features, the reward, and what followed.
#[derive(Debug)]
pub struct Transition {
    /// State s_t, `[S]`.
    pub state: Tensor,
    /// Action features of the labelled candidate, `[A]`.
    pub action: Tensor,
    /// r_{t+1}.
    pub reward: f64,
    /// State s_{t+1}, `[S]`.
    pub next_state: Tensor,
    /// Action features of every candidate at s_{t+1}, `[C, A]` (shared between the N transitions
    /// of one step).
    pub next_actions: Tensor,
    /// Whether s_{t+1} ends the episode.
    pub terminal: bool,
}

/// |delta| a new transition is assumed to have while nothing has been measured (LAL-RL's initial
/// maximum); its priority is this to the sampling exponent (1000^3 for LAL-RL).
pub const INITIAL_PRIORITY: f64 = 1000.0;

/// Ring buffer with optional priorities.
#[derive(Debug)]
pub struct Replay {
    items: Vec<Transition>,
    capacity: usize,
    next: usize,
    priorities: Option<Vec<f64>>,
    max_priority: f64,
    exponent: f64,
}

impl Replay {
    /// Uniform sampling.
    pub fn uniform(capacity: usize) -> Replay {
        Replay {
            items: Vec::new(),
            capacity,
            next: 0,
            priorities: None,
            max_priority: INITIAL_PRIORITY,
            exponent: 1.0,
        }
    }

    /// Sampling with probability proportional to |delta|^exponent.
    pub fn prioritised(capacity: usize, exponent: f64) -> Replay {
        Replay {
            priorities: Some(Vec::new()),
            exponent,
            max_priority: INITIAL_PRIORITY.powf(exponent),
            ..Replay::uniform(capacity)
        }
    }

    /// Number of stored transitions.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The transition at `i`.
    pub fn get(&self, i: usize) -> &Transition {
        &self.items[i]
    }

    /// Stores a transition, overwriting the oldest when full.
    pub fn push(&mut self, t: Transition) {
        let p = self.max_priority;
        if self.items.len() < self.capacity {
            self.items.push(t);
            if let Some(ps) = &mut self.priorities {
                ps.push(p);
            }
        } else {
            self.items[self.next] = t;
            if let Some(ps) = &mut self.priorities {
                ps[self.next] = p;
            }
        }
        self.next = (self.next + 1) % self.capacity;
    }

    /// `batch` distinct indices (fewer if fewer are stored), by priority when prioritised.
    pub fn sample(&self, batch: usize, rng: &mut ChaCha20Rng) -> Vec<usize> {
        let n = self.items.len();
        let batch = batch.min(n);
        match &self.priorities {
            None => rand::seq::index::sample(rng, n, batch).into_vec(),
            Some(ps) => {
                let mut weights = ps.clone();
                let mut picked = Vec::with_capacity(batch);
                for _ in 0..batch {
                    let total: f64 = weights.iter().sum();
                    let mut u = rng.random::<f64>() * total;
                    let mut chosen = weights.iter().rposition(|&w| w > 0.0).unwrap_or(0);
                    for (i, &w) in weights.iter().enumerate() {
                        if w > 0.0 && u < w {
                            chosen = i;
                            break;
                        }
                        u -= w;
                    }
                    picked.push(chosen);
                    weights[chosen] = 0.0;
                }
                picked
            }
        }
    }

    /// Sets the priorities of sampled transitions from their TD errors. The priority of the next
    /// new transition becomes the largest in the buffer, counting the slots not yet written at the
    /// initial value (LAL-RL helpers.py `update_td_errors`: `max_td_error = np.max(all_td_errors)`
    /// over a buffer pre-filled with 1000).
    pub fn update_priorities(&mut self, indices: &[usize], td_errors: &[f64]) {
        if let Some(ps) = &mut self.priorities {
            for (&i, &d) in indices.iter().zip(td_errors) {
                // A zero error would never be drawn again; keep a floor.
                ps[i] = d.abs().powf(self.exponent).max(1e-8);
            }
            let unwritten = if ps.len() < self.capacity {
                INITIAL_PRIORITY.powf(self.exponent)
            } else {
                0.0
            };
            self.max_priority = ps.iter().copied().fold(unwritten, f64::max);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(reward: f64) -> Transition {
        let z = || Tensor::zeros([1], (tch::Kind::Float, tch::Device::Cpu));
        Transition {
            state: z(),
            action: z(),
            reward,
            next_state: z(),
            next_actions: z(),
            terminal: false,
        }
    }

    #[test]
    fn the_ring_overwrites_the_oldest() {
        let mut r = Replay::uniform(3);
        for i in 0..5 {
            r.push(t(i as f64));
        }
        let rewards: Vec<f64> = (0..3).map(|i| r.get(i).reward).collect();
        assert_eq!(rewards, vec![3.0, 4.0, 2.0]);
    }

    #[test]
    fn samples_are_distinct_and_bounded_by_the_contents() {
        let mut r = Replay::uniform(100);
        for i in 0..10 {
            r.push(t(i as f64));
        }
        let s = r.sample(32, &mut crate::rng::stream(0, "r"));
        let mut d = s.clone();
        d.sort_unstable();
        d.dedup();
        assert_eq!((s.len(), d.len()), (10, 10));
    }

    #[test]
    fn priorities_follow_the_cubed_td_error() {
        let mut r = Replay::prioritised(100, 3.0);
        for i in 0..4 {
            r.push(t(i as f64));
        }
        // Index 2 gets error 10 (priority 1000), the others 1 (priority 1): it is drawn first
        // nearly always, and never twice in one batch.
        r.update_priorities(&[0, 1, 2, 3], &[1.0, 1.0, 10.0, -1.0]);
        let mut first_is_2 = 0;
        for seed in 0..200 {
            let s = r.sample(4, &mut crate::rng::stream(seed, "p"));
            let mut d = s.clone();
            d.sort_unstable();
            assert_eq!(d, vec![0, 1, 2, 3]);
            first_is_2 += (s[0] == 2) as usize;
        }
        assert!(first_is_2 > 190, "{first_is_2}");
        // A new transition enters at the largest priority in the buffer, counting unwritten slots
        // at 1000^3 as LAL-RL's pre-filled buffer does.
        r.push(t(9.0));
        assert_eq!(r.priorities.as_ref().unwrap()[4], 1e9);
        // Once the buffer is full, the maximum is that of the stored errors, and it can fall.
        let mut full = Replay::prioritised(2, 3.0);
        full.push(t(0.0));
        full.push(t(1.0));
        full.update_priorities(&[0, 1], &[2.0, 0.5]);
        full.push(t(2.0));
        assert_eq!(full.priorities.as_ref().unwrap()[0], 8.0);
    }
}
