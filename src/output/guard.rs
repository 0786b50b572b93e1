//! Which folders `--force` may replace: only a results folder brink wrote itself.
//!
//! Every kind of results folder names its kind and version in a `format` field of its
//! `manifest.json` (a shard folder: of its `shard.json`) and lists the files brink wrote
//! in `files`. That list, written by the same code that writes the files, is the one
//! record of what belongs to the folder: anything else in it is the user's, and `--force`
//! refuses rather than delete it.

use super::shard::{SHARD_FORMAT, SHARD_JSON};
use crate::charts::{self, ChartOptions, Formats};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// `format` of a run's `manifest.json` (also each run folder of a comparison, a merged
/// run and a two-loop run).
pub const RUN_FORMAT: &str = "brink-run/1";
/// `format` of a comparison's `manifest.json`.
pub const COMPARE_FORMAT: &str = "brink-compare/1";
/// `format` of a sweep's `manifest.json`.
pub const SWEEP_FORMAT: &str = "brink-sweep/1";
/// `format` of a sensitivity analysis' `manifest.json`.
pub const SENSITIVITY_FORMAT: &str = "brink-sensitivity/1";
/// `format` of a backtest's `manifest.json`.
pub const BACKTEST_FORMAT: &str = "brink-backtest/1";

/// How many unexpected entries a refusal names.
const NAMED: usize = 5;

/// The relative paths (with `/`) of the files brink writes in the results folder `dir`,
/// read from its manifest; `Err` says why `dir` is not a results folder of brink's.
pub fn owned_files(dir: &Path) -> Result<BTreeSet<String>, String> {
    let (name, bytes) = match std::fs::read(dir.join("manifest.json")) {
        Ok(b) => ("manifest.json", b),
        Err(_) => match std::fs::read(dir.join(SHARD_JSON)) {
            Ok(b) => (SHARD_JSON, b),
            Err(_) => return Err("it has no manifest.json (or shard.json)".into()),
        },
    };
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| format!("its {name} is not brink's (not valid JSON)"))?;
    let format = v.get("format").and_then(|f| f.as_str()).unwrap_or("");
    let list = |key: &str| -> Vec<String> {
        v.get(key)
            .and_then(|f| f.as_array())
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    let mut files: BTreeSet<String> = list("files").into_iter().collect();
    match format {
        RUN_FORMAT => {
            // `brink plot` may redraw the charts in other formats than the run wrote.
            let all = ChartOptions { formats: Formats::Both, ..ChartOptions::default() };
            files.extend(charts::file_names(&all));
            files.insert("report.html".into());
        }
        COMPARE_FORMAT => {
            for run in list("runs") {
                let sub =
                    owned_files(&dir.join(&run)).map_err(|why| format!("its run folder {run}: {why}"))?;
                files.extend(sub.into_iter().map(|f| format!("{run}/{f}")));
            }
        }
        SWEEP_FORMAT | SENSITIVITY_FORMAT | BACKTEST_FORMAT | SHARD_FORMAT => {}
        "" => return Err(format!("its {name} has no brink format marker")),
        other => return Err(format!("its {name} has format `{other}`, not one this brink writes")),
    }
    if !files.contains(name) {
        return Err(format!("its {name} does not list the files brink wrote"));
    }
    Ok(files)
}

/// Every entry of `dir` (relative, with `/`; a folder ends in `/` and is not entered)
/// that is not one of `owned` nor a folder on the way to one.
fn unexpected(dir: &Path, rel: &str, owned: &BTreeSet<String>, out: &mut Vec<String>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = format!("{rel}{name}");
        if e.file_type()?.is_dir() {
            let prefix = format!("{path}/");
            if owned.range(prefix.clone()..).next().is_some_and(|f| f.starts_with(&prefix)) {
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
pub fn check_replaceable(dir: &Path) -> Result<(), String> {
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
pub fn resolve(path: &Path) -> Option<PathBuf> {
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

/// Refuses a destination that equals or contains the current folder or one of the
/// `inputs` (the scenario, observed or mapping files, compared folders): replacing it
/// would delete them. An input inside a results folder of brink's (a shard's copy of its
/// scenario) is brink's own, and not protected.
pub fn check_contains_nothing_of_the_user(dest: &Path, inputs: &[&Path]) -> Result<(), String> {
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
        if !p.starts_with(&out) {
            continue;
        }
        let folder = if p.is_dir() { p.as_path() } else { p.parent().unwrap_or(&p) };
        if folder != out && owned_files(folder).is_ok() {
            continue;
        }
        return Err(format!(
            "--out {} contains {}, an input of this command; writing the results there would replace \
             it: choose an --out folder outside it, e.g. output/NAME",
            dest.display(),
            input.display()
        ));
    }
    Ok(())
}
