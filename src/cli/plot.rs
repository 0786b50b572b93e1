//! `brink plot`: redraw the charts and report of a results folder.

use super::*;

#[derive(Debug, Args)]
pub(super) struct PlotArgs {
    /// A results folder written by `brink run`.
    results: PathBuf,
    #[command(flatten)]
    charts: ChartArgs,
}

pub(super) fn plot(a: PlotArgs) -> Result<(), Failure> {
    let results = Results::read_dir(&a.results).map_err(|e| match other_kind(&a.results) {
        Some(kind) => Failure::Usage(format!(
            "{} is a {kind} folder: brink plot redraws the charts and report of a run's results folder \
             (written by `brink run`, `brink run --epistemic` or `brink merge` of run shards); {}",
            a.results.display(),
            if kind == "shard" {
                "merge the shards with `brink merge`, then plot the merged folder".to_owned()
            } else {
                format!("`brink {kind}` draws its charts as it runs: run it again with --force to redraw them")
            }
        )),
        None => e.into(),
    })?;
    let mut written = Vec::new();
    // Each file is written to a temporary name and renamed, so a failure never leaves a
    // half-written chart in the user's folder.
    for (name, bytes) in crate::output::folder::pictures(&results, &a.charts.options())? {
        let path = a.results.join(&name);
        let tmp = a.results.join(format!(".{name}.partial"));
        // On a full disk the write fails part way: the partial file goes too.
        if let Err(e) = std::fs::write(&tmp, &bytes) {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_at(&tmp)(e).into());
        }
        if let Err(e) = std::fs::rename(&tmp, &path) {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_at(&path)(e).into());
        }
        written.push(name);
    }
    say(&format!("{}: wrote {}\n", a.results.display(), written.join(", ")));
    Ok(())
}

/// What a folder that is not a run's results folder is, from the files brink writes into
/// each kind: `brink sweep`, `sensitivity` and `backtest` folders by their manifest,
/// comparisons by `compare.csv`, shards by `shard.json`.
fn other_kind(dir: &Path) -> Option<&'static str> {
    if dir.join("shard.json").is_file() {
        return Some("shard");
    }
    if dir.join("compare.csv").is_file() {
        return Some("compare");
    }
    let bytes = crate::input::read(&dir.join("manifest.json"), "manifest").ok()?;
    let m: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    match m.pointer("/design/kind").and_then(|k| k.as_str()) {
        Some("sweep") => Some("sweep"),
        Some("sensitivity") => Some("sensitivity"),
        _ if m.get("observed_file").is_some() => Some("backtest"),
        _ => None,
    }
}
