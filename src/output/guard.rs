//! Which folders `--force` may replace: only a results folder brink wrote itself.
//!
//! Every kind of results folder names its kind and version in a `format` field of its
//! `manifest.json` (a shard folder: of its `shard.json`) and lists the files brink wrote
//! in `files`. That list, written by the same code that writes the files, is the one
//! record of what belongs to the folder: anything else in it is the user's, and `--force`
//! refuses rather than delete it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// `format` of a run's `manifest.json` (also each run folder of a comparison, a merged
/// `format` of a shard folder's `shard.json` (written by [`crate::shard`]).
pub const SHARD_FORMAT: &str = "brink-shard/4";
/// The shard format before [`SHARD_FORMAT`]: the same fields, with the design written
/// after `events` instead of after `kind`. Still read, merged and replaced.
pub const PREVIOUS_SHARD_FORMAT: &str = "brink-shard/3";
/// The shard's manifest.
pub const SHARD_JSON: &str = "shard.json";
/// The copy of the scenario file.
pub const SCENARIO_COPY: &str = "scenario.toml";
/// The charts of a run folder by file stem, in the order the report shows them.
pub(crate) const RUN_CHARTS: [&str; 5] = ["levels", "time_to_level", "occupancy", "tallies", "paths"];
/// run and a two-loop run).
pub(crate) const RUN_FORMAT: &str = "brink-run/1";
/// `format` of a comparison's `manifest.json`.
pub(crate) const COMPARE_FORMAT: &str = "brink-compare/1";
/// `format` of a sweep's `manifest.json`.
pub(crate) const SWEEP_FORMAT: &str = "brink-sweep/1";
/// `format` of a sensitivity analysis' `manifest.json`.
pub(crate) const SENSITIVITY_FORMAT: &str = "brink-sensitivity/1";
/// `format` of a backtest's `manifest.json`.
pub(crate) const BACKTEST_FORMAT: &str = "brink-backtest/1";
/// `format` of a splitting run's `manifest.json`.
pub(crate) const SPLIT_FORMAT: &str = "brink-split/1";
/// `format` of a fit's `manifest.json`.
pub(crate) const FIT_FORMAT: &str = "brink-fit/1";
/// `format` of a score run's `manifest.json`.
pub(crate) const SCORE_FORMAT: &str = "brink-score/1";
/// `format` of a track record's `manifest.json`.
pub(crate) const TRACK_FORMAT: &str = "brink-track-record/1";

/// How many unexpected entries a refusal names.
const NAMED: usize = 5;

/// The relative paths (with `/`) of the files brink writes in the results folder `dir`,
/// read from its manifest; `Err` says why `dir` is not a results folder of brink's.
pub(crate) fn owned_files(dir: &Path) -> Result<BTreeSet<String>, String> {
    record(dir, false).map(|(_, files)| files)
}

/// The `format` of the results folder `dir` (its manifest's, or its shard.json's), if
/// it is a folder brink wrote; says which kind of folder it is.
pub(crate) fn folder_format(dir: &Path) -> Option<String> {
    let (_, bytes) = marker_file(dir).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("format").and_then(|f| f.as_str()).map(str::to_owned)
}

/// The name and bytes of `dir`'s manifest.json (else its shard.json), read through the
/// input cap and never through a symbolic link; `Err` says what failed.
fn marker_file(dir: &Path) -> Result<(&'static str, Vec<u8>), String> {
    for (name, what) in [("manifest.json", "manifest"), (SHARD_JSON, "shard file")] {
        let path = dir.join(name);
        match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("cannot read its {name}: {e}")),
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!("its {name} is a symbolic link, not a file brink wrote"))
            }
            Ok(_) => {}
        }
        return crate::scenario::input::read(&path, what).map(|b| (name, b)).map_err(|e| e.to_string());
    }
    Err("it has no manifest.json (or shard.json)".into())
}

/// A name brink may have given a file or folder it wrote: one path component, not `.`,
/// `..` or empty. Anything else in a manifest could name a path outside the folder.
fn plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

/// A manifest's text, cut for a message (a crafted one may hold anything).
fn shown(text: &str) -> String {
    format!("{:?}", crate::scenario::diag::clip(text, 60))
}

/// `format` and the files brink wrote in `dir` (the record [`owned_files`] returns).
/// `nested`: `dir` is a run folder of a comparison, which must be a run's folder (so the
/// recursion stops there).
fn record(dir: &Path, nested: bool) -> Result<(String, BTreeSet<String>), String> {
    let (name, bytes) = marker_file(dir)?;
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| format!("its {name} is not brink's (not valid JSON)"))?;
    let format = v.get("format").and_then(|f| f.as_str()).unwrap_or("");
    let list = |key: &str| -> Vec<String> {
        v.get(key)
            .and_then(|f| f.as_array())
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    if nested && format != RUN_FORMAT {
        return Err(format!("its {name} is not a run's manifest"));
    }
    let mut files = BTreeSet::new();
    for f in list("files") {
        // A shard of a comparison lists each run's files as `run/file`; every other
        // folder lists plain file names.
        let ok = match f.split_once('/') {
            Some((run, file)) => is_shard_format(format) && plain_name(run) && plain_name(file),
            None => plain_name(&f),
        };
        if !ok {
            return Err(format!("its {name} lists {} among its files, not a plain file name", shown(&f)));
        }
        files.insert(f);
    }
    match format {
        RUN_FORMAT => {
            // `brink plot` may redraw the charts in other formats than the run wrote.
            files.extend(RUN_CHARTS.iter().flat_map(|c| [format!("{c}.png"), format!("{c}.svg")]));
            files.insert("report.html".into());
        }
        COMPARE_FORMAT => {
            for run in list("runs") {
                if !plain_name(&run) {
                    return Err(format!(
                        "its {name} names {} as a run folder, not a plain folder name",
                        shown(&run)
                    ));
                }
                let sub = dir.join(&run);
                match std::fs::symlink_metadata(&sub) {
                    Ok(m) if m.file_type().is_dir() => {}
                    Ok(_) => return Err(format!("its run folder {run} is not a folder (a link or a file)")),
                    Err(e) => return Err(format!("its run folder {run}: {e}")),
                }
                let (_, owned) = record(&sub, true).map_err(|why| format!("its run folder {run}: {why}"))?;
                files.extend(owned.into_iter().map(|f| format!("{run}/{f}")));
            }
        }
        SWEEP_FORMAT
        | SENSITIVITY_FORMAT
        | BACKTEST_FORMAT
        | SPLIT_FORMAT
        | FIT_FORMAT
        | SCORE_FORMAT
        | TRACK_FORMAT
        | SHARD_FORMAT
        | PREVIOUS_SHARD_FORMAT => {}
        "" => return Err(format!("its {name} has no brink format marker")),
        other => return Err(format!("its {name} has format {}, not one this brink writes", shown(other))),
    }
    if !files.contains(name) {
        return Err(format!("its {name} does not list the files brink wrote"));
    }
    Ok((format.to_owned(), files))
}

/// Every entry of `dir` (relative, with `/`; a folder ends in `/` and is not entered)
/// that is not one of `owned` nor a folder on the way to one. A symbolic link is never
/// brink's, whatever its name, and is never followed.
fn unexpected(dir: &Path, rel: &str, owned: &BTreeSet<String>, out: &mut Vec<String>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = format!("{rel}{name}");
        let kind = e.file_type()?;
        if kind.is_symlink() {
            out.push(path);
        } else if kind.is_dir() {
            let prefix = format!("{path}/");
            // Owned paths have at most two components, so this goes one level deep.
            if rel.is_empty() && owned.range(prefix.clone()..).next().is_some_and(|f| f.starts_with(&prefix))
            {
                unexpected(&e.path(), &prefix, owned, out)?;
            } else {
                out.push(prefix);
            }
        } else if !owned.contains(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// Whether `--force` may replace the existing folder `dir`: it must be empty, or a
/// results folder of brink's holding nothing but what brink wrote there. `Err` is the
/// message of the refusal, naming the first few unexpected entries.
pub(crate) fn check_replaceable(dir: &Path) -> Result<(), String> {
    let shown = dir.display();
    let is_empty =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read the folder {shown}: {e}"))?.next().is_none();
    if is_empty {
        return Ok(());
    }
    let owned = owned_files(dir).map_err(|why| {
        format!(
            "--force refused: {shown} is not a results folder written by brink ({why}), so nothing was \
             deleted. --force only replaces a folder brink wrote; choose another --out, or remove the \
             folder yourself if you are sure it holds nothing you need"
        )
    })?;
    let mut extra = Vec::new();
    unexpected(dir, "", &owned, &mut extra).map_err(|e| format!("cannot read the folder {shown}: {e}"))?;
    if extra.is_empty() {
        return Ok(());
    }
    let mut named = extra.iter().take(NAMED).cloned().collect::<Vec<_>>().join(", ");
    if extra.len() > NAMED {
        named.push_str(&format!(" and {} more", extra.len() - NAMED));
    }
    Err(format!(
        "--force refused: the results folder {shown} holds {} brink did not write there: {named}; \
         nothing was deleted. Move {} out of the folder (or delete {} yourself), or choose another --out",
        if extra.len() == 1 { "an entry" } else { "entries" },
        if extra.len() == 1 { "it" } else { "them" },
        if extra.len() == 1 { "it" } else { "them" },
    ))
}

/// `path` made absolute without needing it to exist: the canonical parent and the name.
pub(crate) fn resolve(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = path.canonicalize() {
        return Some(p);
    }
    let name = path.file_name()?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    parent.canonicalize().ok().map(|p| p.join(name))
}

/// Refuses an `--out` whose last component is `.` or `..` (it names another folder than
/// the one it seems to, and renaming onto it fails only after the simulation), and one
/// that names a symbolic link with a trailing `/` (which the OS follows). Nothing is
/// touched.
fn check_out_form(dest: &Path) -> Result<(), String> {
    let text = dest.to_string_lossy();
    let trimmed = text.trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(format!("--out {text} is the root folder: choose a new folder, e.g. --out output/NAME"));
    }
    let last = trimmed.rsplit('/').next().unwrap_or(trimmed);
    if last == "." || last == ".." {
        return Err(format!(
            "--out {text} ends in `{last}`: name the results folder itself (e.g. --out output/NAME), \
             not `.` or `..`"
        ));
    }
    if trimmed.len() < text.len()
        && std::fs::symlink_metadata(trimmed).is_ok_and(|m| m.file_type().is_symlink())
    {
        return Err(format!(
            "--out {text} is a symbolic link; brink does not replace links: give the folder itself, or a new name"
        ));
    }
    Ok(())
}

/// Whether `format` is a shard folder's, of a format this brink reads.
fn is_shard_format(format: &str) -> bool {
    format == SHARD_FORMAT || format == PREVIOUS_SHARD_FORMAT
}

/// Whether `input` is the scenario copy that a shard folder strictly inside `out` lists
/// as written by brink: the one input that replacing `out` may delete (brink wrote it).
fn is_shards_scenario_copy(input: &Path, out: &Path) -> bool {
    let is_copy = input.file_name().is_some_and(|n| n == SCENARIO_COPY)
        && std::fs::symlink_metadata(input).is_ok_and(|m| m.file_type().is_file());
    // A run shard holds it at its top, a comparison's shard in each run's folder.
    is_copy
        && input.ancestors().skip(1).take(2).any(|folder| {
            folder != out
                && folder.starts_with(out)
                && record(folder, false).is_ok_and(|(format, files)| {
                    is_shard_format(&format)
                        && input.strip_prefix(folder).is_ok_and(|rel| files.contains(&*rel.to_string_lossy()))
                })
        })
}

/// Refuses a destination that equals or contains the current folder or one of the
/// `inputs` (the scenario, observed or mapping files, compared folders): replacing it
/// would delete them. Only a shard's copy of its scenario, inside a shard folder within
/// the destination, is brink's own and not protected. Also refuses the `--out` forms of
/// [`check_out_form`]. Runs before anything is created.
pub(crate) fn check_contains_nothing_of_the_user(dest: &Path, inputs: &[&Path]) -> Result<(), String> {
    check_out_form(dest)?;
    let Some(out) = resolve(dest) else { return Ok(()) };
    if let Some(cwd) = std::env::current_dir().ok().and_then(|c| c.canonicalize().ok()) {
        if cwd.starts_with(&out) {
            return Err(format!(
                "--out {} is the current folder or contains it; brink writes its results into a \
                 folder of their own and replaces that folder with --force, which would delete your \
                 files: choose a new folder, e.g. --out output/NAME",
                dest.display()
            ));
        }
    }
    for input in inputs {
        let Ok(p) = input.canonicalize() else { continue };
        if !p.starts_with(&out) || is_shards_scenario_copy(&p, &out) {
            continue;
        }
        let (relation, outside) = if p == out { ("is", "another") } else { ("contains", "an") };
        return Err(format!(
            "--out {} {relation} {}, an input of this command; brink never writes its results over \
             its inputs: choose {outside} --out folder that holds none of them, e.g. output/RESULTS",
            dest.display(),
            input.display()
        ));
    }
    Ok(())
}
