//! `brink run`: simulate a scenario into a results folder.

use super::*;

#[derive(Debug, Args)]
pub(super) struct RunArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// Number of trials (default: the file's `trials`).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    trials: Option<u64>,
    /// Seed (default: the file's `seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Results folder (default: output/<scenario>[-<variant>]).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Worker threads (default: all cores); results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    threads: Option<u64>,
    /// Replace an existing results folder.
    #[arg(long)]
    force: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
    /// Per-trial limit on firings before a trial counts as a runaway loop.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=u32::MAX as u64))]
    max_events: Option<u64>,
    /// Do not write trials.csv (one row per trial).
    #[arg(long)]
    no_trials_csv: bool,
    /// Also write events.csv: one row per firing of the first K trials (as `brink trace`).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    events: Option<u64>,
    #[command(flatten)]
    charts: ChartArgs,
}

pub(super) fn run(a: RunArgs) -> Result<(), Failure> {
    let (model, source) = load(&a.scenario)?;
    let trials = a.trials.unwrap_or(model.trials);
    let seed = a.seed.unwrap_or(model.seed);
    let threads = a
        .threads
        .map(|t| t as usize)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let dest = a.out.clone().unwrap_or_else(|| {
        let name = match &model.variant {
            Some(v) => format!("{}-{}", model.name, v),
            None => model.name.clone(),
        };
        Path::new("output").join(name)
    });
    let staging = Staging::create(&dest, a.force)?;
    let spec = RunSpec { trials, seed, threads, max_events: a.max_events.unwrap_or(model.max_events) };

    let bar = progress_bar(trials, a.quiet);
    let started = Instant::now();
    let agg = {
        let mut progress = |done: u64| bar.set_position(done);
        if a.no_trials_csv {
            runner::run(&model, &spec, None, &mut progress)?
        } else {
            let path = staging.file("trials.csv");
            let file = std::fs::File::create(&path).map_err(io_at(&path))?;
            let mut w = BufWriter::with_capacity(1 << 20, file);
            w.write_all(output::trials::header(&model).join(",").as_bytes())
                .and_then(|_| w.write_all(b"\n"))
                .map_err(io_at(&path))?;
            let agg = runner::run(&model, &spec, Some(&mut w), &mut progress)?;
            w.flush().map_err(io_at(&path))?;
            agg
        }
    };
    let secs = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    if let Some(k) = a.events {
        write_events(&model, &spec, k.min(trials), &staging.file("events.csv"))?;
    }

    let mut files: Vec<(&str, Vec<u8>)> = vec![
        ("levels.csv", tables::levels(&model, &agg)),
        ("tallies.csv", tables::tallies(&model, &agg)),
        ("tally_distribution.csv", tables::tally_distribution(&model, &agg)),
        ("steps.csv", tables::steps(&model, &agg)),
        ("daily.csv", tables::daily(&model, &agg)),
        ("paths.csv", tables::paths(&model, &agg)),
    ];
    let mut manifest = Manifest::describe(
        &model,
        &a.scenario.scenario.display().to_string(),
        source.as_bytes(),
        seed,
        trials,
    );
    manifest.sets = a.scenario.sets.iter().map(|(k, v)| format!("{k}={v}")).collect();
    manifest.threads = threads;
    manifest.wall_seconds = secs;
    manifest.trials_per_second = if secs > 0.0 { trials as f64 / secs } else { 0.0 };
    manifest.files = files.iter().map(|(n, _)| n.to_string()).collect();
    if !a.no_trials_csv {
        manifest.files.push("trials.csv".into());
    }
    if a.events.is_some() {
        manifest.files.push("events.csv".into());
    }
    manifest.files.push("manifest.json".into());
    manifest.files.extend(charts::file_names(&a.charts.options()));
    manifest.files.push("report.html".into());
    files.push(("manifest.json", manifest.to_bytes()));
    for (name, bytes) in &files {
        let path = staging.file(name);
        std::fs::write(&path, bytes).map_err(io_at(&path))?;
    }
    // Charts and the report are drawn from the bytes just written, exactly as
    // `brink plot` reads them back from the folder.
    let results = Results::from_files(staging.dest(), |name| {
        files.iter().find(|(n, _)| *n == name).map(|(_, b)| b.clone()).ok_or_else(|| ResultsError::Io {
            path: staging.dest().join(name),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        })
    })?;
    for (name, bytes) in pictures(&results, &a.charts.options())? {
        let path = staging.file(&name);
        std::fs::write(&path, bytes).map_err(io_at(&path))?;
    }
    let dest = staging.commit()?;
    if !a.quiet {
        say(&output::summary::run_summary(&model, &agg, seed, secs, &dest, &manifest.files));
    }
    Ok(())
}

/// Writes `events.csv` for trials `0..k`, streamed: the engine is deterministic per
/// trial, so re-running a trial with an observer gives exactly the trial the run
/// computed (the runner itself is left alone).
fn write_events(model: &crate::model::Model, spec: &RunSpec, k: u64, path: &Path) -> Result<(), Failure> {
    use crate::output::events::{self, EventRows};
    let file = std::fs::File::create(path).map_err(io_at(path))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    w.write_all(&events::header_line(model)).map_err(io_at(path))?;
    let mut engine = crate::engine::Engine::new(model, spec.seed);
    engine.set_max_events(spec.max_events);
    let mut rows = EventRows::new(model);
    for trial in 0..k {
        engine.run_observed(trial, &mut rows).map_err(RunError::from)?;
        rows.write_to(&mut w).map_err(io_at(path))?;
    }
    w.flush().map_err(io_at(path))?;
    Ok(())
}
