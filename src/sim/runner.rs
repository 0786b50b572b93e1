//! Monte Carlo: many trials, in parallel, with results independent of the thread count.
//!
//! Trials are cut into fixed-size chunks (the chunk size never depends on the number of
//! threads). Worker threads take chunks in order and never wait for one another; each
//! chunk yields its partial [`Aggregate`] and its `trials.csv` rows, which the calling
//! thread merges and writes strictly in chunk order as they arrive. Because
//! every trial draws only from its own streams and every aggregate is integer-exact, the
//! output bytes are the same for 1 thread or 64.

use crate::analysis::compare::{Paired, TrialKey};
use crate::output::trials::TrialRows;
use crate::sim::engine::{Engine, Runaway};
use crate::sim::model::Model;
use crate::sim::stats::Aggregate;
use std::collections::BTreeMap;
use std::io::Write;
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

/// Runs all trials; streams `trials.csv` rows (without header) into `rows` if given;
/// calls `progress(done)` every few chunks. Returns the aggregate over all trials.
pub fn run(
    model: &Model,
    spec: &RunSpec,
    rows: Option<&mut dyn Write>,
    progress: &mut dyn FnMut(u64),
) -> Result<Aggregate, RunError> {
    let mut rows = [rows];
    let out = run_set(&[model], spec, 0..spec.trials, &mut rows, progress)?;
    Ok(out.aggregates.into_iter().next().expect("one model, one aggregate"))
}

/// What [`run_set`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct SetOutput {
    /// One aggregate per model.
    pub aggregates: Vec<Aggregate>,
    /// For each model after the first: its pairing with the first, trial by trial.
    pub paired: Vec<Paired>,
}

impl SetOutput {
    fn empty(models: &[&Model]) -> SetOutput {
        SetOutput {
            aggregates: models.iter().map(|m| Aggregate::new(m)).collect(),
            paired: models.iter().skip(1).map(|m| Paired::new(models[0], m)).collect(),
        }
    }

    /// Adds the output of other trials of the same models.
    pub fn merge(&mut self, o: &SetOutput) {
        for (a, b) in self.aggregates.iter_mut().zip(&o.aggregates) {
            a.merge(b);
        }
        for (a, b) in self.paired.iter_mut().zip(&o.paired) {
            a.merge(b);
        }
    }
}

/// Runs trials `range` of several models in lockstep: trial i of every model, then
/// trial i + 1. With one seed, the models share their random numbers wherever their
/// steps share ids, so each later model is paired with the first (common random
/// numbers). Rows of `trials.csv` go to `rows[k]` for model k when given.
pub fn run_set(
    models: &[&Model],
    spec: &RunSpec,
    range: std::ops::Range<u64>,
    rows: &mut [Option<&mut dyn Write>],
    progress: &mut dyn FnMut(u64),
) -> Result<SetOutput, RunError> {
    let threads = spec.threads.max(1);
    // Chunks are aligned to absolute trial indices, so any range splits the same way.
    let first = range.start / CHUNK;
    let last = range.end.div_ceil(CHUNK);
    let want_rows: Vec<bool> = (0..models.len()).map(|k| rows.get(k).is_some_and(|r| r.is_some())).collect();
    let mut total = SetOutput::empty(models);
    if range.start >= range.end {
        return Ok(total);
    }
    // Workers take chunks in order from a counter and never wait for one another; this
    // thread merges and writes the results strictly in chunk order as they arrive. A
    // worker may run at most LEAD chunks per thread ahead of the next chunk to merge, so
    // memory stays bounded however unevenly chunks take their time.
    let lead = (threads * LEAD) as u64;
    let next = AtomicU64::new(first);
    let merged = (Mutex::new(first), Condvar::new());
    let stop = AtomicBool::new(false);
    let (tx, rx) = std::sync::mpsc::channel::<(u64, Result<ChunkOutput, Runaway>)>();
    // Releases every worker, waiting or running, so that the scope can end early.
    let halt = || {
        stop.store(true, Ordering::Relaxed);
        let (lock, ready) = &merged;
        drop(lock.lock().unwrap_or_else(|e| e.into_inner()));
        ready.notify_all();
    };
    let result = std::thread::scope(|scope| -> Result<(), RunError> {
        // However this closure ends (done, an error, or a panic in a row writer or the
        // progress callback), workers waiting for the merge are released, so the scope can
        // end and a panic surfaces instead of hanging.
        let _release = OnDrop(&halt);
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, merged, stop, want_rows) = (&next, &merged, &stop, &want_rows);
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
                        let from = (c * CHUNK).max(range.start);
                        let to = ((c + 1) * CHUNK).min(range.end);
                        if tx.send((c, run_set_chunk(models, spec, from, to, want_rows))).is_err() {
                            return;
                        }
                    }
                })
                .map_err(|_| RunError::Threads(threads))?;
        }
        drop(tx);
        let mut early: BTreeMap<u64, Result<ChunkOutput, Runaway>> = BTreeMap::new();
        let mut want = first;
        let mut absorb_in_order = |c: u64, out: Result<ChunkOutput, Runaway>| -> Result<(), RunError> {
            early.insert(c, out);
            while let Some(out) = early.remove(&want) {
                absorb(out, &mut total, rows)?;
                want += 1;
                let (lock, ready) = &merged;
                *lock.lock().unwrap_or_else(|e| e.into_inner()) = want;
                ready.notify_all();
                if want % PROGRESS_EVERY == 0 || want == last {
                    progress(total.aggregates[0].trials);
                }
            }
            Ok(())
        };
        let mut outcome = Ok(());
        for (c, out) in &rx {
            if let Err(e) = absorb_in_order(c, out) {
                outcome = Err(e);
                break;
            }
        }
        outcome
    });
    drop(rx);
    result?;
    Ok(total)
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

/// Merges one chunk into `total` and writes its rows.
fn absorb(
    out: Result<ChunkOutput, Runaway>,
    total: &mut SetOutput,
    rows: &mut [Option<&mut dyn Write>],
) -> Result<(), RunError> {
    let (part, bytes) = out?;
    total.merge(&part);
    for (w, b) in rows.iter_mut().zip(&bytes) {
        if let Some(w) = w {
            w.write_all(b)?;
        }
    }
    Ok(())
}

/// A chunk's aggregates and pairings, and each model's trials.csv rows.
type ChunkOutput = (SetOutput, Vec<Vec<u8>>);

/// Runs trials `from..to` of every model on fresh engines.
fn run_set_chunk(
    models: &[&Model],
    spec: &RunSpec,
    from: u64,
    to: u64,
    want_rows: &[bool],
) -> Result<ChunkOutput, Runaway> {
    let mut engines: Vec<Engine> = models
        .iter()
        .map(|m| {
            let mut e = Engine::new(m, spec.seed);
            e.set_max_events(spec.max_events);
            e
        })
        .collect();
    let mut out = SetOutput::empty(models);
    let mut rows: Vec<TrialRows> = models.iter().map(|m| TrialRows::new(m)).collect();
    let mut key = TrialKey::default();
    for trial in from..to {
        for (k, engine) in engines.iter_mut().enumerate() {
            engine.run(trial)?;
            let o = engine.outcome();
            out.aggregates[k].add(&o);
            if want_rows[k] {
                rows[k].push(&o);
            }
            if k == 0 && models.len() > 1 {
                key.set(&o);
            } else if k > 0 {
                out.paired[k - 1].add(&key, &o);
            }
        }
    }
    Ok((out, rows.into_iter().map(TrialRows::into_bytes).collect()))
}

/// Runs trials `from..to` on a fresh engine.
pub fn run_chunk(
    model: &Model,
    spec: &RunSpec,
    from: u64,
    to: u64,
    want_rows: bool,
) -> Result<(Aggregate, Vec<u8>), Runaway> {
    let (out, mut bytes) = run_set_chunk(&[model], spec, from, to, &[want_rows])?;
    let agg = out.aggregates.into_iter().next().expect("one model");
    Ok((agg, bytes.pop().unwrap_or_default()))
}

/// Trials added per batch by [`run_until`]: a whole number of chunks.
pub const BATCH: u64 = 8 * CHUNK;

/// Runs batches of [`BATCH`] trials, in trial order, until `done(&output)` says the
/// estimate is precise enough or `max_trials` are run. Because trials are independent
/// of the total and aggregates merge exactly, the result is identical to a plain
/// [`run_set`] of the final trial count.
pub fn run_until(
    models: &[&Model],
    spec: &RunSpec,
    max_trials: u64,
    rows: &mut [Option<&mut dyn Write>],
    done: &dyn Fn(&SetOutput) -> bool,
    progress: &mut dyn FnMut(u64),
) -> Result<SetOutput, RunError> {
    let mut total = SetOutput::empty(models);
    let mut next = 0;
    while next < max_trials {
        let end = (next + BATCH).min(max_trials);
        let part = run_set(models, spec, next..end, rows, &mut |_| {})?;
        total.merge(&part);
        next = end;
        progress(next);
        if done(&total) {
            break;
        }
    }
    Ok(total)
}

/// Parses a precision target: a probability half-width such as `0.005`, or `0.5%`.
pub fn parse_precision(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, scale) = match t.strip_suffix('%') {
        Some(n) => (n, 0.01),
        None => (t, 1.0),
    };
    let x: f64 = num.trim().parse().map_err(|_| format!("`{s}` is not a number (e.g. 0.005 or 0.5%)"))?;
    let x = x * scale;
    if !(x > 0.0 && x < 0.5) {
        return Err(format!("precision must be a half-width between 0 and 0.5 (50%), got {s}"));
    }
    Ok(x)
}
