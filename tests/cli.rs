//! The `bench` command line as a user meets it: the happy path and refusals of bad specs.
mod common;
use predicates::prelude::*;

#[test]
fn run_prints_a_table_with_every_strategy_and_writes_results() {
    let out = tempfile::tempdir().expect("temp dir");
    let assert = common::run_spec("specs/ci/quickstart.ron", out.path(), 1);
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("mean ± std over 5 seeds (digits, real data)"),
        "{stdout}"
    );
    assert!(stdout.contains("| strategy | 10 labels | 50 labels | 100 labels |"));
    for s in ["random", "margin", "entropy", "least-confident"] {
        assert!(
            stdout.contains(&format!("| {s} | ")),
            "row {s} missing:\n{stdout}"
        );
    }
    let run = std::fs::read_to_string(out.path().join("run.ron")).unwrap();
    for field in [
        "spec_sha256",
        "git_sha",
        "tch_version",
        "libtorch_version",
        "threads: 1",
    ] {
        assert!(run.contains(field), "run.ron lacks {field}:\n{run}");
    }
    assert_eq!(
        std::fs::read_dir(out.path().join("jobs")).unwrap().count(),
        20
    );
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("% outside classifier and policy work"),
        "{stderr}"
    );
    let timing: ralbench::run::RunTiming =
        ron::from_str(&std::fs::read_to_string(out.path().join("timing.ron")).unwrap()).unwrap();
    let jobs_model: f64 = timing.jobs.values().flatten().map(|t| t.model_s).sum();
    assert_eq!(timing.model_s, jobs_model);
    // Summed over jobs that may run at once: bounded by the jobs' own times, not the wall time.
    let jobs_total: f64 = timing.jobs.values().flatten().map(|t| t.total_s).sum();
    assert!(timing.model_s > 0.0 && timing.model_s <= jobs_total);
    assert!(timing.pool_s > 0.0 && timing.pool_s <= timing.wall_s);
    assert!((0.0..1.0).contains(&timing.harness_share()));
}

/// A bad spec exits with 2, names the position or field, and creates no output directory.
fn refuses(fixture: &str, expected: &str) {
    let out = tempfile::tempdir().expect("temp dir");
    let target = out.path().join("results");
    common::bench()
        .args(["run", &format!("tests/data/{fixture}"), "--out"])
        .arg(&target)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(expected));
    assert!(!target.exists(), "{fixture}: output directory was created");
}

#[test]
fn syntax_error_reports_file_line_and_column() {
    refuses(
        "syntax_error.ron",
        "tests/data/syntax_error.ron:3:36: Expected comma",
    );
}

#[test]
fn unknown_field_reports_its_position() {
    refuses(
        "unknown_field.ron",
        "tests/data/unknown_field.ron:16:5: Unexpected field named `budgett`",
    );
}

#[test]
fn unknown_strategy_reports_its_position_and_the_known_ones() {
    refuses(
        "unknown_strategy.ron",
        "tests/data/unknown_strategy.ron:13:26: Unexpected variant named `Marginn` in enum `Strategy`, \
         expected one of `Random`, `Margin`, `Entropy`, `LeastConfident`, `AverageConfidence`, \
         `KCenterGreedy`, `Dral`, or `LalRl`",
    );
}

#[test]
fn budget_below_the_initial_set_names_the_field() {
    refuses(
        "budget_below_initial.ron",
        "tests/data/budget_below_initial.ron: budget: 5 is smaller than initial_labelled (10)",
    );
}

#[test]
fn budget_beyond_the_dataset_is_refused_before_any_schedule_is_built() {
    refuses(
        "budget_beyond_dataset.ron",
        "tests/data/budget_beyond_dataset.ron: budget: 4294967296 labels, but setups[0] (Digits) has only 1797 rows in all",
    );
}

#[test]
fn empty_seed_list_names_the_field() {
    refuses(
        "empty_seeds.ron",
        "tests/data/empty_seeds.ron: seeds: list at least one seed",
    );
}

#[test]
fn missing_spec_file_is_bad_input() {
    refuses(
        "does_not_exist.ron",
        "tests/data/does_not_exist.ron: cannot read spec",
    );
}

#[test]
fn check_lists_jobs_without_running() {
    common::bench()
        .args(["check", "specs/ci/quickstart.ron"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ok, 20 jobs"))
        .stdout(predicate::str::contains(
            "digits least-confident noise 0% seed 4",
        ));
}

#[test]
fn help_shows_examples() {
    common::bench()
        .args(["run", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("bench run specs/quickstart.ron"));
}

/// A spec inside the validated bounds whose data cannot fit in memory is refused before anything
/// is allocated (exit 2, the estimate and the limit named), by `check` and by `run`; the
/// environment override lets it through `check`.
#[test]
fn a_spec_too_large_for_memory_is_refused_with_the_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let spec = std::fs::read_to_string(common::root().join("specs/ci/synthetic-histology.ron"))
        .unwrap()
        .replace("per_class: 30,", "per_class: 100000,");
    assert!(spec.contains("per_class: 100000"));
    let path = dir.path().join("huge.ron");
    std::fs::write(&path, spec).unwrap();
    let out = dir.path().join("out");
    let run = ["run", "--device", "cpu", "--out", out.to_str().unwrap()];
    for args in [&["check"][..], &run[..]] {
        common::bench()
            .args(&args[..1])
            .arg(&path)
            .args(&args[1..])
            .env_remove("BENCH_MAX_MEMORY")
            .assert()
            .code(2)
            .stderr(predicate::str::contains("this run needs about"))
            .stderr(predicate::str::contains("GiB available"));
    }
    assert!(!dir.path().join("out").exists());
    common::bench()
        .args(["check"])
        .arg(&path)
        .env("BENCH_MAX_MEMORY", "100000")
        .assert()
        .success();
}
