//! `brink run --split`: the probability of every level, rare rungs included, by multilevel
//! splitting (`sim::split`, docs/splitting.md).

use super::*;
use crate::output::manifest::{push_folder_manifest, split_manifest, RunRecord};
use crate::output::text::{pct, pct_bounds, thousands};
use crate::sim::split::{run_split, spec_for, SplitSpec};

/// `--replications R`: 10 to 100,000, with the reason in the message.
pub(super) fn replications(text: &str) -> Result<u32, String> {
    let bad = || {
        format!(
            "`{text}`: give a whole number from 10 to 100,000 (the 95% interval comes from the spread of the replications' estimates, and fewer than 10 give too rough a spread)"
        )
    };
    match text.parse::<u32>() {
        Ok(r) if (10..=100_000).contains(&r) => Ok(r),
        _ => Err(bad()),
    }
}

/// The splitting design of a run settled as `run` (seed, threads, firing limit).
fn split_spec(run: &RunSpec, effort: u64, replications: u32) -> SplitSpec {
    SplitSpec { effort, replications, seed: run.seed, threads: run.threads, max_events: run.max_events }
}

/// Runs the splitting estimate of `model` with a progress bar over its continuations.
fn split_with_bar(
    model: &Model,
    spec: &SplitSpec,
    quiet: bool,
) -> Result<crate::sim::split::SplitRun, Failure> {
    let stages = (model.levels.len() - 1 - model.initial_level) as u64;
    let bar = progress_bar(u64::from(spec.replications) * stages * spec.effort, quiet);
    let run = run_split(model, spec, &mut |d| bar.set_position(d)).map_err(RunError::from)?;
    bar.finish_and_clear();
    Ok(run)
}

/// Runs a splitting estimate of `scenario` into its folder and prints the summary.
pub(super) fn split(
    scenario: &ScenarioArgs,
    common: &SimulateArgs,
    replications: u32,
) -> Result<(), Failure> {
    let (model, source, ov) = load(scenario)?;
    let s = common.settle(&model, || default_out(&model.name, model.variant.as_deref(), Some("split"), None));
    let effort = spec_for(&model, s.spec.trials, replications).map_err(|e| Failure::Usage(e.to_string()))?;
    let spec = split_spec(&s.spec, effort, replications);
    let staging = Staging::create(&s.dest, s.force, &inputs(scenario))?;
    let started = Instant::now();
    let run = split_with_bar(&model, &spec, s.quiet)?;
    let secs = started.elapsed().as_secs_f64();

    let mut files = vec![
        ("split.csv".to_owned(), crate::output::split::csv(&model, &run)),
        ("replications.csv".to_owned(), crate::output::split::replications_csv(&model, &run)),
    ];
    if s.charts.formats != Formats::None {
        files.extend(crate::present::charts::split::render(&model, &run, &s.charts)?);
    }
    let file = scenario.scenario.display().to_string();
    let record = RunRecord {
        file: &file,
        source: &source,
        model: &model,
        sets: scenario.set.text(),
        params_file: params_record(&ov),
        seed: spec.seed,
        trials: effort * u64::from(replications),
    };
    push_folder_manifest(&mut files, split_manifest(&record, &run, secs));
    finish(staging, files, s.quiet, |dest, names| summary(&model, &run, secs, dest, names))
}

/// The warning for a run in which more than a tenth of the replications never reached
/// some level (its interval then covers less than 95%), with the `--trials` that would
/// give each stage about 10 hits per replication; None if there is nothing to warn of.
fn starved_warning(model: &Model, run: &crate::sim::split::SplitRun) -> Option<String> {
    let r = run.spec.replications;
    let mut named = Vec::new();
    // The fewest hits per replication of any stage, for the remedy.
    let mut fewest = f64::INFINITY;
    for l in run.initial + 1..model.levels.len() {
        let e = run.estimate(l);
        fewest = fewest.min(e.hits as f64 / f64::from(r));
        if f64::from(e.zeros) > 0.1 * f64::from(r) {
            let all = if e.zeros == r { ", none reached it: the rule-of-three bound" } else { "" };
            named.push(format!("{} ({} of {r}{all})", model.levels[l].id, e.zeros));
        }
    }
    if named.is_empty() {
        return None;
    }
    let now = run.spec.effort * u64::from(r);
    let factor = (10.0 / fewest.max(0.5)).ceil() as u64;
    Some(format!(
        "  warning: replications that never reached {}.\n  \
         An interval from replications that often see nothing covers less than 95% (about 91%\n  \
         with half of them at 0). Give each stage some 10 hits per replication: about\n  \
         --trials {} (now {now}).\n",
        named.join(", "),
        now.saturating_mul(factor.max(2))
    ))
}

/// Writes the folder's files, puts it in place and prints the summary `say_it` makes
/// of where it went and what it holds.
fn finish(
    staging: Staging,
    files: Vec<(String, Vec<u8>)>,
    quiet: bool,
    say_it: impl FnOnce(&Path, &[String]) -> String,
) -> Result<(), Failure> {
    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    write_files(&staging, files)?;
    let dest = staging.commit()?;
    if !quiet {
        say(&say_it(&dest, &names));
    }
    Ok(())
}

/// The terminal summary of a splitting run.
fn summary(
    model: &Model,
    run: &crate::sim::split::SplitRun,
    secs: f64,
    dest: &Path,
    files: &[String],
) -> String {
    let spec = &run.spec;
    let name = match &model.variant {
        Some(v) => format!("{} [{v}]", model.name),
        None => model.name.clone(),
    };
    let mut t = format!(
        "{name}: multilevel splitting, {} replications x {} continuations per stage (seed {}); {secs:.2} s\n",
        spec.replications, spec.effort, spec.seed
    );
    t.push_str(&format!("  {}\n\n", model.title));
    let w = model.levels.iter().map(|l| l.id.len()).max().unwrap_or(5).max(5);
    t.push_str(&format!(
        "  {:<w$}  {:>8}  {:>22}  {:>9}  {:>13}  {:>10}  {:>15}\n",
        "level", "reached", "95% interval", "rel. s.e.", "P(from below)", "median day", "as plain trials"
    ));
    for (l, level) in model.levels.iter().enumerate() {
        let e = run.estimate(l);
        if l <= run.initial {
            t.push_str(&format!("  {:<w$}  {:>8}\n", level.id, pct(e.p)));
            continue;
        }
        let (lo, hi) = pct_bounds(e.p, e.low, e.high);
        let rel = if e.p > 0.0 { format!("{:.1}%", 100.0 * e.se / e.p) } else { "-".into() };
        let plain = if e.se > 0.0 {
            thousands((e.p * (1.0 - e.p) / (e.se * e.se)).round() as u64)
        } else {
            "-".into()
        };
        let day = if e.median_day.is_nan() { "-".into() } else { format!("{:.1}", e.median_day) };
        let terminal = if level.terminal { "  (terminal)" } else { "" };
        t.push_str(&format!(
            "  {:<w$}  {:>8}  {:>22}  {:>9}  {:>13}  {:>10}  {:>15}{terminal}\n",
            level.id,
            pct(e.p),
            format!("[{lo}, {hi}]"),
            rel,
            if e.conditional.is_nan() { "-".into() } else { pct(e.conditional) },
            day,
            plain
        ));
    }
    // Replications at zero make the interval too narrow: say so, with the remedy.
    if let Some(w) = starved_warning(model, run) {
        t.push('\n');
        t.push_str(&w);
    }
    let horizon = model.horizon_days;
    t.push_str(&format!(
        "\n  reached: P(reached within {horizon} days), the mean of {} independent splitting runs; 95% interval:\n  \
         t on their spread, on a log scale; rel. s.e.: its standard error over the estimate.\n  \
         P(from below): P(reached) over the level below's, the conditional probability. As\n  \
         plain trials: how many plain Monte Carlo trials give the same standard error (itself\n  \
         estimated from the replications, so a rough guide).\n",
        spec.replications
    ));
    if !model.uncertain.is_empty() {
        t.push_str(
            "  Params given as distributions are drawn per trial (predictive P); their spread across\n  \
             draws is not estimated in split mode (brink run without --split shows it).\n",
        );
    }
    t.push_str(
        "  Tallies, paths and time-to-level curves are not estimated in split mode (brink run\n  \
         without --split gives them).\n",
    );
    t.push_str(&format!(
        "  work: {} trial segments simulated ({} stages of {} per replication at most).\n\n",
        thousands(run.simulated),
        model.levels.len() - 1 - run.initial,
        thousands(spec.effort)
    ));
    t.push_str(&format!("  results in {}/ ({})\n", dest.display(), files.join(" ")));
    t
}

/// `brink compare --split`: each run of `entries` estimated by splitting with the same
/// seed, trials and streams, and every level compared with the first run's, paired by
/// replication.
pub(super) fn compare_split(
    entries: &[super::compare::Entry],
    common: &SimulateArgs,
    replications: u32,
    inputs: &[PathBuf],
) -> Result<(), Failure> {
    let first = &entries[0].model;
    let s = common.settle(first, || default_out(&first.name, None, Some("compare-split"), None));
    let mut effort = 0;
    for e in entries {
        effort = spec_for(&e.model, s.spec.trials, replications)
            .map_err(|err| Failure::Usage(format!("{}: {err}", e.name)))?;
    }
    let spec = split_spec(&s.spec, effort, replications);
    let guarded: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let staging = Staging::create(&s.dest, s.force, &guarded)?;
    let started = Instant::now();
    let mut runs = Vec::new();
    for e in entries {
        runs.push(split_with_bar(&e.model, &spec, s.quiet)?);
    }
    let secs = started.elapsed().as_secs_f64();
    let named: Vec<(&str, &Model, &crate::sim::split::SplitRun)> =
        entries.iter().zip(&runs).map(|(e, r)| (e.name.as_str(), &e.model, r)).collect();
    let mut files = vec![
        ("compare_split.csv".to_owned(), crate::output::split::compare_csv(&named)),
        ("replications.csv".to_owned(), crate::output::split::compare_replications_csv(&named)),
    ];
    let records: Vec<RunRecord<'_>> = entries
        .iter()
        .map(|e| RunRecord {
            file: &e.file,
            source: &e.source,
            model: &e.model,
            sets: Vec::new(),
            params_file: None,
            seed: spec.seed,
            trials: effort * u64::from(replications),
        })
        .collect();
    let listed: Vec<(&str, &RunRecord<'_>)> = entries.iter().map(|e| e.name.as_str()).zip(&records).collect();
    let simulated = runs.iter().map(|r| r.simulated).sum();
    push_folder_manifest(
        &mut files,
        crate::output::manifest::compare_split_manifest(&listed, &spec, simulated, secs),
    );
    finish(staging, files, s.quiet, |dest, names| compare_summary(&named, &spec, secs, dest, names))
}

/// The terminal summary of `brink compare --split`.
fn compare_summary(
    runs: &[(&str, &Model, &crate::sim::split::SplitRun)],
    spec: &SplitSpec,
    secs: f64,
    dest: &Path,
    files: &[String],
) -> String {
    let (name0, m0, r0) = runs[0];
    let mut t = format!(
        "{}: {} runs compared by multilevel splitting, {} replications x {} continuations per stage each (seed {}); {secs:.2} s\n\n",
        m0.name,
        runs.len(),
        spec.replications,
        spec.effort,
        spec.seed
    );
    let w = m0.levels.iter().map(|l| l.id.len()).max().unwrap_or(5).max(5);
    for &(name, m, run) in &runs[1..] {
        t.push_str(&format!(
            "  {:<w$}  {:>26}  {:>26}  {:>30}  {:>22}\n",
            "level",
            format!("{name0} [95%]"),
            format!("{name} [95%]"),
            "difference [95%]",
            "ratio [95%]"
        ));
        for (l, level) in m.levels.iter().enumerate() {
            if l <= run.initial {
                continue;
            }
            let Some(l0) = m0.levels.iter().position(|x| x.id == level.id) else { continue };
            let (a, b) = (r0.estimate(l0), run.estimate(l));
            let d = crate::sim::split::paired(r0, l0, run, l);
            let cell = |e: &crate::sim::split::LevelEstimate| {
                let (lo, hi) = pct_bounds(e.p, e.low, e.high);
                format!("{} [{lo}, {hi}]", pct(e.p))
            };
            let pts = |x: f64| format!("{:+.3}", 100.0 * x);
            let diff =
                format!("{} [{}, {}] pts", pts(d.difference), pts(d.difference_low), pts(d.difference_high));
            let ratio = if d.ratio_low.is_nan() {
                "-".to_owned()
            } else {
                format!("{:.3} [{:.3}, {:.3}]", d.ratio, d.ratio_low, d.ratio_high)
            };
            t.push_str(&format!(
                "  {:<w$}  {:>26}  {:>26}  {:>30}  {:>22}\n",
                level.id,
                cell(&a),
                cell(&b),
                diff,
                ratio
            ));
        }
        t.push('\n');
    }
    for &(name, m, run) in runs {
        if let Some(w) = starved_warning(m, run) {
            t.push_str(&format!("  {name}:\n{w}\n"));
        }
    }
    t.push_str(&format!(
        "  Each run: P(reached), the mean of {} independent splitting runs. Replication r of\n  \
         every run starts from the same trials with the same streams (later stages part as\n  \
         their pauses differ), and replications are independent pairs, so differences and\n  \
         ratios are paired by replication (t with {} df; the ratio on a log scale). A level\n  \
         no replication reached shows 0 with a rule-of-three upper bound.\n",
        spec.replications,
        spec.replications - 1
    ));
    if runs.iter().any(|(_, m, _)| !m.uncertain.is_empty()) {
        t.push_str(
            "  These are Monte Carlo intervals only: params given as distributions are drawn per\n  \
             trial (predictive P), and their spread across draws is not shown.\n",
        );
    }
    t.push('\n');
    t.push_str(&format!("  results in {}/ ({})\n", dest.display(), files.join(" ")));
    t
}
