//! `bench export`: the arrays an outside implementation runs on are exactly the job's inputs.
mod common;
use ndarray::{Array1, Array2};
use ralbench::run::JobResult;

fn read_i64(path: &std::path::Path) -> Vec<usize> {
    let a: Array1<i64> = ndarray_npy::read_npy(path).unwrap();
    a.iter().map(|&v| v as usize).collect()
}

#[test]
fn exported_jobs_match_the_run_split_and_initial_set() {
    let dir = tempfile::tempdir().unwrap();
    let (export, run) = (dir.path().join("export"), dir.path().join("run"));
    common::bench()
        .args(["export", "specs/ci/quickstart.ron", "--out"])
        .arg(&export)
        .assert()
        .success();
    common::run_spec("specs/ci/quickstart.ron", &run, 1);

    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(export.join("manifest.json")).unwrap())
            .unwrap();
    let jobs = manifest["jobs"].as_array().unwrap();
    let sources = ralbench::data::Sources::from_env().unwrap();
    let digits = ralbench::data::load(ralbench::spec::DatasetSpec::Digits, &sources).unwrap();
    assert_eq!(jobs.len(), 20);
    for entry in jobs {
        let id = entry["id"].as_str().unwrap();
        let result: JobResult = ron::from_str(
            &std::fs::read_to_string(run.join("jobs").join(format!("{id}.ron"))).unwrap(),
        )
        .unwrap_or_else(|e| panic!("job {id} of the manifest is not a job of the run: {e}"));
        assert_eq!(entry["strategy"], result.job.strategy.name());
        let data = export.join("data").join(entry["data"].as_str().unwrap());
        let initial = read_i64(&data.join("initial.npy"));
        assert_eq!(initial, result.initial, "{id}");
        let (pool, test) = (
            read_i64(&data.join("pool.npy")),
            read_i64(&data.join("test.npy")),
        );
        assert!(initial.iter().all(|i| pool.contains(i)));
        assert!(test.iter().all(|i| !pool.contains(i)));
        // Every row the run bought came from the exported pool.
        assert!(result.queried.iter().flatten().all(|i| pool.contains(i)));
        let x: Array2<f32> = ndarray_npy::read_npy(data.join("x.npy")).unwrap();
        let y = read_i64(&data.join("y.npy"));
        assert_eq!(x.dim(), (1797, 64));
        assert_eq!(y.len(), 1797);
        // Digits are used as loaded (no noise, no standardisation): the same bytes.
        assert_eq!(x.as_slice().unwrap(), digits.features.as_slice());
        assert_eq!(
            y,
            digits
                .labels
                .iter()
                .map(|&l| l as usize)
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn learned_strategies_are_left_out_and_said_so() {
    let dir = tempfile::tempdir().unwrap();
    common::bench()
        .args(["export", "specs/ci/figure1.ron", "--out"])
        .arg(dir.path())
        .assert()
        .success()
        .stderr(predicates::str::contains(
            "of learned or embedding-based strategies left out",
        ));
}
