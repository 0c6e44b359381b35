//! Golden regression: the CI-scale specs rerun and their tables compared exactly with golden/;
//! each run also checks the paired design (every strategy of a seed starts from the same metrics).
//!
//! Snapshots are keyed by device kind and thread count (libtorch's results differ between them).
//! To accept an intended change: `INSTA_UPDATE=always cargo test --release --test golden`, review
//! the diff of golden/, and say why in the commit message. CI never writes snapshots.
mod common;

const THREADS: usize = 1;

fn check_golden(spec: &str, name: &str) {
    let out = tempfile::tempdir().expect("temp dir");
    common::run_spec(spec, out.path(), THREADS);
    common::assert_same_start(out.path());
    common::assert_plots_readable(out.path());
    let table = std::fs::read_to_string(out.path().join("table.md")).expect("table.md written");
    insta::with_settings!({
        snapshot_path => "../golden",
        prepend_module_to_snapshot => false,
        snapshot_suffix => format!("cpu-threads{THREADS}"),
        description => spec,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, table);
    });
}

#[test]
fn quickstart_table_matches_golden() {
    check_golden("specs/ci/quickstart.ron", "quickstart");
}

#[test]
fn synthetic_histology_table_matches_golden() {
    check_golden("specs/ci/synthetic-histology.ron", "synthetic-histology");
}

#[test]
fn synthetic_histology_cnn_table_matches_golden() {
    check_golden(
        "specs/ci/synthetic-histology-cnn.ron",
        "synthetic-histology-cnn",
    );
}

#[test]
fn baselines_table_matches_golden() {
    check_golden("specs/baselines.ron", "baselines");
}

#[test]
fn rl_ci_table_matches_golden() {
    check_golden("specs/rl-ci.ron", "rl-ci");
}

/// Every CI-scale spec has a golden test: a new file under specs/ci/ without one fails here.
#[test]
fn every_ci_spec_is_covered() {
    let this = include_str!("golden.rs");
    for entry in std::fs::read_dir(common::root().join("specs/ci")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        assert!(
            this.contains(&format!("\"specs/ci/{name}\"")),
            "specs/ci/{name} has no golden test in tests/golden.rs"
        );
    }
}

#[test]
fn ci_table1_matches_golden() {
    check_golden("specs/ci/table1.ron", "table1");
}

#[test]
fn ci_table2_matches_golden() {
    check_golden("specs/ci/table2.ron", "table2");
}

#[test]
fn ci_figure1_matches_golden() {
    check_golden("specs/ci/figure1.ron", "figure1");
}

#[test]
fn ci_figure2_matches_golden() {
    check_golden("specs/ci/figure2.ron", "figure2");
}

#[test]
fn ci_figure3_matches_golden() {
    check_golden("specs/ci/figure3.ron", "figure3");
}

#[test]
fn ci_figure4_matches_golden() {
    check_golden("specs/ci/figure4.ron", "figure4");
}

#[test]
fn same_spec_twice_gives_byte_identical_results() {
    let a = tempfile::tempdir().expect("temp dir");
    let b = tempfile::tempdir().expect("temp dir");
    common::run_spec("specs/ci/quickstart.ron", a.path(), THREADS);
    common::run_spec("specs/ci/quickstart.ron", b.path(), THREADS);
    let (fa, fb) = (
        common::result_files(a.path()),
        common::result_files(b.path()),
    );
    // 20 job files, spec.ron, run.ron, table.md/.csv/.ron, stats.md/.csv/.ron, curves.svg/.png
    // (timing.ron left out; one cell, so no critical-difference diagram).
    assert_eq!(
        fa.len(),
        4 * 5 + 10,
        "{:?}",
        fa.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for ((pa, ba), (pb, bb)) in fa.iter().zip(&fb) {
        assert_eq!(pa, pb);
        assert!(ba == bb, "{} differs between two runs", pa.display());
    }
}

#[test]
fn an_interrupted_run_resumes_to_the_same_results() {
    let whole = tempfile::tempdir().expect("temp dir");
    common::run_spec("specs/ci/quickstart.ron", whole.path(), THREADS);

    // Simulate a run killed part-way: some job files missing, the table never written.
    let resumed = tempfile::tempdir().expect("temp dir");
    common::run_spec("specs/ci/quickstart.ron", resumed.path(), THREADS);
    let jobs = resumed.path().join("jobs");
    let mut names: Vec<_> = std::fs::read_dir(&jobs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for path in names.iter().step_by(3) {
        std::fs::remove_file(path).unwrap();
    }
    std::fs::remove_file(resumed.path().join("table.md")).unwrap();

    let removed = names.iter().step_by(3).count();
    common::run_spec("specs/ci/quickstart.ron", resumed.path(), THREADS).stderr(
        predicates::str::contains(format!("{removed} jobs run, {} reused", 20 - removed)),
    );
    assert_eq!(
        common::result_files(whole.path()),
        common::result_files(resumed.path())
    );
}

/// A worker pool gives the files one worker gives, learned strategies (policies/) included.
#[test]
fn parallel_jobs_give_byte_identical_results() {
    let one = tempfile::tempdir().expect("temp dir");
    let three = tempfile::tempdir().expect("temp dir");
    common::run_spec_with(
        "specs/ci/figure2.ron",
        one.path(),
        THREADS,
        &["--jobs", "1"],
    );
    common::run_spec_with(
        "specs/ci/figure2.ron",
        three.path(),
        THREADS,
        &["--jobs", "3"],
    );
    let (a, b) = (
        common::result_files(one.path()),
        common::result_files(three.path()),
    );
    assert!(a.iter().any(|(p, _)| p.starts_with("policies")));
    assert_eq!(
        a.iter().map(|f| &f.0).collect::<Vec<_>>(),
        b.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for ((pa, ba), (_, bb)) in a.iter().zip(&b) {
        assert!(
            ba == bb,
            "{} differs between --jobs 1 and --jobs 3",
            pa.display()
        );
    }
}

/// A job file that does not parse, one that holds another job, a policy file that does not parse
/// and a timing.ron that does not parse are each named in a warning; the jobs run again and the
/// results are those of an uninterrupted run.
#[test]
fn corrupt_files_are_named_and_rerun() {
    let whole = tempfile::tempdir().expect("temp dir");
    common::run_spec("specs/rl-ci.ron", whole.path(), THREADS);
    let dir = tempfile::tempdir().expect("temp dir");
    common::run_spec("specs/rl-ci.ron", dir.path(), THREADS);
    let mut jobs: Vec<_> = std::fs::read_dir(dir.path().join("jobs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    jobs.sort();
    std::fs::write(&jobs[0], "not a job").unwrap();
    std::fs::copy(&jobs[2], &jobs[1]).unwrap();
    let mut policies: Vec<_> = std::fs::read_dir(dir.path().join("policies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    policies.sort();
    std::fs::write(&policies[0], b"not a policy").unwrap();
    let stem = policies[0]
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .to_string();
    // The policy's job must run again for its policy to be read: remove its job file.
    std::fs::remove_file(dir.path().join("jobs").join(format!("{stem}.ron"))).ok();
    std::fs::write(dir.path().join("timing.ron"), "(").unwrap();
    let name = |p: &std::path::Path| p.file_name().unwrap().to_string_lossy().to_string();
    common::run_spec("specs/rl-ci.ron", dir.path(), THREADS)
        .stderr(predicates::str::contains(format!(
            "{} does not parse as a job result",
            name(&jobs[0])
        )))
        .stderr(predicates::str::contains(format!(
            "{} holds another job",
            name(&jobs[1])
        )))
        .stderr(predicates::str::contains(format!(
            "{} does not parse as a policy file",
            name(&policies[0])
        )))
        .stderr(predicates::str::contains("timing.ron does not parse"));
    assert_eq!(
        common::result_files(whole.path()),
        common::result_files(dir.path())
    );
}
