//! Splitting a run's jobs across machines: `--shard M/N` takes every N-th job starting at the
//! M-th (1-based, round-robin over the run order), or Slurm's job-array variables when absent.
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

    /// Whether the job at `position` in run order belongs to this shard.
    pub fn owns(&self, position: usize) -> bool {
        position % self.count == self.index - 1
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

    #[test]
    fn shards_partition_the_jobs() {
        let shards: Vec<Shard> = (1..=3).map(|i| Shard { index: i, count: 3 }).collect();
        for pos in 0..10 {
            assert_eq!(shards.iter().filter(|s| s.owns(pos)).count(), 1);
        }
    }
}
