//! The learned strategies end to end at CI scale: training is deterministic, records its rewards,
//! gives finite Q-values, saves a policy that reloads to the same outputs, and a rerun reuses it.
mod common;
use ralbench::rl::qnet::{Arch, QNet};
use ralbench::rl::{policy_file, train::TrainingLog};
use ralbench::run::JobResult;
use std::path::Path;

const SPEC: &str = "specs/rl-ci.ron";

fn policies(out: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(out.join("policies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

fn learned_results(out: &Path) -> Vec<JobResult> {
    let mut v: Vec<JobResult> = std::fs::read_dir(out.join("jobs"))
        .unwrap()
        .map(|e| ron::from_str(&std::fs::read_to_string(e.unwrap().path()).unwrap()).unwrap())
        .filter(|r: &JobResult| r.training.is_some())
        .collect();
    v.sort_by(|a, b| a.job_id.cmp(&b.job_id));
    v
}

#[test]
fn training_is_deterministic_recorded_and_reloadable() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    common::run_spec(SPEC, a.path(), 1);
    common::run_spec(SPEC, b.path(), 1);

    // Two trainings of the same jobs: byte-identical policy files (DRAL and LAL-RL, 3 seeds each).
    let (pa, pb) = (policies(a.path()), policies(b.path()));
    assert_eq!(pa.len(), 6);
    for (x, y) in pa.iter().zip(&pb) {
        assert_eq!(x.file_name(), y.file_name());
        assert!(
            std::fs::read(x).unwrap() == std::fs::read(y).unwrap(),
            "{} differs",
            x.display()
        );
    }

    for r in learned_results(a.path()) {
        let log: &TrainingLog = r.training.as_ref().unwrap();
        // Warm-start plus training episodes all recorded, with finite rewards and losses.
        // rl-ci: 4 warm-start episodes, then one episode per iteration for both strategies.
        assert_eq!(log.episode_rewards.len(), 4 + log.iterations, "{log:?}");
        assert!(
            log.episode_rewards
                .iter()
                .chain(&log.iteration_losses)
                .all(|v| v.is_finite())
        );
        assert!(log.iterations >= 1);
        // The evaluation episode bought labels up to the budget.
        assert_eq!(r.curve.last().unwrap().labels, 40);

        // The saved policy reloads to the same Q-values, which are finite.
        let path = a
            .path()
            .join("policies")
            .join(format!("{}.safetensors", r.job_id));
        let meta = policy_file::read_meta(&path).expect("policy metadata");
        assert_eq!(meta.job_id, r.job_id);
        assert_eq!(meta.log, *log);
        let arch = match r.job.strategy {
            ralbench::spec::StrategySpec::Dral(ref d) => Arch::Mlp(d.hidden.clone()),
            _ => Arch::LalRl,
        };
        let vars = safetensors_shapes(&path);
        let (state_dim, action_dim) = dims_from(&arch, &vars);
        let mut q1 = QNet::new(
            &arch,
            state_dim,
            action_dim,
            tch::Device::Cpu,
            &mut ralbench::rng::stream(1, "x"),
        );
        let mut q2 = QNet::new(
            &arch,
            state_dim,
            action_dim,
            tch::Device::Cpu,
            &mut ralbench::rng::stream(2, "x"),
        );
        policy_file::load(&mut q1, &path).unwrap();
        policy_file::load(&mut q2, &path).unwrap();
        let s = tch::Tensor::rand([state_dim], (tch::Kind::Float, tch::Device::Cpu));
        let acts = tch::Tensor::rand([7, action_dim], (tch::Kind::Float, tch::Device::Cpu));
        let (v1, v2) = (q1.q_one(&s, &acts), q2.q_one(&s, &acts));
        assert_eq!((&v1 - &v2).abs().max().double_value(&[]), 0.0);
        assert!(v1.isfinite().all().int64_value(&[]) == 1);
    }
}

#[test]
fn a_saved_policy_is_reused_instead_of_retrained() {
    let out = tempfile::tempdir().unwrap();
    common::run_spec(SPEC, out.path(), 1);
    let before = learned_results(out.path());
    // Drop the learned jobs' results but keep their policies: the rerun must reuse them.
    for r in &before {
        std::fs::remove_file(out.path().join("jobs").join(format!("{}.ron", r.job_id))).unwrap();
    }
    common::run_spec(SPEC, out.path(), 1)
        .stderr(predicates::str::contains("reusing the saved policy"))
        .stderr(predicates::str::contains("6 jobs run, 6 reused"));
    assert_eq!(learned_results(out.path()), before);
}

fn safetensors_shapes(path: &Path) -> Vec<(String, Vec<usize>)> {
    let bytes = std::fs::read(path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut v: Vec<(String, Vec<usize>)> = st
        .tensors()
        .into_iter()
        .map(|(n, t)| (n, t.shape().to_vec()))
        .collect();
    v.sort();
    v
}

fn dims_from(arch: &Arch, vars: &[(String, Vec<usize>)]) -> (i64, i64) {
    let shape = |name: &str| vars.iter().find(|(n, _)| n == name).unwrap().1.clone();
    match arch {
        Arch::Mlp(_) => {
            // fc0 takes [state, 3 action features].
            let w = shape("fc0.weight");
            (w[1] as i64 - 3, 3)
        }
        Arch::LalRl => {
            let w = shape("state.weight");
            (w[1] as i64, shape("joint.weight")[1] as i64 - 10)
        }
    }
}
