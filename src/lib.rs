//! ralbench: a declarative, deterministic benchmark harness for active learning.
//!
//! The modules follow the pipeline: [`spec`] (what to run) -> [`data`] (datasets and splits) ->
//! [`noise`] (image noise on the pool) -> [`model`] (classifiers, scored by [`metrics`]) -> [`episode`] (one active-learning episode) -> [`strategy`] and [`rl`] (what to label next) -> [`run`] (jobs, results,
//! provenance) -> [`report`] and [`plot`] (tables, figures), [`stats`] (paired tests, ranks), [`compare`] (against published numbers). [`device`] sets up libtorch; [`rng`] and [`io`] hold the one
//! seeded-RNG helper and the one atomic-write helper.
pub mod compare;
pub mod data;
pub mod device;
pub mod episode;
pub mod io;
pub mod metrics;
pub mod model;
pub mod noise;
pub mod plot;
pub mod report;
pub mod rl;
pub mod rng;
pub mod run;
pub mod spec;
pub mod stats;
pub mod strategy;
