//! A finished results folder, read back from its files.
//!
//! Charts and the report are drawn from this, never from the live aggregate, so that
//! `brink plot DIR` re-renders exactly what `brink run` drew: both go through the same
//! bytes. Every reader names the file and line of what it could not read.

use crate::output::manifest::Manifest;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A row of `levels.csv`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[allow(missing_docs)] // fields are the file's columns, defined in docs/outputs.md
pub struct LevelRow {
    pub level: String,
    pub label: String,
    pub terminal: bool,
    pub p_reached: f64,
    pub p_low: f64,
    pub p_high: f64,
    pub trials_reached: u64,
    pub day_p10: Option<f64>,
    pub day_p50: Option<f64>,
    pub day_p90: Option<f64>,
    pub p_highest: f64,
    pub p_final: f64,
}

/// A row of `tallies.csv`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[allow(missing_docs)] // fields are the file's columns, defined in docs/outputs.md
pub struct TallyRow {
    pub tally: String,
    pub label: String,
    pub mean: f64,
    pub sd: f64,
    pub p5: Option<u64>,
    pub p50: Option<u64>,
    pub p95: Option<u64>,
    pub max: Option<u64>,
    pub p_positive: f64,
}

/// A row of `tally_distribution.csv`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[allow(missing_docs)] // fields are the file's columns, defined in docs/outputs.md
pub struct TallyValueRow {
    pub tally: String,
    pub value: u64,
    pub trials: u64,
    pub share: f64,
}

/// A row of `steps.csv`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[allow(missing_docs)] // fields are the file's columns, defined in docs/outputs.md
pub struct StepRow {
    pub step: String,
    pub label: String,
    pub actor: String,
    pub mean_count: f64,
    pub p_fired: f64,
}

/// A row of `daily.csv`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[allow(missing_docs)] // fields are the file's columns, defined in docs/outputs.md
pub struct DailyRow {
    pub day: u32,
    pub date: String,
    pub level: String,
    pub share: f64,
    pub p_reached: f64,
}

/// A row of `paths.csv`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[allow(missing_docs)] // fields are the file's columns, defined in docs/outputs.md
pub struct PathRow {
    pub rank: u32,
    pub path: String,
    pub trials: u64,
    pub share: f64,
}

/// A row of `epistemic.csv` (two-loop runs): a level's summary, or one param's rank
/// correlation with that level's probability.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[allow(missing_docs)] // fields are the file's columns, defined in docs/outputs.md
pub struct EpistemicRow {
    pub level: String,
    pub p_pooled: Option<f64>,
    pub p_median: Option<f64>,
    pub p_p5: Option<f64>,
    pub p_p95: Option<f64>,
    pub param: String,
    pub rank_correlation: Option<f64>,
}

/// Everything charts and the report need.
#[derive(Debug, Clone)]
pub struct Results {
    /// `manifest.json`.
    pub manifest: Manifest,
    /// `levels.csv`.
    pub levels: Vec<LevelRow>,
    /// `tallies.csv`.
    pub tallies: Vec<TallyRow>,
    /// `tally_distribution.csv`.
    pub tally_distribution: Vec<TallyValueRow>,
    /// `steps.csv`.
    pub steps: Vec<StepRow>,
    /// `daily.csv`.
    pub daily: Vec<DailyRow>,
    /// `paths.csv`.
    pub paths: Vec<PathRow>,
    /// `epistemic.csv` when the folder is a two-loop run (empty otherwise).
    pub epistemic: Vec<EpistemicRow>,
    /// P(top level) of each parameter draw, in draw order, from `params.csv` (two-loop
    /// runs and predictive runs' spreads; empty otherwise).
    pub draws_top: Vec<f64>,
}

/// Why a results folder could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// A file is missing or unreadable.
    #[error("cannot read {path}: {source} (is this a folder written by `brink run`?)")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// A file is malformed.
    #[error("{path}: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line where there is one.
        message: String,
    },
}

impl Results {
    /// Reads a results folder.
    pub fn read_dir(dir: &Path) -> Result<Results, ResultsError> {
        Results::from_files(dir, |name| {
            let path = dir.join(name);
            crate::scenario::input::read(&path, "results file").map_err(|e| match e {
                crate::scenario::input::InputError::Io { source, .. } => ResultsError::Io { path, source },
                other => ResultsError::Malformed { path, message: other.to_string() },
            })
        })
    }

    /// Reads the files through `get(name)`; `dir` only names them in messages.
    pub(crate) fn from_files(
        dir: &Path,
        mut get: impl FnMut(&str) -> Result<Vec<u8>, ResultsError>,
    ) -> Result<Results, ResultsError> {
        let manifest_bytes = get("manifest.json")?;
        let manifest: Manifest =
            serde_json::from_slice(&manifest_bytes).map_err(|e| ResultsError::Malformed {
                path: dir.join("manifest.json"),
                message: format!("line {}, column {}: {e}", e.line(), e.column()),
            })?;
        let mut table =
            |name: &str| -> Result<(Vec<u8>, PathBuf), ResultsError> { Ok((get(name)?, dir.join(name))) };
        let (b, p) = table("levels.csv")?;
        let levels: Vec<LevelRow> = rows(&b, &p)?;
        let (b, p) = table("tallies.csv")?;
        let tallies = rows(&b, &p)?;
        let (b, p) = table("tally_distribution.csv")?;
        let tally_distribution = rows(&b, &p)?;
        let (b, p) = table("steps.csv")?;
        let steps = rows(&b, &p)?;
        let (b, p) = table("daily.csv")?;
        let daily = rows(&b, &p)?;
        let (b, p) = table("paths.csv")?;
        let paths = rows(&b, &p)?;
        // Optional: only two-loop runs have it.
        let epistemic = match get("epistemic.csv") {
            Ok(b) => rows(&b, &dir.join("epistemic.csv"))?,
            Err(_) => Vec::new(),
        };
        let draws_top = match (get("params.csv"), levels.last()) {
            (Ok(b), Some(top)) => top_column(&b, &dir.join("params.csv"), &format!("p_{}", top.level))?,
            _ => Vec::new(),
        };
        let r = Results {
            manifest,
            levels,
            tallies,
            tally_distribution,
            steps,
            daily,
            paths,
            epistemic,
            draws_top,
        };
        if r.levels.is_empty() {
            return Err(ResultsError::Malformed {
                path: dir.join("levels.csv"),
                message: "no levels".into(),
            });
        }
        Ok(r)
    }

    /// A two-loop run's shape, (parameter draws, trials per draw): its `trials` are every
    /// draw's run of the same trials, not that many independent trials. None otherwise.
    pub fn two_loop(&self) -> Option<(u64, u64)> {
        let k = self.draws_top.len() as u64;
        (!self.epistemic.is_empty() && self.manifest.spread.is_none() && k > 0)
            .then(|| (k, self.manifest.trials / k))
    }

    /// The trials each parameter draw ran: a spread's or a two-loop run's trials per draw,
    /// otherwise every trial of the run.
    pub fn trials_per_draw(&self) -> u64 {
        match (self.manifest.spread, self.two_loop()) {
            (Some(sp), _) => sp.trials_per_draw,
            (None, Some((_, n))) => n,
            (None, None) => self.manifest.trials,
        }
    }

    /// The trials of the run, in words: "5,000 trials", or for a two-loop run "100
    /// parameter draws × 5,000 trials".
    pub fn trials_text(&self) -> String {
        match self.two_loop() {
            Some((k, n)) => format!(
                "{} parameter draws × {} trials",
                crate::output::text::thousands(k),
                crate::output::text::thousands(n)
            ),
            None => format!("{} trials", crate::output::text::thousands(self.manifest.trials)),
        }
    }

    /// The paths of `paths.csv` that end at the top level (their last step raises the level
    /// to it, by the chain the manifest keeps), most common first. Empty without a chain
    /// (older folders) or when no listed path ends there.
    pub fn paths_to_top(&self) -> Vec<&PathRow> {
        let (Some(top), Some(chain)) = (self.levels.last(), self.manifest.chain.as_ref()) else {
            return Vec::new();
        };
        let raises_to_top = |step: &str| {
            chain.steps.iter().any(|s| s.id == step && s.level.as_deref() == Some(top.level.as_str()))
        };
        // paths.csv is sorted by trials, most first.
        self.paths.iter().filter(|p| p.path.rsplit('>').next().is_some_and(raises_to_top)).collect()
    }

    /// Horizon in days.
    pub fn horizon(&self) -> u32 {
        self.manifest.horizon_days
    }

    /// Calendar date of day 0, if the scenario has one.
    pub fn start(&self) -> Option<crate::sim::calendar::Date> {
        let s = self.manifest.start.as_deref()?;
        let mut it = s.split('-').map(|x| x.parse::<i64>().ok());
        let (y, m, d) = (it.next()??, it.next()??, it.next()??);
        crate::sim::calendar::Date::new(y as i32, m as u32, d as u32)
    }
}

/// The column `name` of a CSV file as numbers (the per-draw P of `params.csv`).
fn top_column(bytes: &[u8], path: &Path, name: &str) -> Result<Vec<f64>, ResultsError> {
    let bad = |message: String| ResultsError::Malformed { path: path.to_owned(), message };
    let mut r = csv::Reader::from_reader(bytes);
    let col = r
        .headers()
        .map_err(|e| bad(e.to_string()))?
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| bad(format!("no column {name}")))?;
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let cell = rec.get(col).unwrap_or("");
        out.push(cell.parse().map_err(|_| bad(format!("line {}: {name} is not a number: {cell:?}", i + 2)))?);
    }
    Ok(out)
}

fn rows<T: for<'de> Deserialize<'de>>(bytes: &[u8], path: &Path) -> Result<Vec<T>, ResultsError> {
    let mut r = csv::Reader::from_reader(bytes);
    let mut out = Vec::new();
    for row in r.deserialize() {
        out.push(row.map_err(|e: csv::Error| ResultsError::Malformed {
            path: path.to_owned(),
            message: match e.position() {
                Some(p) => format!("line {}: {e}", p.line()),
                None => e.to_string(),
            },
        })?);
    }
    Ok(out)
}
