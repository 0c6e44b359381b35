//! Specs agree with what their comments claim: paper specs that share jobs do share them, and each
//! CI twin runs its paper spec's protocol (split fractions, initial set, labels per step) at a
//! smaller scale.
mod common;
use ralbench::run::Job;
use ralbench::spec::Spec;
use std::collections::BTreeSet;

fn load(path: &str) -> Spec {
    Spec::load(&common::root().join(path)).unwrap().0
}

fn ids(path: &str) -> BTreeSet<String> {
    Job::expand(&load(path)).iter().map(Job::id).collect()
}

#[test]
fn figure4_draws_the_jobs_of_table2() {
    for (figure, table) in [
        ("specs/figure4.ron", "specs/table2.ron"),
        ("specs/ci/figure4.ron", "specs/ci/table2.ron"),
    ] {
        let (f, t) = (ids(figure), ids(table));
        let missing: Vec<&String> = f.difference(&t).collect();
        assert!(
            missing.is_empty(),
            "{figure} has jobs {table} lacks: {missing:?}"
        );
    }
}

#[test]
fn paper_specs_share_one_protocol_and_ci_twins_mirror_it() {
    let paper = [
        "table1", "table2", "figure1", "figure2", "figure3", "figure4",
    ];
    let reference = load("specs/table1.ron");
    for name in paper {
        let spec = load(&format!("specs/{name}.ron"));
        let twin = load(&format!("specs/ci/{name}.ron"));
        for (what, s) in [("paper", &spec), ("ci twin", &twin)] {
            assert_eq!(s.split, reference.split, "{name} ({what}): split fractions");
            assert_eq!(
                s.initial_labelled, reference.initial_labelled,
                "{name} ({what}): initial labelled set"
            );
        }
        assert_eq!(
            twin.labels_per_step, spec.labels_per_step,
            "{name}: the CI twin buys a different N per step"
        );
        let n = |s: &Spec| -> Vec<usize> {
            s.strategies
                .iter()
                .map(|st| st.labels_per_step(s.labels_per_step))
                .collect()
        };
        let (a, b) = (n(&spec), n(&twin));
        assert!(
            b.iter().all(|x| a.contains(x)),
            "{name}: the CI twin's per-strategy N {b:?} is not among the paper spec's {a:?}"
        );
    }
}
