//! `bench check --estimate` against the measured wall time of three CI specs of different kinds
//! (tabular with L-BFGS, a CNN, learned strategies): within a factor of 2 either way, one job at
//! a time. One test, so the three runs do not share the machine with each other.
mod common;

#[test]
fn estimates_are_within_2x_of_measured_wall_time() {
    ralbench::device::pin_cpu_code_path();
    tch::set_num_threads(1);
    let mut report = Vec::new();
    for spec_path in [
        "specs/ci/quickstart.ron",
        "specs/ci/synthetic-histology-cnn.ron",
        "specs/rl-ci.ron",
    ] {
        let (spec, _) = ralbench::spec::Spec::load(&common::root().join(spec_path)).unwrap();
        let estimate = ralbench::run::estimate::estimate(&spec).wall_s(1);
        let out = tempfile::tempdir().unwrap();
        let started = std::time::Instant::now();
        common::run_spec_with(spec_path, out.path(), 1, &["--jobs", "1"]);
        let measured = started.elapsed().as_secs_f64();
        report.push(format!(
            "{spec_path}: estimated {estimate:.1} s, measured {measured:.1} s"
        ));
        let ratio = estimate / measured;
        assert!((0.5..=2.0).contains(&ratio), "{}", report.join("; "));
    }
    eprintln!("{}", report.join("\n"));
}
