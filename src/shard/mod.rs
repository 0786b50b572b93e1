//! Shards of a run, and merging them back into one results folder.
//!
//! `brink run --shard K/N` simulates only the trials of shard K: the contiguous range
//! `[K*T/N, (K+1)*T/N)` of the run's T trials (integer division, so any T splits, and
//! the shards cover every trial exactly once). It writes a *shard folder*:
//!
//! - `shard.json`: which run this is a part of ([`ShardManifest`]), written last;
//! - `aggregate.json`: the shard's [`Aggregate`], every accumulator exact
//!   ([`AggregateFile`], format `brink-aggregate/1`);
//! - `scenario.toml`: a copy of the scenario file, so the merge needs nothing else;
//! - `trials.csv` (its rows, with the header) and `events.csv` if asked for.
//!
//! `shard.json` records the size and SHA-256 of every other file ([`FileDigest`]); the
//! row files are hashed as they are streamed out ([`DigestWriter`]), so this costs no
//! second pass over them. `brink merge` requires every digest the shard's kind needs,
//! checks each file against it (the row files while it copies them, so memory stays
//! flat), and checks that `trials.csv` holds exactly the shard's trials, in order.
//!
//! `brink compare`, `sweep` and `sensitivity` shard the same way ([`Kind`]); their
//! exact state files are in [`set`].
//!
//! `brink merge` reads the shard folders, checks that they are the shards of one run,
//! each exactly once, adds the aggregates (integer sums, so exact and independent of
//! order), concatenates the rows in shard order, and writes the results folder through
//! [`crate::present::folder::write`], the code `brink run` uses. Since every trial draws
//! only from its own streams (docs/reproducibility.md), the merged folder is byte for byte the one a
//! single run writes, except the wall-clock fields of `manifest.json`.

pub mod set;
pub mod slurm;

use crate::analysis::explore::Axis;
use crate::output::digest::{hex, FileDigest};
pub use crate::output::guard::{SCENARIO_COPY, SHARD_FORMAT, SHARD_JSON};
use crate::output::manifest::{ordered, ordered_de, sha256_hex};
use crate::output::{io_at, OutputError};
use crate::scenario::{self, Overrides};
use crate::sim::model::Model;
use crate::sim::runner::RunSpec;
use crate::sim::stats::Aggregate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Older `shard.json` formats, refused with a message that says why: format 2 did not
/// hash `trials.csv` and `events.csv`, format 1 recorded no digests at all.
const OLD_SHARD_FORMATS: [&str; 2] = ["brink-shard/1", "brink-shard/2"];
/// `format` of `aggregate.json`.
pub const AGGREGATE_FORMAT: &str = "brink-aggregate/1";
/// The shard's aggregate.
pub const AGGREGATE_JSON: &str = "aggregate.json";

/// Shard `index` of `count` (written `K/N`, K from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// K, in `0..count`.
    pub index: u64,
    /// N, at least 1.
    pub count: u64,
}

impl Shard {
    /// Parses `K/N` with `0 <= K < N`.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let (k, n) = s.split_once('/').ok_or_else(|| format!("expected K/N such as 0/4, got `{s}`"))?;
        let index: u64 = k.trim().parse().map_err(|_| format!("`{k}` is not a shard number (in {s})"))?;
        let count: u64 = n.trim().parse().map_err(|_| format!("`{n}` is not a shard count (in {s})"))?;
        if count == 0 {
            return Err(format!("the shard count must be at least 1 (in {s})"));
        }
        if index >= count {
            return Err(format!(
                "shard {index} does not exist in {count} shards: they are numbered 0 to {}",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// The trials of this shard among `total`: `[K*T/N, (K+1)*T/N)`.
    pub fn range(self, total: u64) -> Range<u64> {
        let at = |k: u64| (u128::from(k) * u128::from(total) / u128::from(self.count)) as u64;
        at(self.index)..at(self.index + 1)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The command whose work a shard holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `brink run`.
    Run,
    /// `brink compare` of variants or two scenario files.
    Compare,
    /// `brink sweep`.
    Sweep,
    /// `brink sensitivity`.
    Sensitivity,
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Kind::Run => "run",
            Kind::Compare => "compare",
            Kind::Sweep => "sweep",
            Kind::Sensitivity => "sensitivity",
        };
        write!(f, "`brink {name}`")
    }
}

/// One compared run of a `brink compare` shard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardRun {
    /// Its name: the variant, or the scenario name (its sub-folder).
    pub name: String,
    /// Its scenario file as given on the command line.
    pub scenario_file: String,
    /// SHA-256 of that file (also of `<name>/scenario.toml`).
    pub scenario_sha256: String,
    /// `[scenario] name`.
    pub scenario_name: String,
    /// Variant applied (None: baseline).
    pub variant: Option<String>,
    /// Params after the variant and `--set`, in file order.
    #[serde(serialize_with = "ordered", deserialize_with = "ordered_de")]
    pub params: Vec<(String, f64)>,
}

/// How a sweep is split into shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SweepSplit {
    /// Every grid point, shard K's trials.
    Trials,
    /// Shard K's grid points, every trial.
    Points,
}

/// The design of a `brink sweep` shard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepPart {
    /// The axes (`--param`), in order.
    pub axes: Vec<Axis>,
    /// Split by trials or by grid points.
    pub split: SweepSplit,
    /// Grid points of the whole sweep.
    pub points: u64,
    /// First grid point of this shard (row-major, the first axis slowest).
    pub first_point: u64,
    /// One past its last grid point.
    pub end_point: u64,
}

/// The design of a `brink sensitivity` shard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensitivityPart {
    /// `--spread`.
    pub spread: f64,
    /// The level studied (`--metric`, resolved).
    pub metric: String,
}

/// Contents of `shard.json`: the run this shard belongs to, and which part it is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardManifest {
    /// [`SHARD_FORMAT`].
    pub format: String,
    /// What was sharded.
    pub kind: Kind,
    /// brink's version (shards of different versions are not merged).
    pub brink_version: String,
    /// The scenario file as given on the command line.
    pub scenario_file: String,
    /// SHA-256 of the scenario file's bytes (also of `scenario.toml`).
    pub scenario_sha256: String,
    /// `[scenario] name`.
    pub scenario_name: String,
    /// Variant applied (None: baseline).
    pub variant: Option<String>,
    /// Params after the variant and `--set`, in file order.
    #[serde(serialize_with = "ordered", deserialize_with = "ordered_de")]
    pub params: Vec<(String, f64)>,
    /// `--set` overrides as `NAME=VALUE`, in the order given.
    pub sets: Vec<String>,
    /// Seed.
    pub seed: u64,
    /// Trials of the whole run.
    pub trials: u64,
    /// K.
    pub shard: u64,
    /// N.
    pub shards: u64,
    /// First trial of this shard.
    pub first_trial: u64,
    /// One past the last trial of this shard.
    pub end_trial: u64,
    /// Per-trial firing limit.
    pub max_events: u64,
    /// Whether `trials.csv` is in the folder.
    pub trials_csv: bool,
    /// The run's `--events K`: `events.csv` holds this shard's trials below K.
    pub events: Option<u64>,
    /// `compare`: every compared run, the reference first (the scenario fields above
    /// are the reference's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<ShardRun>,
    /// `sweep`: its axes and this shard's grid points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepPart>,
    /// `sensitivity`: its design.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<SensitivityPart>,
    /// Worker threads (does not affect results).
    pub threads: usize,
    /// Wall-clock seconds of the simulation (does not affect results).
    pub wall_seconds: f64,
    /// The command line.
    pub command: Vec<String>,
    /// Files in the folder.
    pub files: Vec<String>,
    /// Every other file of the folder with its size and SHA-256: merge refuses a shard
    /// whose files were damaged or edited since. Missing or empty is refused too (the
    /// default only lets [`ShardFolder::read`] say so in words).
    #[serde(default)]
    pub digests: Vec<FileDigest>,
}

/// Whether a file of a shard holds rows (`trials.csv`, `events.csv`): these can be many
/// GB, so they are hashed as they are written and checked as merge copies them.
fn is_row_file(path: &str) -> bool {
    matches!(path.rsplit('/').next(), Some("trials.csv" | "events.csv"))
}

/// Size and SHA-256 of a file, read in pieces (memory stays flat whatever its size).
fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok((bytes, hex(&hasher.finalize())));
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
}

/// The digests of every file below `dir` except `shard.json`, in path order. The row
/// files take theirs from `streamed` (computed by a [`DigestWriter`] as they were
/// written); every other file is small and is hashed here.
pub fn digests(dir: &Path, streamed: &[FileDigest]) -> std::io::Result<Vec<FileDigest>> {
    fn walk(
        dir: &Path,
        rel: &str,
        streamed: &[FileDigest],
        out: &mut Vec<FileDigest>,
    ) -> std::io::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            let path = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
            if e.file_type()?.is_dir() {
                walk(&e.path(), &path, streamed, out)?;
            } else if path != SHARD_JSON {
                let size = e.metadata()?.len();
                let digest = match streamed.iter().find(|d| d.path == path) {
                    Some(d) if d.bytes == size => d.clone(),
                    Some(d) => {
                        return Err(std::io::Error::other(format!(
                            "{path} has {size} bytes, but {} were written to it",
                            d.bytes
                        )))
                    }
                    None if is_row_file(&path) => {
                        return Err(std::io::Error::other(format!("{path} was not hashed as it was written")))
                    }
                    None => {
                        let (bytes, sha256) = hash_file(&e.path())?;
                        FileDigest { path, bytes, sha256 }
                    }
                };
                out.push(digest);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, "", streamed, &mut out)?;
    Ok(out)
}

impl ShardManifest {
    /// The manifest of shard `shard` of a `kind` run of `model` (trials `range`), with no
    /// files, timing or design yet.
    pub fn new(
        kind: Kind,
        model: &Model,
        run: &RunFacts<'_>,
        shard: Shard,
        range: Range<u64>,
    ) -> ShardManifest {
        ShardManifest {
            format: SHARD_FORMAT.into(),
            kind,
            brink_version: env!("CARGO_PKG_VERSION").into(),
            scenario_file: run.scenario_file.to_owned(),
            scenario_sha256: sha256_hex(run.source),
            scenario_name: model.name.clone(),
            variant: model.variant.clone(),
            params: model.params.clone(),
            sets: run.sets.to_vec(),
            seed: run.spec.seed,
            trials: run.spec.trials,
            shard: shard.index,
            shards: shard.count,
            first_trial: range.start,
            end_trial: range.end,
            max_events: run.spec.max_events,
            trials_csv: false,
            events: None,
            runs: Vec::new(),
            sweep: None,
            sensitivity: None,
            threads: run.spec.threads,
            wall_seconds: 0.0,
            command: std::env::args().collect(),
            files: Vec::new(),
            digests: Vec::new(),
        }
    }

    /// Pretty JSON bytes with a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// The shard as `K/N`.
    pub fn shard(&self) -> Shard {
        Shard { index: self.shard, count: self.shards }
    }
}

/// What every shard records of the run it belongs to.
#[derive(Debug, Clone, Copy)]
pub struct RunFacts<'a> {
    /// The scenario file as given.
    pub scenario_file: &'a str,
    /// Its bytes.
    pub source: &'a [u8],
    /// `--set` as `NAME=VALUE`.
    pub sets: &'a [String],
    /// Trials (of the whole run), seed, threads and event limit.
    pub spec: &'a RunSpec,
}

/// Contents of `aggregate.json`: the ids that give the indices meaning, and the
/// aggregate itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregateFile {
    /// [`AGGREGATE_FORMAT`].
    pub format: String,
    /// Level ids, in ladder order (the order of `aggregate.levels`).
    pub levels: Vec<String>,
    /// Tally ids, in file order.
    pub tallies: Vec<String>,
    /// Step ids, in file order (paths are lists of indices into this).
    pub steps: Vec<String>,
    /// The accumulators.
    pub aggregate: Aggregate,
}

impl AggregateFile {
    /// Wraps an aggregate of `model`.
    pub fn new(model: &Model, agg: &Aggregate) -> AggregateFile {
        AggregateFile {
            format: AGGREGATE_FORMAT.into(),
            levels: model.levels.iter().map(|l| l.id.clone()).collect(),
            tallies: model.tallies.iter().map(|t| t.id.clone()).collect(),
            steps: model.steps.iter().map(|s| s.id.clone()).collect(),
            aggregate: agg.clone(),
        }
    }

    /// Compact JSON bytes with a final newline (histograms make pretty-printing long).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec(self).unwrap_or_default();
        v.push(b'\n');
        v
    }
}

/// Writes `aggregate.json` and `scenario.toml` into `dir` (`shard.json` comes last, from
/// the caller, once everything else is written).
pub fn write_run_state(dir: &Path, model: &Model, agg: &Aggregate, source: &[u8]) -> Result<(), OutputError> {
    let files =
        [(AGGREGATE_JSON, AggregateFile::new(model, agg).to_bytes()), (SCENARIO_COPY, source.to_vec())];
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(io_at(&path))?;
    }
    Ok(())
}

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
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, ShardError::Output(e) if !e.is_bad_input())
    }
}

/// A shard folder, its manifest read.
#[derive(Debug, Clone)]
pub struct ShardFolder {
    /// The folder.
    pub dir: PathBuf,
    /// Its `shard.json`.
    pub manifest: ShardManifest,
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

const SHA_MISMATCH: &str =
    "its SHA-256 is not the one shard.json recorded (was the file edited or damaged?); run this shard again";

/// The files of a shard that merge reads, relative to its folder: each needs a digest.
fn needed_files(m: &ShardManifest) -> Vec<String> {
    let mut files: Vec<String> = match m.kind {
        Kind::Run => vec![AGGREGATE_JSON.into(), SCENARIO_COPY.into()],
        Kind::Compare => {
            let mut v = vec![set::PAIRED_JSON.to_string()];
            for r in &m.runs {
                v.push(format!("{}/{AGGREGATE_JSON}", r.name));
                v.push(format!("{}/{SCENARIO_COPY}", r.name));
            }
            v
        }
        Kind::Sweep => vec![set::COUNTS_JSON.into(), SCENARIO_COPY.into()],
        Kind::Sensitivity => vec![set::COUNTS_JSON.into(), set::PAIRED_JSON.into(), SCENARIO_COPY.into()],
    };
    files.extend(merged_row_files(m));
    files
}

/// The row files merge concatenates (and checks against their digests as it copies).
fn merged_row_files(m: &ShardManifest) -> Vec<String> {
    let mut files = Vec::new();
    match m.kind {
        Kind::Run if m.trials_csv => files.push("trials.csv".to_string()),
        Kind::Compare if m.trials_csv => {
            files.extend(m.runs.iter().map(|r| format!("{}/trials.csv", r.name)))
        }
        _ => {}
    }
    if m.kind == Kind::Run && m.events.is_some() {
        files.push("events.csv".into());
    }
    files
}

/// Checks that `digests` is there and covers every file merge reads, each with a
/// SHA-256: without them an edited file would merge unnoticed.
fn check_digests_complete(m: &ShardManifest) -> Result<(), String> {
    if m.digests.is_empty() {
        return Err(
            "its `digests` are empty or there are no `digests`: brink writes the size and SHA-256 of every file \
             of a shard there, and merge needs them to tell an intact shard from an edited one; run this shard again"
                .into(),
        );
    }
    for d in &m.digests {
        if d.sha256.len() != 64 || !d.sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(format!(
                "the digest of {} has sha256 `{}`, not a SHA-256 (64 lowercase hex digits)",
                d.path, d.sha256
            ));
        }
    }
    for f in needed_files(m) {
        if !m.digests.iter().any(|d| d.path == f) {
            return Err(format!(
                "`digests` has no digest of {f}, which merge reads: the digests must cover every file of the shard"
            ));
        }
    }
    Ok(())
}

/// Checks that a shard describes what its kind needs, and nothing another kind needs.
fn check_design(m: &ShardManifest) -> Result<(), String> {
    let has = (!m.runs.is_empty(), m.sweep.is_some(), m.sensitivity.is_some());
    let want = match m.kind {
        Kind::Run => (false, false, false),
        Kind::Compare => (true, false, false),
        Kind::Sweep => (false, true, false),
        Kind::Sensitivity => (false, false, true),
    };
    if has != want {
        return Err(format!(
            "a shard of {} needs {}",
            m.kind,
            match m.kind {
                Kind::Run => "no `runs`, `sweep` or `sensitivity`",
                Kind::Compare => "`runs`, and no `sweep` or `sensitivity`",
                Kind::Sweep => "`sweep`, and no `runs` or `sensitivity`",
                Kind::Sensitivity => "`sensitivity`, and no `runs` or `sweep`",
            }
        ));
    }
    if m.kind == Kind::Compare && m.runs.len() < 2 {
        return Err("a comparison needs at least two `runs`".into());
    }
    // A run's name is its sub-folder: one plain path component, never `..` or a path
    // that would lead a merge outside its results folder.
    let mut names = std::collections::BTreeSet::new();
    for r in &m.runs {
        let plain = !r.name.is_empty()
            && r.name != "."
            && r.name != ".."
            && !r.name.contains(['/', '\\', '\0', ':'])
            && !r.name.starts_with('.');
        if !plain {
            return Err(format!("the run name `{}` is not a plain folder name", r.name));
        }
        if !names.insert(r.name.as_str()) {
            return Err(format!("the run name `{}` is given twice", r.name));
        }
    }
    if let Some(sw) = &m.sweep {
        // What `brink sweep` itself accepts: one or two distinct params, finite values.
        if sw.axes.len() > 2 || sw.axes.len() == 2 && sw.axes[0].param == sw.axes[1].param {
            return Err("a sweep has one or two axes of distinct params".into());
        }
        if sw.axes.iter().any(|a| a.values.is_empty() || a.values.iter().any(|v| !v.is_finite())) {
            return Err("every sweep axis needs at least one finite value".into());
        }
        let points = sw.axes.iter().try_fold(1u64, |n, a| n.checked_mul(a.values.len() as u64));
        if sw.axes.is_empty() || points != Some(sw.points) {
            let made = points.map_or_else(|| "more than 2^64".to_owned(), |n| n.to_string());
            return Err(format!("`points` is {}, but the axes make {made} grid points", sw.points));
        }
        let want = match sw.split {
            SweepSplit::Points => m.shard().range(sw.points),
            SweepSplit::Trials => 0..sw.points,
        };
        if (sw.first_point, sw.end_point) != (want.start, want.end) {
            return Err(format!(
                "grid points {}..{} are not the shard's ({}..{})",
                sw.first_point, sw.end_point, want.start, want.end
            ));
        }
    }
    if let Some(se) = &m.sensitivity {
        if !(se.spread > 0.0 && se.spread < 1.0) {
            return Err(format!("the sensitivity spread {} is not between 0 and 1", se.spread));
        }
    }
    Ok(())
}

/// Whether `bytes` is JSON whose `format` field is `want`.
fn format_is(bytes: &[u8], want: &str) -> bool {
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

impl ShardFolder {
    /// Reads `dir/shard.json` and checks that it describes a consistent shard.
    pub fn read(dir: &Path) -> Result<ShardFolder, ShardError> {
        let path = dir.join(SHARD_JSON);
        if !path.is_file() {
            return Err(ShardError::NotShard(dir.to_owned()));
        }
        let bytes = read_file(&path)?;
        let bad = |message: String| ShardError::Malformed { path: path.clone(), message };
        if let Some(old) = OLD_SHARD_FORMATS.iter().find(|f| format_is(&bytes, f)) {
            return Err(bad(format!(
                "format `{old}` is an older shard format, whose trials.csv and events.csv carry no SHA-256, so \
                 merge cannot tell whether they were edited: run the shard again with this brink ({}), which \
                 writes `{SHARD_FORMAT}`",
                env!("CARGO_PKG_VERSION")
            )));
        }
        check_format(&path, &bytes, SHARD_FORMAT)?;
        let manifest: ShardManifest = json(&path, &bytes)?;
        if manifest.shards == 0 || manifest.shard >= manifest.shards {
            return Err(bad(format!("shard {} of {} does not exist", manifest.shard, manifest.shards)));
        }
        // Results may differ between versions, so only the brink that wrote a shard merges it.
        if manifest.brink_version != env!("CARGO_PKG_VERSION") {
            return Err(bad(format!(
                "it was written by brink {}, and this is brink {}: merge with the brink that wrote the shards, or run them again",
                manifest.brink_version,
                env!("CARGO_PKG_VERSION")
            )));
        }
        check_design(&manifest).map_err(bad)?;
        let m = &manifest;
        // A sweep split by grid points runs every trial of its points.
        let by_points = m.sweep.as_ref().is_some_and(|s| s.split == SweepSplit::Points);
        let range = if by_points { 0..m.trials } else { m.shard().range(m.trials) };
        if (m.first_trial, m.end_trial) != (range.start, range.end) {
            return Err(bad(format!(
                "trials {}..{} are not {} {} trials ({}..{})",
                m.first_trial,
                m.end_trial,
                if by_points { "all".to_string() } else { format!("shard {} of", m.shard()) },
                m.trials,
                range.start,
                range.end
            )));
        }
        check_digests_complete(m).map_err(bad)?;
        // Every file as it was written: a damaged or edited file is refused by name. The
        // row files merge reads are checked as it copies them ([`concat_rows`]); their
        // size here already.
        let streamed = merged_row_files(m);
        for d in &manifest.digests {
            let path = dir.join(&d.path);
            let bad = |message: String| ShardError::Malformed { path: path.clone(), message };
            if d.path.split('/').any(|c| c.is_empty() || c == "." || c == "..") {
                return Err(bad("shard.json lists it with a path outside the shard folder".into()));
            }
            // Never through a link, nor a FIFO or device: a forged entry pointing at
            // /dev/zero or a pipe would make the merge read forever.
            let meta = std::fs::symlink_metadata(&path)
                .map_err(|source| ShardError::Read { path: path.clone(), source })?;
            if !meta.is_file() {
                return Err(bad("it is not a regular file (a link, folder, pipe or device), so it was not written by brink".into()));
            }
            let size = meta.len();
            if size != d.bytes {
                return Err(bad(format!(
                    "it has {size} bytes, but {} when the shard was written (damaged or cut off?)",
                    d.bytes
                )));
            }
            if !streamed.contains(&d.path) {
                let (_, sha256) =
                    hash_file(&path).map_err(|source| ShardError::Read { path: path.clone(), source })?;
                if sha256 != d.sha256 {
                    return Err(bad(SHA_MISMATCH.into()));
                }
            }
        }
        Ok(ShardFolder { dir: dir.to_owned(), manifest })
    }

    /// The recorded digest of the file at `rel` (`/` between components).
    fn digest(&self, rel: &str) -> Option<&FileDigest> {
        self.manifest.digests.iter().find(|d| d.path == rel)
    }

    /// The trials this shard covers.
    pub fn range(&self) -> Range<u64> {
        self.manifest.first_trial..self.manifest.end_trial
    }

    /// The copy of the scenario file, checked against the recorded hash (for a
    /// comparison, the reference run's).
    pub fn scenario(&self) -> Result<String, ShardError> {
        let (rel, sha) = self.scenario_copies().swap_remove(0);
        self.scenario_at(&rel, sha)
    }

    /// Every copy of a scenario file in the shard, relative to its folder, with the
    /// SHA-256 it must have: one per compared run of a comparison, else one.
    pub fn scenario_copies(&self) -> Vec<(PathBuf, &str)> {
        let m = &self.manifest;
        if m.runs.is_empty() {
            return vec![(PathBuf::from(SCENARIO_COPY), m.scenario_sha256.as_str())];
        }
        m.runs.iter().map(|r| (Path::new(&r.name).join(SCENARIO_COPY), r.scenario_sha256.as_str())).collect()
    }

    /// The scenario copy at `rel`, checked against `sha256`.
    pub fn scenario_at(&self, rel: &Path, sha256: &str) -> Result<String, ShardError> {
        let path = self.dir.join(rel);
        let bytes = read_file(&path)?;
        let bad = |message: String| ShardError::Malformed { path: path.clone(), message };
        if sha256_hex(&bytes) != sha256 {
            return Err(bad(format!(
                "its SHA-256 is not {sha256}, the scenario_sha256 of shard.json (was the file edited?)"
            )));
        }
        String::from_utf8(bytes).map_err(|_| bad("not UTF-8 text".into()))
    }

    /// The shard's aggregate, checked against the model and the shard's trial count.
    pub fn aggregate(&self, model: &Model) -> Result<Aggregate, ShardError> {
        self.aggregate_at(Path::new(AGGREGATE_JSON), model)
    }

    /// The aggregate at `rel` (a compared run's `<name>/aggregate.json`), checked
    /// against the model and the shard's trial count.
    pub fn aggregate_at(&self, rel: &Path, model: &Model) -> Result<Aggregate, ShardError> {
        let path = self.dir.join(rel);
        let bytes = read_file(&path)?;
        check_format(&path, &bytes, AGGREGATE_FORMAT)?;
        let file: AggregateFile = json(&path, &bytes)?;
        let bad = |message: String| ShardError::Malformed { path: path.clone(), message };
        let ids = AggregateFile::new(model, &Aggregate::new(model));
        if (&file.levels, &file.tallies, &file.steps) != (&ids.levels, &ids.tallies, &ids.steps) {
            return Err(bad("its level, tally or step ids are not the scenario's".into()));
        }
        let agg = file.aggregate;
        agg.check_fits(model).map_err(|m| bad(format!("it does not fit the scenario: {m}")))?;
        let want = self.range().end - self.range().start;
        if agg.trials != want {
            return Err(bad(format!(
                "it counts {} trials, but shard {} has {want}",
                agg.trials,
                self.manifest.shard()
            )));
        }
        Ok(agg)
    }
}

/// Reads the shard folders and checks that they are the shards of one run (of one
/// command), each exactly once, with intact scenario copies. Returns them in shard order.
pub fn read_shards(dirs: &[PathBuf]) -> Result<Vec<ShardFolder>, ShardError> {
    let shards = dirs.iter().map(|d| ShardFolder::read(d)).collect::<Result<Vec<_>, _>>()?;
    let Some(first) = shards.first() else {
        return Err(ShardError::Missing { missing: vec![0], count: 1, given: Vec::new() });
    };
    let r = &first.manifest;
    for s in &shards[1..] {
        let m = &s.manifest;
        let fields: [(&'static str, String, String); 17] = [
            ("command", m.kind.to_string(), r.kind.to_string()),
            ("shard count", m.shards.to_string(), r.shards.to_string()),
            ("scenario SHA-256", m.scenario_sha256.clone(), r.scenario_sha256.clone()),
            ("seed", m.seed.to_string(), r.seed.to_string()),
            ("trial count", m.trials.to_string(), r.trials.to_string()),
            ("variant", show_variant(&m.variant), show_variant(&r.variant)),
            ("--set list", show_list(&m.sets), show_list(&r.sets)),
            ("params", show_params(&m.params), show_params(&r.params)),
            ("event limit (max_events)", m.max_events.to_string(), r.max_events.to_string()),
            ("trials.csv", yes_no(m.trials_csv), yes_no(r.trials_csv)),
            ("--events", show_events(m.events), show_events(r.events)),
            ("brink version", m.brink_version.clone(), r.brink_version.clone()),
            ("scenario name", m.scenario_name.clone(), r.scenario_name.clone()),
            ("list of compared runs", show_runs(&m.runs), show_runs(&r.runs)),
            ("sweep split", show_split(&m.sweep), show_split(&r.sweep)),
            ("sweep grid", show_axes(&m.sweep), show_axes(&r.sweep)),
            ("sensitivity design", show_sensitivity(&m.sensitivity), show_sensitivity(&r.sensitivity)),
        ];
        for (what, have, want) in fields {
            if have != want {
                return Err(ShardError::Mismatch(Box::new(Mismatch {
                    dir: s.dir.clone(),
                    shard: m.shard(),
                    reference: first.dir.clone(),
                    reference_shard: r.shard(),
                    what,
                    have,
                    want,
                })));
            }
        }
    }
    let count = r.shards;
    let mut by_index: std::collections::BTreeMap<u64, &ShardFolder> = std::collections::BTreeMap::new();
    for s in &shards {
        if let Some(prev) = by_index.insert(s.manifest.shard, s) {
            return Err(ShardError::Duplicate {
                shard: s.manifest.shard(),
                first: prev.dir.clone(),
                second: s.dir.clone(),
            });
        }
    }
    if by_index.len() as u64 != count {
        // At most 20 missing shards are named; `count` can be huge in a damaged file.
        let missing = (0..count).filter(|k| !by_index.contains_key(k)).take(20).collect();
        return Err(ShardError::Missing { missing, count, given: by_index.keys().copied().collect() });
    }
    for s in &shards {
        for (rel, sha) in s.scenario_copies() {
            s.scenario_at(&rel, sha)?;
        }
    }
    let mut ordered: Vec<ShardFolder> = shards.clone();
    ordered.sort_by_key(|s| s.manifest.shard);
    Ok(ordered)
}

fn show_variant(v: &Option<String>) -> String {
    v.as_deref().map_or_else(|| "baseline".into(), |v| format!("`{v}`"))
}

fn show_params(p: &[(String, f64)]) -> String {
    p.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

fn show_runs(runs: &[ShardRun]) -> String {
    let run = |r: &ShardRun| {
        let file = r.scenario_sha256.get(..12).unwrap_or(&r.scenario_sha256);
        format!(
            "{} ({}, {}, file {file}..., params {})",
            r.name,
            r.scenario_name,
            show_variant(&r.variant),
            show_params(&r.params)
        )
    };
    runs.iter().map(run).collect::<Vec<_>>().join("; ")
}

fn show_split(sweep: &Option<SweepPart>) -> String {
    let by = |s: &SweepPart| match s.split {
        SweepSplit::Points => "by points",
        SweepSplit::Trials => "by trials",
    };
    sweep.as_ref().map_or_else(|| "none".into(), |s| by(s).into())
}

fn show_axes(sweep: &Option<SweepPart>) -> String {
    let axis = |a: &Axis| {
        format!("{} = [{}]", a.param, a.values.iter().map(f64::to_string).collect::<Vec<_>>().join(", "))
    };
    sweep.as_ref().map_or_else(|| "none".into(), |s| s.axes.iter().map(axis).collect::<Vec<_>>().join(", "))
}

fn show_sensitivity(s: &Option<SensitivityPart>) -> String {
    s.as_ref().map_or_else(|| "none".into(), |s| format!("--spread {} --metric {}", s.spread, s.metric))
}

fn yes_no(b: bool) -> String {
    if b { "written" } else { "left out (--no-trials-csv)" }.into()
}

fn show_list(v: &[String]) -> String {
    if v.is_empty() {
        "empty".into()
    } else {
        v.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(" ")
    }
}

fn show_events(e: Option<u64>) -> String {
    e.map_or_else(|| "off".into(), |n| format!("--events {n}"))
}

/// Compiles the run's model from the first shard's copy of the scenario, with its
/// variant and `--set` overrides. Returns the model and the scenario text.
pub fn model_of(shard: &ShardFolder) -> Result<(Model, String), ShardError> {
    let m = &shard.manifest;
    compile_copy(shard, Path::new(SCENARIO_COPY), &m.scenario_sha256, &m.scenario_file, &m.variant)
}

/// Compiles every compared run of a comparison's shard: (model, scenario text) each.
pub fn run_models(shard: &ShardFolder) -> Result<Vec<(Model, String)>, ShardError> {
    let copies = shard.scenario_copies();
    let runs = shard.manifest.runs.iter().zip(copies);
    runs.map(|(r, (rel, sha))| compile_copy(shard, &rel, sha, &r.scenario_file, &r.variant)).collect()
}

/// The shard's `--set` overrides, parsed back from `NAME=VALUE`.
pub fn sets_of(shard: &ShardFolder) -> Result<Vec<(String, f64)>, ShardError> {
    let path = shard.dir.join(SHARD_JSON);
    let parse = |s: &String| {
        let parsed = s.split_once('=').and_then(|(k, v)| v.parse::<f64>().ok().map(|x| (k.to_owned(), x)));
        parsed.ok_or_else(|| ShardError::Malformed {
            path: path.clone(),
            message: format!("`{s}` in sets is not NAME=VALUE"),
        })
    };
    shard.manifest.sets.iter().map(parse).collect()
}

/// Compiles the scenario copy at `rel` with `variant` and the shard's `--set`.
fn compile_copy(
    shard: &ShardFolder,
    rel: &Path,
    sha256: &str,
    file: &str,
    variant: &Option<String>,
) -> Result<(Model, String), ShardError> {
    let source = shard.scenario_at(rel, sha256)?;
    let overrides = Overrides { variant: variant.clone(), sets: sets_of(shard)? };
    let model = scenario::compile_str(file, &source, &overrides).map_err(|d| ShardError::Malformed {
        path: shard.dir.join(rel),
        message: format!("the scenario does not compile with the shard's variant and --set:\n{}", d.render()),
    })?;
    Ok((model, source))
}

/// Adds up the shards' aggregates at `rel` (exact, so the order does not matter).
pub fn merge_aggregates(shards: &[ShardFolder], rel: &Path, model: &Model) -> Result<Aggregate, ShardError> {
    let mut total = Aggregate::new(model);
    for s in shards {
        total.merge(&s.aggregate_at(rel, model)?);
    }
    Ok(total)
}

/// Which trials a row file of a shard holds, one trial id first on every row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowFile {
    /// `trials.csv`: one row per trial of the shard, in trial order.
    Trials,
    /// `events.csv`: rows of the shard's trials below `--events`, in trial order.
    Events,
}

/// Checks the trial id that starts each row as the bytes stream past, without
/// holding more than the id being read.
struct RowIds {
    kind: RowFile,
    /// The trials the rows may name.
    range: Range<u64>,
    /// Complete rows so far.
    rows: u64,
    /// Reading the first field of a row.
    in_id: bool,
    /// Its value so far (None: not a whole number, or too large).
    id: Option<u64>,
    digits: u32,
    /// The last id read.
    last: Option<u64>,
    /// The first problem found.
    problem: Option<String>,
}

impl RowIds {
    fn new(kind: RowFile, range: Range<u64>) -> RowIds {
        RowIds { kind, range, rows: 0, in_id: true, id: Some(0), digits: 0, last: None, problem: None }
    }

    fn feed(&mut self, chunk: &[u8]) {
        let mut i = 0;
        while i < chunk.len() {
            if !self.in_id {
                // The rest of a row: skip to its end.
                match chunk[i..].iter().position(|&b| b == b'\n') {
                    Some(p) => {
                        i += p + 1;
                        self.rows += 1;
                        self.start_row();
                    }
                    None => return,
                }
                continue;
            }
            let b = chunk[i];
            i += 1;
            match b {
                b'0'..=b'9' => {
                    self.digits += 1;
                    self.id = self.id.and_then(|v| v.checked_mul(10)?.checked_add(u64::from(b - b'0')));
                }
                b',' | b'\n' => {
                    self.end_id();
                    self.in_id = false;
                    if b == b'\n' {
                        self.rows += 1;
                        self.start_row();
                    }
                }
                _ => self.id = None,
            }
        }
    }

    fn start_row(&mut self) {
        self.in_id = true;
        self.id = Some(0);
        self.digits = 0;
    }

    fn end_id(&mut self) {
        if self.problem.is_some() {
            return;
        }
        let row = self.rows + 1;
        let id = match self.id {
            Some(id) if self.digits > 0 => id,
            _ => {
                self.problem = Some(format!("row {row} does not start with a trial number"));
                return;
            }
        };
        self.problem = match self.kind {
            RowFile::Trials => {
                let want = self.range.start.saturating_add(row - 1);
                // Extra rows are counted (and refused) at the end.
                (want < self.range.end && id != want).then(|| {
                    format!("row {row} is trial {id}, not {want}: a shard's rows are its trials, in order")
                })
            }
            RowFile::Events if !self.range.contains(&id) => Some(format!(
                "row {row} is trial {id}, outside the shard's trials with events ({}..{})",
                self.range.start, self.range.end
            )),
            RowFile::Events => self.last.filter(|&l| id < l).map(|l| {
                format!("row {row} is trial {id}, after a row of trial {l}: the rows are not in trial order")
            }),
        };
        self.last = Some(id);
    }
}

/// Concatenates a row file of every shard into `out`, in shard order: the header once
/// (every shard's must equal `header`), then each shard's rows. As the bytes are copied,
/// each file is checked against the SHA-256 shard.json recorded and its trial ids
/// against the shard's trials (`trials.csv`: exactly the shard's range, one row each,
/// in order). Nothing is read twice and memory stays flat whatever the file's size.
pub fn concat_rows(
    shards: &[ShardFolder],
    name: &str,
    header: &[u8],
    kind: RowFile,
    out: &mut dyn Write,
    out_path: &Path,
) -> Result<(), ShardError> {
    out.write_all(header).map_err(io_at(out_path))?;
    let mut buf = vec![0u8; 1 << 20];
    for s in shards {
        let path = s.dir.join(name);
        let read_err = |source| ShardError::Read { path: path.clone(), source };
        let bad = |message: String| ShardError::Malformed { path: path.clone(), message };
        // `ShardFolder::read` requires this digest; a shard read otherwise is refused too.
        let Some(digest) = s.digest(name) else {
            return Err(bad("shard.json records no SHA-256 of it; run this shard again".into()));
        };
        let file = std::fs::File::open(&path).map_err(read_err)?;
        let mut r = BufReader::with_capacity(1 << 20, file);
        let mut hasher = Sha256::new();
        let mut bytes = 0u64;
        let mut head = Vec::new();
        r.read_until(b'\n', &mut head).map_err(read_err)?;
        hasher.update(&head);
        bytes += head.len() as u64;
        // The first problem; reported after the SHA-256, which says more (an edit).
        let problem = (head != header).then(|| {
            format!("its header is not the scenario's: `{}`", String::from_utf8_lossy(&head).trim_end())
        });
        let range = match kind {
            RowFile::Trials => s.range(),
            RowFile::Events => {
                let k = s.manifest.events.unwrap_or(0);
                s.range().start.min(k)..s.range().end.min(k)
            }
        };
        let mut ids = RowIds::new(kind, range.clone());
        let mut last = b'\n';
        loop {
            let n = r.read(&mut buf).map_err(read_err)?;
            if n == 0 {
                break;
            }
            let chunk = &buf[..n];
            hasher.update(chunk);
            bytes += n as u64;
            ids.feed(chunk);
            last = chunk[n - 1];
            if problem.is_none() {
                out.write_all(chunk).map_err(io_at(out_path))?;
            }
        }
        if bytes != digest.bytes || hex(&hasher.finalize()) != digest.sha256 {
            return Err(bad(SHA_MISMATCH.into()));
        }
        if let Some(p) = problem.or(ids.problem) {
            return Err(bad(p));
        }
        if last != b'\n' {
            return Err(bad("its last row is cut off (no line end)".into()));
        }
        if kind == RowFile::Trials {
            let want = range.end - range.start;
            if ids.rows != want {
                return Err(bad(format!(
                    "it has {} rows, but shard {} has {want} trials",
                    ids.rows,
                    s.manifest.shard()
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{RowFile, RowIds, Shard};

    /// Feeds `rows` in pieces of `piece` bytes: ids split across reads must read the same.
    fn scan(kind: RowFile, range: std::ops::Range<u64>, rows: &str, piece: usize) -> (u64, Option<String>) {
        let mut ids = RowIds::new(kind, range);
        for chunk in rows.as_bytes().chunks(piece) {
            ids.feed(chunk);
        }
        (ids.rows, ids.problem)
    }

    #[test]
    fn trial_ids_are_checked_across_reads() {
        let good = "1000,a,b\n1001,c\n1002,\n";
        let shifted = "1000,a\n1002,b\n1003,c\n";
        for piece in [1, 2, 3, 7, 1 << 20] {
            assert_eq!(scan(RowFile::Trials, 1000..1003, good, piece), (3, None), "{piece}");
            let (rows, problem) = scan(RowFile::Trials, 1000..1003, shifted, piece);
            assert_eq!(rows, 3);
            assert!(problem.unwrap().starts_with("row 2 is trial 1002, not 1001"), "{piece}");
            let (_, problem) = scan(RowFile::Trials, 1000..1003, "1000,a\n10x1,b\n", piece);
            assert_eq!(problem.unwrap(), "row 2 does not start with a trial number");
            let (_, problem) = scan(RowFile::Trials, 0..3, "0,a\n99999999999999999999999,b\n", piece);
            assert_eq!(problem.unwrap(), "row 2 does not start with a trial number");
            let events = "5,a\n5,b\n7,c\n";
            assert_eq!(scan(RowFile::Events, 5..8, events, piece), (3, None));
            let (_, problem) = scan(RowFile::Events, 5..7, events, piece);
            assert!(problem.unwrap().contains("row 3 is trial 7, outside"));
            let (_, problem) = scan(RowFile::Events, 5..8, "6,a\n5,b\n", piece);
            assert!(problem.unwrap().contains("not in trial order"));
        }
    }

    #[test]
    fn shards_cover_every_trial_once() {
        for total in [0u64, 1, 5, 2048, 10_001, 100_000] {
            for count in [1u64, 2, 3, 7, 13, 64] {
                let mut next = 0;
                for index in 0..count {
                    let r = Shard { index, count }.range(total);
                    assert_eq!(r.start, next, "{index}/{count} of {total}");
                    assert!(r.end >= r.start);
                    let len = r.end - r.start;
                    assert!(
                        len == total / count || len == total / count + 1,
                        "{index}/{count} of {total}: {len}"
                    );
                    next = r.end;
                }
                assert_eq!(next, total);
            }
        }
        assert_eq!(Shard { index: 0, count: 3 }.range(10_001), 0..3333);
        assert_eq!(Shard { index: 2, count: 3 }.range(10_001), 6667..10_001);
        let big = Shard { index: 1, count: 2 }.range(u64::MAX);
        assert_eq!(big.end, u64::MAX);
    }

    #[test]
    fn shard_text_is_checked() {
        assert_eq!(Shard::parse("0/4"), Ok(Shard { index: 0, count: 4 }));
        assert_eq!(Shard::parse(" 3 / 4 "), Ok(Shard { index: 3, count: 4 }));
        assert!(Shard::parse("4/4").unwrap_err().contains("numbered 0 to 3"));
        assert!(Shard::parse("0/0").is_err());
        assert!(Shard::parse("1").is_err());
        assert!(Shard::parse("a/2").is_err());
        assert_eq!(Shard { index: 2, count: 5 }.to_string(), "2/5");
    }
}
