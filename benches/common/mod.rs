//! What the benchmarks share: the scenarios they run, owned trial outcomes, and one
//! short criterion configuration so that `cargo bench` finishes in a few minutes.
#![allow(dead_code)]

use brink::scenario::{load, Overrides};
use brink::sim::engine::{EndReason, Engine, Outcome};
use brink::sim::model::Model;
use criterion::Criterion;
use std::path::PathBuf;
use std::time::Duration;

/// The scenarios benchmarked per trial: two bundled ones and the dense synthetic one.
pub const SCENARIOS: [&str; 3] = ["minimal", "baghdad-2020", "dense"];

/// Path of a scenario by name: `scenarios/<name>.toml`, or the benchmark-only
/// `benches/scenarios/<name>.toml`.
pub fn path(name: &str) -> PathBuf {
    // The repository root: this package is benches/.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let bundled = root.join("scenarios").join(format!("{name}.toml"));
    if bundled.exists() {
        bundled
    } else {
        root.join("benches").join("scenarios").join(format!("{name}.toml"))
    }
}

/// The compiled model of a scenario.
pub fn model(name: &str) -> Model {
    load(&path(name), &Overrides::default()).unwrap_or_else(|e| panic!("{name}: {e}")).0
}

/// The compiled model of scenario text.
pub fn model_from(src: &str) -> Model {
    brink::scenario::compile_str("bench.toml", src, &Overrides::default())
        .unwrap_or_else(|d| panic!("{}", d.render()))
}

/// Short measurements: medians are stable enough, and the whole suite stays quick.
pub fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

/// Mean step firings per trial over the first `trials` trials (seed 1).
pub fn firings_per_trial(model: &Model, trials: u64) -> f64 {
    let mut engine = Engine::new(model, 1);
    let mut total = 0u64;
    for t in 0..trials {
        engine.run(t).expect("no runaway");
        total += engine.outcome().counts.iter().map(|&c| u64::from(c)).sum::<u64>();
    }
    total as f64 / trials as f64
}

/// One trial's outcome, owned, so that many can be kept and replayed.
pub struct Owned {
    trial: u64,
    end_day: f64,
    end_reason: EndReason,
    final_level: usize,
    max_level: usize,
    reached: Vec<f64>,
    counts: Vec<u32>,
    tallies: Vec<u64>,
    path: Vec<u32>,
    changes: Vec<(f64, u32)>,
}

impl Owned {
    /// The outcome as the engine hands it out.
    pub fn outcome(&self) -> Outcome<'_> {
        Outcome {
            trial: self.trial,
            end_day: self.end_day,
            end_reason: self.end_reason,
            final_level: self.final_level,
            max_level: self.max_level,
            reached: &self.reached,
            counts: &self.counts,
            tallies: &self.tallies,
            path: &self.path,
            changes: &self.changes,
        }
    }
}

/// The outcomes of the first `n` trials (seed 1).
pub fn outcomes(model: &Model, n: u64) -> Vec<Owned> {
    let mut engine = Engine::new(model, 1);
    (0..n)
        .map(|t| {
            engine.run(t).expect("no runaway");
            let o = engine.outcome();
            Owned {
                trial: o.trial,
                end_day: o.end_day,
                end_reason: o.end_reason,
                final_level: o.final_level,
                max_level: o.max_level,
                reached: o.reached.to_vec(),
                counts: o.counts.to_vec(),
                tallies: o.tallies.to_vec(),
                path: o.path.to_vec(),
                changes: o.changes.to_vec(),
            }
        })
        .collect()
}
