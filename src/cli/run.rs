//! `brink run`: simulate a scenario into a results folder.

use super::*;
use crate::analysis::epistemic::{SpreadCounts, SPREAD_DRAWS, SPREAD_TRIALS};
use crate::output::manifest::SpreadRecord;
use crate::output::trials::TrialRows;
use crate::present::folder::FolderSpec;
use crate::present::summary::Spread;
use crate::shard::{self, Design, RunFacts, Shard, ShardManifest};
use crate::sim::stats::Aggregate;

#[derive(Debug, Args)]
#[command(mut_arg("out", |a| a.help(
    "Results folder (default: output/<scenario>[-<variant>], with -epistemic for --epistemic)"
)))]
pub(super) struct RunArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    #[command(flatten)]
    common: SimulateArgs,
    /// Do not write trials.csv (one row per trial).
    #[arg(long)]
    no_trials_csv: bool,
    /// Also write events.csv: one row per firing of the first K trials (as `brink trace`).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    events: Option<u64>,
    #[command(flatten)]
    batches: PrecisionArgs,
    /// Two-loop Monte Carlo: K draws of the params given as distributions, each run on
    /// the same trials; reports the spread of P(level) across draws and what drives it.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(2..=100_000))]
    epistemic: Option<u64>,
    /// Draws of the params given as distributions behind the spread of P(level) that the
    /// summary and report lead with (default 100; scenarios with such params only).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(2..=100_000), conflicts_with = "epistemic")]
    draws: Option<u64>,
    /// Trials of each of those draws: the run's first N trials, with the params fixed at
    /// the draw (default: the run's trials, at most 5000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "epistemic")]
    draw_trials: Option<u64>,
    /// Simulate only shard K of N (trials K*T/N to (K+1)*T/N) into a shard folder, for
    /// `brink merge` (default folder: output/<scenario>[-<variant>]-shard-K-of-N).
    #[arg(long, value_name = "K/N", value_parser = Shard::parse, conflicts_with_all = ["precision", "epistemic"])]
    shard: Option<Shard>,
    /// Multilevel splitting: estimate P(reach level) of every level, rare rungs included,
    /// by continuing the trials that reach each level many times over (--trials is the
    /// continuations of each stage over all replications; default folder
    /// output/<scenario>[-<variant>]-split).
    #[arg(long, conflicts_with_all = ["epistemic", "shard", "precision", "draws", "draw_trials", "events", "no_trials_csv"])]
    split: bool,
    /// Independent replications of a splitting run, whose spread gives its interval.
    #[arg(long, value_name = "R", requires = "split", default_value_t = 40, value_parser = super::split::replications)]
    replications: u32,
}

/// All trials, or batches of them until the precision asked for is reached; their rows
/// go to `rows` if given.
fn simulate(
    model: &crate::sim::model::Model,
    spec: &RunSpec,
    a: &RunArgs,
    rows: Option<&mut (dyn Write + Send)>,
    progress: &mut dyn FnMut(u64),
) -> Result<Aggregate, RunError> {
    let want_rows = rows.is_some();
    let empty = || (Aggregate::new(model), want_rows.then(|| TrialRows::new(model)));
    let mut total = (Aggregate::new(model), rows.map(|w| TrialRows::to(model, w)));
    match a.batches.precision {
        None => runner::run_set(&[model], spec, 0..spec.trials, &empty, &mut total, progress)?,
        Some(target) => {
            let top = model.top_level();
            let done = |(agg, _): &(Aggregate, _)| {
                let (lo, hi) =
                    crate::sim::stats::wilson(agg.levels[top].reached, agg.trials, crate::sim::stats::Z95);
                (hi - lo) / 2.0 < target
            };
            runner::run_until(&[model], spec, a.batches.max_trials, &empty, &mut total, &done, progress)?
        }
    }
    Ok(total.0)
}

/// What `brink slurm` checks before it writes the jobs of a sharded run: the scenario
/// loads with its variant, `--params` and `--set`, as it will in each task.
pub(super) fn slurm_plan(a: &RunArgs) -> Result<Plan, Failure> {
    let (model, _, _) = load(&a.scenario)?;
    Ok(Plan::new(&a.common, &model, "one run".into(), None))
}

/// The draws and trials per draw of a run's spread, when the model has uncertain params;
/// `trials` is the run's count (the default N is at most it).
fn spread_size(
    a: &RunArgs,
    model: &crate::sim::model::Model,
    trials: u64,
) -> Result<Option<(u64, u64)>, Failure> {
    if model.uncertain.is_empty() {
        if a.draws.is_some() || a.draw_trials.is_some() {
            return Err(Failure::Usage(
                "--draws and --draw-trials need params given as distributions (e.g. p = { beta = [4, 1] }); this scenario has none".into(),
            ));
        }
        return Ok(None);
    }
    let draws = a.draws.unwrap_or(SPREAD_DRAWS);
    if let Some(n) = a.draw_trials.filter(|&n| n > trials) {
        return Err(Failure::Usage(format!(
            "--draw-trials {n}: each draw runs the run's first N trials, and this run has {trials}: give at most {trials}, or more --trials"
        )));
    }
    Ok(Some((draws, a.draw_trials.unwrap_or(SPREAD_TRIALS.min(trials)))))
}

/// The spread of a predictive run: its draws `range` (all of them unless a shard), with
/// a progress bar of its own.
#[allow(clippy::too_many_arguments)]
fn run_spread(
    a: &RunArgs,
    model: &crate::sim::model::Model,
    source: &str,
    ov: &Overrides,
    spec: &RunSpec,
    (draws, trials): (u64, u64),
    range: std::ops::Range<u64>,
    quiet: bool,
) -> Result<SpreadCounts, Failure> {
    let bar = progress_bar((range.end - range.start) * trials, quiet);
    let file = a.scenario.scenario.display().to_string();
    let sp = super::epistemic::spread_pass(&file, source, ov, model, spec, draws, range, trials, &mut |d| {
        bar.set_position(d)
    })?;
    bar.finish_and_clear();
    Ok(sp)
}

pub(super) fn run(a: RunArgs) -> Result<(), Failure> {
    let (model, source, ov) = load(&a.scenario)?;
    let variant = model.variant.as_deref();
    if a.split {
        return super::split::split(&a.scenario, &a.common, a.replications);
    }
    if let Some(draws) = a.epistemic {
        let s = a.common.settle(&model, || default_out(&model.name, variant, Some("epistemic"), None));
        return super::epistemic::epistemic(&a.scenario, &ov, model, source, draws, &s);
    }
    let s = a.common.settle(&model, || default_out(&model.name, variant, None, a.shard));
    let staging = Staging::create(&s.dest, s.force, &inputs(&a.scenario))?;
    if let Some(sh) = a.shard {
        return run_shard(&a, sh, &model, &source, &ov, &s, staging);
    }
    let (spec, seed, trials) = (&s.spec, s.spec.seed, s.spec.trials);

    let bar = progress_bar(a.batches.precision.map_or(trials, |_| a.batches.max_trials), s.quiet);
    let started = Instant::now();
    let agg = {
        let mut progress = |done: u64| bar.set_position(done);
        if a.no_trials_csv {
            simulate(&model, spec, &a, None, &mut progress)?
        } else {
            let path = staging.file("trials.csv");
            let mut w = output::trials::create(&path, &model, false)?;
            let agg = simulate(&model, spec, &a, Some(&mut w), &mut progress)?;
            w.finish("trials.csv").map_err(io_at(&path))?;
            agg
        }
    };
    let trials = agg.trials;
    let secs = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    if let Some(k) = a.events {
        write_events(&model, spec, 0..k.min(trials), &staging.file("events.csv"), false)?;
    }
    let mut extra_files = if a.events.is_some() { vec!["events.csv".to_string()] } else { Vec::new() };
    // Uncertain params: the spread of P(level) across draws of them, which the summary
    // and the report lead with (docs/uncertainty.md).
    let spread = match spread_size(&a, &model, trials)? {
        None => None,
        Some(size) => {
            let started = Instant::now();
            let sp = run_spread(&a, &model, &source, &ov, spec, size, 0..size.0, s.quiet)?;
            let secs = started.elapsed().as_secs_f64();
            let files = super::epistemic::spread_files(&model, seed, &sp, &s.charts)?;
            extra_files.extend(files.iter().map(|(n, _)| n.clone()));
            write_files(&staging, files)?;
            Some((sp, secs))
        }
    };
    let folder = FolderSpec {
        model: &model,
        scenario_file: &a.scenario.scenario.display().to_string(),
        source: source.as_bytes(),
        seed,
        sets: a.scenario.set.text(),
        params_file: params_record(&ov),
        threads: spec.threads,
        seconds: secs,
        trials_csv: !a.no_trials_csv,
        extra_files,
        charts: s.charts,
        level_intervals: None,
        spread: spread.as_ref().map(|(sp, _)| SpreadRecord { draws: sp.draws, trials_per_draw: sp.trials }),
    };
    let manifest = crate::present::folder::write(staging.dir(), &folder, &agg)?;
    let dest = staging.commit()?;
    if !s.quiet {
        let spread = spread.as_ref().map(|(counts, secs)| Spread { counts, seconds: Some(*secs) });
        say(&crate::present::summary::run_summary(&model, &agg, spread, seed, secs, &dest, &manifest.files));
        if let Some(target) = a.batches.precision {
            let top = model.top_level();
            let (lo, hi) =
                crate::sim::stats::wilson(agg.levels[top].reached, agg.trials, crate::sim::stats::Z95);
            let half = (hi - lo) / 2.0;
            let verdict = if half < target { "reached" } else { "NOT reached (--max-trials hit)" };
            say(&format!(
                "  precision {:.3} points on P({}): {verdict} with {} trials (half-width {:.3} points)\n",
                100.0 * target,
                model.levels[top].id,
                agg.trials,
                100.0 * half
            ));
        }
    }
    Ok(())
}

/// Simulates one shard's trials into a shard folder: its `trials.csv` rows (with the
/// header), `events.csv` for its trials below `--events`, and the exact aggregate and
/// shard manifest that `brink merge` needs.
fn run_shard(
    a: &RunArgs,
    sh: Shard,
    model: &crate::sim::model::Model,
    source: &str,
    ov: &Overrides,
    s: &Settled,
    staging: Staging,
) -> Result<(), Failure> {
    let spec = &s.spec;
    let range = sh.range(spec.trials);
    let bar = progress_bar(range.end - range.start, s.quiet);
    let started = Instant::now();
    // The digests of the row files, taken as they are written.
    let mut streamed = Vec::new();
    let agg = {
        let mut progress = |done: u64| bar.set_position(done);
        let path = staging.file("trials.csv");
        let mut file_rows =
            if a.no_trials_csv { None } else { Some(output::trials::create(&path, model, true)?) };
        let want_rows = file_rows.is_some();
        let empty = || (Aggregate::new(model), want_rows.then(|| TrialRows::new(model)));
        let rows = file_rows.as_mut().map(|w| TrialRows::to(model, w));
        let mut total = (Aggregate::new(model), rows);
        runner::run_set(&[model], spec, range.clone(), &empty, &mut total, &mut progress)?;
        let (agg, rows) = total;
        drop(rows);
        if let Some(w) = file_rows {
            streamed.extend(w.finish("trials.csv").map_err(io_at(&path))?);
        }
        agg
    };
    let secs = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let mut files = Vec::new();
    if !a.no_trials_csv {
        files.push("trials.csv".to_string());
    }
    if let Some(k) = a.events {
        let events = range.start.min(k)..range.end.min(k);
        streamed.extend(write_events(model, spec, events, &staging.file("events.csv"), true)?);
        files.push("events.csv".into());
    }
    // Uncertain params: this shard's share of the draws of the run's spread.
    let spread = match spread_size(a, model, spec.trials)? {
        None => None,
        Some(size) => {
            let sp = run_spread(a, model, source, ov, spec, size, sh.range(size.0), s.quiet)?;
            shard::set::write_spread(staging.dir(), model, sp)?;
            files.push(shard::set::SPREAD_JSON.into());
            Some(SpreadRecord { draws: size.0, trials_per_draw: size.1 })
        }
    };
    files.extend([shard::AGGREGATE_JSON, shard::SCENARIO_COPY, shard::SHARD_JSON].map(String::from));
    let sets = a.scenario.set.text();
    let file = a.scenario.scenario.display().to_string();
    let facts = RunFacts {
        scenario_file: &file,
        source: source.as_bytes(),
        sets: &sets,
        params_file: ov.params.as_deref(),
        spec,
    };
    let mut manifest = ShardManifest::new(Design::Run {}, model, &facts, sh, range.clone());
    manifest.trials_csv = !a.no_trials_csv;
    manifest.events = a.events;
    manifest.spread = spread;
    manifest.wall_seconds = secs;
    manifest.files = files;
    manifest.digests = streamed;
    shard::write_run_state(staging.dir(), model, &agg, source.as_bytes())?;
    shard_done(staging, &manifest, s.quiet)
}

/// Writes `events.csv` for the trials in `trials`, streamed: the engine is
/// deterministic per trial, so re-running a trial with an observer gives exactly the
/// trial the run computed (the runner itself is left alone). With `hash` (a shard),
/// returns its digest, computed on the way out.
fn write_events(
    model: &crate::sim::model::Model,
    spec: &RunSpec,
    trials: std::ops::Range<u64>,
    path: &Path,
    hash: bool,
) -> Result<Option<crate::output::digest::FileDigest>, Failure> {
    use crate::output::events::{self, EventRows};
    let file = std::fs::File::create(path).map_err(io_at(path))?;
    let mut w = crate::output::digest::DigestWriter::new(BufWriter::with_capacity(1 << 20, file), hash);
    w.write_all(&events::header_line(model)).map_err(io_at(path))?;
    let mut engine = crate::sim::engine::Engine::new(model, spec.seed);
    engine.set_max_events(spec.max_events);
    let mut rows = EventRows::new(model);
    for trial in trials {
        engine.run_observed(trial, &mut rows).map_err(RunError::from)?;
        rows.write_to(&mut w).map_err(io_at(path))?;
    }
    Ok(w.finish("events.csv").map_err(io_at(path))?)
}
