//! The statistics against scipy.stats: paired t-test, exact Wilcoxon signed-rank test, Friedman's
//! test, the studentized range quantile behind Nemenyi's critical difference, paired-t power and
//! Welch's test, on the values tests/data/stats_reference.py computed with scipy (its docstring
//! says how to regenerate them); and the CI quickstart's stats.ron on the same per-seed numbers.
mod common;

use ralbench::report::stats::{Measure, Stats};
use ralbench::stats;
use serde_json::Value;

fn reference() -> Value {
    let text = std::fs::read_to_string(common::root().join("tests/data/stats_reference.json"))
        .expect("tests/data/stats_reference.json");
    serde_json::from_str(&text).expect("valid JSON")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn close(ours: f64, theirs: f64, tol: f64, what: &str) {
    assert!(
        (ours - theirs).abs() <= tol * theirs.abs().max(1e-300) || (ours - theirs).abs() <= tol,
        "{what}: ours {ours}, scipy {theirs}"
    );
}

/// Our paired tests on one case equal scipy's to 1e-9.
fn check_case(case: &Value) {
    let name = case["name"].as_str().unwrap();
    let d = floats(&case["d"]);
    match (stats::paired_t(&d), case.get("t_p")) {
        (Some(t), Some(p)) => {
            close(t.statistic, case["t"].as_f64().unwrap(), 1e-9, name);
            close(t.p, p.as_f64().unwrap(), 1e-9, name);
        }
        (None, None) => {}
        (ours, theirs) => panic!("{name}: t-test ours {ours:?}, scipy {theirs:?}"),
    }
    match (stats::wilcoxon_exact(&d), case.get("w_p")) {
        (Some(w), Some(p)) => {
            close(w.statistic, case["w"].as_f64().unwrap(), 1e-12, name);
            close(w.p, p.as_f64().unwrap(), 1e-9, name);
        }
        (None, None) => {}
        (ours, theirs) => panic!("{name}: Wilcoxon ours {ours:?}, scipy {theirs:?}"),
    }
}

#[test]
fn paired_tests_match_scipy() {
    let r = reference();
    for case in r["cases"].as_array().unwrap() {
        check_case(case);
    }
    for case in r["quickstart"].as_array().unwrap() {
        check_case(case);
    }
}

#[test]
fn friedman_matches_scipy() {
    let r = reference();
    let f = &r["friedman"];
    let blocks: Vec<Vec<f64>> = f["blocks"].as_array().unwrap().iter().map(floats).collect();
    // scipy ranks ascending; ours rank 1 = highest, which leaves the statistic unchanged.
    let (_, chi2, p) = stats::friedman(&blocks).expect("a test");
    close(chi2, f["chi2"].as_f64().unwrap(), 1e-9, "Friedman chi2");
    close(p, f["p"].as_f64().unwrap(), 1e-9, "Friedman p");
}

#[test]
fn nemenyi_quantiles_match_scipy_studentized_range() {
    let r = reference();
    for (k, q) in r["nemenyi_q"].as_object().unwrap() {
        let k: usize = k.parse().unwrap();
        let ours = stats::nemenyi_cd(k, 1, 0.05) / (k as f64 * (k as f64 + 1.0) / 6.0).sqrt();
        close(ours, q.as_f64().unwrap(), 1e-6, &format!("q_0.05, k = {k}"));
    }
}

#[test]
fn power_matches_scipy_noncentral_t() {
    let r = reference();
    for case in r["power"].as_array().unwrap() {
        let (effect, n) = (
            case["effect"].as_f64().unwrap(),
            case["n"].as_u64().unwrap() as usize,
        );
        let ours = stats::paired_t_power(effect, n, 0.05);
        close(
            ours,
            case["power"].as_f64().unwrap(),
            1e-4,
            &format!("power at effect {effect}, n {n}"),
        );
    }
}

#[test]
fn welch_matches_scipy() {
    let r = reference();
    for case in r["welch"].as_array().unwrap() {
        let g = |k: &str| case[k].as_f64().unwrap();
        let (n1, n2) = (g("n1") as usize, g("n2") as usize);
        let (t, _, p) = stats::welch(
            g("m1"),
            g("s1") / (n1 as f64).sqrt(),
            n1,
            g("m2"),
            g("s2") / (n2 as f64).sqrt(),
            n2,
        )
        .expect("a test");
        close(t, g("t"), 1e-9, "Welch t");
        close(p, g("p"), 1e-9, "Welch p");
    }
}

/// The CI quickstart writes stats.*; its per-seed differences against random are the ones the
/// reference was made from, and its p-values are scipy's to 1e-9.
#[test]
fn quickstart_stats_match_scipy() {
    let out = tempfile::tempdir().expect("temp dir");
    common::run_spec("specs/ci/quickstart.ron", out.path(), 1);
    for f in ["stats.md", "stats.csv", "stats.ron"] {
        assert!(out.path().join(f).is_file(), "{f} missing");
    }
    let text = std::fs::read_to_string(out.path().join("stats.ron")).unwrap();
    let s: Stats = ron::from_str(&text).expect("stats.ron parses");
    let r = reference();
    let cases = r["quickstart"].as_array().unwrap();
    let vs_random: Vec<_> = s
        .comparisons
        .iter()
        .filter(|c| c.against == "random")
        .collect();
    assert_eq!(
        vs_random.len(),
        cases.len(),
        "one reference case per comparison"
    );
    for (c, case) in vs_random.iter().zip(cases) {
        let measure = match c.measure {
            Measure::Final => "final",
            Measure::Aulc => "AULC",
        };
        let name = format!("quickstart {} vs random, {measure}", c.strategy);
        assert_eq!(case["name"].as_str().unwrap(), name);
        // serde_json parses to within an ulp; the numbers were printed round-trip.
        let want = floats(&case["d"]);
        assert_eq!(c.differences.len(), want.len(), "{name}: seeds");
        for (a, b) in c.differences.iter().zip(&want) {
            close(*a, *b, 1e-15, &format!("{name}: per-seed numbers"));
        }
        close(
            c.t_test.unwrap().p,
            case["t_p"].as_f64().unwrap(),
            1e-9,
            &name,
        );
        close(
            c.wilcoxon.unwrap().p,
            case["w_p"].as_f64().unwrap(),
            1e-9,
            &name,
        );
    }
}

#[test]
fn one_seed_says_no_test() {
    let out = tempfile::tempdir().expect("temp dir");
    let spec = std::fs::read_to_string(common::root().join("specs/ci/quickstart.ron")).unwrap();
    let one = spec.replace("seeds: [0, 1, 2, 3, 4]", "seeds: [0]");
    assert_ne!(one, spec);
    let path = out.path().join("one.ron");
    std::fs::write(&path, one).unwrap();
    common::run_spec(path.to_str().unwrap(), &out.path().join("out"), 1).stdout(
        predicates::str::contains("n = 1 (or constant differences): no test"),
    );
    let md = std::fs::read_to_string(out.path().join("out/stats.md")).unwrap();
    assert!(md.contains("n = 1: no test"), "{md}");
}
