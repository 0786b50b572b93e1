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
                if kind == "splitting" {
                    "`brink run --split` draws its chart as it runs (`brink compare --split` draws none): \
                     run it again with --force to redraw it"
                        .to_owned()
                } else {
                    format!("`brink {kind}` draws its charts as it runs: run it again with --force to redraw them")
                }
            }
        )),
        None => e.into(),
    })?;
    let mut written = Vec::new();
    // Each file is written to a new temporary name and renamed, so a failure never leaves
    // a half-written chart in the user's folder. The temporary file is created afresh
    // (never opened through a symbolic link someone put there), and the rename replaces
    // whatever is at the final name, a link included, without following it.
    for (name, bytes) in crate::present::folder::pictures(&results, &a.charts.options())? {
        let path = a.results.join(&name);
        let (tmp, file) = temporary(&a.results, &name)?;
        // On a full disk the write fails part way: the partial file goes too.
        if let Err(e) = std::io::Write::write_all(&mut &file, &bytes) {
            drop(file);
            let _ = std::fs::remove_file(&tmp);
            return Err(io_at(&tmp)(e).into());
        }
        drop(file);
        if let Err(e) = std::fs::rename(&tmp, &path) {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_at(&path)(e).into());
        }
        written.push(name);
    }
    say(&format!("{}: wrote {}\n", a.results.display(), written.join(", ")));
    Ok(())
}

/// A new file `.NAME.partial-PID[-N]` in `dir`, created exclusively: an entry already
/// there (a link, a file of someone else's) is left alone and another name is tried.
fn temporary(dir: &Path, name: &str) -> Result<(PathBuf, std::fs::File), Failure> {
    let pid = std::process::id();
    let mut last = None;
    for n in 0..16 {
        let tmp = match n {
            0 => dir.join(format!(".{name}.partial-{pid}")),
            n => dir.join(format!(".{name}.partial-{pid}-{n}")),
        };
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some((tmp, e)),
            Err(e) => return Err(io_at(&tmp)(e).into()),
        }
    }
    let (tmp, e) = last.expect("the loop tried at least one name");
    Err(io_at(&tmp)(e).into())
}

/// What a folder that is not a run's results folder is, from the `format` its manifest
/// (or shard.json) records.
fn other_kind(dir: &Path) -> Option<&'static str> {
    use crate::output::guard::{
        BACKTEST_FORMAT, COMPARE_FORMAT, SENSITIVITY_FORMAT, SPLIT_FORMAT, SWEEP_FORMAT,
    };
    match crate::output::guard::folder_format(dir)?.as_str() {
        f if f.starts_with("brink-shard/") => Some("shard"),
        COMPARE_FORMAT => Some("compare"),
        SWEEP_FORMAT => Some("sweep"),
        SENSITIVITY_FORMAT => Some("sensitivity"),
        BACKTEST_FORMAT => Some("backtest"),
        SPLIT_FORMAT => Some("splitting"),
        _ => None,
    }
}
