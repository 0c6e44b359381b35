//! Joining the output directories of sharded runs, and rebuilding reports from results alone.
use super::{Job, JobResult, RunSummary, SPEC_FILE, pretty, read_timing};
use crate::io::write_atomic;
use crate::report::{self, Table};
use crate::spec::Spec;
use anyhow::{Context, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why directories could not be merged or reported.
fn load_spec(dir: &Path) -> anyhow::Result<(Spec, String)> {
    let path = dir.join(SPEC_FILE);
    Spec::load(&path).with_context(|| format!("{} is not a bench output directory", dir.display()))
}

/// The results found in `dir/jobs`, by job id.
fn results_in(dir: &Path) -> anyhow::Result<BTreeMap<String, (PathBuf, JobResult)>> {
    let mut out = BTreeMap::new();
    let jobs = dir.join("jobs");
    let Ok(entries) = std::fs::read_dir(&jobs) else {
        return Ok(out);
    };
    for e in entries {
        let path = e?.path();
        if path.extension().is_none_or(|x| x != "ron") {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        let r: JobResult = ron::from_str(&text)
            .with_context(|| format!("{}: not a job result", path.display()))?;
        out.insert(r.job_id.clone(), (path, r));
    }
    Ok(out)
}

/// Rebuilds the tables (and plots) of a complete output directory from its spec and results.
pub fn report_dir(dir: &Path) -> anyhow::Result<Table> {
    let (spec, _) = load_spec(dir)?;
    let found = results_in(dir)?;
    let jobs = Job::expand(&spec);
    let missing: Vec<String> = jobs
        .iter()
        .map(Job::id)
        .filter(|id| !found.contains_key(id))
        .collect();
    if !missing.is_empty() {
        bail!(
            "{}: {} of {} jobs have no result (e.g. {}); finish the run, or merge its shards with `bench merge`",
            dir.display(),
            missing.len(),
            jobs.len(),
            missing[0]
        );
    }
    let results: Vec<JobResult> = jobs.iter().map(|j| found[&j.id()].1.clone()).collect();
    report::write_reports(dir, &spec, &results, &read_timing(dir))
}

/// Copies the trained policies of the merged jobs (`policies/<job-id>.safetensors`) from the
/// shards into `out/policies`; the same file in two shards must be byte-identical.
fn merge_policies(dirs: &[PathBuf], results: &[JobResult], out: &Path) -> anyhow::Result<()> {
    let mut found: BTreeMap<String, (PathBuf, Vec<u8>)> = BTreeMap::new();
    for d in dirs {
        let Ok(entries) = std::fs::read_dir(d.join("policies")) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            let Some(name) = path.file_name().map(|n| n.to_string_lossy().to_string()) else {
                continue;
            };
            if !name.ends_with(".safetensors") {
                continue;
            }
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            match found.get(&name) {
                Some((other, b)) if *b != bytes => bail!(
                    "{} and {} hold different policies for the same job; refusing to merge",
                    other.display(),
                    path.display()
                ),
                Some(_) => {}
                None => {
                    found.insert(name, (path, bytes));
                }
            }
        }
    }
    let wanted: std::collections::BTreeSet<String> = results
        .iter()
        .map(|r| format!("{}.safetensors", r.job_id))
        .collect();
    let mut kept = found
        .into_iter()
        .filter(|(name, _)| wanted.contains(name))
        .peekable();
    if kept.peek().is_none() {
        return Ok(());
    }
    let dir = out.join("policies");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, (_, bytes)) in kept {
        write_atomic(&dir.join(name), &bytes)?;
    }
    Ok(())
}

/// Merges shard directories into `out`: every job of the spec exactly once, all from the same
/// spec; then writes the same reports an unsharded run writes.
pub fn merge(dirs: &[PathBuf], out: &Path) -> anyhow::Result<Table> {
    let Some(first) = dirs.first() else {
        bail!("give the shard directories to merge");
    };
    let (spec, text) = load_spec(first)?;
    for d in &dirs[1..] {
        let (_, other) = load_spec(d)?;
        if other != text {
            bail!(
                "{} and {} ran different specs; refusing to merge",
                first.display(),
                d.display()
            );
        }
    }
    let mut found: BTreeMap<String, Vec<(PathBuf, JobResult)>> = BTreeMap::new();
    let mut timings = BTreeMap::new();
    for d in dirs {
        for (id, entry) in results_in(d)? {
            found.entry(id).or_default().push(entry);
        }
        timings.extend(read_timing(d));
    }
    let jobs = Job::expand(&spec);
    let mut results = Vec::with_capacity(jobs.len());
    let mut missing = Vec::new();
    for job in &jobs {
        let id = job.id();
        match found.remove(&id).as_deref() {
            None | Some([]) => missing.push(id),
            Some([(path, r)]) => {
                if r.job != *job {
                    bail!(
                        "{}: its job does not match the spec's job {id}",
                        path.display()
                    );
                }
                results.push(r.clone());
            }
            Some(many) => bail!(
                "job {id} has results in {} directories ({}); each job must come from one shard",
                many.len(),
                many.iter()
                    .map(|(p, _)| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    if !missing.is_empty() {
        bail!(
            "{} of {} jobs have no result in the given directories (e.g. {}); is a shard missing or unfinished?",
            missing.len(),
            jobs.len(),
            missing[0]
        );
    }
    if let Some((id, entries)) = found.into_iter().next() {
        bail!(
            "{}: job {id} is not a job of this spec",
            entries[0].0.display()
        );
    }

    // Every job must have been computed by the same software with the same settings, or the
    // merged run.ron would be false for some of them.
    if let Some(first) = results.first() {
        for r in &results[1..] {
            if r.computed_by != first.computed_by {
                let why = match (&r.computed_by, &first.computed_by) {
                    (Some(a), Some(b)) => a
                        .difference(b)
                        .map_or("provenance".to_string(), |(f, x, y)| {
                            format!("{f} {x} where job {} has {f} {y}", first.job_id)
                        }),
                    _ => "a provenance record on one side only".to_string(),
                };
                bail!(
                    "job {} was computed with {why}; shards computed with different settings or \
                     software give different bits, so they are not merged (rerun one shard with the \
                     other's settings)",
                    r.job_id
                );
            }
        }
    }
    let jobs_dir = out.join("jobs");
    std::fs::create_dir_all(&jobs_dir)
        .with_context(|| format!("cannot create {}", jobs_dir.display()))?;
    write_atomic(&out.join(SPEC_FILE), text.as_bytes())?;
    for r in &results {
        write_atomic(
            &jobs_dir.join(format!("{}.ron", r.job_id)),
            pretty(r).as_bytes(),
        )?;
    }
    merge_policies(dirs, &results, out)?;
    if let Ok(summary) = std::fs::read_to_string(first.join("run.ron"))
        && let Ok(mut summary) = ron::from_str::<RunSummary>(&summary)
    {
        summary.shard = None;
        summary.jobs = results.iter().map(|r| r.job_id.clone()).collect();
        write_atomic(&out.join("run.ron"), pretty(&summary).as_bytes())?;
    }
    let timing = super::RunTiming {
        started_unix_s: 0,
        wall_s: 0.0,
        prepare_s: 0.0,
        model_s: 0.0,
        pool_s: 0.0,
        jobs: timings,
    };
    write_atomic(&out.join("timing.ron"), pretty(&timing).as_bytes())?;
    report::write_reports(out, &spec, &results, &timing.jobs)
}
