//! Timing golden: the CI quickstart's wall time, in units of a calibration workload measured in
//! the same process just before, must stay within a wide band of the stored value, so a slower
//! or faster machine does not fail the check but a large slow-down of the harness does.
//! Exact timings live in benchmarks/, not here. Re-record on purpose with
//! `TIMING_UPDATE=1 cargo test --release --test timing` and say why in the commit.
use ralbench::model::Classifier;
use ralbench::spec::{ClassifierSpec, InputNorm, ModelSpec, OptimizerSpec, Retrain};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Allowed factor between the stored and the measured ratio, either way.
const BAND: f64 = 3.0;

#[derive(Debug, Serialize, Deserialize)]
struct TimingGolden {
    /// quickstart wall time / calibration time.
    ratio: f64,
}

/// Seconds for a fixed libtorch workload of the same kind the quickstart does (logistic
/// regression solved by L-BFGS, 20 refits on digits-sized data), the median of three.
fn calibration() -> f64 {
    let spec = ClassifierSpec {
        model: ModelSpec::LogisticRegression,
        optimizer: OptimizerSpec::Lbfgs {
            c: 1.0,
            tol: 1e-4,
            max_iter: 100,
        },
        epochs: 1,
        batch_size: 64,
        retrain: Retrain::FromScratch,
        input: InputNorm::Identity,
    };
    tch::manual_seed(0);
    let x = tch::Tensor::rand([512, 64], (tch::Kind::Float, tch::Device::Cpu));
    let y = tch::Tensor::randint(10, [512], (tch::Kind::Int64, tch::Device::Cpu));
    let mut times: Vec<f64> = (0..3)
        .map(|i| {
            let mut rng = ralbench::rng::stream(i, "calibration");
            let started = Instant::now();
            for _ in 0..20 {
                let mut c =
                    Classifier::new(&spec, &[64], 10, tch::Device::Cpu, None, &mut rng).unwrap();
                c.fit(&x, &y, &mut rng);
            }
            started.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[1]
}

#[test]
fn quickstart_time_in_calibration_units_stays_in_its_band() {
    ralbench::device::pin_cpu_code_path();
    tch::set_num_threads(1);
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let cal = calibration();
    let spec_path = root.join("specs/ci/quickstart.ron");
    let (spec, text) = ralbench::spec::Spec::load(&spec_path).unwrap();
    let sources = ralbench::data::Sources::from_env().unwrap();
    let plan = ralbench::run::Plan::new(spec, &text, &spec_path, &sources).unwrap();
    let out = tempfile::tempdir().unwrap();
    let opts = ralbench::run::RunOptions {
        jobs: 1,
        rerun_mismatched: false,
        out: out.path().to_owned(),
        device: ralbench::device::DeviceChoice::Cpu,
        threads: 1,
        shard: None,
    };
    let started = Instant::now();
    plan.execute(&opts).unwrap();
    let wall = started.elapsed().as_secs_f64();
    let ratio = wall / cal;

    let golden = root.join("golden/timing/quickstart@cpu-threads1.ron");
    if std::env::var("TIMING_UPDATE").is_ok_and(|v| v == "1") {
        std::fs::write(&golden, ralbench::run::pretty(&TimingGolden { ratio })).unwrap();
        return;
    }
    let stored: TimingGolden = ron::from_str(&std::fs::read_to_string(&golden).unwrap()).unwrap();
    let change = ratio / stored.ratio;
    assert!(
        (1.0 / BAND..=BAND).contains(&change),
        "quickstart took {wall:.2} s = {ratio:.1} calibration units ({cal:.3} s each); stored {:.1}; \
         new/old = {change:.2}, outside the allowed factor {BAND}",
        stored.ratio
    );
}
