//! Shards of a run, and merging them back into one results folder.
//!
//! `brink run --shard K/N` simulates only the trials of shard K: the contiguous range
//! `[K*T/N, (K+1)*T/N)` of the run's T trials (integer division, so any T splits, and
//! the shards cover every trial exactly once). It writes a *shard folder*:
//!
//! - `shard.json`: which run this is a part of ([`ShardManifest`]), written last;
//! - `aggregate.json`: the shard's [`crate::sim::stats::Aggregate`], every accumulator exact
//!   ([`AggregateFile`], format `brink-aggregate/1`);
//! - `scenario.toml`: a copy of the scenario file, so the merge needs nothing else;
//! - `trials.csv` (its rows, with the header) and `events.csv` if asked for.
//!
//! `shard.json` records the size and SHA-256 of every other file ([`crate::output::digest::FileDigest`]); the
//! row files are hashed as they are streamed out ([`crate::output::digest::DigestWriter`]), so this costs no
//! second pass over them. `brink merge` requires every digest the shard's kind needs,
//! checks each file against it (the row files while it copies them, so memory stays
//! flat), and checks that `trials.csv` holds exactly the shard's trials, in order.
//!
//! `brink compare`, `sweep` and `sensitivity` shard the same way ([`Kind`]); what sets
//! their shards apart is the `kind`-tagged [`Design`] of `shard.json`, and their exact
//! state files are in [`set`].
//!
//! `brink merge` reads the shard folders, checks that they are the shards of one run,
//! each exactly once, adds the aggregates (integer sums, so exact and independent of
//! order), concatenates the rows in shard order, and writes the results folder through
//! [`crate::present::folder::write`], the code `brink run` uses. Since every trial draws
//! only from its own streams (docs/reproducibility.md), the merged folder is byte for byte the one a
//! single run writes, except the wall-clock fields of `manifest.json`.
//!
//! One job per file: [`range`] (K/N), [`manifest`] (what a shard records), [`verify`]
//! (digests, the design, row ids), [`folder`] (reading and matching shard folders),
//! [`merge`] (adding them up), [`set`] (the state of lockstep runs), [`slurm`] (jobs).

pub mod folder;
pub mod manifest;
pub mod merge;
pub mod range;
pub mod set;
pub mod slurm;
pub mod verify;

pub use crate::output::guard::{PREVIOUS_SHARD_FORMAT, SCENARIO_COPY, SHARD_FORMAT, SHARD_JSON};
pub use folder::{read_shards, ShardFolder};
pub use manifest::{
    write_run_state, AggregateFile, Design, Kind, RunFacts, SensitivityPart, ShardManifest, ShardRun,
    SweepPart, SweepSplit, AGGREGATE_FORMAT, AGGREGATE_JSON,
};
pub use merge::{concat_rows, merge_aggregates, model_of, params_of, run_models, sets_of};
pub use range::Shard;
pub use verify::{digests, RowFile};

use crate::output::OutputError;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Why shard folders could not be merged. Every message names the shard at fault.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    /// A folder without `shard.json`.
    #[error("{} is not a shard folder: it has no shard.json (shard folders are written by `brink run --shard K/N`)", .0.display())]
    NotShard(PathBuf),
    /// A file of a shard could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file of a shard is malformed or inconsistent.
    #[error("{}: {message}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A shard of another run.
    #[error(transparent)]
    Mismatch(Box<Mismatch>),
    /// One shard given twice.
    #[error("shard {shard} is given twice: {} and {}; give each shard exactly once", first.display(), second.display())]
    Duplicate {
        /// The shard.
        shard: Shard,
        /// Its first folder.
        first: PathBuf,
        /// Its second folder.
        second: PathBuf,
    },
    /// Shards not given.
    #[error("{} of {count} {} missing (given: {}); merge needs every shard of the run exactly once",
        if missing.len() == 1 { format!("shard {}", missing[0]) } else { format!("shards {}", list(missing)) },
        if missing.len() == 1 { "is" } else { "are" },
        list(given))]
    Missing {
        /// The shard numbers not given (the first 20).
        missing: Vec<u64>,
        /// N.
        count: u64,
        /// The shard numbers given.
        given: Vec<u64>,
    },
    /// Writing the merged folder failed.
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// Which field sets a shard apart from the first one given.
#[derive(Debug, thiserror::Error)]
#[error(
    "{} (shard {shard}) is not part of the same run as {} (shard {reference_shard}): its {what} is {have}, not {want}; \
     the shards of one run share command, scenario, variant, --set, seed, trials, shard count and design",
    dir.display(),
    reference.display()
)]
pub struct Mismatch {
    /// The offending shard folder.
    pub dir: PathBuf,
    /// Its shard.
    pub shard: Shard,
    /// The first shard folder given, which the others are compared with.
    pub reference: PathBuf,
    /// Its shard.
    pub reference_shard: Shard,
    /// Which field differs.
    pub what: &'static str,
    /// The offending value.
    pub have: String,
    /// The reference value.
    pub want: String,
}

fn list(v: &[u64]) -> String {
    let mut text = v.iter().take(20).map(u64::to_string).collect::<Vec<_>>().join(", ");
    if v.len() >= 20 {
        text.push_str(", ...");
    }
    text
}

impl ShardError {
    /// Whether the problem is in the input (exit 2) rather than in writing (exit 1).
    pub(crate) fn is_bad_input(&self) -> bool {
        !matches!(self, ShardError::Output(e) if !e.is_bad_input())
    }
}

pub(super) fn read_file(path: &Path) -> Result<Vec<u8>, ShardError> {
    crate::scenario::input::read(path, "shard file").map_err(|e| match e {
        crate::scenario::input::InputError::Io { source, .. } => {
            ShardError::Read { path: path.to_owned(), source }
        }
        other => ShardError::Malformed { path: path.to_owned(), message: other.to_string() },
    })
}

pub(super) fn json<T: for<'de> Deserialize<'de>>(path: &Path, bytes: &[u8]) -> Result<T, ShardError> {
    serde_json::from_slice(bytes).map_err(|e| ShardError::Malformed {
        path: path.to_owned(),
        message: if e.line() > 0 {
            format!("line {}, column {}: {e}", e.line(), e.column())
        } else {
            e.to_string()
        },
    })
}

/// Whether `bytes` is JSON whose `format` field is `want`.
pub(super) fn format_is(bytes: &[u8], want: &str) -> bool {
    #[derive(Deserialize)]
    struct Head {
        format: Option<String>,
    }
    serde_json::from_slice::<Head>(bytes).is_ok_and(|h| h.format.as_deref() == Some(want))
}

/// Reads the `format` field alone, so a newer format gets a clear message.
pub(super) fn check_format(path: &Path, bytes: &[u8], want: &str) -> Result<(), ShardError> {
    #[derive(Deserialize)]
    struct Head {
        format: Option<String>,
    }
    let head: Head = json(path, bytes)?;
    match head.format {
        Some(f) if f == want => Ok(()),
        Some(f) => Err(ShardError::Malformed {
            path: path.to_owned(),
            message: format!(
                "format `{f}` is not `{want}`, the one this brink ({}) reads",
                env!("CARGO_PKG_VERSION")
            ),
        }),
        None => Err(ShardError::Malformed {
            path: path.to_owned(),
            message: format!("no `format` field (`{want}`)"),
        }),
    }
}
