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
        /// libtorch threads; results are bit-identical only for the same count.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
        threads: u16,
    },
    /// Check a spec and list its jobs without running anything.
    #[command(after_help = "Example:\n  bench check specs/quickstart.ron")]
    Check {
        /// The spec file (RON).
        spec: PathBuf,
    },
}

fn main() -> ExitCode {
    ralbench::device::pin_cpu_code_path();
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            spec,
            out,
            device,
            threads,
        } => {
            let plan = match plan(&spec) {
                Ok(plan) => plan,
                Err(code) => return code,
            };
            let opts = RunOptions {
                out: out.unwrap_or_else(|| PathBuf::from("results").join(&plan.0)),
                device,
                threads: threads as usize,
            };
            match plan.1.execute(&opts) {
                Ok(outcome) => {
                    print!("{}", outcome.table.to_markdown());
                    eprintln!(
                        "\n{} jobs run, {} reused; results in {}",
                        outcome.ran,
                        outcome.reused,
                        opts.out.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) if e.is::<ralbench::run::PlanError>() => {
                    eprintln!("error: {e:#}");
                    ExitCode::from(EXIT_BAD_INPUT)
                }
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Check { spec } => match plan(&spec) {
            Ok((_, plan)) => {
                println!("{}: ok, {} jobs", spec.display(), plan.jobs().len());
                for job in plan.jobs() {
                    println!("  {}  {} seed {}", job.id(), job.strategy.name(), job.seed);
                }
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
    }
}

/// Loads, validates and plans a spec; prints the error and gives exit code 2 when it is bad.
fn plan(path: &std::path::Path) -> Result<(String, Plan), ExitCode> {
    let result = Spec::load(path)
        .map_err(anyhow::Error::from)
        .and_then(|(spec, text)| {
            let name = spec.name.clone();
            let sources = ralbench::data::Sources::from_env()?;
            Ok((name, Plan::new(spec, &text, path, &sources)?))
        });
    result.map_err(|e| {
        eprintln!("error: {e:#}");
        ExitCode::from(EXIT_BAD_INPUT)
    })
}
