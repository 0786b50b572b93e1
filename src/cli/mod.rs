//! The command line: argument definitions and one function per subcommand.
//!
//! Exit codes: 0 success; 1 a failure while running (a runaway trial, an I/O error);
//! 2 bad input or usage (an invalid scenario, an unknown variant, an existing results
//! folder without --force). A closed stdout (`brink run ... | head`) is not an error.

mod backtest;
mod check;
mod compare;
mod epistemic;
mod explore;
mod fit;
mod graph;
mod merge;
mod plot;
mod run;
mod score;
#[cfg(feature = "serve")]
mod serve;
mod slurm;
mod split;
mod trace;
mod track;

use crate::output::results::{Results, ResultsError};
use crate::output::{self, io_at, OutputError, Staging};
use crate::present::charts::{ChartError, ChartOptions, Formats};
use crate::scenario::{self, LoadError, Overrides};
use crate::shard::Shard;
use crate::sim::model::Model;
use crate::sim::runner::{self, RunError, RunSpec};
use clap::{Args, Parser, Subcommand};
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// brink: how likely is this crisis to become a war, and what changes the odds?
#[derive(Debug, Parser)]
#[command(name = "brink", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate a scenario: many seeded trials, summary on the terminal, CSVs in a folder.
    Run(run::RunArgs),
    /// Validate a scenario and print it in readable form (exit 2 if invalid).
    Check(check::CheckArgs),
    /// Re-render the charts and report of a results folder from its files.
    Plot(plot::PlotArgs),
    /// Tell single trials as a chronology: by index, or the first that reach a level or path.
    Trace(trace::TraceArgs),
    /// Draw the escalation chain of a scenario as a DOT or Mermaid diagram.
    Graph(graph::GraphArgs),
    /// Compare variants or scenarios on the same seeded trials (paired statistics).
    Compare(compare::CompareArgs),
    /// Run the scenario over a grid of one or two params (common random numbers).
    Sweep(explore::SweepArgs),
    /// One-at-a-time sensitivity of a level's probability to every param (tornado chart).
    Sensitivity(explore::SensitivityArgs),
    /// Merge the shard folders of one run, comparison, sweep or sensitivity analysis into its results folder.
    Merge(merge::MergeArgs),
    /// Write (and --submit) Slurm jobs for the command after --: its shards as an array, then the merge.
    Slurm(slurm::SlurmArgs),
    /// Simulate the quantities of an observed record and see where the record falls.
    Backtest(backtest::BacktestArgs),
    /// Estimate the scenario's params from an event log: rates, probabilities, self-excitation.
    Fit(fit::FitArgs),
    /// Score the scenario's forecasts from rolling origins against an event log and baselines.
    Score(score::ScoreArgs),
    /// Score the forecast questions of several episodes against their records and a base rate.
    TrackRecord(track::TrackArgs),
    /// A local what-if page: a slider per param, a button per variant, redrawn on each change.
    #[cfg(feature = "serve")]
    Serve(serve::ServeArgs),
    /// A local what-if page (not in this build: build brink with `--features serve`).
    #[cfg(not(feature = "serve"))]
    Serve(ServeMissing),
}

/// `brink serve` in a build without the web page: whatever follows, say how to get it
/// rather than "unrecognized subcommand" (a later `cargo run --release` without the feature
/// replaces a build that had it).
#[cfg(not(feature = "serve"))]
#[derive(Debug, Args)]
struct ServeMissing {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<std::ffi::OsString>,
}

// The option groups. Each option several commands share is declared once, here, and
// flattened into the commands (low-level clap groups, as ripgrep's); `SimulateArgs::settle`
// then resolves them against the scenario in one step into `Settled` (as hyperfine's
// `Options::from_cli_arguments`), so every command reads the same defaults the same way.

/// The scenario a command reads: the file, its variant, then `--params` and `--set`.
#[derive(Debug, Args)]
struct ScenarioArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Apply the named [variants.NAME] (`baseline`: none).
    #[arg(long, value_name = "NAME")]
    variant: Option<String>,
    #[command(flatten)]
    set: SetArgs,
}

impl ScenarioArgs {
    /// The variant, the params file (read) and `--set`, as the compiler takes them.
    fn overrides(&self) -> Result<Overrides, Failure> {
        self.set.overrides(self.variant.clone())
    }
}

/// `--params` and `--set`, applied after the variant in this order (in `compare`, to
/// every run).
#[derive(Debug, Args)]
struct SetArgs {
    /// Params from the [params] table of a TOML file (as `brink fit` writes), applied after
    /// the variant and before --set; repeatable: a later file's value replaces an earlier one's.
    #[arg(long = "params", value_name = "FILE")]
    params: Vec<PathBuf>,
    /// Override a param, after the variant and --params (repeatable).
    #[arg(long = "set", value_name = "PARAM=VALUE", value_parser = parse_set)]
    sets: Vec<(String, f64)>,
}

impl SetArgs {
    /// The overrides as `PARAM=VALUE`, as manifests record them.
    fn text(&self) -> Vec<String> {
        sets_text(&self.sets)
    }

    /// `variant` with the params file, read once here, and `--set`.
    fn overrides(&self, variant: Option<String>) -> Result<Overrides, Failure> {
        let files =
            self.params.iter().map(|p| scenario::ParamsFile::read(p)).collect::<Result<Vec<_>, _>>()?;
        let params = if files.is_empty() {
            None
        } else {
            let layered =
                scenario::ParamsFile::layered(files).map_err(|d| Failure::Load(LoadError::Invalid(d)))?;
            Some(std::sync::Arc::new(layered))
        };
        Ok(Overrides { variant, sets: self.sets.clone(), params, ..Default::default() })
    }
}

/// What manifests record of the params file the overrides hold.
fn params_record(ov: &Overrides) -> Option<crate::output::manifest::ParamsFileRecord> {
    ov.params.as_deref().map(crate::output::manifest::ParamsFileRecord::of)
}

/// Overrides as `PARAM=VALUE`, as manifests record them.
fn sets_text(sets: &[(String, f64)]) -> Vec<String> {
    sets.iter().map(|(k, v)| format!("{k}={v}")).collect()
}

/// Which trials run: how many, from which seed, each with which limit on firings. A
/// value not given is the scenario's.
#[derive(Debug, Args)]
struct TrialArgs {
    /// Number of trials (default: the file's `trials`).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    trials: Option<u64>,
    /// Seed (default: the file's `seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Per-trial limit on firings before a trial counts as a runaway loop (default: the
    /// file's `max_events`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=u32::MAX as u64))]
    max_events: Option<u64>,
}

impl TrialArgs {
    /// The run these options ask for, on `threads` threads, given the (first) scenario.
    fn spec(&self, model: &Model, threads: usize) -> RunSpec {
        RunSpec {
            trials: self.trials.unwrap_or(model.trials),
            seed: self.seed.unwrap_or(model.seed),
            threads,
            max_events: self.max_events.unwrap_or(model.max_events),
        }
    }
}

/// Where the results go, and how loudly.
#[derive(Debug, Args)]
struct OutputArgs {
    /// Results folder (default: output/<scenario>[-<variant>]).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace an existing results folder.
    #[arg(long)]
    force: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

/// The chart files drawn with the results.
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

    /// The same options as arguments, for a command that draws the charts later
    /// (`brink merge` in a Slurm job).
    fn to_args(&self) -> Vec<String> {
        let kind = clap::ValueEnum::to_possible_value(&self.charts)
            .map_or("both".into(), |v| v.get_name().to_owned());
        vec![
            "--charts".into(),
            kind,
            "--chart-size".into(),
            format!("{}x{}", self.chart_size.0, self.chart_size.1),
        ]
    }
}

/// What every command that simulates into a results folder shares: `run`, `compare`,
/// `sweep`, `sensitivity` and `backtest`.
#[derive(Debug, Args)]
struct SimulateArgs {
    #[command(flatten)]
    trials: TrialArgs,
    /// Worker threads (default: all cores); results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    threads: Option<u64>,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    charts: ChartArgs,
}

/// Trials added in batches until an interval is narrow enough (`run`, `compare`).
#[derive(Debug, Args)]
struct PrecisionArgs {
    /// Add trials in batches until the 95% interval of the top level's probability is
    /// narrower than this half-width (e.g. 0.005 or 0.5%); --trials is then ignored.
    #[arg(long, value_name = "HALF_WIDTH", value_parser = parse_precision)]
    precision: Option<f64>,
    /// With --precision: the most trials to run.
    #[arg(long, value_name = "N", default_value_t = 10_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_trials: u64,
}

/// A simulating command's shared options, settled against its (first) scenario.
struct Settled {
    /// Trials, seed, threads and the firing limit.
    spec: RunSpec,
    /// The results folder: `--out`, or the command's own under output/.
    dest: PathBuf,
    force: bool,
    quiet: bool,
    charts: ChartOptions,
}

impl SimulateArgs {
    /// The options in one step: what was given, else the scenario's values, all cores and
    /// `default_dest` (the command's folder under output/, see [`default_out`]).
    fn settle(&self, model: &Model, default_dest: impl FnOnce() -> PathBuf) -> Settled {
        Settled {
            spec: self.trials.spec(model, worker_threads(self.threads)),
            dest: self.output.out.clone().unwrap_or_else(default_dest),
            force: self.output.force,
            quiet: self.output.quiet,
            charts: self.charts.options(),
        }
    }
}

/// The results folder of a command without `--out`:
/// output/<scenario>[-<variant>][-<kind>][-shard-K-of-N].
fn default_out(scenario: &str, variant: Option<&str>, kind: Option<&str>, shard: Option<Shard>) -> PathBuf {
    let mut name = scenario.to_owned();
    for part in [variant, kind].into_iter().flatten() {
        name = format!("{name}-{part}");
    }
    if let Some(sh) = shard {
        name = format!("{name}-shard-{}-of-{}", sh.index, sh.count);
    }
    Path::new("output").join(name)
}

/// What a sharded command will simulate: each command that runs in shards makes its own
/// ([`Command::shard_plan`]) as it would load and compile its scenarios, and `brink slurm`
/// writes its jobs from it, without knowing the commands.
pub(super) struct Plan {
    /// The (first) scenario's name.
    name: String,
    /// Trials of every run, grid point or setting, and whether the command line gave them.
    trials: u64,
    trials_given: bool,
    /// The seed, and whether the command line gave it.
    seed: u64,
    seed_given: bool,
    /// What runs side by side, for the terminal: "2 runs (baseline, hotline)".
    models: String,
    /// A sweep split by grid points: their number.
    points: Option<u64>,
    /// The command's `--charts` and `--chart-size`, for the merge.
    charts: Vec<String>,
}

impl Plan {
    /// The plan of a command with these shared options, whose first scenario is `first`.
    fn new(a: &SimulateArgs, first: &Model, models: String, points: Option<u64>) -> Plan {
        let spec = a.trials.spec(first, 1);
        Plan {
            name: first.name.clone(),
            trials: spec.trials,
            trials_given: a.trials.trials.is_some(),
            seed: spec.seed,
            seed_given: a.trials.seed.is_some(),
            models,
            points,
            charts: a.charts.to_args(),
        }
    }
}

impl Command {
    /// The plan of this command run in shards, from the command itself; `None` for a
    /// command that does not run in shards.
    fn shard_plan(&self) -> Option<Result<Plan, Failure>> {
        Some(match self {
            Command::Run(a) => run::slurm_plan(a),
            Command::Compare(a) => compare::slurm_plan(a),
            Command::Sweep(a) => explore::sweep_plan(a),
            Command::Sensitivity(a) => explore::sensitivity_plan(a),
            _ => return None,
        })
    }
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

/// Parses a precision target: a probability half-width such as `0.005`, or `0.5%`.
fn parse_precision(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, scale) = match t.strip_suffix('%') {
        Some(n) => (n, 0.01),
        None => (t, 1.0),
    };
    let x: f64 = num.trim().parse().map_err(|_| format!("`{s}` is not a number (e.g. 0.005 or 0.5%)"))?;
    let x = x * scale;
    if !(x > 0.0 && x < 0.5) {
        return Err(format!("precision must be a half-width between 0 and 0.5 (50%), got {s}"));
    }
    Ok(x)
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
    #[error("{0}")]
    Folder(#[from] crate::present::folder::FolderError),
    #[error("{0}")]
    Shard(#[from] crate::shard::ShardError),
    /// Submitting Slurm jobs failed (exit 1).
    #[error("{0}")]
    Slurm(String),
    /// A usage mistake clap cannot see (exit 2).
    #[error("{0}")]
    Usage(String),
    /// A step of a command failed while running, for a reason it explains (exit 1).
    #[error("{0}")]
    Failed(String),
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Failure::Load(_) | Failure::Results(_) | Failure::Usage(_) => 2,
            Failure::Shard(e) if e.is_bad_input() => 2,
            Failure::Output(e) if e.is_bad_input() => 2,
            _ => 1,
        }
    }
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let args: Vec<String> = std::env::args().collect();
            if let Some(f) = slurm::misplaced_option(&e, &args) {
                eprintln!("error: {f}");
                return ExitCode::from(f.exit_code());
            }
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Run(a) => run::run(a),
        Command::Check(a) => check::check(a),
        Command::Plot(a) => plot::plot(a),
        Command::Trace(a) => trace::trace(a),
        Command::Graph(a) => graph::graph(a),
        Command::Compare(a) => compare::compare(a),
        Command::Sweep(a) => explore::sweep(a),
        Command::Sensitivity(a) => explore::sensitivity(a),
        Command::Merge(a) => merge::merge(a),
        Command::Slurm(a) => slurm::slurm(a),
        Command::Backtest(a) => backtest::backtest(a),
        Command::Fit(a) => fit::fit(a),
        Command::Score(a) => score::score(a),
        Command::TrackRecord(a) => track::track_record(a),
        #[cfg(feature = "serve")]
        Command::Serve(a) => serve::serve(a),
        #[cfg(not(feature = "serve"))]
        Command::Serve(_) => Err(Failure::Usage(
            "this brink was built without `brink serve` (the what-if page is an optional part of the build, \
             to keep the set-up short): build it with `cargo build --release --features serve`, then run \
             `target/release/brink serve SCENARIO` (a later `cargo run --release` without the feature builds \
             brink without it again)"
                .into(),
        )),
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

/// `--threads`, or every core the machine offers (results never depend on it).
fn worker_threads(asked: Option<u64>) -> usize {
    asked.map(|t| t as usize).unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Writes to stdout, treating a closed pipe as success.
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

/// The scenario compiled with its overrides, its text, and the overrides (which hold the
/// params file as read, for manifests).
fn load(a: &ScenarioArgs) -> Result<(Model, String, Overrides), Failure> {
    let ov = a.overrides()?;
    let (model, source) = scenario::load(&a.scenario, &ov)?;
    Ok((model, source, ov))
}

/// The files a command reads that its results folder must not replace: the scenario and
/// the params file.
fn inputs(a: &ScenarioArgs) -> Vec<&Path> {
    std::iter::once(a.scenario.as_path()).chain(a.set.params.iter().map(PathBuf::as_path)).collect()
}

/// Writes each `(name, bytes)` into the staging folder.
fn write_files(staging: &Staging, files: Vec<(String, Vec<u8>)>) -> Result<(), Failure> {
    for (name, bytes) in files {
        let path = staging.file(&name);
        std::fs::write(&path, bytes).map_err(io_at(&path))?;
    }
    Ok(())
}

/// Writes `shard.json` (last: a folder without it is not a finished shard), puts the
/// shard folder in place and says what comes next. `m.digests` holds the digests of the
/// row files, computed as they were written; the other files are hashed here.
fn shard_done(staging: Staging, m: &crate::shard::ShardManifest, quiet: bool) -> Result<(), Failure> {
    let path = staging.file(crate::shard::SHARD_JSON);
    let mut m = m.clone();
    m.digests = crate::shard::digests(staging.dir(), &m.digests).map_err(io_at(staging.dir()))?;
    let m = &m;
    std::fs::write(&path, m.to_bytes()).map_err(io_at(&path))?;
    let dest = staging.commit()?;
    if quiet {
        return Ok(());
    }
    let part = match m.design.sweep() {
        Some(sw) if sw.split == crate::shard::SweepSplit::Points => format!(
            "grid points {}..{} of {} ({} {}), all {} trials",
            sw.first_point,
            sw.end_point,
            sw.points,
            sw.end_point - sw.first_point,
            if sw.end_point - sw.first_point == 1 { "point" } else { "points" },
            m.trials
        ),
        _ => format!(
            "trials {}..{} of {} ({} trials)",
            m.first_trial,
            m.end_trial,
            m.trials,
            m.end_trial - m.first_trial
        ),
    };
    say(&format!(
        "{}: {} shard {} of {}: {part}, seed {}; {:.2} s\n  shard folder: {}\n  when all {} shards are done: brink merge SHARD_DIR... --out DIR\n",
        m.scenario_name,
        m.design.kind(),
        m.shard,
        m.shards,
        m.seed,
        m.wall_seconds,
        dest.display(),
        m.shards,
    ));
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
