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
    let results = Results::read_dir(&a.results)?;
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
