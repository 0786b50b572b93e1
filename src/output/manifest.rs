//! `manifest.json`: what was run, how, and how fast, so a results folder explains itself.

use crate::sim::model::Model;
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// The generator, the stream derivation and the way the engine draws from them, named so
/// results can be traced to them. Draws v2 (CHANGELOG, 0.2): ziggurat normal and
/// exponential, arrivals by a change of clock, no branch draw for a one-branch step; v1
/// (no suffix) drew Box-Muller normals and -ln U exponentials, and redrew an arrival at
/// every change of rate.
pub(crate) const STREAMS: &str = "chacha8; key = sha256(\"brink/v1\" || seed_le || step_id); stream = trial; word_pos = purpose << 64; draws v2 (ziggurat normal and exponential; arrivals by time change; one-branch steps draw no branch)";

/// How a splitting run's continuations draw (beside [`STREAMS`]): their streams' word
/// positions, and the stream that chooses which pauses get one continuation more.
pub(crate) const LINEAGE: &str = "continuation c of stage k draws from its trial's streams at word_pos = purpose << 64 | lineage << 32, lineage = k << 24 | c; allocation: key = sha256(\"brink/v1\" || seed_le || \"#split/allocation\"), stream = replication, lineage = k";

/// Contents of `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// The kind of folder and its version, [`RUN_FORMAT`](super::guard::RUN_FORMAT): marks
    /// the folder as brink's, which `--force` requires (empty in folders written before).
    #[serde(default)]
    pub format: String,
    /// brink's version.
    pub brink_version: String,
    /// The scenario file as given.
    pub scenario_file: String,
    /// SHA-256 of the scenario file's bytes.
    pub scenario_sha256: String,
    /// `[scenario] name`.
    pub scenario_name: String,
    /// `[scenario] title`.
    pub scenario_title: String,
    /// `[scenario] description`.
    pub scenario_description: String,
    /// Variant applied (None: baseline).
    pub variant: Option<String>,
    /// Params after overrides, in file order.
    #[serde(serialize_with = "ordered", deserialize_with = "ordered_de")]
    pub params: Vec<(String, f64)>,
    /// `--set` overrides given.
    pub sets: Vec<String>,
    /// `--params FILE`, when given (absent otherwise, as in folders written before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params_file: Option<ParamsFileRecord>,
    /// Seed.
    pub seed: u64,
    /// Trials.
    pub trials: u64,
    /// Horizon.
    pub horizon_days: u32,
    /// Calendar date of day 0.
    pub start: Option<String>,
    /// Rate windows of the scenario, for charts.
    pub windows: Vec<WindowInfo>,
    /// Random stream derivation.
    pub streams: String,
    /// Worker threads (does not affect results).
    pub threads: usize,
    /// Wall-clock seconds of the simulation (does not affect results).
    pub wall_seconds: f64,
    /// Trials per second (does not affect results).
    pub trials_per_second: f64,
    /// Step firings per second: the firings of all steps in all trials (the sum of the
    /// per-step totals behind `steps.csv`) over `wall_seconds` (does not affect results;
    /// 0 in folders written before it existed).
    #[serde(default)]
    pub events_per_second: f64,
    /// The command line.
    pub command: Vec<String>,
    /// Files in the folder.
    pub files: Vec<String>,
    /// Each param's distribution (if drawn per trial), source and note, in the order
    /// of `params`; only params that have any (absent when none has).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provenance: Vec<ParamProvenance>,
    /// The escalation chain, for the report's diagram (absent in older folders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<crate::output::chain::Chain>,
    /// A predictive run of a scenario with uncertain params: the parameter draws behind
    /// the spread of P(level) it leads with (`epistemic.csv`, `params.csv`). Absent for a
    /// scenario without uncertain params and for a two-loop run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread: Option<SpreadRecord>,
}

/// The parameter draws of a predictive run's spread (docs/uncertainty.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpreadRecord {
    /// Draws of the uncertain params.
    pub draws: u64,
    /// Trials of each draw (the run's first trials, the same for every draw).
    pub trials_per_draw: u64,
}

/// Where a param's value comes from, as the report's provenance table shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamProvenance {
    /// Param name.
    pub param: String,
    /// Its distribution (file syntax), when each trial draws it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<String>,
    /// `source = "..."`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// `note = "..."`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `--params FILE` as manifests record it: the values it set are in `params` (and its
/// distributions in `provenance`); the digest says which file it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamsFileRecord {
    /// The path as given on the command line.
    pub file: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// The params it set, in its order.
    pub params: Vec<String>,
}

impl ParamsFileRecord {
    /// The record of a params file.
    pub fn of(p: &crate::scenario::ParamsFile) -> ParamsFileRecord {
        ParamsFileRecord { file: p.file.clone(), sha256: sha256_hex(p.source.as_bytes()), params: p.names() }
    }
}

/// A rate window, as charts show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowInfo {
    /// Step whose rate it multiplies.
    pub step: String,
    /// First day (inclusive).
    pub from_day: f64,
    /// End day (exclusive).
    pub to_day: f64,
    /// Multiplier.
    pub rate_x: f64,
}

pub(crate) fn ordered<S: Serializer>(v: &[(String, f64)], s: S) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(v.len()))?;
    for (k, x) in v {
        m.serialize_entry(k, x)?;
    }
    m.end()
}

pub(crate) fn ordered_de<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<(String, f64)>, D::Error> {
    Ok(crate::scenario::raw::Entries::<String, f64>::deserialize(d)?.0)
}

/// Hex SHA-256 of bytes (one copy, in the lowest layer that needs it).
pub(crate) use crate::sim::rng::sha256_hex;

impl Manifest {
    /// Fields that do not depend on timing.
    pub fn describe(model: &Model, file: &str, source: &[u8], seed: u64, trials: u64) -> Manifest {
        Manifest {
            format: super::guard::RUN_FORMAT.into(),
            provenance: model
                .params
                .iter()
                .zip(&model.provenance)
                .filter(|(_, p)| p.dist.is_some() || p.source.is_some() || p.note.is_some())
                .map(|((name, _), p)| ParamProvenance {
                    param: name.clone(),
                    distribution: p.dist.map(|d| d.describe()),
                    source: p.source.clone(),
                    note: p.note.clone(),
                })
                .collect(),
            brink_version: env!("CARGO_PKG_VERSION").into(),
            scenario_file: file.into(),
            scenario_sha256: sha256_hex(source),
            scenario_name: model.name.clone(),
            scenario_title: model.title.clone(),
            scenario_description: model.description.clone(),
            variant: model.variant.clone(),
            params: model.params.clone(),
            sets: Vec::new(),
            params_file: None,
            seed,
            trials,
            horizon_days: model.horizon_days,
            start: model.start.map(|d| d.to_string()),
            windows: model
                .steps
                .iter()
                .flat_map(|s| {
                    s.windows.iter().map(|w| WindowInfo {
                        step: s.id.clone(),
                        from_day: w.from,
                        to_day: w.to,
                        rate_x: w.rate_x,
                    })
                })
                .collect(),
            streams: STREAMS.into(),
            threads: 1,
            wall_seconds: 0.0,
            trials_per_second: 0.0,
            events_per_second: 0.0,
            command: std::env::args().collect(),
            files: Vec::new(),
            chain: Some(crate::output::chain::Chain::of(model)),
            spread: None,
        }
    }

    /// Pretty JSON bytes with a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }
}

/// Adds the `manifest.json` of a comparison, sweep, sensitivity or backtest folder to
/// `files`: `v` with `files` listing the files and itself (what `--force` may replace,
/// see [`crate::output::guard`]), pretty, with a final newline.
pub fn push_folder_manifest(files: &mut Vec<(String, Vec<u8>)>, mut v: serde_json::Value) {
    let mut names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    names.push("manifest.json");
    v["files"] = serde_json::json!(names);
    let mut bytes = serde_json::to_vec_pretty(&v).expect("a JSON value always serialises");
    bytes.push(b'\n');
    files.push(("manifest.json".into(), bytes));
}

/// The scenario a comparison, sweep, sensitivity or backtest ran, as its manifest records
/// it.
pub struct RunRecord<'a> {
    /// The scenario file as given on the command line.
    pub file: &'a str,
    /// Its bytes (for the SHA-256).
    pub source: &'a str,
    /// The compiled model (name, variant).
    pub model: &'a Model,
    /// `--set` overrides as `NAME=VALUE`.
    pub sets: Vec<String>,
    /// `--params FILE`, when given.
    pub params_file: Option<ParamsFileRecord>,
    /// Seed.
    pub seed: u64,
    /// Trials.
    pub trials: u64,
}

/// Adds `params_file` to a folder manifest `v` when one was given (absent otherwise, so
/// that a manifest without it is what it was before the option existed).
fn with_params_file(mut v: serde_json::Value, run: &RunRecord<'_>) -> serde_json::Value {
    if let Some(p) = &run.params_file {
        v["params_file"] = serde_json::json!(p);
    }
    v
}

/// The manifest of a folder of this `format` made from one scenario: what every such
/// folder records of its scenario, then the kind's own fields `own` (a JSON object; keys
/// are written sorted, so the order here does not matter).
fn scenario_folder_manifest(format: &str, run: &RunRecord<'_>, own: serde_json::Value) -> serde_json::Value {
    let mut v = serde_json::json!({
        "format": format,
        "brink_version": env!("CARGO_PKG_VERSION"),
        "scenario_file": run.file,
        "scenario_sha256": sha256_hex(run.source.as_bytes()),
        "scenario_name": run.model.name,
        "variant": run.model.variant,
        "sets": run.sets,
    });
    if let serde_json::Value::Object(own) = own {
        for (k, x) in own {
            v[k] = x;
        }
    }
    with_params_file(v, run)
}

/// The manifest of a comparison folder: the run folders it holds (without `files`, which
/// [`push_folder_manifest`] adds).
pub fn compare_manifest(runs: &[String]) -> serde_json::Value {
    serde_json::json!({
        "format": crate::output::guard::COMPARE_FORMAT,
        "brink_version": env!("CARGO_PKG_VERSION"),
        "runs": runs,
    })
}

/// The manifest of a sweep or sensitivity folder of this `format`, with its `design`
/// (without `files`).
pub fn explore_manifest(format: &str, run: &RunRecord<'_>, design: serde_json::Value) -> serde_json::Value {
    scenario_folder_manifest(
        format,
        run,
        serde_json::json!({
            "seed": run.seed,
            "trials": run.trials,
            "streams": STREAMS,
            "design": design,
        }),
    )
}

/// What a backtest compared: its observed record and mapping files, with their texts (for
/// the SHA-256), and the coverage it found.
pub struct BacktestRecord<'a> {
    /// The observed record's path as given, and its text.
    pub observed: (&'a str, &'a str),
    /// The mapping's path as given, and its text.
    pub mapping: (&'a str, &'a str),
    /// How many quantities were compared.
    pub compared: usize,
    /// Share of observations inside the central 50% and 90% of the simulations.
    pub coverage: (f64, f64),
}

/// The manifest of a backtest folder (without `files`).
pub fn backtest_manifest(run: &RunRecord<'_>, b: &BacktestRecord<'_>) -> serde_json::Value {
    scenario_folder_manifest(
        crate::output::guard::BACKTEST_FORMAT,
        run,
        serde_json::json!({
            "observed_file": b.observed.0,
            "observed_sha256": sha256_hex(b.observed.1.as_bytes()),
            "mapping_file": b.mapping.0,
            "mapping_sha256": sha256_hex(b.mapping.1.as_bytes()),
            "seed": run.seed,
            "trials": run.trials,
            "streams": STREAMS,
            "compared": b.compared,
            "coverage_50": b.coverage.0,
            "coverage_90": b.coverage.1,
        }),
    )
}

/// The manifest of a splitting run's folder (without `files`): the scenario, the seed,
/// the effort and replications, and the work done.
pub fn split_manifest(
    run: &RunRecord<'_>,
    split: &crate::sim::split::SplitRun,
    seconds: f64,
) -> serde_json::Value {
    scenario_folder_manifest(
        crate::output::guard::SPLIT_FORMAT,
        run,
        serde_json::json!({
            "seed": run.seed,
            "trials": run.trials,
            "streams": STREAMS,
            "split": {
                "method": "fixed-effort multilevel splitting on the ladder's levels; interval from independent replications (t, log scale)",
                "per_replication_per_stage": split.spec.effort,
                "replications": split.spec.replications,
                "lineage": LINEAGE,
                "stages": split.replications.first().map_or(0, |r| r.p.len() - 1 - split.initial),
                "continuations_simulated": split.simulated,
            },
            "threads": split.spec.threads,
            "wall_seconds": seconds,
        }),
    )
}

/// The manifest of `brink compare --split`'s folder (without `files`): each run's
/// scenario, and the splitting design they share.
pub fn compare_split_manifest(
    runs: &[(&str, &RunRecord<'_>)],
    split: &crate::sim::split::SplitSpec,
    simulated: u64,
    seconds: f64,
) -> serde_json::Value {
    let listed: Vec<serde_json::Value> = runs
        .iter()
        .map(|(name, run)| {
            with_params_file(
                serde_json::json!({
                    "name": name,
                    "scenario_file": run.file,
                    "scenario_sha256": sha256_hex(run.source.as_bytes()),
                    "scenario_name": run.model.name,
                    "variant": run.model.variant,
                    "sets": run.sets,
                }),
                run,
            )
        })
        .collect();
    serde_json::json!({
        "format": crate::output::guard::SPLIT_FORMAT,
        "brink_version": env!("CARGO_PKG_VERSION"),
        "compare": listed,
        "seed": split.seed,
        "trials": split.effort * u64::from(split.replications),
        "streams": STREAMS,
        "split": {
            "method": "fixed-effort multilevel splitting on the ladder's levels; interval from independent replications (t, log scale); differences and ratios paired by replication",
            "per_replication_per_stage": split.effort,
            "replications": split.replications,
            "lineage": LINEAGE,
            "continuations_simulated": simulated,
        },
        "threads": split.threads,
        "wall_seconds": seconds,
    })
}

/// What a score run read and how it scored: the log, the origins and the lead.
pub struct ScoreRecord<'a> {
    /// The event log's path as given, and its text.
    pub events: (&'a str, &'a str),
    /// `--from`, `--to` as given.
    pub window: (&'a str, &'a str),
    /// `--every` and `--lead` (days).
    pub every: f64,
    /// Lead (days).
    pub lead: f64,
    /// Origins scored.
    pub origins: usize,
    /// Whether params were refitted at each origin, and from which day.
    pub refit: Option<f64>,
    /// The forecasters, brink's first.
    pub forecasters: Vec<String>,
}

/// The manifest of a score folder (without `files`).
pub fn score_manifest(run: &RunRecord<'_>, r: &ScoreRecord<'_>) -> serde_json::Value {
    scenario_folder_manifest(
        crate::output::guard::SCORE_FORMAT,
        run,
        serde_json::json!({
            "events_file": r.events.0,
            "events_sha256": sha256_hex(r.events.1.as_bytes()),
            "from": r.window.0,
            "to": r.window.1,
            "every_days": r.every,
            "lead_days": r.lead,
            "origins": r.origins,
            "refit": r.refit.is_some(),
            "refit_from_day": r.refit,
            "forecasters": r.forecasters,
            "seed": run.seed,
            "trials_per_origin": run.trials,
            "streams": STREAMS,
        }),
    )
}

/// What a fit read: the log's path and text, the data window as dates or days.
pub struct FitRecord<'a> {
    /// The event log's path as given, and its text.
    pub events: (&'a str, &'a str),
    /// `--from` as given (or the default).
    pub from: String,
    /// `--to` as given (or the default).
    pub to: String,
    /// Params fitted and not fitted.
    pub counts: (usize, usize),
}

/// The manifest of a fit folder (without `files`).
pub fn fit_manifest(run: &RunRecord<'_>, f: &FitRecord<'_>) -> serde_json::Value {
    scenario_folder_manifest(
        crate::output::guard::FIT_FORMAT,
        run,
        serde_json::json!({
            "events_file": f.events.0,
            "events_sha256": sha256_hex(f.events.1.as_bytes()),
            "from": f.from,
            "to": f.to,
            "fitted": f.counts.0,
            "not_fitted": f.counts.1,
        }),
    )
}

/// What a track record read of one episode.
pub struct EpisodeRecord<'a> {
    /// The scenario file's path and text.
    pub scenario: (&'a str, &'a str),
    /// The record's path and text.
    pub record: (&'a str, &'a str),
    /// The params file, if the forecast was frozen with one.
    pub params_file: Option<ParamsFileRecord>,
    /// Trials and seed.
    pub trials: u64,
    /// Seed.
    pub seed: u64,
}

/// The manifest of a track-record folder (without `files`): the track-record file and,
/// per episode, what it read, each with its SHA-256.
pub fn track_manifest(file: (&str, &str), episodes: &[EpisodeRecord<'_>]) -> serde_json::Value {
    let eps: Vec<serde_json::Value> = episodes
        .iter()
        .map(|e| {
            let mut v = serde_json::json!({
                "scenario_file": e.scenario.0,
                "scenario_sha256": sha256_hex(e.scenario.1.as_bytes()),
                "record_file": e.record.0,
                "record_sha256": sha256_hex(e.record.1.as_bytes()),
                "trials": e.trials,
                "seed": e.seed,
            });
            if let Some(p) = &e.params_file {
                v["params_file"] = serde_json::json!(p);
            }
            v
        })
        .collect();
    serde_json::json!({
        "format": crate::output::guard::TRACK_FORMAT,
        "brink_version": env!("CARGO_PKG_VERSION"),
        "track_record_file": file.0,
        "track_record_sha256": sha256_hex(file.1.as_bytes()),
        "streams": STREAMS,
        "episodes": eps,
    })
}
