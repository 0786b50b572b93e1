//! The exact state of a shard of `brink compare`, `sweep` or `sensitivity`, and adding
//! the shards' states up.
//!
//! These commands run several models in lockstep on the same trials
//! ([`crate::sim::runner::run_set`]). A shard keeps what their outputs are computed from, in a
//! form that merges exactly (integer counts and sums):
//!
//! - `paired.json` (format `brink-paired/1`): the [`Paired`] accumulators of each later
//!   model with the first (compare and sensitivity);
//! - `counts.json` (format `brink-counts/1`): the [`LevelCounts`] of each model (sweep
//!   and sensitivity; a whole aggregate per grid point would be large and unused);
//! - a compared run's `aggregate.json` and `trials.csv` in its sub-folder `<name>/`,
//!   read with [`ShardFolder::aggregate_at`] and [`super::concat_rows`].
//!
//! A shard of `brink run` of a scenario with uncertain params also keeps `spread.json`
//! (format `brink-spread/1`): the level counts of its share of the parameter draws
//! ([`SpreadCounts`]), which follow one another.
//!
//! Shards of trials add up; shards of a sweep's grid points follow one another.

use super::{check_format, json, read_file, ShardError, ShardFolder, SweepSplit};
use crate::analysis::compare::Paired;
use crate::analysis::epistemic::SpreadCounts;
use crate::analysis::explore::LevelCounts;
use crate::output::{io_at, OutputError};
use crate::sim::model::Model;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The pairings of a shard.
pub(crate) const PAIRED_JSON: &str = "paired.json";
/// `format` of `paired.json`.
pub(crate) const PAIRED_FORMAT: &str = "brink-paired/1";
/// The level counts of a shard.
pub(crate) const COUNTS_JSON: &str = "counts.json";
/// `format` of `counts.json`.
pub(crate) const COUNTS_FORMAT: &str = "brink-counts/1";

/// A run shard's share of the parameter draws.
pub(crate) const SPREAD_JSON: &str = "spread.json";
/// `format` of `spread.json`.
pub(crate) const SPREAD_FORMAT: &str = "brink-spread/1";

/// Contents of `spread.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SpreadFile {
    /// [`SPREAD_FORMAT`].
    pub format: String,
    /// Level ids, in ladder order (the order of each `reached`).
    pub levels: Vec<String>,
    /// The draws.
    pub spread: SpreadCounts,
}

/// Contents of `paired.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PairedFile {
    /// [`PAIRED_FORMAT`].
    pub format: String,
    /// The first model paired with each later one, in order.
    pub pairs: Vec<Pair>,
}

/// One pairing, with the names and ids that give its indices meaning.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Pair {
    /// The first model (A).
    pub a: String,
    /// The other model (B).
    pub b: String,
    /// Ids of the shared levels, in A's ladder order (the order of `level_counts`).
    pub levels: Vec<String>,
    /// Ids of the shared tallies (the order of `tally_sums`).
    pub tallies: Vec<String>,
    /// The accumulators.
    pub paired: Paired,
}

impl PairedFile {
    /// Wraps the pairings of `models[0]` with each later model.
    pub(crate) fn new(names: &[String], models: &[&Model], paired: &[Paired]) -> PairedFile {
        let pairs = paired
            .iter()
            .enumerate()
            .map(|(k, p)| Pair {
                a: names[0].clone(),
                b: names[k + 1].clone(),
                levels: p.levels.iter().map(|&(i, _)| models[0].levels[i].id.clone()).collect(),
                tallies: p.tallies.iter().map(|&(i, _)| models[0].tallies[i].id.clone()).collect(),
                paired: p.clone(),
            })
            .collect();
        PairedFile { format: PAIRED_FORMAT.into(), pairs }
    }
}

/// Contents of `counts.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CountsFile {
    /// [`COUNTS_FORMAT`].
    pub format: String,
    /// Level ids, in ladder order (the order of each `reached`).
    pub levels: Vec<String>,
    /// Per model, in order (for a sweep, the shard's grid points).
    pub counts: Vec<LevelCounts>,
}

/// Compact JSON with a final newline.
fn bytes<T: Serialize>(v: &T) -> Vec<u8> {
    let mut b = serde_json::to_vec(v).unwrap_or_default();
    b.push(b'\n');
    b
}

/// Writes `paired.json` into `dir`.
pub(crate) fn write_paired(
    dir: &Path,
    names: &[String],
    models: &[&Model],
    paired: &[Paired],
) -> Result<(), OutputError> {
    let path = dir.join(PAIRED_JSON);
    std::fs::write(&path, bytes(&PairedFile::new(names, models, paired))).map_err(io_at(&path))
}

/// Writes `counts.json` into `dir`.
pub(crate) fn write_counts(dir: &Path, model: &Model, counts: Vec<LevelCounts>) -> Result<(), OutputError> {
    let levels = model.levels.iter().map(|l| l.id.clone()).collect();
    let file = CountsFile { format: COUNTS_FORMAT.into(), levels, counts };
    let path = dir.join(COUNTS_JSON);
    std::fs::write(&path, bytes(&file)).map_err(io_at(&path))
}

/// The trials a shard's state must count.
fn shard_trials(shard: &ShardFolder) -> u64 {
    let r = shard.range();
    r.end - r.start
}

/// Reads a shard's `paired.json`, checked: `models[0]` (named `names[0]`) paired with
/// each later model, laid out as [`Paired::new`] lays them out, over the shard's trials.
pub(crate) fn read_paired(
    shard: &ShardFolder,
    names: &[String],
    models: &[&Model],
) -> Result<Vec<Paired>, ShardError> {
    let path = shard.dir.join(PAIRED_JSON);
    let b = read_file(&path)?;
    check_format(&path, &b, PAIRED_FORMAT)?;
    let file: PairedFile = json(&path, &b)?;
    let bad = |message: String| ShardError::Malformed { path: path.clone(), message };
    if file.pairs.len() + 1 != models.len() {
        return Err(bad(format!("it pairs {} runs, not {}", file.pairs.len() + 1, models.len())));
    }
    let trials = shard_trials(shard);
    let want = PairedFile::new(
        names,
        models,
        &models[1..].iter().map(|m| Paired::new(models[0], m)).collect::<Vec<_>>(),
    );
    let mut out = Vec::with_capacity(file.pairs.len());
    for (have, want) in file.pairs.into_iter().zip(want.pairs) {
        let layout = |p: &Pair| {
            (
                p.a.clone(),
                p.b.clone(),
                p.levels.clone(),
                p.tallies.clone(),
                p.paired.levels.clone(),
                p.paired.tallies.clone(),
            )
        };
        if layout(&have) != layout(&want) {
            return Err(bad(format!(
                "the pair {} - {} does not pair the levels and tallies of {} and {}",
                have.a, have.b, want.a, want.b
            )));
        }
        if have.paired.trials != trials {
            return Err(bad(format!(
                "the pair {} - {} counts {} trials, but shard {} has {trials}",
                have.a,
                have.b,
                have.paired.trials,
                shard.manifest.shard()
            )));
        }
        out.push(have.paired);
    }
    Ok(out)
}

/// Reads a shard's `counts.json`, checked: `n` models with `model`'s levels, over the
/// shard's trials.
pub(crate) fn read_counts(
    shard: &ShardFolder,
    model: &Model,
    n: u64,
) -> Result<Vec<LevelCounts>, ShardError> {
    let path = shard.dir.join(COUNTS_JSON);
    let b = read_file(&path)?;
    check_format(&path, &b, COUNTS_FORMAT)?;
    let file: CountsFile = json(&path, &b)?;
    let bad = |message: String| ShardError::Malformed { path: path.clone(), message };
    if !file.levels.iter().eq(model.levels.iter().map(|l| &l.id)) {
        return Err(bad("its level ids are not the scenario's".into()));
    }
    if file.counts.len() as u64 != n {
        return Err(bad(format!("it holds the counts of {} settings, not {n}", file.counts.len())));
    }
    let trials = shard_trials(shard);
    for (k, c) in file.counts.iter().enumerate() {
        if c.trials != trials || c.reached.len() != file.levels.len() || c.reached.iter().any(|&r| r > trials)
        {
            return Err(bad(format!(
                "setting {k}: its counts are not those of {} levels over the shard's {trials} trials",
                file.levels.len()
            )));
        }
    }
    Ok(file.counts)
}

/// The level counts of every model over every trial: trial shards add up, a sweep's
/// grid-point shards follow one another (`shards` in shard order; `models` counts
/// every model of the whole set).
pub(crate) fn merge_counts(
    shards: &[ShardFolder],
    model: &Model,
    models: u64,
) -> Result<Vec<LevelCounts>, ShardError> {
    let by_points = |s: &ShardFolder| {
        s.manifest
            .design
            .sweep()
            .filter(|sw| sw.split == SweepSplit::Points)
            .map(|sw| sw.end_point - sw.first_point)
    };
    let mut total: Vec<LevelCounts> = Vec::new();
    for s in shards {
        match by_points(s) {
            Some(n) => total.extend(read_counts(s, model, n)?),
            None => {
                let part = read_counts(s, model, models)?;
                if total.is_empty() {
                    total = part;
                } else {
                    for (t, p) in total.iter_mut().zip(&part) {
                        t.merge(p);
                    }
                }
            }
        }
    }
    Ok(total)
}

/// Adds up the shards' pairings (exact, so the order does not matter).
pub(crate) fn merge_paired(
    shards: &[ShardFolder],
    names: &[String],
    models: &[&Model],
) -> Result<Vec<Paired>, ShardError> {
    let mut total: Vec<Paired> = models[1..].iter().map(|m| Paired::new(models[0], m)).collect();
    for s in shards {
        for (t, p) in total.iter_mut().zip(read_paired(s, names, models)?) {
            t.merge(&p);
        }
    }
    Ok(total)
}

/// Writes `spread.json` into `dir`.
pub(crate) fn write_spread(dir: &Path, model: &Model, spread: SpreadCounts) -> Result<(), OutputError> {
    let levels = model.levels.iter().map(|l| l.id.clone()).collect();
    let file = SpreadFile { format: SPREAD_FORMAT.into(), levels, spread };
    let path = dir.join(SPREAD_JSON);
    std::fs::write(&path, bytes(&file)).map_err(io_at(&path))
}

/// The draws of every shard's `spread.json` (`shards` in shard order), checked: each
/// holds the draws its shard number gives it of the draws its `shard.json` records, over
/// `model`'s levels; together they are all the run's draws, in order.
pub(crate) fn merge_spread(
    shards: &[ShardFolder],
    model: &Model,
) -> Result<Option<SpreadCounts>, ShardError> {
    let Some(record) = shards.first().and_then(|s| s.manifest.spread) else { return Ok(None) };
    let mut total =
        SpreadCounts { draws: record.draws, trials: record.trials_per_draw, first: 0, counts: Vec::new() };
    for s in shards {
        let path = s.dir.join(SPREAD_JSON);
        let b = read_file(&path)?;
        check_format(&path, &b, SPREAD_FORMAT)?;
        let file: SpreadFile = json(&path, &b)?;
        let bad = |message: String| ShardError::Malformed { path: path.clone(), message };
        if !file.levels.iter().eq(model.levels.iter().map(|l| &l.id)) {
            return Err(bad("its level ids are not the scenario's".into()));
        }
        let sp = file.spread;
        let range = s.manifest.shard().range(record.draws);
        if sp.draws != record.draws || sp.trials != record.trials_per_draw {
            return Err(bad(format!(
                "it holds draws of {} x {} trials, but shard.json says {} x {}",
                sp.draws, sp.trials, record.draws, record.trials_per_draw
            )));
        }
        if sp.first != range.start || sp.counts.len() as u64 != range.end - range.start {
            return Err(bad(format!(
                "it holds draws {} to {}, but shard {} has draws {} to {}",
                sp.first,
                sp.first + sp.counts.len() as u64,
                s.manifest.shard(),
                range.start,
                range.end
            )));
        }
        for (k, c) in sp.counts.iter().enumerate() {
            if c.trials != sp.trials
                || c.reached.len() != file.levels.len()
                || c.reached.iter().any(|&r| r > c.trials)
            {
                return Err(bad(format!(
                    "draw {}: its counts are not those of {} levels over {} trials",
                    sp.first + k as u64,
                    file.levels.len(),
                    sp.trials
                )));
            }
        }
        total.counts.extend(sp.counts);
    }
    Ok(Some(total))
}
