//! The command line: argument definitions and one function per subcommand.
//!
//! Exit codes: 0 success; 1 a failure while running (a runaway trial, an I/O error);
//! 2 bad input or usage (an invalid scenario, an unknown variant, an existing results
//! folder without --force). A closed stdout (`brink run ... | head`) is not an error.

use crate::charts::{self, ChartError, ChartOptions, Formats};
use crate::output::{self, io_at, manifest::Manifest, tables, OutputError, Staging};
use crate::results::{Results, ResultsError};
use crate::runner::{self, RunError, RunSpec};
use crate::scenario::{self, LoadError, Overrides};
use clap::{Args, Parser, Subcommand};
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// brink: how likely is this crisis to become a war, and what changes the odds?
#[derive(Debug, Parser)]
#[command(name = "brink", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate a scenario: many seeded trials, summary on the terminal, CSVs in a folder.
    Run(RunArgs),
    /// Validate a scenario and print it in readable form (exit 2 if invalid).
    Check(CheckArgs),
    /// Re-render the charts and report of a results folder from its files.
    Plot(PlotArgs),
}

#[derive(Debug, Args)]
struct ScenarioArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Apply the named [variants.NAME] (`baseline`: none).
    #[arg(long, value_name = "NAME")]
    variant: Option<String>,
    /// Override a param, after the variant (repeatable).
    #[arg(long = "set", value_name = "PARAM=VALUE", value_parser = parse_set)]
    sets: Vec<(String, f64)>,
}

#[derive(Debug, Args)]
struct RunArgs {
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
    #[command(flatten)]
    charts: ChartArgs,
}

#[derive(Debug, Args)]
struct ChartArgs {
    /// Chart files to write.
    #[arg(long, value_enum, default_value = "both")]
    charts: Formats,
    /// Chart size in pixels, WIDTHxHEIGHT.
    #[arg(long, value_name = "WxH", default_value = "1200x800", value_parser = parse_size)]
    chart_size: (u32, u32),
}

impl ChartArgs {
    fn options(&self) -> ChartOptions {
        ChartOptions { width: self.chart_size.0, height: self.chart_size.1, formats: self.charts }
    }
}

#[derive(Debug, Args)]
struct PlotArgs {
    /// A results folder written by `brink run`.
    results: PathBuf,
    #[command(flatten)]
    charts: ChartArgs,
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) =
        s.split_once(['x', 'X']).ok_or_else(|| format!("expected WIDTHxHEIGHT, e.g. 1200x800, got `{s}`"))?;
    let w: u32 = w.trim().parse().map_err(|_| format!("`{w}` is not a width in pixels"))?;
    let h: u32 = h.trim().parse().map_err(|_| format!("`{h}` is not a height in pixels"))?;
    if !(400..=6000).contains(&w) || !(300..=6000).contains(&h) {
        return Err(format!("chart size {w}x{h} is out of range: width 400-6000, height 300-6000"));
    }
    Ok((w, h))
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
}

fn parse_set(s: &str) -> Result<(String, f64), String> {
    let (k, v) = s.split_once('=').ok_or_else(|| format!("expected PARAM=VALUE, got `{s}`"))?;
    let x: f64 = v.trim().parse().map_err(|_| format!("`{v}` is not a number (in --set {s})"))?;
    if !x.is_finite() {
        return Err(format!("`{v}` is not a finite number (in --set {s})"));
    }
    Ok((k.trim().to_owned(), x))
}

/// A failure, with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("{0}")]
    Load(#[from] LoadError),
    #[error("{0}")]
    Output(#[from] OutputError),
    #[error("{0}")]
    Run(#[from] RunError),
    #[error("{0}")]
    Results(#[from] ResultsError),
    #[error("{0}")]
    Chart(#[from] ChartError),
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Failure::Load(_) | Failure::Output(OutputError::Exists(_)) | Failure::Results(_) => 2,
            _ => 1,
        }
    }
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Run(a) => run(a),
        Command::Check(a) => check(a),
        Command::Plot(a) => plot(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let text = f.to_string();
            eprint!("{}", if text.ends_with('\n') { text.clone() } else { format!("error: {text}\n") });
            ExitCode::from(f.exit_code())
        }
    }
}

/// Writes to stdout, treating a closed pipe as success.
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

fn load(a: &ScenarioArgs) -> Result<(crate::model::Model, String), Failure> {
    let ov = Overrides { variant: a.variant.clone(), sets: a.sets.clone() };
    Ok(scenario::load(&a.scenario, &ov)?)
}

fn check(a: CheckArgs) -> Result<(), Failure> {
    let (model, source) = load(&a.scenario)?;
    // Variants change params, so each is compiled too: a variant that sets a p to 2
    // is an error even when it is not the one asked for.
    if a.scenario.variant.is_none() {
        let name = a.scenario.scenario.display().to_string();
        for (v, _) in &model.variants {
            let ov = Overrides { variant: Some(v.clone()), sets: a.scenario.sets.clone() };
            scenario::compile_str(&name, &source, &ov).map_err(LoadError::Invalid)?;
        }
    }
    say(&output::summary::describe(&model));
    let variants = match model.variants.len() {
        0 => String::new(),
        n => format!(" ({n} variant{} checked too)", if n == 1 { "" } else { "s" }),
    };
    say(&format!("\n{}: valid{variants}\n", a.scenario.scenario.display()));
    Ok(())
}

fn run(a: RunArgs) -> Result<(), Failure> {
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

/// The chart files and `report.html` of a results folder.
fn pictures(results: &Results, opts: &ChartOptions) -> Result<Vec<(String, Vec<u8>)>, Failure> {
    let mut out = if opts.formats == Formats::None { Vec::new() } else { charts::render_all(results, opts)? };
    out.push(("report.html".into(), crate::report::html(results, opts)?.into_bytes()));
    Ok(out)
}

fn plot(a: PlotArgs) -> Result<(), Failure> {
    let results = Results::read_dir(&a.results)?;
    let mut written = Vec::new();
    // Each file is written to a temporary name and renamed, so a failure never leaves a
    // half-written chart in the user's folder.
    for (name, bytes) in pictures(&results, &a.charts.options())? {
        let path = a.results.join(&name);
        let tmp = a.results.join(format!(".{name}.partial"));
        std::fs::write(&tmp, &bytes).map_err(io_at(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io_at(&path))?;
        written.push(name);
    }
    say(&format!("{}: wrote {}\n", a.results.display(), written.join(", ")));
    Ok(())
}

fn progress_bar(trials: u64, quiet: bool) -> indicatif::ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(trials),
        indicatif::ProgressDrawTarget::stderr_with_hz(4),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} trials, {per_sec}, eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}
