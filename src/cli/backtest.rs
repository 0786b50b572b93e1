//! `brink backtest`: the scenario's simulated quantities beside the observed record.

use super::*;
use crate::analysis::backtest::{self, columns, compare, coverage, parse_mapping, parse_observed, simulate};
use crate::output::manifest::{backtest_manifest, push_folder_manifest, BacktestRecord, RunRecord};
use crate::present::charts::backtest::{render_fan, FanData};

#[derive(Debug, Args)]
#[command(mut_arg("out", |a| a.help("Results folder (default: output/<scenario>[-<variant>]-backtest)")))]
pub(super) struct BacktestArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// The observed values, CSV `quantity,month,value,source`.
    #[arg(long, value_name = "FILE")]
    observed: PathBuf,
    /// How each quantity is simulated (TOML; default: the observed file with `.toml`).
    #[arg(long, value_name = "FILE")]
    map: Option<PathBuf>,
    /// The monthly quantity drawn in the fan chart (default: the first monthly one).
    #[arg(long, value_name = "QUANTITY")]
    fan: Option<String>,
    #[command(flatten)]
    common: SimulateArgs,
}

fn read(path: &Path, what: &'static str) -> Result<String, Failure> {
    crate::scenario::input::read_text(path, what).map_err(|e| Failure::Usage(e.to_string()))
}

pub(super) fn backtest(a: BacktestArgs) -> Result<(), Failure> {
    let (model, source, ov) = load(&a.scenario)?;
    let map_path = a.map.clone().unwrap_or_else(|| a.observed.with_extension("toml"));
    let map_text = read(&map_path, "mapping file")?;
    let obs_text = read(&a.observed, "observed file")?;
    let usage = |e: backtest::BacktestError| Failure::Usage(e.in_file(&a.observed));
    let qs = parse_mapping(&model, &map_text).map_err(|e| Failure::Usage(e.in_file(&map_path)))?;
    let obs = parse_observed(&obs_text).map_err(usage)?;
    let cols = columns(&model, &qs);
    let s = a
        .common
        .settle(&model, || default_out(&model.name, model.variant.as_deref(), Some("backtest"), None));
    let (trials, seed) = (s.spec.trials, s.spec.seed);
    // Check the observed file against the mapping before simulating.
    let empty = vec![vec![0.0]; cols.len()];
    compare(&qs, &cols, &empty, &obs).map_err(usage)?;
    let mut guarded = inputs(&a.scenario);
    guarded.extend([a.observed.as_path(), map_path.as_path()]);
    let staging = Staging::create(&s.dest, s.force, &guarded)?;
    let bar = progress_bar(trials, s.quiet);
    let sims = simulate(&model, &qs, &cols, &s.spec, |d| bar.set_position(d)).map_err(Failure::Run)?;
    bar.finish_and_clear();
    let rows = compare(&qs, &cols, &sims, &obs).map_err(usage)?;
    let (c50, c90) = coverage(&rows);

    let mut files = vec![("backtest.csv".to_owned(), crate::output::backtest::csv(&rows))];
    let scenario_file = a.scenario.scenario.display().to_string();
    let run = RunRecord {
        file: &scenario_file,
        source: &source,
        model: &model,
        sets: a.scenario.set.text(),
        params_file: params_record(&ov),
        seed,
        trials,
    };
    let (observed_file, mapping_file) = (a.observed.display().to_string(), map_path.display().to_string());
    let record = BacktestRecord {
        observed: (&observed_file, &obs_text),
        mapping: (&mapping_file, &map_text),
        compared: rows.len(),
        coverage: (c50, c90),
    };
    let manifest = backtest_manifest(&run, &record);

    let fan_q = match &a.fan {
        Some(q) => {
            if !qs
                .iter()
                .any(|x| &x.id == q && matches!(x.measure, backtest::Measure::Count { monthly: true, .. }))
            {
                return Err(Failure::Usage(format!("--fan: `{q}` is not a monthly quantity of the mapping")));
            }
            Some(q.clone())
        }
        None => qs
            .iter()
            .find(|x| matches!(x.measure, backtest::Measure::Count { monthly: true, .. }))
            .map(|x| x.id.clone()),
    };
    let fan = fan_q.as_ref().map(|q| {
        let label = qs.iter().find(|x| &x.id == q).map(|x| x.label.clone()).unwrap_or_default();
        FanData {
            title: format!("{}: observed {q} over the simulated fan", model.name),
            subtitle: format!(
                "{} trials, seed {seed}; coverage of all {} observed values: {:.0}% in the 50% interval, {:.0}% in the 90%",
                trials,
                rows.len(),
                100.0 * c50,
                100.0 * c90
            ),
            y_desc: label,
            months: backtest::fan(&qs, &cols, &sims, &obs, q),
        }
    });
    let mut fan_svg = None;
    if let Some(data) = &fan {
        if s.charts.formats != Formats::None {
            files.extend(render_fan(data, &s.charts)?);
        }
        // The report embeds the fan as SVG whatever chart files were asked for.
        let svg_only = ChartOptions { formats: Formats::Svg, ..s.charts };
        fan_svg = render_fan(data, &svg_only)?.pop().map(|(_, b)| String::from_utf8_lossy(&b).into_owned());
    }
    let mut described = crate::output::manifest::Manifest::describe(
        &model,
        &a.scenario.scenario.display().to_string(),
        source.as_bytes(),
        seed,
        trials,
    );
    described.sets = a.scenario.set.text();
    described.params_file = params_record(&ov);
    let observed_file = a.observed.display().to_string();
    let view = crate::present::report::BacktestView {
        manifest: &described,
        observed_file: &observed_file,
        rows: &rows,
        fan_svg,
        fan_quantity: fan_q.as_deref(),
    };
    files.push(("report.html".into(), crate::present::report::backtest_html(&view).into_bytes()));
    push_folder_manifest(&mut files, manifest);
    write_files(&staging, files)?;
    let dest = staging.commit()?;
    if !s.quiet {
        let mut t = format!(
            "{}: backtest against {} ({} values), {trials} trials, seed {seed}\n\n",
            model.name,
            a.observed.display(),
            rows.len()
        );
        t.push_str(&format!(
            "  {:<24} {:<8} {:>8} {:>8} {:>13} {:>13} {:>6}  in\n",
            "quantity", "month", "observed", "median", "50%", "90%", "pct"
        ));
        let f = |x: f64| if x.fract() == 0.0 { format!("{x:.0}") } else { format!("{x:.2}") };
        for r in &rows {
            let s = &r.sim;
            let inside = match (r.in_50, r.in_90) {
                (true, _) => "50 90",
                (false, true) => "   90",
                _ => "  -",
            };
            t.push_str(&format!(
                "  {:<24} {:<8} {:>8} {:>8} {:>13} {:>13} {:>5.0}%  {inside}\n",
                r.quantity,
                r.month.as_deref().unwrap_or("total"),
                f(r.observed),
                f(s.median),
                format!("[{}, {}]", f(s.p25), f(s.p75)),
                format!("[{}, {}]", f(s.p5), f(s.p95)),
                100.0 * r.percentile
            ));
        }
        let n = rows.len();
        t.push_str(&format!(
            "\n  coverage: {}/{n} ({:.0}%) inside the 50% intervals, {}/{n} ({:.0}%) inside the 90% intervals\n",
            rows.iter().filter(|r| r.in_50).count(),
            100.0 * c50,
            rows.iter().filter(|r| r.in_90).count(),
            100.0 * c90
        ));
        t.push_str(&format!(
            "  results in {}/ (backtest.csv, fan charts, report.html, manifest.json)\n",
            dest.display()
        ));
        say(&t);
    }
    Ok(())
}
