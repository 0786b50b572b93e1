//! What a shard folder records: `shard.json` ([`ShardManifest`], whose kind-specific part
//! is the `kind`-tagged [`Design`]) and `aggregate.json` ([`AggregateFile`]).

use super::{Shard, SCENARIO_COPY, SHARD_FORMAT};
use crate::analysis::explore::Axis;
use crate::output::digest::FileDigest;
use crate::output::manifest::{ordered, ordered_de, sha256_hex, ParamsFileRecord};
use crate::output::{io_at, OutputError};
use crate::scenario::ParamsFile;
use crate::sim::model::Model;
use crate::sim::runner::RunSpec;
use crate::sim::stats::Aggregate;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::Path;

/// `format` of `aggregate.json`.
pub const AGGREGATE_FORMAT: &str = "brink-aggregate/1";
/// The shard's aggregate.
pub const AGGREGATE_JSON: &str = "aggregate.json";

/// The command whose work a shard holds: the tag of its [`Design`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

impl Kind {
    /// Every kind.
    pub(crate) const ALL: [Kind; 4] = [Kind::Run, Kind::Compare, Kind::Sweep, Kind::Sensitivity];

    /// The command's name, also the `kind` of `shard.json`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Compare => "compare",
            Kind::Sweep => "sweep",
            Kind::Sensitivity => "sensitivity",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`brink {}`", self.name())
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

/// The part of `shard.json` that depends on the command, tagged by its `kind`: a shard
/// has exactly the design of its kind, so none is missing, none is another kind's, and
/// serde refuses the rest by name (`deny_unknown_fields` here also covers the fields of
/// [`ShardManifest`] itself, whose unknown fields serde hands on to this flattened enum).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Design {
    /// `brink run`: the trials are all there is.
    Run {},
    /// `brink compare`.
    Compare {
        /// Every compared run, the reference first (the scenario fields of the
        /// manifest are the reference's).
        runs: Vec<ShardRun>,
    },
    /// `brink sweep`.
    Sweep {
        /// Its axes and this shard's grid points.
        sweep: SweepPart,
    },
    /// `brink sensitivity`.
    Sensitivity {
        /// Its spread and level.
        sensitivity: SensitivityPart,
    },
}

impl Design {
    /// The command.
    pub fn kind(&self) -> Kind {
        match self {
            Design::Run {} => Kind::Run,
            Design::Compare { .. } => Kind::Compare,
            Design::Sweep { .. } => Kind::Sweep,
            Design::Sensitivity { .. } => Kind::Sensitivity,
        }
    }

    /// The compared runs of a comparison (none for another kind).
    pub fn runs(&self) -> &[ShardRun] {
        match self {
            Design::Compare { runs } => runs,
            _ => &[],
        }
    }

    /// The design of a sweep.
    pub fn sweep(&self) -> Option<&SweepPart> {
        match self {
            Design::Sweep { sweep } => Some(sweep),
            _ => None,
        }
    }

    /// The design of a sensitivity analysis.
    pub fn sensitivity(&self) -> Option<&SensitivityPart> {
        match self {
            Design::Sensitivity { sensitivity } => Some(sensitivity),
            _ => None,
        }
    }

    /// What a shard of this kind has, for messages about a `shard.json` that does not.
    pub fn expected(kind: Kind) -> &'static str {
        match kind {
            Kind::Run => "a shard of `brink run` has no design field (`runs`, `sweep` or `sensitivity`)",
            Kind::Compare => "a shard of `brink compare` has `runs`, and no `sweep` or `sensitivity`",
            Kind::Sweep => "a shard of `brink sweep` has `sweep`, and no `runs` or `sensitivity`",
            Kind::Sensitivity => "a shard of `brink sensitivity` has `sensitivity`, and no `runs` or `sweep`",
        }
    }
}

/// Contents of `shard.json`: the run this shard belongs to, and which part it is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardManifest {
    /// [`SHARD_FORMAT`].
    pub format: String,
    /// What was sharded (`kind`) and what that command ran besides the trials.
    #[serde(flatten)]
    pub design: Design,
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
    /// `--params FILE`, when given: merge refuses shards whose files differ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params_file: Option<ParamsFileRecord>,
    /// The params file's text, which merge compiles the scenario with (its SHA-256 is
    /// `params_file.sha256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params_text: Option<String>,
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
    /// A run of a scenario with uncertain params: the draws of its spread, of which
    /// `spread.json` holds this shard's (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread: Option<crate::output::manifest::SpreadRecord>,
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

impl ShardManifest {
    /// The manifest of shard `shard` of a run of `model` (trials `range`) with `design`,
    /// with no files or timing yet.
    pub fn new(
        design: Design,
        model: &Model,
        run: &RunFacts<'_>,
        shard: Shard,
        range: Range<u64>,
    ) -> ShardManifest {
        ShardManifest {
            format: SHARD_FORMAT.into(),
            design,
            brink_version: env!("CARGO_PKG_VERSION").into(),
            scenario_file: run.scenario_file.to_owned(),
            scenario_sha256: sha256_hex(run.source),
            scenario_name: model.name.clone(),
            variant: model.variant.clone(),
            params: model.params.clone(),
            sets: run.sets.to_vec(),
            params_file: run.params_file.map(ParamsFileRecord::of),
            params_text: run.params_file.map(|p| p.source.clone()),
            seed: run.spec.seed,
            trials: run.spec.trials,
            shard: shard.index,
            shards: shard.count,
            first_trial: range.start,
            end_trial: range.end,
            max_events: run.spec.max_events,
            trials_csv: false,
            events: None,
            spread: None,
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
    /// `--params FILE`, when given.
    pub params_file: Option<&'a ParamsFile>,
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
