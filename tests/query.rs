//! `bench query`: the selection interface an outside conformance check drives with .npy files.
mod common;
use predicates::prelude::*;

fn npy<T: ndarray_npy::WritableElement>(
    dir: &std::path::Path,
    name: &str,
    a: &ndarray::ArrayD<T>,
) -> std::path::PathBuf {
    let path = dir.join(name);
    ndarray_npy::write_npy(&path, a).unwrap();
    path
}

fn query(args: &[&str]) -> Vec<usize> {
    let out = common::bench().arg("query").args(args).assert().success();
    String::from_utf8(out.get_output().stdout.clone())
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect()
}

#[test]
fn picks_rows_in_selection_order_from_float32_and_float64_matrices() {
    let dir = tempfile::tempdir().unwrap();
    // Rows: confident, uncertain, medium, very confident.
    let p = ndarray::arr2(&[[0.9, 0.1], [0.55, 0.45], [0.7, 0.3], [0.99, 0.01]]).into_dyn();
    let f64_path = npy(dir.path(), "p64.npy", &p);
    let f32_path = npy(dir.path(), "p32.npy", &p.mapv(|v| v as f32));
    for path in [&f64_path, &f32_path] {
        let path = path.to_str().unwrap();
        for s in ["least-confident", "margin", "entropy"] {
            assert_eq!(
                query(&["--strategy", s, "--proba", path, "--n", "3"]),
                vec![1, 2, 0],
                "{s}"
            );
        }
        let r = query(&[
            "--strategy",
            "random",
            "--proba",
            path,
            "--n",
            "4",
            "--seed",
            "3",
        ]);
        let mut sorted = r.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![0, 1, 2, 3]);
    }
}

#[test]
fn k_center_reads_embeddings_and_labelled_indices() {
    let dir = tempfile::tempdir().unwrap();
    let e = ndarray::arr2(&[[0.0f32], [1.0], [5.0], [10.0], [0.5]]).into_dyn();
    let embed = npy(dir.path(), "e.npy", &e);
    let labelled = npy(dir.path(), "l.npy", &ndarray::arr1(&[0i64, 4]).into_dyn());
    let picks = query(&[
        "--strategy",
        "k-center",
        "--embed",
        embed.to_str().unwrap(),
        "--labelled",
        labelled.to_str().unwrap(),
        "--n",
        "3",
    ]);
    assert_eq!(picks, vec![3, 2, 1]);
}

#[test]
fn bad_input_is_refused_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let p = npy(
        dir.path(),
        "p.npy",
        &ndarray::arr2(&[[0.5f64, 0.5]]).into_dyn(),
    );
    common::bench()
        .args([
            "query",
            "--strategy",
            "marginal",
            "--proba",
            p.to_str().unwrap(),
            "--n",
            "1",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown strategy \"marginal\"; known: random, least-confident, margin",
        ));
    let bad = dir.path().join("bad.npy");
    std::fs::write(&bad, b"not an npy").unwrap();
    common::bench()
        .args([
            "query",
            "--strategy",
            "margin",
            "--proba",
            bad.to_str().unwrap(),
            "--n",
            "1",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "expected a 2-D float32 or float64 .npy",
        ));
}
