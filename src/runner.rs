//! Monte Carlo: many trials, in parallel, with results independent of the thread count.
//!
//! Trials are cut into fixed-size chunks (the chunk size never depends on the number of
//! threads). Chunks run in parallel in waves; each yields its partial [`Aggregate`] and
//! its `trials.csv` rows, which are merged and written strictly in chunk order. Because
//! every trial draws only from its own streams and every aggregate is integer-exact, the
//! output bytes are the same for 1 thread or 64.

use crate::engine::{Engine, Runaway};
use crate::model::Model;
use crate::output::trials::TrialRows;
use crate::stats::Aggregate;
use rayon::prelude::*;
use std::io::Write;

/// Trials per chunk: the unit of parallel work and of output buffering.
pub const CHUNK: u64 = 2048;

/// How to run.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// Number of trials.
    pub trials: u64,
    /// Seed of every stream.
    pub seed: u64,
    /// Worker threads (>= 1).
    pub threads: usize,
    /// Per-trial firing limit.
    pub max_events: u64,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A trial looped.
    #[error(transparent)]
    Runaway(#[from] Runaway),
    /// Writing rows failed.
    #[error("writing trials.csv: {0}")]
    Io(#[from] std::io::Error),
    /// The thread pool could not be built.
    #[error("cannot start {0} worker threads")]
    Threads(usize),
}

/// Runs all trials; streams `trials.csv` rows (without header) into `rows` if given;
/// calls `progress(done)` after each wave. Returns the aggregate over all trials.
pub fn run(
    model: &Model,
    spec: &RunSpec,
    mut rows: Option<&mut dyn Write>,
    progress: &mut dyn FnMut(u64),
) -> Result<Aggregate, RunError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(spec.threads.max(1))
        .build()
        .map_err(|_| RunError::Threads(spec.threads))?;
    let chunks = spec.trials.div_ceil(CHUNK);
    let wave = (spec.threads.max(1) * 4) as u64;
    let want_rows = rows.is_some();
    let mut total = Aggregate::new(model);
    let mut next = 0;
    while next < chunks {
        let end = (next + wave).min(chunks);
        let outs: Vec<Result<(Aggregate, Vec<u8>), Runaway>> = pool.install(|| {
            (next..end)
                .into_par_iter()
                .map(|c| run_chunk(model, spec, c * CHUNK, ((c + 1) * CHUNK).min(spec.trials), want_rows))
                .collect()
        });
        for out in outs {
            let (agg, bytes) = out?;
            total.merge(&agg);
            if let Some(w) = rows.as_mut() {
                w.write_all(&bytes)?;
            }
        }
        next = end;
        progress(total.trials);
    }
    Ok(total)
}

/// Runs trials `from..to` on a fresh engine.
pub fn run_chunk(
    model: &Model,
    spec: &RunSpec,
    from: u64,
    to: u64,
    want_rows: bool,
) -> Result<(Aggregate, Vec<u8>), Runaway> {
    let mut engine = Engine::new(model, spec.seed);
    engine.set_max_events(spec.max_events);
    let mut agg = Aggregate::new(model);
    let mut rows = TrialRows::new(model);
    for trial in from..to {
        engine.run(trial)?;
        let o = engine.outcome();
        agg.add(&o);
        if want_rows {
            rows.push(&o);
        }
    }
    Ok((agg, rows.into_bytes()))
}
