//! Reading shard folders: `shard.json` checked against its kind and every file against
//! its digest ([`ShardFolder::read`]), and a set of folders checked to be the shards of
//! one run, each once ([`read_shards`]).

use super::verify::{check_design, check_digests_complete, hash_file, merged_row_files, SHA_MISMATCH};
use super::{
    check_format, format_is, json, read_file, AggregateFile, Design, Kind, Mismatch, SensitivityPart,
    ShardError, ShardManifest, ShardRun, SweepPart, SweepSplit, AGGREGATE_FORMAT, AGGREGATE_JSON,
    PREVIOUS_SHARD_FORMAT, SCENARIO_COPY, SHARD_FORMAT, SHARD_JSON,
};
use crate::analysis::explore::Axis;
use crate::output::digest::FileDigest;
use crate::output::manifest::sha256_hex;
use crate::sim::model::Model;
use crate::sim::stats::Aggregate;
use serde::Deserialize;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Older `shard.json` formats, refused with a message that says why: format 2 did not
/// hash `trials.csv` and `events.csv`, format 1 recorded no digests at all.
const OLD_SHARD_FORMATS: [&str; 2] = ["brink-shard/1", "brink-shard/2"];

/// A shard folder, its manifest read.
#[derive(Debug, Clone)]
pub struct ShardFolder {
    /// The folder.
    pub dir: PathBuf,
    /// Its `shard.json`.
    pub manifest: ShardManifest,
}

/// Reads `shard.json`. Serde notices a wrong `kind`, a field the kind does not have (or
/// no kind has) and a missing design only at the end of the object, so these are told
/// without its position, and a field with what a shard of the kind has.
fn read_manifest(path: &Path, bytes: &[u8]) -> Result<ShardManifest, ShardError> {
    let e = match serde_json::from_slice(bytes) {
        Ok(m) => return Ok(m),
        Err(e) => e,
    };
    #[derive(Deserialize)]
    struct Head {
        kind: Option<String>,
    }
    let head = serde_json::from_slice::<Head>(bytes).ok().and_then(|h| h.kind);
    let kind = head.and_then(|k| Kind::ALL.into_iter().find(|x| x.name() == k));
    let text = e.to_string();
    let bare = text.strip_suffix(&format!(" at line {} column {}", e.line(), e.column())).unwrap_or(&text);
    let bad = |message: String| Err(ShardError::Malformed { path: path.to_owned(), message });
    if bare.starts_with("unknown variant `") {
        return bad(format!("`kind`: {bare}"));
    }
    if bare == "missing field `kind`" {
        return bad(format!(
            "{bare}: the command it is a shard of, one of `run`, `compare`, `sweep`, `sensitivity`"
        ));
    }
    let field = if bare.starts_with("unknown field `") {
        bare.split_once(", ").map_or(bare, |(f, _)| f)
    } else if ["runs", "sweep", "sensitivity"].iter().any(|f| bare == format!("missing field `{f}`")) {
        bare
    } else {
        return json(path, bytes);
    };
    match kind {
        Some(kind) => bad(format!("{field}; {}", Design::expected(kind))),
        None => json(path, bytes),
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
        // Format 3 wrote the design after `events`: the same fields, read the same.
        if !format_is(&bytes, PREVIOUS_SHARD_FORMAT) {
            check_format(&path, &bytes, SHARD_FORMAT)?;
        }
        let manifest = read_manifest(&path, &bytes)?;
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
        let by_points = m.design.sweep().is_some_and(|s| s.split == SweepSplit::Points);
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
    pub(super) fn digest(&self, rel: &str) -> Option<&FileDigest> {
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
    pub(crate) fn scenario_copies(&self) -> Vec<(PathBuf, &str)> {
        let m = &self.manifest;
        if m.design.runs().is_empty() {
            return vec![(PathBuf::from(SCENARIO_COPY), m.scenario_sha256.as_str())];
        }
        m.design
            .runs()
            .iter()
            .map(|r| (Path::new(&r.name).join(SCENARIO_COPY), r.scenario_sha256.as_str()))
            .collect()
    }

    /// The scenario copy at `rel`, checked against `sha256`.
    pub(crate) fn scenario_at(&self, rel: &Path, sha256: &str) -> Result<String, ShardError> {
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
    pub(crate) fn aggregate_at(&self, rel: &Path, model: &Model) -> Result<Aggregate, ShardError> {
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
        let fields: [(&'static str, String, String); 19] = [
            ("command", m.design.kind().to_string(), r.design.kind().to_string()),
            ("shard count", m.shards.to_string(), r.shards.to_string()),
            ("scenario SHA-256", m.scenario_sha256.clone(), r.scenario_sha256.clone()),
            ("seed", m.seed.to_string(), r.seed.to_string()),
            ("trial count", m.trials.to_string(), r.trials.to_string()),
            ("variant", show_variant(&m.variant), show_variant(&r.variant)),
            ("--set list", show_list(&m.sets), show_list(&r.sets)),
            ("--params file", show_params_file(&m.params_file), show_params_file(&r.params_file)),
            ("params", show_params(&m.params), show_params(&r.params)),
            ("event limit (max_events)", m.max_events.to_string(), r.max_events.to_string()),
            ("trials.csv", yes_no(m.trials_csv), yes_no(r.trials_csv)),
            ("--events", show_events(m.events), show_events(r.events)),
            ("parameter draws (--draws, --draw-trials)", show_spread(m.spread), show_spread(r.spread)),
            ("brink version", m.brink_version.clone(), r.brink_version.clone()),
            ("scenario name", m.scenario_name.clone(), r.scenario_name.clone()),
            ("list of compared runs", show_runs(m.design.runs()), show_runs(r.design.runs())),
            ("sweep split", show_split(m.design.sweep()), show_split(r.design.sweep())),
            ("sweep grid", show_axes(m.design.sweep()), show_axes(r.design.sweep())),
            (
                "sensitivity design",
                show_sensitivity(m.design.sensitivity()),
                show_sensitivity(r.design.sensitivity()),
            ),
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

fn show_split(sweep: Option<&SweepPart>) -> String {
    let by = |s: &SweepPart| match s.split {
        SweepSplit::Points => "by points",
        SweepSplit::Trials => "by trials",
    };
    sweep.map_or_else(|| "none".into(), |s| by(s).into())
}

fn show_axes(sweep: Option<&SweepPart>) -> String {
    let axis = |a: &Axis| {
        format!("{} = [{}]", a.param, a.values.iter().map(f64::to_string).collect::<Vec<_>>().join(", "))
    };
    sweep.map_or_else(|| "none".into(), |s| s.axes.iter().map(axis).collect::<Vec<_>>().join(", "))
}

fn show_sensitivity(s: Option<&SensitivityPart>) -> String {
    s.map_or_else(|| "none".into(), |s| format!("--spread {} --metric {}", s.spread, s.metric))
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

fn show_params_file(p: &Option<crate::output::manifest::ParamsFileRecord>) -> String {
    match p {
        None => "none".into(),
        Some(p) => format!("{} (SHA-256 {})", p.file, p.sha256.get(..12).unwrap_or(&p.sha256)),
    }
}

fn show_events(e: Option<u64>) -> String {
    e.map_or_else(|| "off".into(), |n| format!("--events {n}"))
}

/// The draws of a run's spread, as merge names them.
fn show_spread(s: Option<crate::output::manifest::SpreadRecord>) -> String {
    s.map_or("none".into(), |s| format!("{} draws x {} trials", s.draws, s.trials_per_draw))
}
