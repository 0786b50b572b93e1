//! `brink fit`: the scenario's params estimated from an event log (docs/fit.md).

use super::*;
use crate::analysis::fit::{self, Span};
use crate::output::manifest::{fit_manifest, push_folder_manifest, FitRecord, RunRecord};
use crate::present::charts::fit::{render_counts, CountsData, Panel, MAX_PANELS};

#[derive(Debug, Args)]
#[command(mut_arg("out", |a| a.help("Results folder (default: output/<scenario>[-<variant>]-fit)")))]
pub(super) struct FitArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// The event log: the columns of events.csv, with optional `source` and `cause` (docs/data.md).
    #[arg(long, value_name = "LOG")]
    events: PathBuf,
    /// Use only events on or after this date (YYYY-MM-DD) or day (default: day 0).
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Use only events before this date (YYYY-MM-DD) or day (default: the horizon).
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
    /// Also check these spontaneous steps as one process for self-excitation, e.g. all
    /// attack types: comma-separated step ids (repeatable).
    #[arg(long, value_name = "STEP,STEP,...")]
    pool: Vec<String>,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    charts: ChartArgs,
}

/// A `--from`/`--to` value as a day of the scenario: a date, or a number of days.
pub(super) fn day_of(flag: &str, text: &str, model: &Model) -> Result<f64, Failure> {
    let bad = |why: String| Failure::Usage(format!("--{flag} `{text}`: {why}"));
    let day = if let Some(date) = crate::scenario::log::parse_date(text) {
        let start = model.start.ok_or_else(|| {
            bad("the scenario has no `start` date to count days from; give a day number instead".into())
        })?;
        (date.days() - start.days()) as f64
    } else {
        text.parse::<f64>()
            .ok()
            .filter(|d| d.is_finite())
            .ok_or_else(|| bad("not a date (YYYY-MM-DD) or a number of days".into()))?
    };
    let horizon = model.horizon_days as f64;
    if !(0.0..=horizon).contains(&day) {
        let dates = model
            .start
            .map_or(String::new(), |s| format!(", {s} to {}", s.plus_days(i64::from(model.horizon_days))));
        return Err(bad(format!("day {day} lies outside the scenario's window (day 0 to {horizon}{dates})")));
    }
    Ok(day)
}

/// A `--pool` value as step indices: spontaneous steps (with a `rate`), at least two.
fn pool_steps(text: &str, model: &Model) -> Result<Vec<usize>, Failure> {
    let ids: Vec<&str> = text.split(',').map(str::trim).filter(|t| !t.is_empty()).collect();
    let mut steps = Vec::new();
    for id in &ids {
        let Some(s) = model.steps.iter().position(|s| s.id == *id) else {
            let known: Vec<&str> =
                model.steps.iter().filter(|s| s.rate.is_some()).map(|s| s.id.as_str()).collect();
            return Err(Failure::Usage(format!(
                "--pool: no step `{id}` in the scenario; {}",
                crate::scenario::diag::suggest("step", id, &known)
            )));
        };
        if model.steps[s].rate.is_none() {
            return Err(Failure::Usage(format!(
                "--pool: step `{id}` has no rate: only spontaneous steps pool"
            )));
        }
        if !steps.contains(&s) {
            steps.push(s);
        }
    }
    if steps.len() < 2 {
        return Err(Failure::Usage(format!(
            "--pool `{text}`: name at least two different steps, separated by commas"
        )));
    }
    Ok(steps)
}

/// A day as a date when the scenario has a start date, for people.
pub(super) fn shown_day(model: &Model, day: f64) -> String {
    match model.start {
        Some(s) if day.fract() == 0.0 => s.plus_days(day as i64).to_string(),
        _ => format!("day {day}"),
    }
}

pub(super) fn fit(a: FitArgs) -> Result<(), Failure> {
    let (model, source, ov) = load(&a.scenario)?;
    let from = a.from.as_deref().map(|t| day_of("from", t, &model)).transpose()?.unwrap_or(0.0);
    let to =
        a.to.as_deref().map(|t| day_of("to", t, &model)).transpose()?.unwrap_or(model.horizon_days as f64);
    if from >= to {
        return Err(Failure::Usage(format!(
            "--from ({}) must come before --to ({})",
            shown_day(&model, from),
            shown_day(&model, to)
        )));
    }
    let log_text = crate::scenario::input::read_text(&a.events, "event log")
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let log = crate::scenario::log::parse(&a.events.display().to_string(), &log_text, &model)
        .map_err(|e| Failure::Usage(e.to_string()))?;
    // A record's source keys must be in the scenario's sources file, when it names one.
    let cited = crate::scenario::sources::check(&a.scenario.scenario, &source)
        .map_err(|e| Failure::Usage(e.to_string()))?;
    if let Some(c) = &cited {
        crate::scenario::sources::check_log(&a.events.display().to_string(), &log, &c.sources)
            .map_err(|e| Failure::Usage(e.to_string()))?;
    }
    let roles = crate::scenario::param_roles(&source, &ov, &model);
    let span = Span { from, to };
    let pools = a.pool.iter().map(|p| pool_steps(p, &model)).collect::<Result<Vec<_>, _>>()?;
    let f = fit::fit(&model, &roles, &log, span, &pools);
    if f.rows == 0 {
        return Err(Failure::Usage(format!(
            "{}: no event of the log falls in the data window, {} to {} (exclusive): nothing to fit",
            a.events.display(),
            shown_day(&model, from),
            shown_day(&model, to)
        )));
    }

    let dest = a
        .output
        .out
        .clone()
        .unwrap_or_else(|| default_out(&model.name, model.variant.as_deref(), Some("fit"), None));
    let mut reads = inputs(&a.scenario);
    reads.push(&a.events);
    let staging = Staging::create(&dest, a.output.force, &reads)?;
    let window = format!("{} to {} (exclusive)", shown_day(&model, from), shown_day(&model, to));
    let mut command = format!("brink fit {} --events {}", a.scenario.scenario.display(), a.events.display());
    if let Some(v) = &a.scenario.variant {
        command.push_str(&format!(" --variant {v}"));
    }
    for p in &a.scenario.set.params {
        command.push_str(&format!(" --params {}", p.display()));
    }
    for s in a.scenario.set.text() {
        command.push_str(&format!(" --set {s}"));
    }
    for (flag, v) in [("from", &a.from), ("to", &a.to)] {
        if let Some(v) = v {
            command.push_str(&format!(" --{flag} {v}"));
        }
    }
    for p in &a.pool {
        command.push_str(&format!(" --pool {p}"));
    }
    let mut files = vec![
        ("fit.csv".to_owned(), crate::output::fit::fit_csv(&f)),
        ("not-fitted.csv".to_owned(), crate::output::fit::not_fitted_csv(&f)),
        ("self-excitation.csv".to_owned(), crate::output::fit::self_excitation_csv(&f, &model)),
        ("counts.csv".to_owned(), crate::output::fit::counts_csv(&f, &model)),
        ("params.toml".to_owned(), crate::output::fit::params_toml(&f, &command, &window)),
    ];
    let charts = a.charts.options();
    if charts.formats != Formats::None {
        let mut series: Vec<&fit::Series> =
            f.series.iter().filter(|s| s.months.iter().any(|m| m.observed > 0.0)).collect();
        // Pools first (the reader asked for them), then the busiest steps.
        series.sort_by(|x, y| {
            let total = |s: &fit::Series| s.months.iter().map(|m| m.observed).sum::<f64>();
            (y.steps.len() > 1)
                .cmp(&(x.steps.len() > 1))
                .then(total(y).total_cmp(&total(x)))
                .then(x.steps.cmp(&y.steps))
        });
        series.truncate(MAX_PANELS);
        if !series.is_empty() {
            let data = CountsData {
                title: format!("{}: unprovoked firings per month, logged and fitted", model.name),
                subtitle: format!(
                    "{} ({} rows), {}; the Hawkes line where a step fired {} times or more{}",
                    a.events.display(),
                    f.rows,
                    window,
                    fit::MIN_CLUSTER,
                    if f.histories > 1 {
                        format!(", mean of {} histories", f.histories)
                    } else {
                        String::new()
                    }
                ),
                panels: series
                    .iter()
                    .map(|s| {
                        let total: f64 = s.months.iter().map(|m| m.observed).sum();
                        let per = if f.histories > 1 { " per history" } else { "" };
                        Panel {
                            title: format!(
                                "{} ({} firings{per})",
                                fit::group_name(&model, &s.steps),
                                crate::output::text::sig(total, 3)
                            ),
                            months: s.months.clone(),
                        }
                    })
                    .collect(),
            };
            files.extend(render_counts(&data, &charts)?);
        }
    }
    let scenario_file = a.scenario.scenario.display().to_string();
    let events_file = a.events.display().to_string();
    let run = RunRecord {
        file: &scenario_file,
        source: &source,
        model: &model,
        sets: a.scenario.set.text(),
        seed: model.seed,
        trials: 0,
        params_file: params_record(&ov),
    };
    let record = FitRecord {
        events: (&events_file, &log_text),
        from: a.from.clone().unwrap_or_else(|| shown_day(&model, from)),
        to: a.to.clone().unwrap_or_else(|| shown_day(&model, to)),
        counts: (f.fitted.len(), f.unfitted.len()),
    };
    push_folder_manifest(&mut files, fit_manifest(&run, &record));
    let files_written: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    write_files(&staging, files)?;
    let dest = staging.commit()?;
    if !a.output.quiet {
        let charts = files_written.iter().any(|n| n.starts_with("counts."));
        say(&crate::present::summary::fit_summary(&model, &f, &a.events, &window, &dest, charts));
    }
    Ok(())
}
