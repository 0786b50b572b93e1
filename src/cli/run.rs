//! `brink run`: simulate a scenario into a results folder.

use super::*;
use crate::output::trials::TrialRows;
use crate::present::folder::FolderSpec;
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
    /// Simulate only shard K of N (trials K*T/N to (K+1)*T/N) into a shard folder, for
    /// `brink merge` (default folder: output/<scenario>[-<variant>]-shard-K-of-N).
    #[arg(long, value_name = "K/N", value_parser = Shard::parse, conflicts_with_all = ["precision", "epistemic"])]
    shard: Option<Shard>,
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

pub(super) fn run(a: RunArgs) -> Result<(), Failure> {
    let (model, source, ov) = load(&a.scenario)?;
    let variant = model.variant.as_deref();
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
        extra_files: if a.events.is_some() { vec!["events.csv".into()] } else { Vec::new() },
        charts: s.charts,
        level_intervals: None,
    };
    let manifest = crate::present::folder::write(staging.dir(), &folder, &agg)?;
    let dest = staging.commit()?;
    if !s.quiet {
        say(&crate::present::summary::run_summary(&model, &agg, seed, secs, &dest, &manifest.files));
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
