//! Monte Carlo: many trials, in parallel, with results independent of the thread count.
//!
//! Trials are cut into fixed-size chunks (the chunk size never depends on the number of
//! threads). Worker threads take chunks in order and never wait for one another; each
//! chunk fills its own [`Accumulate`] (an aggregate, pairings, `trials.csv` rows, a
//! backtest's values: whatever the caller collects), and the calling thread merges the
//! chunks into the caller's total strictly in chunk order as they arrive. Because every
//! trial draws only from its own streams and every merge is exact or appends, the result
//! is the same for 1 thread or 64. [`run_set`] is the one place that guarantees it.

use crate::sim::accumulate::Accumulate;
use crate::sim::engine::{Engine, Observer, Past, Runaway};
use crate::sim::model::Model;
use crate::sim::stats::Aggregate;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};

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

/// Runs all trials of one model; calls `progress(done)` every few chunks. Returns the
/// aggregate over all trials.
pub fn run(model: &Model, spec: &RunSpec, progress: &mut dyn FnMut(u64)) -> Result<Aggregate, RunError> {
    let mut total = Aggregate::new(model);
    run_set(&[model], spec, 0..spec.trials, &|| Aggregate::new(model), &mut total, progress)?;
    Ok(total)
}

/// Runs trials `range` of several models in lockstep (trial i of every model, then trial
/// i + 1) and merges what they collect into `total`, chunk by chunk in trial order.
/// `empty()` makes the accumulator each chunk starts from: the shape of `total`, without
/// its writers. With one seed, the models share their random numbers wherever their steps
/// share ids, so each later model is paired with the first (common random numbers).
/// Calls `progress(n)` with the trials merged so far in this call, every few chunks.
///
/// The result does not depend on `spec.threads`: chunks are aligned to absolute trial
/// indices, run on fresh engines, and merged in chunk order. A trial's error (the earliest
/// in trial order), a failed merge, or a panic in a worker or in the caller's merge ends
/// the run and releases every worker, so a failure surfaces, never a hang.
pub fn run_set<A: Accumulate>(
    models: &[&Model],
    spec: &RunSpec,
    range: Range<u64>,
    empty: &(dyn Fn() -> A + Sync),
    total: &mut A,
    progress: &mut dyn FnMut(u64),
) -> Result<(), RunError> {
    run_set_from(models, spec, Start::DayZero, range, empty, total, progress)
}

/// Where the trials of a run start.
#[derive(Debug, Clone, Copy)]
pub enum Start<'a> {
    /// At day 0, to the scenario's horizon: every run but a forecast.
    DayZero,
    /// A forecast from a logged past to a day ([`Engine::run_from`]).
    From {
        /// The logged past, with the origin.
        past: &'a Past,
        /// Where the forecast ends (exclusive), in place of the horizon.
        until: f64,
    },
}

/// [`run_set`], with every trial starting at `start`.
pub fn run_set_from<A: Accumulate>(
    models: &[&Model],
    spec: &RunSpec,
    start: Start<'_>,
    range: Range<u64>,
    empty: &(dyn Fn() -> A + Sync),
    total: &mut A,
    progress: &mut dyn FnMut(u64),
) -> Result<(), RunError> {
    if range.start >= range.end || models.is_empty() {
        return Ok(());
    }
    // Chunks are aligned to absolute trial indices, so any range splits the same way.
    let first = range.start / CHUNK;
    let last = range.end.div_ceil(CHUNK);
    // No more workers than chunks: the others would only wait.
    let threads = spec.threads.max(1).min((last - first) as usize);
    // Workers take chunks in order from a counter and never wait for one another; this
    // thread merges the results strictly in chunk order as they arrive. A worker may run
    // at most LEAD chunks per thread ahead of the next chunk to merge, so memory stays
    // bounded however unevenly chunks take their time.
    let lead = (threads * LEAD) as u64;
    let next = AtomicU64::new(first);
    let merged = (Mutex::new(first), Condvar::new());
    let stop = AtomicBool::new(false);
    let (tx, rx) = std::sync::mpsc::channel::<(u64, Result<A, Runaway>)>();
    // Releases every worker, waiting or running, so that the scope can end early.
    let halt = || {
        stop.store(true, Ordering::Relaxed);
        let (lock, ready) = &merged;
        drop(lock.lock().unwrap_or_else(|e| e.into_inner()));
        ready.notify_all();
    };
    let result = std::thread::scope(|scope| -> Result<(), RunError> {
        // However this closure ends (done, an error, or a panic in a merge or the progress
        // callback), workers waiting for the merge are released, so the scope can end and
        // a panic surfaces instead of hanging.
        let _release = OnDrop(&halt);
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, merged, stop) = (&next, &merged, &stop);
            let range = range.clone();
            std::thread::Builder::new()
                .spawn_scoped(scope, move || {
                    // A worker that panics releases the others, which then return and drop
                    // their senders; the merge loop ends and the scope re-raises the panic.
                    let _on_panic = OnDrop(|| {
                        if std::thread::panicking() {
                            halt()
                        }
                    });
                    loop {
                        let c = next.fetch_add(1, Ordering::Relaxed);
                        if c >= last || stop.load(Ordering::Relaxed) {
                            return;
                        }
                        {
                            let (lock, ready) = merged;
                            let mut m = lock.lock().unwrap_or_else(|e| e.into_inner());
                            while c >= *m + lead && !stop.load(Ordering::Relaxed) {
                                m = ready.wait(m).unwrap_or_else(|e| e.into_inner());
                            }
                        }
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        let trials = (c * CHUNK).max(range.start)..((c + 1) * CHUNK).min(range.end);
                        let mut part = empty();
                        let out = run_chunk_from(models, spec, start, trials, &mut part).map(|()| part);
                        if tx.send((c, out)).is_err() {
                            return;
                        }
                    }
                })
                .map_err(|_| RunError::Threads(threads))?;
        }
        drop(tx);
        let mut early: BTreeMap<u64, Result<A, Runaway>> = BTreeMap::new();
        let mut want = first;
        let mut done = 0;
        let mut merge_in_order = |c: u64, out: Result<A, Runaway>| -> Result<(), RunError> {
            early.insert(c, out);
            while let Some(out) = early.remove(&want) {
                total.merge(out?)?;
                done += ((want + 1) * CHUNK).min(range.end) - (want * CHUNK).max(range.start);
                want += 1;
                let (lock, ready) = &merged;
                *lock.lock().unwrap_or_else(|e| e.into_inner()) = want;
                ready.notify_all();
                if want % PROGRESS_EVERY == 0 || want == last {
                    progress(done);
                }
            }
            Ok(())
        };
        let mut outcome = Ok(());
        for (c, out) in &rx {
            if let Err(e) = merge_in_order(c, out) {
                outcome = Err(e);
                break;
            }
        }
        outcome
    });
    drop(rx);
    result
}

/// How many chunks per worker thread may be computed ahead of the next one to merge:
/// enough to keep workers busy while one slow chunk finishes, few enough that memory
/// (an aggregate per model per chunk) stays small for sweeps of many models.
const LEAD: usize = 4;

/// Runs a closure when dropped, also while unwinding from a panic.
struct OnDrop<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)()
    }
}

/// Progress is reported every this many merged chunks.
const PROGRESS_EVERY: u64 = 8;

/// Runs `trials` of every model in lockstep on fresh engines, on this thread, adding them
/// to `acc`: trial i of model 0, 1, ..., then trial i + 1. Stops at the first trial that
/// runs away. (Any range: [`run_set`] gives it one chunk at a time.)
pub fn run_chunk<A: Accumulate>(
    models: &[&Model],
    spec: &RunSpec,
    trials: Range<u64>,
    acc: &mut A,
) -> Result<(), Runaway> {
    run_chunk_from(models, spec, Start::DayZero, trials, acc)
}

/// [`run_chunk`], with every trial starting at `start`.
fn run_chunk_from<A: Accumulate>(
    models: &[&Model],
    spec: &RunSpec,
    start: Start<'_>,
    trials: Range<u64>,
    acc: &mut A,
) -> Result<(), Runaway> {
    let mut engines: Vec<Engine> = models
        .iter()
        .map(|m| {
            let mut e = Engine::new(m, spec.seed);
            e.set_max_events(spec.max_events);
            e
        })
        .collect();
    let Some((lead, others)) = engines.split_first_mut() else {
        return Ok(());
    };
    fn run<O: Observer>(e: &mut Engine, start: Start<'_>, trial: u64, obs: &mut O) -> Result<(), Runaway> {
        match start {
            Start::DayZero => e.run_observed(trial, obs),
            Start::From { past, until } => e.run_from(trial, past, until, obs),
        }
    }
    for trial in trials {
        run(lead, start, trial, &mut acc.watch(0))?;
        let first = lead.outcome();
        acc.add(0, &first, &first);
        for (k, engine) in others.iter_mut().enumerate() {
            run(engine, start, trial, &mut acc.watch(k + 1))?;
            acc.add(k + 1, &engine.outcome(), &first);
        }
    }
    Ok(())
}

/// Trials added per batch by [`run_until`]: a whole number of chunks.
pub(crate) const BATCH: u64 = 8 * CHUNK;

/// Runs batches of [`BATCH`] trials, in trial order, into `total` until `done(total)` says
/// the estimate is precise enough or `max_trials` are run; calls `progress(n)` with the
/// trials run so far after each batch. Because trials are independent of the total and
/// merges are exact, the result is identical to a plain [`run_set`] of the final count.
pub(crate) fn run_until<A: Accumulate>(
    models: &[&Model],
    spec: &RunSpec,
    max_trials: u64,
    empty: &(dyn Fn() -> A + Sync),
    total: &mut A,
    done: &dyn Fn(&A) -> bool,
    progress: &mut dyn FnMut(u64),
) -> Result<(), RunError> {
    let mut next = 0;
    while next < max_trials {
        let end = (next + BATCH).min(max_trials);
        run_set(models, spec, next..end, empty, total, &mut |_| {})?;
        next = end;
        progress(next);
        if done(total) {
            break;
        }
    }
    Ok(())
}
