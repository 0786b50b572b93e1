//! `brink run --split`: the probability of every level, rare rungs included, by multilevel
//! splitting (`sim::split`, docs/splitting.md).

use super::*;
use crate::output::manifest::{push_folder_manifest, split_manifest, RunRecord};
use crate::output::text::{pct, pct_bounds};
use crate::sim::split::{run_split, spec_for, SplitSpec};

/// Runs a splitting estimate of `scenario` into its folder and prints the summary.
pub(super) fn split(
    scenario: &ScenarioArgs,
    common: &SimulateArgs,
    replications: u32,
) -> Result<(), Failure> {
    let (model, source, ov) = load(scenario)?;
    let s = common.settle(&model, || default_out(&model.name, model.variant.as_deref(), Some("split"), None));
    let effort = spec_for(&model, s.spec.trials, replications).map_err(|e| Failure::Usage(e.to_string()))?;
    let spec = SplitSpec {
        effort,
        replications,
        seed: s.spec.seed,
        threads: s.spec.threads,
        max_events: s.spec.max_events,
    };
    let staging = Staging::create(&s.dest, s.force, &inputs(scenario))?;
    let stages = (model.levels.len() - 1 - model.initial_level) as u64;
    let bar = progress_bar(u64::from(replications) * stages * effort, s.quiet);
    let started = Instant::now();
    let run = run_split(&model, &spec, &mut |d| bar.set_position(d)).map_err(RunError::from)?;
    let secs = started.elapsed().as_secs_f64();
    bar.finish_and_clear();

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
    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    write_files(&staging, files)?;
    let dest = staging.commit()?;
    if !s.quiet {
        say(&summary(&model, &run, secs, &dest, &names));
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
        "level", "reached", "95% interval", "rel. err", "P(from below)", "median day", "as plain trials"
    ));
    for (l, level) in model.levels.iter().enumerate() {
        let e = run.estimate(l);
        if l <= run.initial {
            t.push_str(&format!("  {:<w$}  {:>8}\n", level.id, pct(e.p)));
            continue;
        }
        let (lo, hi) = pct_bounds(e.p, e.low, e.high);
        let rel = if e.p > 0.0 { format!("{:.1}%", 100.0 * e.se / e.p) } else { "-".into() };
        let plain = if e.se > 0.0 { group(e.p * (1.0 - e.p) / (e.se * e.se)) } else { "-".into() };
        let day = if e.median_day.is_nan() { "-".into() } else { format!("{:.1}", e.median_day) };
        let terminal = if level.terminal { "  (terminal)" } else { "" };
        t.push_str(&format!(
            "  {:<w$}  {:>8}  {:>22}  {:>9}  {:>13}  {:>10}  {:>15}{terminal}\n",
            level.id,
            pct(e.p),
            format!("[{lo}, {hi}]"),
            rel,
            pct(e.conditional),
            day,
            plain
        ));
    }
    let horizon = model.horizon_days;
    t.push_str(&format!(
        "\n  reached: P(reached within {horizon} days), the mean of {} independent splitting runs; 95% interval:\n  \
         t on their spread, on a log scale. P(from below): the share of the continuations from the\n  \
         level below that reached it. As plain trials: how many plain Monte Carlo trials give the\n  \
         same standard error.\n",
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
        group(run.simulated as f64),
        model.levels.len() - 1 - run.initial,
        group((spec.effort) as f64)
    ));
    t.push_str(&format!("  results in {}/ ({})\n", dest.display(), files.join(" ")));
    t
}

/// A count with thousands separators.
fn group(x: f64) -> String {
    let s = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
