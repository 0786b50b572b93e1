//! A whole results folder from one aggregate: tables, manifest, charts and report.
//!
//! `brink run` and every variant of `brink compare` write the same folder through this,
//! so a comparison's sub-folders are exactly what `brink run` would have written.
//! The caller has already streamed `trials.csv` into the folder (or chosen not to).

use crate::output::manifest::Manifest;
use crate::output::results::{Results, ResultsError};
use crate::output::{io_at, tables, OutputError};
use crate::present::charts::{self, ChartError, ChartOptions, Formats};
use crate::sim::model::Model;
use crate::sim::stats::Aggregate;
use std::path::Path;

/// Why a folder could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    /// Writing a file failed.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// Reading back a table failed (a bug if it happens).
    #[error(transparent)]
    Results(#[from] ResultsError),
    /// Drawing failed.
    #[error(transparent)]
    Chart(#[from] ChartError),
}

/// What the folder describes, besides the aggregate.
#[derive(Debug, Clone)]
pub struct FolderSpec<'a> {
    /// The compiled model.
    pub model: &'a Model,
    /// The scenario file as given.
    pub scenario_file: &'a str,
    /// The scenario file's bytes (hashed into the manifest).
    pub source: &'a [u8],
    /// Seed.
    pub seed: u64,
    /// `--set` overrides, as `NAME=VALUE`.
    pub sets: Vec<String>,
    /// `--params FILE`, when given.
    pub params_file: Option<crate::output::manifest::ParamsFileRecord>,
    /// Worker threads.
    pub threads: usize,
    /// Wall-clock seconds of the simulation.
    pub seconds: f64,
    /// Whether `trials.csv` is in the folder.
    pub trials_csv: bool,
    /// Extra data files the caller wrote (listed in the manifest after trials.csv).
    pub extra_files: Vec<String>,
    /// Chart size and formats.
    pub charts: ChartOptions,
    /// The 95% interval of each level's P(reached) when the trials are not independent
    /// (a two-loop run's draws share their trials): `levels.csv`, its chart and the
    /// report then show these instead of the Wilson interval. None: Wilson.
    pub level_intervals: Option<Vec<(f64, f64)>>,
    /// A predictive run of a scenario with uncertain params: the draws behind the spread
    /// it leads with (its files are among `extra_files`). None otherwise.
    pub spread: Option<crate::output::manifest::SpreadRecord>,
}

/// The chart files and `report.html` of a results folder, as (name, bytes).
pub fn pictures(results: &Results, opts: &ChartOptions) -> Result<Vec<(String, Vec<u8>)>, ChartError> {
    let mut out = if opts.formats == Formats::None { Vec::new() } else { charts::render_all(results, opts)? };
    out.push(("report.html".into(), crate::present::report::html(results, opts)?.into_bytes()));
    Ok(out)
}

/// Step firings of all trials: the sum of the per-step totals (as in `steps.csv`).
pub fn firings(agg: &Aggregate) -> u64 {
    agg.steps.iter().map(|s| s.sum).sum()
}

/// `count` per second of `seconds`, or 0 if no time was measured.
pub(crate) fn per_second(count: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        count as f64 / seconds
    } else {
        0.0
    }
}

/// Writes every file but `trials.csv` into `dir`; returns the manifest written.
pub fn write(dir: &Path, spec: &FolderSpec<'_>, agg: &Aggregate) -> Result<Manifest, FolderError> {
    let model = spec.model;
    let mut files: Vec<(&str, Vec<u8>)> = vec![
        ("levels.csv", tables::levels_with(model, agg, spec.level_intervals.as_deref())),
        ("tallies.csv", tables::tallies(model, agg)),
        ("tally_distribution.csv", tables::tally_distribution(model, agg)),
        ("steps.csv", tables::steps(model, agg)),
        ("daily.csv", tables::daily(model, agg)),
        ("paths.csv", tables::paths(model, agg)),
    ];
    let mut manifest = Manifest::describe(model, spec.scenario_file, spec.source, spec.seed, agg.trials);
    manifest.sets = spec.sets.clone();
    manifest.params_file = spec.params_file.clone();
    manifest.spread = spec.spread;
    manifest.threads = spec.threads;
    manifest.wall_seconds = spec.seconds;
    manifest.trials_per_second = per_second(agg.trials, spec.seconds);
    manifest.events_per_second = per_second(firings(agg), spec.seconds);
    manifest.files = files.iter().map(|(n, _)| n.to_string()).collect();
    if spec.trials_csv {
        manifest.files.push("trials.csv".into());
    }
    manifest.files.extend(spec.extra_files.iter().cloned());
    manifest.files.push("manifest.json".into());
    manifest.files.extend(charts::file_names(&spec.charts));
    manifest.files.push("report.html".into());
    files.push(("manifest.json", manifest.to_bytes()));
    for (name, bytes) in &files {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(io_at(&path))?;
    }
    // Charts and the report are drawn from the bytes just written, exactly as
    // `brink plot` reads them back from the folder.
    let results = Results::from_files(dir, |name| {
        match files.iter().find(|(n, _)| *n == name) {
            Some((_, b)) => Ok(b.clone()),
            // Files the caller wrote itself (e.g. epistemic.csv) are read back from disk.
            None => std::fs::read(dir.join(name))
                .map_err(|source| ResultsError::Io { path: dir.join(name), source }),
        }
    })?;
    for (name, bytes) in pictures(&results, &spec.charts)? {
        let path = dir.join(&name);
        std::fs::write(&path, bytes).map_err(io_at(&path))?;
    }
    Ok(manifest)
}
