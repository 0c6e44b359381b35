//! k-center greedy (Sener & Savarese 2018): label the candidates farthest from everything
//! labelled, in the classifier's embedding space.
use super::Strategy;
use crate::episode::{Episode, Task};
use rand_chacha::ChaCha20Rng;

/// The k-center greedy strategy on the classifier's embeddings.
pub struct KCenter;

impl Strategy for KCenter {
    fn pick(
        &mut self,
        task: &Task,
        ep: &Episode,
        candidates: &[usize],
        n: usize,
        rng: &mut ChaCha20Rng,
    ) -> Vec<usize> {
        let (xc, xl) = (task.x_rows(candidates), task.x_rows(&ep.labelled));
        let (cand, lab) = task.timed(|| (ep.model.embed(&xc), ep.model.embed(&xl)));
        k_center_greedy(&cand, &lab, n, rng)
    }
}

/// k-center greedy (Sener & Savarese 2018) on embeddings: `n` times, pick the candidate farthest
/// (Euclidean) from everything labelled or already picked. With nothing labelled, the first pick
/// is a seeded random candidate. Returns candidate positions in selection order; exact distance
/// ties go to the lowest position. Distances are batched tensor ops on the embeddings' device.
pub fn k_center_greedy(
    candidates: &tch::Tensor,
    labelled: &tch::Tensor,
    n: usize,
    rng: &mut ChaCha20Rng,
) -> Vec<usize> {
    use rand::Rng;
    let m = candidates.size()[0];
    let n = n.min(m as usize);
    if n == 0 {
        return vec![];
    }
    let mut min_dist = if labelled.size()[0] > 0 {
        let labelled = labelled.to_kind(candidates.kind());
        tch::Tensor::cdist(candidates, &labelled, 2.0, None::<i64>).amin(1, false)
    } else {
        tch::Tensor::full([m], f64::INFINITY, (candidates.kind(), candidates.device()))
    };
    let mut picks = Vec::with_capacity(n);
    for step in 0..n {
        let u = if step == 0 && labelled.size()[0] == 0 {
            rng.random_range(0..m)
        } else {
            min_dist.argmax(0, false).int64_value(&[])
        };
        picks.push(u as usize);
        let d = tch::Tensor::cdist(candidates, &candidates.narrow(0, u, 1), 2.0, None::<i64>)
            .squeeze_dim(1);
        min_dist = min_dist.minimum(&d);
        // A picked point must never win again, even among exact duplicates.
        let _ = min_dist.index_fill_(
            0,
            &tch::Tensor::from_slice(&[u]).to_device(candidates.device()),
            -1.0,
        );
    }
    picks
}
