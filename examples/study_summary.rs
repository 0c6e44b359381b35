//! Summarises a study's output directory for benchmarks/STUDIES.md: per setup and strategy, the
//! accuracy at the budget (mean ± std over seeds) with the per-seed difference to random on the
//! same seed (paired: same split, same initial set), and the learned strategies' training curves
//! (mean episode reward per tenth of training, with epsilon).
//!
//!   cargo run --release --example study_summary -- results/studies/real-n5/merged
use ralbench::run::JobResult;
use std::collections::BTreeMap;

/// (dataset, labels per step, strategy): what one row of the summary is about.
type Row = (String, usize, String);
/// Per seed: mean episode reward per iteration, and epsilon per iteration.
type Curve = (Vec<f64>, Vec<f64>);

fn main() -> anyhow::Result<()> {
    let dir = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or_else(|| anyhow::anyhow!("usage: study_summary OUTPUT_DIR"))?,
    );
    let mut results: Vec<JobResult> = Vec::new();
    for entry in std::fs::read_dir(dir.join("jobs"))? {
        let path = entry?.path();
        results.push(ron::from_str(&std::fs::read_to_string(&path)?)?);
    }
    // (dataset, labels per step, strategy) -> seed -> final accuracy.
    let mut finals: BTreeMap<Row, BTreeMap<u64, f64>> = BTreeMap::new();
    let mut curves: BTreeMap<Row, Vec<Curve>> = BTreeMap::new();
    for r in &results {
        let key = (
            format!("{:?}", r.job.dataset),
            r.job.labels_per_step,
            r.job.strategy.name(),
        );
        let last = r.curve.last().map_or(f64::NAN, |p| p.test_accuracy);
        finals
            .entry(key.clone())
            .or_default()
            .insert(r.job.seed, last);
        if let Some(log) = &r.training {
            let warm = match &r.job.strategy {
                ralbench::spec::StrategySpec::Dral(d) => d.warm_start,
                ralbench::spec::StrategySpec::LalRl(l) => l.warm_start,
                _ => 0,
            };
            curves
                .entry(key)
                .or_default()
                .push((log.iteration_rewards(warm), log.iteration_epsilons.clone()));
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let sd = |v: &[f64]| {
        let m = mean(v);
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len().max(2) - 1) as f64).sqrt()
    };
    println!(
        "| dataset | N | strategy | seeds | accuracy at budget | minus random, per seed | mean difference | wins/ties/losses vs random |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for ((ds, n, strategy), by_seed) in &finals {
        let acc: Vec<f64> = by_seed.values().copied().collect();
        let random = finals.get(&(ds.clone(), *n, "random".to_string()));
        let diffs: Vec<f64> = by_seed
            .iter()
            .filter_map(|(s, a)| random.and_then(|r| r.get(s)).map(|b| a - b))
            .collect();
        let (w, t, l) = diffs.iter().fold((0, 0, 0), |(w, t, l), d| {
            if *d > 0.0 {
                (w + 1, t, l)
            } else if *d < 0.0 {
                (w, t, l + 1)
            } else {
                (w, t + 1, l)
            }
        });
        let per_seed: Vec<String> = diffs.iter().map(|d| format!("{d:+.3}")).collect();
        println!(
            "| {ds} | {n} | {strategy} | {} | {:.4} ± {:.4} | {} | {:+.4} | {w}/{t}/{l} |",
            acc.len(),
            mean(&acc),
            sd(&acc),
            per_seed.join(" "),
            mean(&diffs),
        );
    }
    for ((ds, n, strategy), runs) in &curves {
        let iterations = runs.iter().map(|(r, _)| r.len()).min().unwrap_or(0);
        if iterations == 0 {
            continue;
        }
        println!(
            "\ntraining curve, {ds}, N = {n}, {strategy} ({} seeds): mean episode reward per tenth of training",
            runs.len()
        );
        println!("| iterations | epsilon | mean reward | seeds above the first tenth |");
        println!("| --- | --- | --- | --- |");
        let tenth = (iterations / 10).max(1);
        let chunk = |r: &[f64], k: usize| mean(&r[k * tenth..((k + 1) * tenth).min(iterations)]);
        for k in 0..iterations.div_ceil(tenth) {
            let values: Vec<f64> = runs.iter().map(|(r, _)| chunk(r, k)).collect();
            let eps: Vec<f64> = runs
                .iter()
                .filter_map(|(_, e)| e.get(k * tenth).copied())
                .collect();
            let above = runs
                .iter()
                .filter(|(r, _)| chunk(r, k) > chunk(r, 0))
                .count();
            println!(
                "| {}-{} | {:.2} | {:.4} | {above}/{} |",
                k * tenth + 1,
                ((k + 1) * tenth).min(iterations),
                mean(&eps),
                mean(&values),
                runs.len()
            );
        }
        let fifth = (iterations / 5).max(1);
        let improved = runs
            .iter()
            .filter(|(r, _)| mean(&r[iterations - fifth..iterations]) > mean(&r[..fifth]))
            .count();
        println!(
            "last fifth above first fifth on {improved} of {} seeds",
            runs.len()
        );
    }
    Ok(())
}
