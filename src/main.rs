//! The `bench` command line: a thin layer over the ralbench library.
use clap::{Parser, Subcommand};
use ralbench::device::DeviceChoice;
use ralbench::run::{Plan, RunOptions};
use ralbench::spec::Spec;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code for bad input: a malformed spec, an impossible setting.
const EXIT_BAD_INPUT: u8 = 2;

#[derive(Parser)]
#[command(
    name = "bench",
    version,
    about = "Deterministic active-learning benchmarks from RON specs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every job of a spec and print its accuracy table.
    #[command(after_help = "Examples:\n  \
        bench run specs/quickstart.ron\n  \
        bench run specs/quickstart.ron --out /tmp/qs --threads 2\n  \
        bench run specs/baselines.ron --jobs 2          # two jobs at once, same results\n  \
        bench run specs/quickstart.ron --device cuda\n\n\
        Results go to results/<spec name>/ unless --out is given: jobs/<id>.ron per job, run.ron \
        (provenance), timing.ron, table.md. Finished jobs found there are reused, so an \
        interrupted run resumes where it stopped.\n\n\
        Exit codes: 0 success, 1 failure while running, 2 bad input (spec, device).")]
    Run {
        /// The spec file (RON), e.g. specs/quickstart.ron.
        spec: PathBuf,
        /// Output directory [default: results/<spec name>].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Where libtorch computes: auto (CUDA when available), cpu or cuda.
        #[arg(long, default_value = "auto")]
        device: DeviceChoice,
        /// libtorch threads per job; results are bit-identical only for the same count.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
        threads: u16,
        /// Jobs run at once [default: the machine's cores divided by --threads]. Results do
        /// not depend on it; memory grows with it (each running job holds its own classifier,
        /// episode and, for learned strategies, replay buffer).
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
        jobs: Option<u16>,
        /// Rerun finished jobs in --out that were computed with other settings or software
        /// (threads, device, CPU code path, versions) instead of refusing to mix them.
        #[arg(long)]
        rerun_mismatched: bool,
        /// Run only shard M of N (1-based; the jobs whose id is M - 1 modulo N); default: SLURM_ARRAY_TASK_ID and
        /// SLURM_ARRAY_TASK_COUNT when set. Join the shards with `bench merge`.
        #[arg(long)]
        shard: Option<ralbench::run::Shard>,
    },
    /// Join the output directories of a sharded run and write its tables and plots.
    #[command(after_help = "Example:\n  \
        bench run specs/ci/table1.ron --shard 1/3 --out r/1   # likewise 2/3 and 3/3\n  \
        bench merge r/1 r/2 r/3 --out r/all\n\n\
        Refuses shards of different specs, and a set with a job missing, duplicated or not of the spec.")]
    Merge {
        /// Shard output directories.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where the merged results and reports go.
        #[arg(long)]
        out: PathBuf,
    },
    /// Rebuild the tables (Markdown, CSV, RON) and plots of a finished output directory.
    #[command(after_help = "Example:\n  bench report results/quickstart")]
    Report {
        /// An output directory of `bench run` or `bench merge`.
        dir: PathBuf,
    },
    /// Compare a run's table with published numbers (golden/paper/*.ron), cell by cell.
    #[command(
        after_help = "Example:\n  bench compare results/table1 golden/paper/table1.ron\n\n\
        Each cell shows reproduced and published mean +/- interval and the difference in units of \
        the combined interval. The comparison is also written to RESULTS/compare.md and shown in \
        RESULTS/report.html. Runs on SYNTHETIC data are refused: they reproduce nothing."
    )]
    Compare {
        /// An output directory of `bench run` or `bench merge`.
        results: PathBuf,
        /// A published table, e.g. golden/paper/table1.ron.
        paper: PathBuf,
    },
    /// List, download, verify and pin the dataset artifacts of datasets.lock.
    #[command(subcommand)]
    Datasets(DatasetsCommand),
    /// Pick rows with one strategy from saved probabilities (or embeddings): the interface an
    /// outside conformance check uses. Prints the chosen row indices, one per line, best first.
    #[command(after_help = "Examples:\n  \
        bench query --strategy margin --proba probs.npy --n 10\n  \
        bench query --strategy k-center --embed emb.npy --labelled labelled.npy --n 10\n\n\
        --proba: (n_samples x n_classes) float32 or float64 .npy; indices refer to its rows.\n\
        --embed: (n_rows x width) float32/float64 .npy; --labelled: 1-D int64 .npy of labelled \
        row indices; indices refer to rows of --embed and are never labelled ones.\n\
        Exact score ties are broken by a shuffle seeded with --seed, then a stable sort.")]
    Query {
        /// random, least-confident, margin, entropy, avg-confidence or k-center.
        #[arg(long)]
        strategy: String,
        /// Probability matrix (.npy), for the score-based strategies.
        #[arg(long, required_unless_present = "embed")]
        proba: Option<PathBuf>,
        /// Embeddings of every row (.npy), for k-center.
        #[arg(long, requires = "labelled")]
        embed: Option<PathBuf>,
        /// Labelled row indices (.npy, int64), for k-center.
        #[arg(long)]
        labelled: Option<PathBuf>,
        /// How many rows to pick.
        #[arg(long)]
        n: usize,
        /// Seed of the tie-breaking stream.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Fit logistic regression as scikit-learn's `LogisticRegression(C=c)` does (L-BFGS, L2,
    /// intercept unpenalised) on saved data: the interface of benchmarks/peer/logreg_conformance.py.
    #[command(after_help = "Example:\n  \
        bench fit-logreg --x x.npy --y y.npy --c 1.0 --out /tmp/fit\n\n\
        --x: (n_samples x n_features) float32/float64 .npy; --y: 1-D int64 .npy of labels in \
        0..K. Writes coef.npy (K x n_features), intercept.npy (K) and proba.npy (n_samples x K), \
        float64, into --out. Two classes are one logistic: row 0 of coef is 0, row 1 is \
        scikit-learn's coef_[0].")]
    FitLogreg {
        /// Inputs (.npy).
        #[arg(long)]
        x: PathBuf,
        /// Labels (.npy, int64).
        #[arg(long)]
        y: PathBuf,
        /// Inverse L2 strength.
        #[arg(long, default_value_t = 1.0)]
        c: f64,
        /// Largest absolute gradient entry at which the solver stops.
        #[arg(long, default_value_t = 1e-4)]
        tol: f64,
        /// Most L-BFGS iterations.
        #[arg(long, default_value_t = 100)]
        max_iter: usize,
        /// Number of classes K (default: the largest label + 1).
        #[arg(long)]
        classes: Option<usize>,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the exact inputs of a spec's jobs (.npy arrays + manifest.json) for an outside
    /// implementation of the same loop, such as benchmarks/peer/race.py.
    #[command(
        after_help = "Example:\n  bench export specs/ci/quickstart.ron --out /tmp/export\n\n\
        Writes manifest.json (every random and score-based job: id, strategy, classifier, \
        schedule, seed) and data/<key>/{x,y,pool,test,initial}.npy: the rows as the classifier \
        sees them (noise applied, tabular features standardised), labels, the split and the \
        initial labelled set. Learned and embedding-based strategies are left out."
    )]
    Export {
        /// The spec file (RON).
        spec: PathBuf,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a spec and list its jobs without running anything (or loading any data).
    #[command(after_help = "Example:\n  bench check specs/quickstart.ron")]
    Check {
        /// The spec file (RON).
        spec: PathBuf,
        /// Also estimate the run's wall time here: count every job's work from the spec, time
        /// each kind of work once on this machine (a few seconds), and multiply. Needs no data.
        #[arg(long)]
        estimate: bool,
        /// Jobs at once for the estimate [default: the machine's cores divided by --threads].
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
        jobs: Option<u16>,
        /// libtorch threads per job for the estimate's calibration.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
        threads: u16,
    },
}

#[derive(Subcommand)]
#[command(after_help = "Environment:\n  \
    BENCH_CACHE    cache directory [default: the XDG cache dir + /ralbench]\n  \
    BENCH_OFFLINE  1: never use the network\n  \
    BENCH_MIRROR   base URL or directory that replaces every url's host\n  \
    BENCH_LOCK     lock file [default: ./datasets.lock, else the one built in]\n  \
    BENCH_TIMEOUT_S  connect/read timeout in seconds [default: 30]")]
enum DatasetsCommand {
    /// Every artifact of the lock: size, checksum kind, whether a verified copy is cached.
    List,
    /// Download and verify artifacts into the cache.
    #[command(after_help = "Example:\n  bench datasets fetch pneumoniamnist kather2016-tiles")]
    Fetch {
        /// Artifact names (see `bench datasets list`).
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Re-hash cached artifacts (all when no name is given); a corrupt copy is removed.
    Verify {
        /// Artifact names.
        names: Vec<String>,
    },
    /// Download an artifact and record its sha256 and size in datasets.lock.
    #[command(
        after_help = "For entries with only an md5 (or no checksum) upstream, the recorded \
        sha256 is trust on first use, and the command says so.\n\nExample:\n  \
        bench datasets lock pneumoniamnist-64"
    )]
    Lock {
        /// Artifact name.
        name: String,
    },
}

fn main() -> ExitCode {
    // `bench check spec | head` should end quietly, as command-line tools do, not panic.
    // SAFETY: restoring the default disposition of SIGPIPE before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    ralbench::device::pin_cpu_code_path();
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            spec,
            out,
            device,
            threads,
            jobs,
            rerun_mismatched,
            shard,
        } => {
            let shard = match shard.map_or_else(ralbench::run::Shard::from_slurm, |s| Ok(Some(s))) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(EXIT_BAD_INPUT);
                }
            };
            let workers = jobs.map_or_else(|| default_jobs(threads as usize), |j| j as usize);
            let plan = match plan(&spec, workers) {
                Ok(plan) => plan,
                Err(code) => return code,
            };
            let opts = RunOptions {
                out: out.unwrap_or_else(|| PathBuf::from("results").join(&plan.0)),
                device,
                threads: threads as usize,
                jobs: workers,
                rerun_mismatched,
                shard,
            };
            ralbench::run::signals::install();
            match plan.1.execute(&opts) {
                Ok(outcome) => {
                    match (&outcome.table, shard) {
                        (Some(table), _) => {
                            print!("{}", table.to_markdown());
                            print_footer(table);
                        }
                        (None, Some(s)) => println!(
                            "shard {}/{} done; join the shards with `bench merge DIR.. --out DIR`",
                            s.index, s.count
                        ),
                        (None, None) => {}
                    }
                    eprintln!(
                        "\n{} jobs run, {} reused; results in {}",
                        outcome.ran,
                        outcome.reused,
                        opts.out.display()
                    );
                    if outcome.ran > 0 {
                        let t = &outcome.timing;
                        eprintln!(
                            "time: {:.1} s, of which {:.1}% outside classifier and policy work \
                             (data, features, selection, bookkeeping, I/O; timing.ron)",
                            t.prepare_s + t.wall_s,
                            100.0 * t.harness_share()
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(e) if e.is::<ralbench::run::PlanError>() => {
                    eprintln!("error: {e:#}");
                    ExitCode::from(EXIT_BAD_INPUT)
                }
                Err(e) if e.is::<ralbench::run::signals::Interrupted>() => {
                    eprintln!("\n{e}");
                    let signal = e
                        .downcast_ref::<ralbench::run::signals::Interrupted>()
                        .map_or(2, |i| i.signal);
                    ExitCode::from(128 + signal as u8)
                }
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Datasets(command) => datasets(command),
        Command::Merge { dirs, out } => print_table(ralbench::run::merge::merge(&dirs, &out)),
        Command::Report { dir } => print_table(ralbench::run::merge::report_dir(&dir)),
        Command::Compare { results, paper } => match ralbench::compare::compare(&results, &paper) {
            Ok(text) => {
                print!("{text}");
                // Kept with the run, and shown in its report.html.
                let md = results.join(ralbench::report::html::COMPARE_FILE);
                match ralbench::io::write_atomic(&md, text.as_bytes()) {
                    Err(e) => eprintln!("warning: {e}"),
                    Ok(()) => match ralbench::run::merge::report_dir(&results) {
                        Ok(_) => eprintln!(
                            "wrote {} and its section of {}",
                            md.display(),
                            results.join(ralbench::report::html::FILE).display()
                        ),
                        Err(e) => eprintln!("warning: report.html not refreshed: {e:#}"),
                    },
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(EXIT_BAD_INPUT)
            }
        },
        Command::Query {
            strategy,
            proba,
            embed,
            labelled,
            n,
            seed,
        } => match query(&strategy, proba, embed, labelled, n, seed) {
            Ok(picks) => {
                for p in picks {
                    println!("{p}");
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(EXIT_BAD_INPUT)
            }
        },
        Command::FitLogreg {
            x,
            y,
            c,
            tol,
            max_iter,
            classes,
            out,
        } => match fit_logreg(&x, &y, c, tol, max_iter, classes, &out) {
            Ok(iterations) => {
                eprintln!(
                    "fitted in {iterations} L-BFGS iterations; wrote {}",
                    out.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(EXIT_BAD_INPUT)
            }
        },
        Command::Export { spec, out } => {
            let (_, plan) = match plan(&spec, 1) {
                Ok(plan) => plan,
                Err(code) => return code,
            };
            if let Err(e) = ralbench::device::configure(DeviceChoice::Cpu, 1, true) {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
            match plan.export(&out) {
                Ok((manifest, skipped)) => {
                    eprintln!(
                        "{} jobs exported to {}{}",
                        manifest.jobs.len(),
                        out.display(),
                        if skipped > 0 {
                            format!(
                                " ({skipped} of learned or embedding-based strategies left out)"
                            )
                        } else {
                            String::new()
                        }
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        // Validates without loading data, so paper-scale specs can be checked offline.
        Command::Check {
            spec: path,
            estimate,
            jobs: workers,
            threads,
        } => match Spec::load(&path) {
            Ok((spec, _)) => {
                let jobs = ralbench::run::Job::expand(&spec);
                let workers =
                    workers.map_or_else(|| default_jobs(threads as usize), |j| j as usize);
                if let Err(e) = ralbench::run::estimate::check_memory(&spec, &path, workers) {
                    eprintln!("error: {e}");
                    return ExitCode::from(EXIT_BAD_INPUT);
                }
                println!("{}: ok, {} jobs", path.display(), jobs.len());
                if estimate {
                    tch::set_num_threads(threads as i32);
                    let e = ralbench::run::estimate::estimate(&spec);
                    print!("{}", ralbench::run::estimate::render(&spec, &e, workers));
                    return ExitCode::SUCCESS;
                }
                for job in &jobs {
                    println!(
                        "  {}  {} {} noise {} seed {}",
                        job.id(),
                        job.dataset.name(),
                        job.strategy.name(),
                        job.noise_label(),
                        job.seed
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(EXIT_BAD_INPUT)
            }
        },
    }
}

/// Loads, validates and plans a spec; prints the error and gives exit code 2 when it is bad.
/// `workers` jobs at once: the memory check counts that many running jobs.
fn plan(path: &std::path::Path, workers: usize) -> Result<(String, Plan), ExitCode> {
    let result = Spec::load(path)
        .map_err(anyhow::Error::from)
        .and_then(|(spec, text)| {
            ralbench::run::estimate::check_memory(&spec, path, workers)
                .map_err(anyhow::Error::msg)?;
            let name = spec.name.clone();
            let sources = ralbench::data::Sources::from_env()?;
            Ok((name, Plan::new(spec, &text, path, &sources)?))
        });
    result.map_err(|e| {
        eprintln!("error: {e:#}");
        ExitCode::from(EXIT_BAD_INPUT)
    })
}

/// `bench datasets ...`.
fn datasets(command: DatasetsCommand) -> ExitCode {
    use ralbench::data::{BUILT_IN_LOCK_PATH, Sources, fetch};
    let mut sources = match Sources::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    let cfg = sources.fetch.clone();
    let artifacts = |names: &[String]| -> Result<Vec<_>, ExitCode> {
        names
            .iter()
            .map(|n| sources.lock.get(n).cloned())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                eprintln!("error: {e}");
                ExitCode::from(EXIT_BAD_INPUT)
            })
    };
    match command {
        DatasetsCommand::List => {
            println!("{:<20} {:>10}  {:<14} cache", "name", "size", "checksum");
            for a in &sources.lock.artifacts {
                let size = a
                    .size
                    .map_or("?".into(), |s| indicatif::HumanBytes(s).to_string());
                let checksum = match (&a.sha256, &a.md5) {
                    (Some(_), Some(_)) => "sha256 + md5",
                    (Some(_), None) => "sha256",
                    (None, Some(_)) => "md5 only",
                    (None, None) => "none",
                };
                let cached = a.checksum().is_some_and(|c| cfg.blob_path(&c).is_file());
                let cache = if cached { "verified" } else { "not cached" };
                println!("{:<20} {size:>10}  {checksum:<14} {cache}", a.name);
            }
            println!(
                "\nlock: {}\ncache: {}\nbuilt in, no download: Digits, BreastCancer (real); \
                 SyntheticHistology, SyntheticXray (SYNTHETIC)",
                sources.lock.path.display(),
                cfg.cache.display()
            );
            ExitCode::SUCCESS
        }
        DatasetsCommand::Fetch { names } => {
            let list = match artifacts(&names) {
                Ok(l) => l,
                Err(code) => return code,
            };
            let mut failed = false;
            for a in list {
                match fetch::fetch(&a, &cfg) {
                    Ok(path) => println!("{}: verified, {}", a.name, path.display()),
                    Err(e) => {
                        eprintln!("error: {e}");
                        failed = true;
                    }
                }
            }
            if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        DatasetsCommand::Verify { names } => {
            let list = if names.is_empty() {
                sources.lock.artifacts.clone()
            } else {
                match artifacts(&names) {
                    Ok(l) => l,
                    Err(code) => return code,
                }
            };
            let mut failed = false;
            for a in list {
                match fetch::verify_cached(&a, &cfg) {
                    Ok(true) => println!("{}: ok", a.name),
                    Ok(false) => println!("{}: not cached", a.name),
                    Err(e) => {
                        eprintln!("error: {e}; the corrupt copy was removed");
                        failed = true;
                    }
                }
            }
            if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        DatasetsCommand::Lock { name } => {
            if sources.lock.path.as_os_str() == BUILT_IN_LOCK_PATH {
                eprintln!(
                    "error: no datasets.lock here to update; run from the repository root or set BENCH_LOCK"
                );
                return ExitCode::from(EXIT_BAD_INPUT);
            }
            let artifact = match artifacts(&[name]) {
                Ok(mut l) => l.remove(0),
                Err(code) => return code,
            };
            let (pinned, trust) = match fetch::pin(&artifact, &cfg) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let sha = pinned.sha256.clone().unwrap_or_default();
            let path = sources.lock.path.clone();
            if let Err(e) = sources.lock.update(pinned) {
                eprintln!("error: {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
            let how = match trust {
                fetch::Trust::Published => "matches the published sha256",
                fetch::Trust::FirstUseMd5 => {
                    "trust on first use: upstream publishes only an md5, which the download matched"
                }
                fetch::Trust::FirstUse => {
                    "trust on first use: upstream publishes no checksum; check the file before relying on it"
                }
            };
            println!(
                "{}: sha256 {sha} recorded in {} ({how})",
                artifact.name,
                path.display()
            );
            ExitCode::SUCCESS
        }
    }
}

/// `bench query`: reads the .npy inputs and runs one strategy's selection.
fn query(
    name: &str,
    proba: Option<PathBuf>,
    embed: Option<PathBuf>,
    labelled: Option<PathBuf>,
    n: usize,
    seed: u64,
) -> anyhow::Result<Vec<usize>> {
    use anyhow::{Context, bail};
    use ralbench::spec::StrategySpec;
    use ralbench::strategy;
    let Some(strategy) = StrategySpec::QUERYABLE
        .into_iter()
        .find(|s| s.name() == name)
    else {
        let known: Vec<String> = StrategySpec::QUERYABLE.iter().map(|s| s.name()).collect();
        bail!("unknown strategy {name:?}; known: {}", known.join(", "));
    };
    let mut rng = ralbench::rng::stream(seed, "query");
    if strategy.needs_embeddings() {
        let (Some(embed), Some(labelled)) = (embed, labelled) else {
            bail!("{name} needs --embed FILE.npy and --labelled FILE.npy");
        };
        let (rows, width, values) = read_matrix(&embed)?;
        let lab: ndarray::Array1<i64> = ndarray_npy::read_npy(&labelled)
            .with_context(|| format!("{}: expected a 1-D int64 .npy", labelled.display()))?;
        let mut is_labelled = vec![false; rows];
        for &i in &lab {
            let i = usize::try_from(i)
                .ok()
                .filter(|&i| i < rows)
                .with_context(|| {
                    format!(
                        "{}: index {i} is not a row of {}",
                        labelled.display(),
                        embed.display()
                    )
                })?;
            is_labelled[i] = true;
        }
        let all = tch::Tensor::from_slice(&values).view([rows as i64, width as i64]);
        let pick =
            |want: bool| -> Vec<usize> { (0..rows).filter(|&i| is_labelled[i] == want).collect() };
        let (cand_rows, lab_rows) = (pick(false), pick(true));
        let take = |idx: &[usize]| {
            let idx: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
            all.index_select(0, &tch::Tensor::from_slice(&idx))
        };
        let picks = strategy::k_center_greedy(&take(&cand_rows), &take(&lab_rows), n, &mut rng);
        return Ok(picks.into_iter().map(|p| cand_rows[p]).collect());
    }
    let Some(proba) = proba else {
        bail!("{name} needs --proba FILE.npy");
    };
    let (rows, classes, values) = read_matrix(&proba)?;
    if strategy == StrategySpec::Random {
        return Ok(strategy::random_n(rows, n, &mut rng));
    }
    Ok(strategy::select(&strategy, &values, classes, n, &mut rng))
}

/// `bench fit-logreg`: returns the iterations used.
fn fit_logreg(
    x: &std::path::Path,
    y: &std::path::Path,
    c: f64,
    tol: f64,
    max_iter: usize,
    classes: Option<usize>,
    out: &std::path::Path,
) -> anyhow::Result<usize> {
    use anyhow::Context;
    use ralbench::model::logreg;
    anyhow::ensure!(
        c > 0.0 && tol > 0.0 && max_iter > 0,
        "--c and --tol must be > 0, --max-iter >= 1"
    );
    let (rows, cols, values) = read_matrix(x)?;
    let labels: ndarray::Array1<i64> = ndarray_npy::read_npy(y)
        .with_context(|| format!("{}: expected a 1-D int64 .npy", y.display()))?;
    anyhow::ensure!(
        labels.len() == rows && labels.iter().all(|&l| l >= 0),
        "{}: expected {rows} non-negative labels",
        y.display()
    );
    let seen = labels.iter().max().map_or(1, |&m| m as usize + 1);
    let k = classes.unwrap_or(seen);
    anyhow::ensure!(
        k >= seen,
        "--classes {k} is smaller than the largest label + 1 ({seen})"
    );
    let xt = tch::Tensor::from_slice(&values).view([rows as i64, cols as i64]);
    let yt = tch::Tensor::from_slice(labels.as_slice().expect("contiguous"));
    let fitted = logreg::fit(&xt, &yt, k, logreg::Settings { c, tol, max_iter }, None);
    let proba = (xt.to_kind(tch::Kind::Float).matmul(&fitted.weight.tr()) + &fitted.bias)
        .softmax(1, tch::Kind::Double);
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let save = |name: &str, t: &tch::Tensor| -> anyhow::Result<()> {
        let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
        let v = Vec::<f64>::try_from(t.to_kind(tch::Kind::Double).reshape([-1]))?;
        let a = ndarray::ArrayD::from_shape_vec(shape, v)?;
        ndarray_npy::write_npy(out.join(name), &a)
            .with_context(|| format!("cannot write {}", out.join(name).display()))
    };
    save("coef.npy", &fitted.weight)?;
    save("intercept.npy", &fitted.bias)?;
    save("proba.npy", &proba)?;
    Ok(fitted.iterations)
}

/// A 2-D float32 or float64 .npy as (rows, columns, row-major values widened to f64).
fn read_matrix(path: &std::path::Path) -> anyhow::Result<(usize, usize, Vec<f64>)> {
    use anyhow::Context;
    let as_f64: Result<ndarray::Array2<f64>, _> = ndarray_npy::read_npy(path);
    let m = match as_f64 {
        Ok(m) => m,
        Err(_) => ndarray_npy::read_npy::<_, ndarray::Array2<f32>>(path)
            .with_context(|| format!("{}: expected a 2-D float32 or float64 .npy", path.display()))?
            .mapv(f64::from),
    };
    let (rows, cols) = m.dim();
    anyhow::ensure!(cols > 0, "{}: the matrix has no columns", path.display());
    Ok((rows, cols, m.iter().copied().collect()))
}

/// Prints a rebuilt table, or the error (exit 2: the directories given are not usable).
/// Jobs at once by default: the machine's cores divided by the threads each job uses.
fn default_jobs(threads: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / threads.max(1)).max(1)
}

/// The statistics' one-line summaries, after a blank line.
fn print_footer(table: &ralbench::report::Table) {
    if !table.footer.is_empty() {
        println!();
        for line in &table.footer {
            println!("{line}");
        }
    }
}

fn print_table(result: anyhow::Result<ralbench::report::Table>) -> ExitCode {
    match result {
        Ok(table) => {
            print!("{}", table.to_markdown());
            print_footer(&table);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}
