//! `brink score`: the scenario's forecasts from rolling origins, scored against an event
//! log and against baselines (docs/score.md).

use super::fit::{day_of, shown_day};
use super::*;
use crate::analysis::fit::{self as fitting, Span};
use crate::analysis::score::Target;
use crate::analysis::score::{
    self, climate, climate_forecast, observe, past, score_origin, summarize, targets, Row,
};
use crate::analysis::score::{pit_rows, PitRow};
use crate::output::manifest::{push_folder_manifest, score_manifest, RunRecord, ScoreRecord};
use crate::output::score::{pit_csv, score_csv, scores_csv, ScoreTable};
use crate::present::charts::score::{
    self as charts, FanPanel, FanPoint, PitData, PitSeries, ReliabilityBin, ReliabilityData, ScoreFanData,
    MAX_FAN_PANELS,
};

#[derive(Debug, Args)]
#[command(mut_arg("out", |a| a.help("Results folder (default: output/<scenario>[-<variant>]-score[-refit])")))]
pub(super) struct ScoreArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// The event log the forecasts are scored against (docs/data.md).
    #[arg(long, value_name = "LOG")]
    events: PathBuf,
    /// The first origin: a date (YYYY-MM-DD) or a day of the scenario.
    #[arg(long, value_name = "DATE")]
    from: String,
    /// The end of the scored record (exclusive): no window reaches past it.
    #[arg(long, value_name = "DATE")]
    to: String,
    /// Days between origins.
    #[arg(long, value_name = "DAYS", default_value_t = 30.0, allow_negative_numbers = true)]
    every: f64,
    /// Days each forecast covers, from its origin.
    #[arg(long, value_name = "DAYS", default_value_t = 30.0, allow_negative_numbers = true)]
    lead: f64,
    /// Refit the params at each origin from the log before it (as `brink fit` would), and
    /// score the scenario frozen at the first origin's fit as a baseline.
    #[arg(long)]
    refit: bool,
    /// With --refit: the first day of the data the fits use (default: day 0).
    #[arg(long, value_name = "DATE", requires = "refit")]
    fit_from: Option<String>,
    #[command(flatten)]
    common: SimulateArgs,
}

/// The parts of a refit: the scenario text and choices, and the param roles (found once).
struct Refitter<'a> {
    file: String,
    source: &'a str,
    ov: &'a Overrides,
    model: &'a Model,
    roles: Vec<Result<Vec<crate::sim::model::Field>, String>>,
    log: &'a crate::scenario::log::EventLog,
    from: f64,
}

impl Refitter<'_> {
    /// The scenario with its params fitted from the log over [from, t): the fitted
    /// posteriors (as `brink fit`'s params.toml, so fewer than 3 trials leave a p alone)
    /// replace the scenario's values, over the user's `--params` for the params they fit.
    /// With no log row in the window, the scenario as given.
    fn at(&self, t: f64, label: &str) -> Result<(Model, usize), Failure> {
        let f = fitting::fit(self.model, &self.roles, self.log, Span { from: self.from, to: t }, &[]);
        if f.rows == 0 {
            return Ok((self.model.clone(), 0));
        }
        let applied = f.fitted.iter().filter(|p| p.check.is_some()).count();
        let window = format!("{} to {label} (exclusive)", shown_day(self.model, self.from));
        let fitted = crate::output::fit::params_toml(&f, "brink score --refit", &window);
        let mut text = String::from_utf8_lossy(&fitted).into_owned();
        let name = format!("refit at {label}");
        let names =
            scenario::ParamsFile::parse(&name, &text).map_err(|d| Failure::Failed(d.to_string()))?.names();
        if let Some(user) = &self.ov.params {
            for (k, v) in &user.entries {
                if !names.contains(k.get_ref()) {
                    text.push_str(&format!("{} = {}\n", k.get_ref(), &user.source[v.span()]));
                }
            }
        }
        let file = scenario::ParamsFile::parse(&name, &text).map_err(|d| Failure::Failed(d.to_string()))?;
        let ov = Overrides { params: Some(std::sync::Arc::new(file)), ..self.ov.clone() };
        let m = crate::scenario::compile_str(&self.file, self.source, &ov).map_err(|d| {
            Failure::Failed(format!("the params fitted at {label} do not make a valid scenario:\n{d}"))
        })?;
        Ok((m, applied))
    }
}

pub(super) fn score(a: ScoreArgs) -> Result<(), Failure> {
    let (model, source, ov) = load(&a.scenario)?;
    for (flag, v) in [("every", a.every), ("lead", a.lead)] {
        if !(v.is_finite() && v > 0.0) {
            return Err(Failure::Usage(format!("--{flag} {v}: give a positive number of days")));
        }
    }
    let from = day_of("from", &a.from, &model)?;
    let to = day_of("to", &a.to, &model)?;
    if from >= to {
        return Err(Failure::Usage(format!(
            "--from ({}) must come before --to ({})",
            shown_day(&model, from),
            shown_day(&model, to)
        )));
    }
    let fit_from = a.fit_from.as_deref().map(|t| day_of("fit-from", t, &model)).transpose()?.unwrap_or(0.0);
    let count = score::origin_count(from, to, a.every, a.lead);
    if count > score::MAX_ORIGINS {
        return Err(Failure::Usage(format!(
            "--every {}: {count} origins between --from and --to; brink score takes at most {} (each simulates its own trials): make --every larger",
            a.every,
            score::MAX_ORIGINS
        )));
    }
    let origins = score::origins(from, to, a.every, a.lead);
    if origins.is_empty() {
        return Err(Failure::Usage(format!(
            "no forecast fits between --from {} and --to {}: the first window would end at {}; \
             move --from earlier, --to later or shorten --lead",
            shown_day(&model, from),
            shown_day(&model, to),
            shown_day(&model, from + a.lead)
        )));
    }
    if a.refit && fit_from >= from {
        return Err(Failure::Usage(format!(
            "--fit-from ({}) must come before the first origin ({}): a refit needs data before it",
            shown_day(&model, fit_from),
            shown_day(&model, from)
        )));
    }
    let log_text = crate::scenario::input::read_text(&a.events, "event log")
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let events_file = a.events.display().to_string();
    let log = crate::scenario::log::parse(&events_file, &log_text, &model)
        .map_err(|e| Failure::Usage(e.to_string()))?;
    if log.events.is_empty() {
        return Err(Failure::Usage(format!("{events_file}: the log has no rows: nothing to score against")));
    }
    // A trial ends at a terminal level: past one in the log, every forecast would be
    // "nothing more happens", scored as if it were a forecast.
    if let Some(l) = model.first_terminal {
        let mut level = model.initial_level;
        for e in &log.events {
            if let crate::sim::model::LevelChange::RaiseTo(to) = model.steps[e.step].branches[e.branch].level
            {
                level = level.max(to);
            }
            if level >= l && origins.iter().any(|&t| t > e.day) {
                return Err(Failure::Usage(format!(
                    "{events_file}:{}: the log reaches the terminal level `{}` on {}, before the last origin ({}): \
                     a trial ends there, so no forecast after it means anything; end --to at that day",
                    e.line,
                    model.levels[level].id,
                    shown_day(&model, e.day.floor()),
                    labels_last(&model, &origins)
                )));
            }
        }
    }
    if log.histories > 1 {
        return Err(Failure::Usage(format!(
            "{events_file}: the log holds {} histories (its `trial` column); brink score scores one record: \
             keep the rows of one trial",
            log.histories
        )));
    }
    let cited = crate::scenario::sources::check(&a.scenario.scenario, &source)
        .map_err(|e| Failure::Usage(e.to_string()))?;
    if let Some(c) = &cited {
        crate::scenario::sources::check_log(&events_file, &log, &c.sources)
            .map_err(|e| Failure::Usage(e.to_string()))?;
    }
    let kind = if a.refit { "score-refit" } else { "score" };
    let s = a.common.settle(&model, || default_out(&model.name, model.variant.as_deref(), Some(kind), None));
    let mut reads = inputs(&a.scenario);
    reads.push(&a.events);
    let staging = Staging::create(&s.dest, s.force, &reads)?;

    let mut forecasters = vec!["brink"];
    if a.refit {
        forecasters.push("frozen");
    }
    forecasters.push("climatology");
    let climatology = forecasters.len() - 1;
    let baselines: Vec<usize> = (1..forecasters.len()).collect();
    let refitter = a.refit.then(|| Refitter {
        file: a.scenario.scenario.display().to_string(),
        source: &source,
        ov: &ov,
        model: &model,
        roles: crate::scenario::param_roles(&source, &ov, &model),
        log: &log,
        from: fit_from,
    });
    let labels: Vec<(String, f64)> = origins.iter().map(|&t| (shown_day(&model, t), t)).collect();
    let frozen = match &refitter {
        Some(r) => Some(r.at(origins[0], &labels[0].0)?),
        None => None,
    };
    let bar = progress_bar(origins.len() as u64 * s.spec.trials, s.quiet);
    let mut rows: Vec<Row> = Vec::new();
    let mut fitted_counts = Vec::new();
    for (k, &t) in origins.iter().enumerate() {
        let until = t + a.lead;
        let refitted = match &refitter {
            Some(r) if k > 0 => Some(r.at(t, &labels[k].0)?),
            _ => None,
        };
        let brink = match (&refitted, &frozen) {
            (Some((m, n)), _) | (None, Some((m, n))) => {
                fitted_counts.push(*n);
                m
            }
            (None, None) => &model,
        };
        let mut models = vec![brink];
        if let Some((m, _)) = &frozen {
            models.push(m);
        }
        let p = past(&model, &log, 0, t);
        let sims = score::simulate(&models, &p, until, k as u64, &s.spec).map_err(Failure::Run)?;
        bar.set_position((k as u64 + 1) * s.spec.trials);
        let obs = observe(&model, &log, 0, t, until);
        let clim = climate(&model, &log, 0, 0.0, t, a.lead);
        let ts = targets(&model, &obs);
        let forecast = |i: usize, target| {
            if i == climatology {
                climate_forecast(&clim, target, a.lead)
            } else {
                sims[i].forecast(target)
            }
        };
        rows.extend(score_origin(k, &ts, forecasters.len(), &forecast, s.spec.seed));
    }
    bar.finish_and_clear();
    let block = score::block_length(origins.len(), a.every, a.lead);
    let sums = summarize(&rows, origins.len(), forecasters.len(), &baselines, block, s.spec.seed);
    let pits = pit_rows(&model, &rows, forecasters.len());

    let table =
        ScoreTable { model: &model, origins: &labels, lead: a.lead, forecasters: &forecasters, rows: &rows };
    let mut files = vec![
        ("score.csv".to_owned(), score_csv(&table)),
        ("scores.csv".to_owned(), scores_csv(&model, &forecasters, &sums)),
        ("pit.csv".to_owned(), pit_csv(&model, &forecasters, &pits)),
    ];
    let scenario_file = a.scenario.scenario.display().to_string();
    let run = RunRecord {
        file: &scenario_file,
        source: &source,
        model: &model,
        sets: a.scenario.set.text(),
        seed: s.spec.seed,
        trials: s.spec.trials,
        params_file: params_record(&ov),
    };
    let record = ScoreRecord {
        events: (&events_file, &log_text),
        window: (&a.from, &a.to),
        every: a.every,
        lead: a.lead,
        origins: origins.len(),
        refit: a.refit.then_some(fit_from),
        forecasters: forecasters.iter().map(|f| f.to_string()).collect(),
    };
    let charts = chart_data(a.refit, &model, &labels, a.lead, &forecasters, &rows, &pits, &s.spec);
    if s.charts.formats != Formats::None {
        files.extend(charts::render_pit(&charts.0, &s.charts)?);
        files.extend(charts::render_reliability(&charts.1, &s.charts)?);
        files.extend(charts::render_fan(&charts.2, &s.charts)?);
    }
    // The report embeds the charts as SVG whatever chart files were asked for.
    let svg = ChartOptions { formats: Formats::Svg, ..s.charts };
    let inline = |r: Vec<(String, Vec<u8>)>| {
        r.into_iter().next().map(|(_, b)| String::from_utf8_lossy(&b).into_owned())
    };
    let mut page_charts = Vec::new();
    let fan_caption = "Each busy step's firings per window: what the log recorded (dots), brink's 90% interval (band) and median (line), and the climatology's mean (dashes), by origin.";
    if let Some(x) = inline(charts::render_fan(&charts.2, &svg)?) {
        page_charts.push(("fan", fan_caption.to_owned(), x));
    }
    if let Some(x) = inline(charts::render_pit(&charts.0, &svg)?) {
        page_charts.push((
            "pit",
            "The PIT of every step's observed count: flat for a calibrated forecaster.".to_owned(),
            x,
        ));
    }
    if let Some(x) = inline(charts::render_reliability(&charts.1, &svg)?) {
        page_charts.push((
            "reliability",
            "Yes/no forecasts (a step fired, a level was reached) grouped by probability: on the diagonal when what is forecast at p happens a share p of the time; dot area grows with the forecasts in the group.".to_owned(),
            x,
        ));
    }
    let mut described = crate::output::manifest::Manifest::describe(
        &model,
        &scenario_file,
        source.as_bytes(),
        s.spec.seed,
        s.spec.trials,
    );
    described.sets = a.scenario.set.text();
    described.params_file = params_record(&ov);
    let page = crate::present::report::ScorePage {
        manifest: &described,
        events_file: &events_file,
        design: format!(
            "{} origins from {} to {}, every {} days; {}-day windows; {} trials per origin, seed {}.",
            origins.len(),
            labels[0].0,
            labels[labels.len() - 1].0,
            crate::output::text::num(a.every),
            crate::output::text::num(a.lead),
            s.spec.trials,
            s.spec.seed
        ),
        params_line: if a.refit {
            format!(
                "brink's params refitted at each origin from the log since {}; frozen: the first origin's fit.",
                shown_day(&model, fit_from)
            )
        } else {
            "brink's params as given; the state at each origin rebuilt from the log.".to_owned()
        },
        forecasters: &forecasters,
        summaries: &sums,
        pits: &pits,
        model: &model,
        charts: page_charts,
        manifest_rows: vec![
            ("event log", events_file.clone()),
            ("event log SHA-256", crate::output::manifest::sha256_hex(log_text.as_bytes())),
            ("origins", format!("{} to {}, every {} days", a.from, labels[labels.len() - 1].0, a.every)),
            ("lead (days)", crate::output::text::num(a.lead)),
            (
                "refit",
                if a.refit { format!("yes, from {}", shown_day(&model, fit_from)) } else { "no".into() },
            ),
            ("bootstrap block (origins)", block.to_string()),
        ],
    };
    files.push(("report.html".into(), crate::present::report::score_html(&page).into_bytes()));
    push_folder_manifest(&mut files, score_manifest(&run, &record));
    let written: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    write_files(&staging, files)?;
    let dest = staging.commit()?;
    if !s.quiet {
        let view = crate::present::summary::ScoreView {
            model: &model,
            events: &events_file,
            origins: &labels,
            every: a.every,
            lead: a.lead,
            spec: &s.spec,
            refit: a.refit.then(|| (shown_day(&model, fit_from), fitted_counts)),
            forecasters: &forecasters,
            summaries: &sums,
            pits: &pits,
            block,
            dest: &dest,
            files: &written,
        };
        say(&crate::present::summary::score_summary(&view));
    }
    Ok(())
}

/// The data of the three charts: the PIT histograms, the reliability diagram and the fan.
#[allow(clippy::too_many_arguments)]
fn chart_data(
    refit: bool,
    model: &Model,
    labels: &[(String, f64)],
    lead: f64,
    forecasters: &[&str],
    rows: &[Row],
    pits: &[PitRow],
    spec: &RunSpec,
) -> (PitData, ReliabilityData, ScoreFanData) {
    let (first, last) = (&labels[0].0, &labels[labels.len() - 1].0);
    let span = format!(
        "{} origins, {first} to {last}, {}-day windows, {} trials each{}",
        labels.len(),
        crate::output::text::num(lead),
        spec.trials,
        if refit { "; brink refitted at each origin" } else { "" }
    );
    let pit = PitData {
        title: format!(
            "{}: is each forecaster calibrated? PIT of the counts of steps that fired",
            model.name
        ),
        subtitle: span.clone(),
        series: pits
            .iter()
            .filter(|p| p.step.is_none())
            .map(|p| PitSeries {
                name: match p.chi2 {
                    Some((c, pv)) => format!(
                        "{}: {} values, chi-square {c:.1}, p = {pv:.3}",
                        forecasters[p.forecaster],
                        p.bins.iter().sum::<u64>()
                    ),
                    None => format!("{}: {} values", forecasters[p.forecaster], p.bins.iter().sum::<u64>()),
                },
                bins: p.bins.clone(),
            })
            .collect(),
    };
    let mut series = Vec::new();
    for (f, name) in forecasters.iter().enumerate() {
        let mut bins = [(0.0, 0u64, 0u64); 10];
        for r in rows.iter().filter(|r| r.target.binary()) {
            if let Some(sc) = &r.scores[f] {
                let b = ((sc.mean * 10.0) as usize).min(9);
                bins[b].0 += sc.mean;
                bins[b].1 += r.observed;
                bins[b].2 += 1;
            }
        }
        let bins: Vec<ReliabilityBin> = bins
            .iter()
            .filter(|b| b.2 > 0)
            .map(|&(sum, yes, n)| ReliabilityBin {
                forecast: sum / n as f64,
                observed: yes as f64 / n as f64,
                n,
            })
            .collect();
        if !bins.is_empty() {
            series.push((name.to_string(), bins));
        }
    }
    let binary = rows.iter().filter(|r| r.target.binary() && r.scores[0].is_some()).count();
    let reliability = ReliabilityData {
        title: format!("{}: do yes/no forecasts happen as often as forecast?", model.name),
        subtitle: format!(
            "{binary} forecasts (a step fired, a level reached), dot area by forecasts per tenth; {span}"
        ),
        series,
    };
    // The busiest steps of the log.
    let mut busy: Vec<(u64, usize)> = (0..model.steps.len())
        .map(|st| (rows.iter().filter(|r| r.target == Target::Count(st)).map(|r| r.observed).sum(), st))
        .filter(|&(total, _)| total > 0)
        .collect();
    busy.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    busy.truncate(MAX_FAN_PANELS);
    let clim = forecasters.len() - 1;
    let panels = busy
        .iter()
        .map(|&(total, st)| FanPanel {
            title: format!("{} ({total} logged)", model.steps[st].id),
            points: rows
                .iter()
                .filter(|r| r.target == Target::Count(st))
                .filter_map(|r| {
                    let b = r.scores[0]?;
                    let q = b.quantiles?;
                    Some(FanPoint {
                        label: labels[r.origin].0.clone(),
                        p05: q[0] as f64,
                        median: q[1] as f64,
                        p95: q[2] as f64,
                        climatology: r.scores[clim].map(|c| c.mean),
                        observed: r.observed as f64,
                    })
                })
                .collect(),
        })
        .collect();
    let fan = ScoreFanData {
        title: format!("{}: forecasts by origin and what the log recorded", model.name),
        subtitle: span,
        y_desc: format!("firings per {}-day window", crate::output::text::num(lead)),
        panels,
    };
    (pit, reliability, fan)
}

/// The last origin, as people read it.
fn labels_last(model: &Model, origins: &[f64]) -> String {
    origins.last().map_or(String::new(), |&t| shown_day(model, t))
}
