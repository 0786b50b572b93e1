//! brink: an escalation scenario simulator.
//!
//! A scenario file describes a crisis as an escalation ladder (levels), the steps each
//! actor may take (spontaneously at a rate, on a schedule, or in reaction to another
//! step), their branches and what each branch changes. brink compiles the file into a
//! checked model, plays it out as many seeded, independent Monte Carlo trials of a
//! discrete-event simulation, aggregates the outcomes exactly, and writes tables, charts
//! and a report. The language is specified in `docs/scenario-language.md`; a newcomer
//! reads `docs/ARCHITECTURE.md` first.
//!
//! Data flows one way, and each layer names only itself and the layers listed before it
//! (tests/layers.rs checks this on the source):
//!
//! 1. [`sim`]: the core, with no I/O: the compiled [`sim::model::Model`], random streams,
//!    distributions, the event engine, exact statistics and the runner that spreads
//!    trials over threads with results that do not depend on the thread count.
//! 2. [`scenario`]: scenario text to a `Model`, with diagnostics that name file, line and
//!    column.
//! 3. [`analysis`]: what is computed from trials beyond one run's aggregate: paired
//!    comparisons, sweeps and sensitivity, backtests against a record.
//! 4. [`output`]: every file format (CSV, JSON) written into a staging folder and read
//!    back, and the guard that keeps `--force` from deleting anything not brink's.
//! 5. [`shard`]: a run cut into shards (K/N), their manifests, verification and merge,
//!    and Slurm job scripts.
//! 6. [`present`]: text summaries, charts, the HTML report, chain diagrams and traces,
//!    all drawn from what output wrote (so `brink plot` redraws the same pictures).
//! 7. [`cli`]: the `brink` command line, one file per command; the binary is a call to
//!    [`cli::main`].

#![warn(missing_docs, unreachable_pub)]

pub mod analysis;
pub mod cli;
pub mod output;
pub mod present;
pub mod scenario;
pub mod shard;
pub mod sim;
