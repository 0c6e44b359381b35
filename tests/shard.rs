//! Sharded runs, merges, reports, resumption after SIGKILL, and comparison with the paper.
mod common;
use predicates::prelude::*;
use std::path::Path;

const TABLES: [&str; 6] = [
    "table.md",
    "table.csv",
    "table.ron",
    "stats.md",
    "stats.csv",
    "stats.ron",
];

fn tables(dir: &Path) -> Vec<Vec<u8>> {
    TABLES
        .iter()
        .map(|t| std::fs::read(dir.join(t)).unwrap())
        .collect()
}

fn shard(spec: &str, out: &Path, s: &str) {
    common::run_spec_with(spec, out, 1, &["--shard", s])
        .stdout(predicate::str::contains(format!("shard {s} done")));
}

#[test]
fn three_shards_merged_give_the_same_tables_as_one_run() {
    let spec = "specs/ci/table1.ron";
    let whole = tempfile::tempdir().unwrap();
    common::run_spec(spec, whole.path(), 1);
    let parts = tempfile::tempdir().unwrap();
    let dirs: Vec<_> = (1..=3)
        .map(|i| parts.path().join(format!("s{i}")))
        .collect();
    for (i, d) in dirs.iter().enumerate() {
        shard(spec, d, &format!("{}/3", i + 1));
        assert!(
            !d.join("table.md").exists(),
            "a shard must not write a partial table"
        );
    }
    let merged = parts.path().join("merged");
    common::bench()
        .arg("merge")
        .args(&dirs)
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    assert_eq!(tables(whole.path()), tables(&merged));
    // Job files and trained policies too: each shard computed exactly what the whole run did.
    let jobs = |d: &Path| common::result_files(&d.join("jobs"));
    assert_eq!(jobs(whole.path()), jobs(&merged));
    let policies = |d: &Path| common::result_files(&d.join("policies"));
    assert!(!policies(whole.path()).is_empty());
    assert_eq!(policies(whole.path()), policies(&merged));
    // The same policy in two shards must be the same bytes.
    let (name, bytes) = policies(&dirs[0])
        .into_iter()
        .next()
        .expect("shard 1 trained one");
    let mut other = bytes.clone();
    *other.last_mut().unwrap() ^= 1;
    std::fs::write(dirs[1].join("policies").join(&name), &other).unwrap();
    common::bench()
        .arg("merge")
        .args(&dirs)
        .arg("--out")
        .arg(parts.path().join("m-conflict"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "hold different policies for the same job",
        ));
    std::fs::remove_file(dirs[1].join("policies").join(&name)).unwrap();

    // Refusals: a missing shard, a shard given twice, shards of another spec.
    common::bench()
        .arg("merge")
        .args(&dirs[..2])
        .arg("--out")
        .arg(parts.path().join("m2"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "jobs have no result in the given directories",
        ));
    common::bench()
        .arg("merge")
        .args(&dirs)
        .arg(&dirs[0])
        .arg("--out")
        .arg(parts.path().join("m3"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has results in 2 directories"));
    let other = parts.path().join("other");
    common::run_spec("specs/ci/quickstart.ron", &other, 1);
    common::bench()
        .arg("merge")
        .arg(&dirs[0])
        .arg(&other)
        .arg("--out")
        .arg(parts.path().join("m4"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("ran different specs"));
}

#[test]
fn bad_shard_arguments_say_what_is_expected() {
    common::bench()
        .args(["run", "specs/ci/quickstart.ron", "--shard", "4/3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "expected M/N with 1 <= M <= N (e.g. 2/3), got \"4/3\"",
        ));
}

#[test]
fn slurm_array_variables_select_the_shard() {
    let out = tempfile::tempdir().unwrap();
    common::bench()
        .args(["run", "specs/ci/quickstart.ron", "--device", "cpu", "--out"])
        .arg(out.path())
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("SLURM_ARRAY_TASK_COUNT", "4")
        .assert()
        .success()
        .stdout(predicate::str::contains("shard 2/4 done"));
    let (spec, _) =
        ralbench::spec::Spec::load(&common::root().join("specs/ci/quickstart.ron")).unwrap();
    let shard = ralbench::run::Shard { index: 2, count: 4 };
    let mut mine: Vec<String> = ralbench::run::Job::expand(&spec)
        .iter()
        .map(|j| j.id())
        .filter(|id| shard.owns(id))
        .map(|id| format!("{id}.ron"))
        .collect();
    mine.sort();
    let mut written: Vec<String> = std::fs::read_dir(out.path().join("jobs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    written.sort();
    assert!(!mine.is_empty());
    assert_eq!(written, mine);
}

#[test]
fn a_run_killed_with_sigkill_resumes_to_identical_results() {
    let spec = "specs/ci/quickstart.ron";
    let whole = tempfile::tempdir().unwrap();
    common::run_spec(spec, whole.path(), 1);

    let killed = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("bench");
    let mut child = std::process::Command::new(bin)
        .current_dir(common::root())
        .args(["run", spec, "--device", "cpu", "--threads", "1", "--out"])
        .arg(killed.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let jobs = killed.path().join("jobs");
    let count = || {
        std::fs::read_dir(&jobs).map_or(0, |d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "ron"))
                .count()
        })
    };
    let started = std::time::Instant::now();
    while count() < 4 && started.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let done = count();
    assert!(
        (4..20).contains(&done),
        "killed after {done} jobs: too late to test resumption"
    );
    assert!(
        killed.path().join(".lock").exists(),
        "the killed run leaves its lock behind"
    );

    common::run_spec(spec, killed.path(), 1).stderr(predicate::str::contains(format!(
        "{} jobs run, {done} reused",
        20 - done
    )));
    assert_eq!(
        common::result_files(whole.path()),
        common::result_files(killed.path())
    );
}

#[test]
fn report_rebuilds_the_tables_from_results() {
    let out = tempfile::tempdir().unwrap();
    common::run_spec("specs/ci/quickstart.ron", out.path(), 1);
    let before = tables(out.path());
    for t in TABLES {
        std::fs::remove_file(out.path().join(t)).unwrap();
    }
    common::bench()
        .arg("report")
        .arg(out.path())
        .assert()
        .success();
    assert_eq!(before, tables(out.path()));
    assert!(out.path().join("curves.svg").exists() && out.path().join("curves.png").exists());
    // An incomplete directory is refused.
    std::fs::remove_file(
        std::fs::read_dir(out.path().join("jobs"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
    )
    .unwrap();
    common::bench()
        .arg("report")
        .arg(out.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("1 of 20 jobs have no result"));
}

#[test]
fn every_published_cell_has_a_counterpart_in_the_paper_specs() {
    use ralbench::compare::PaperTable;
    for (paper, spec) in [
        ("table1", "table1"),
        ("table2", "table2"),
        ("table2", "figure4"),
    ] {
        let table =
            PaperTable::load(&common::root().join(format!("golden/paper/{paper}.ron"))).unwrap();
        let (spec, _) =
            ralbench::spec::Spec::load(&common::root().join(format!("specs/{spec}.ron"))).unwrap();
        let missing = table.missing_in(&spec);
        assert!(
            missing.is_empty(),
            "{paper}: no counterpart for {missing:?}"
        );
    }
    assert_eq!(
        PaperTable::load(&common::root().join("golden/paper/table1.ron"))
            .unwrap()
            .cells
            .len(),
        21
    );
    assert_eq!(
        PaperTable::load(&common::root().join("golden/paper/table2.ron"))
            .unwrap()
            .cells
            .len(),
        10
    );
}

#[test]
fn compare_prints_each_cell_and_refuses_synthetic_runs() {
    let out = tempfile::tempdir().unwrap();
    common::run_spec("specs/ci/quickstart.ron", out.path(), 1);
    let paper = out.path().join("paper.ron");
    std::fs::write(
        &paper,
        r#"PaperTable(source: "a test table", dataset: "digits", interval: "std", cells: [
            PaperCell(strategy: "margin", labels: 100, mean: 0.9, interval: 0.01),
            PaperCell(strategy: "dral", labels: 100, mean: 0.95, interval: 0.01),
        ])"#,
    )
    .unwrap();
    common::bench()
        .arg("compare")
        .arg(out.path())
        .arg(&paper)
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"\| margin \| 0% \| 100 \| 0\.\d{4} ± 0\.\d{4}, 5 \| 0\.9000 ± 0\.0100 \| [+-]\d\.\d{4} \| (consistent|higher|lower) \(\d\.\d{3}\) \| (consistent|higher|lower) \(\d\.\d{3}\) \|").unwrap())
        .stdout(predicate::str::contains("| dral | 0% | 100 | missing |"))
        .stdout(predicate::str::contains("1 of 2 published cells compared, 1 missing"))
        .stdout(predicate::str::contains("consistent under either reading"));
    // Kept with the run and shown in its page.
    let md = std::fs::read_to_string(out.path().join("compare.md")).unwrap();
    assert!(md.contains("1 of 2 published cells compared"));
    let page = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(
        page.contains("<h2>Against the paper</h2>") && page.contains("published cells compared")
    );
    let synthetic = tempfile::tempdir().unwrap();
    common::run_spec("specs/ci/synthetic-histology.ron", synthetic.path(), 1);
    common::bench()
        .arg("compare")
        .arg(synthetic.path())
        .arg(common::root().join("golden/paper/table1.ron"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "ran on SYNTHETIC data (synthetic-histology): it reproduces nothing",
        ));
}

#[test]
fn a_second_run_on_a_locked_directory_is_refused() {
    let out = tempfile::tempdir().unwrap();
    // A lock held by a live process (this test's own pid).
    std::fs::write(
        out.path().join(".lock"),
        format!("{}\n", std::process::id()),
    )
    .unwrap();
    common::bench()
        .args(["run", "specs/ci/quickstart.ron", "--out"])
        .arg(out.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains("another bench run (pid"));
}

/// Job files record what computed them; a resume with other settings refuses to mix them
/// (naming the field), `--rerun-mismatched` reruns them to the same files a fresh run with the
/// new settings writes, merge refuses shards of different settings, and a report on a directory
/// that mixes them says so.
#[test]
fn results_of_different_settings_are_not_mixed() {
    let spec = "specs/ci/quickstart.ron";
    let one = tempfile::tempdir().unwrap();
    common::run_spec(spec, one.path(), 1);
    let job = std::fs::read_to_string(
        std::fs::read_dir(one.path().join("jobs"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
    )
    .unwrap();
    assert!(
        job.contains("computed_by") && job.contains("threads: 1"),
        "{job}"
    );
    common::bench()
        .args(["run", spec, "--device", "cpu", "--threads", "2", "--out"])
        .arg(one.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "computed with threads 1, this run has threads 2",
        ))
        .stderr(predicate::str::contains("--rerun-mismatched"));
    common::run_spec_with(spec, one.path(), 2, &["--rerun-mismatched"])
        .stderr(predicate::str::contains("20 jobs run, 0 reused"));
    let two = tempfile::tempdir().unwrap();
    common::run_spec(spec, two.path(), 2);
    assert_eq!(
        common::result_files(one.path()),
        common::result_files(two.path())
    );

    // Shards with different thread counts are not merged.
    let parts = tempfile::tempdir().unwrap();
    let (a, b) = (parts.path().join("a"), parts.path().join("b"));
    common::run_spec_with(spec, &a, 1, &["--shard", "1/2"]);
    common::run_spec_with(spec, &b, 2, &["--shard", "2/2"]);
    common::bench()
        .arg("merge")
        .args([&a, &b])
        .arg("--out")
        .arg(parts.path().join("m"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("was computed with threads"));

    // A directory whose files were mixed by hand: the report says so.
    let mixed = tempfile::tempdir().unwrap();
    common::run_spec(spec, mixed.path(), 1);
    let name = std::fs::read_dir(two.path().join("jobs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name();
    std::fs::copy(
        two.path().join("jobs").join(&name),
        mixed.path().join("jobs").join(&name),
    )
    .unwrap();
    common::bench()
        .arg("report")
        .arg(mixed.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("2 different provenances"));
}
