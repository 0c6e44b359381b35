//! Splitting a run's jobs across machines: `--shard M/N` takes the jobs whose id, read as a
//! number, is M - 1 modulo N (1-based M), or Slurm's job-array variables when absent. A job's id
//! depends on the job alone, so adding a strategy, seed or setup to a spec never moves an
//! existing job to another shard (its finished result stays where it was computed); shards are
//! balanced only on average.
use std::str::FromStr;

/// One shard of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based index.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("expected M/N with 1 <= M <= N (e.g. 2/3), got {s:?}");
        let (m, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            m.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// From SLURM_ARRAY_TASK_ID (0-based, as `--array=0-(N-1)` gives) and SLURM_ARRAY_TASK_COUNT.
    pub fn from_slurm() -> Result<Option<Shard>, String> {
        let (Ok(id), Ok(count)) = (
            std::env::var("SLURM_ARRAY_TASK_ID"),
            std::env::var("SLURM_ARRAY_TASK_COUNT"),
        ) else {
            return Ok(None);
        };
        let id: usize = id
            .parse()
            .map_err(|_| format!("SLURM_ARRAY_TASK_ID={id:?} is not a number"))?;
        format!("{}/{count}", id + 1)
            .parse()
            .map(Some)
            .map_err(|e| format!("from SLURM_ARRAY_TASK_ID/COUNT: {e}"))
    }

    /// Whether the job with id `job_id` (16 hex digits) belongs to this shard.
    pub fn owns(&self, job_id: &str) -> bool {
        let n = u64::from_str_radix(job_id, 16).expect("job ids are hex");
        n % self.count as u64 == (self.index - 1) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses_with_the_expected_form() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        for bad in ["0/3", "4/3", "3", "a/b", "1/0"] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.starts_with("expected M/N"), "{bad}: {e}");
        }
    }

    fn quickstart_jobs(seeds: &str, strategies: &str) -> Vec<crate::run::Job> {
        let text = include_str!("../../specs/ci/quickstart.ron")
            .replace("seeds: [0, 1, 2, 3, 4]", seeds)
            .replace(
                "strategies: [Random, Margin, Entropy, LeastConfident]",
                strategies,
            );
        let spec = crate::spec::Spec::parse(&text, std::path::Path::new("q.ron")).unwrap();
        crate::run::Job::expand(&spec)
    }

    #[test]
    fn shards_partition_the_jobs() {
        let shards: Vec<Shard> = (1..=3).map(|i| Shard { index: i, count: 3 }).collect();
        let jobs = quickstart_jobs("seeds: [0, 1, 2, 3, 4]", "strategies: [Random, Margin]");
        for job in &jobs {
            assert_eq!(shards.iter().filter(|s| s.owns(&job.id())).count(), 1);
        }
        // Every shard gets some of the 10 jobs.
        assert!(shards.iter().all(|s| jobs.iter().any(|j| s.owns(&j.id()))));
    }

    #[test]
    fn adding_seeds_or_strategies_moves_no_job_between_shards() {
        let before = quickstart_jobs("seeds: [0, 1, 2]", "strategies: [Random, Margin]");
        let after = quickstart_jobs(
            "seeds: [0, 1, 2, 3, 4]",
            "strategies: [Entropy, Random, LeastConfident, Margin]",
        );
        for count in 2..=5 {
            let shard_of = |job: &crate::run::Job| {
                (1..=count)
                    .find(|&index| Shard { index, count }.owns(&job.id()))
                    .unwrap()
            };
            for job in &before {
                let same = after.iter().find(|j| j.id() == job.id()).unwrap();
                assert_eq!(shard_of(job), shard_of(same));
            }
        }
        // By position in run order (the old rule) the same change moves jobs.
        let moved = before.iter().enumerate().any(|(pos, job)| {
            let new_pos = after.iter().position(|j| j.id() == job.id()).unwrap();
            pos % 3 != new_pos % 3
        });
        assert!(moved);
    }
}
