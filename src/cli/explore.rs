//! `brink sweep` and `brink sensitivity`: the scenario with params overridden, every
//! setting run on the same seeded trials (common random numbers).

use super::*;
use crate::charts::explore::{render_sweep, render_tornado, Context, SweepData};
use crate::explore::{self, grid, parse_axis, sensitivity_design, sensitivity_rows, trim, Axis};
use crate::model::Model;
use crate::runner::run_set;

/// Options shared by sweep and sensitivity.
#[derive(Debug, Args)]
pub(super) struct ExploreArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// Number of trials per setting (default: the file's `trials`).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    trials: Option<u64>,
    /// Seed, shared by every setting (default: the file's `seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Results folder (default: output/<scenario>[-<variant>]-sweep or -sensitivity).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    charts: ChartArgs,
}

#[derive(Debug, Args)]
pub(super) struct SweepArgs {
    #[command(flatten)]
    common: ExploreArgs,
    /// A param and its values, NAME=FROM:TO:STEPS (once or twice: a line or a grid).
    #[arg(long = "param", required = true, value_name = "NAME=FROM:TO:STEPS", value_parser = parse_axis)]
    axes: Vec<Axis>,
}

#[derive(Debug, Args)]
pub(super) struct SensitivityArgs {
    #[command(flatten)]
    common: ExploreArgs,
    /// Relative change of each param: low = value x (1 - spread), high = value x (1 + spread).
    #[arg(long, default_value_t = 0.25, value_parser = parse_spread)]
    spread: f64,
    /// The level whose probability is studied (default: the top of the ladder).
    #[arg(long, value_name = "LEVEL")]
    metric: Option<String>,
}

fn parse_spread(s: &str) -> Result<f64, String> {
    let x: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if !(x > 0.0 && x < 1.0) {
        return Err(format!("spread must be between 0 and 1 (exclusive), got {x}"));
    }
    Ok(x)
}

/// Everything a sweep or sensitivity run shares once the scenario is loaded.
struct Setup {
    base: Model,
    source: String,
    file: String,
    spec: RunSpec,
}

fn setup(a: &ExploreArgs) -> Result<Setup, Failure> {
    let (base, source) = load(&a.scenario)?;
    let threads = worker_threads(a.output.threads);
    let spec = RunSpec {
        trials: a.trials.unwrap_or(base.trials),
        seed: a.seed.unwrap_or(base.seed),
        threads,
        max_events: base.max_events,
    };
    Ok(Setup { file: a.scenario.scenario.display().to_string(), base, source, spec })
}

/// The scenario compiled with extra overrides (after the variant and --set).
fn with_params(a: &ExploreArgs, s: &Setup, extra: &[(String, f64)]) -> Result<Model, Failure> {
    let mut sets = a.scenario.sets.clone();
    sets.extend(extra.iter().cloned());
    let ov = Overrides { variant: a.scenario.variant.clone(), sets };
    scenario::compile_str(&s.file, &s.source, &ov).map_err(|d| Failure::Load(LoadError::Invalid(d)))
}

fn dest(a: &ExploreArgs, base: &Model, kind: &str) -> PathBuf {
    a.out.clone().unwrap_or_else(|| {
        let name = match &base.variant {
            Some(v) => format!("{}-{v}-{kind}", base.name),
            None => format!("{}-{kind}", base.name),
        };
        Path::new("output").join(name)
    })
}

fn manifest_json(s: &Setup, a: &ExploreArgs, what: serde_json::Value) -> Vec<u8> {
    let v = serde_json::json!({
        "brink_version": env!("CARGO_PKG_VERSION"),
        "scenario_file": s.file,
        "scenario_sha256": crate::output::manifest::sha256_hex(s.source.as_bytes()),
        "scenario_name": s.base.name,
        "variant": s.base.variant,
        "sets": a.scenario.sets.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
        "seed": s.spec.seed,
        "trials": s.spec.trials,
        "streams": crate::output::manifest::STREAMS,
        "design": what,
    });
    let mut bytes = serde_json::to_vec_pretty(&v).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

fn write_all(staging: &Staging, files: Vec<(String, Vec<u8>)>) -> Result<(), Failure> {
    for (name, bytes) in files {
        let path = staging.file(&name);
        std::fs::write(&path, bytes).map_err(io_at(&path))?;
    }
    Ok(())
}

pub(super) fn sweep(a: SweepArgs) -> Result<(), Failure> {
    if a.axes.len() > 2 {
        return Err(Failure::Usage("sweep takes one or two --param axes".into()));
    }
    if a.axes.len() == 2 && a.axes[0].param == a.axes[1].param {
        return Err(Failure::Usage(format!("--param {} is given twice", a.axes[0].param)));
    }
    let c = &a.common;
    let s = setup(c)?;
    let points = grid(&a.axes);
    let models: Vec<Model> = points
        .iter()
        .map(|p| {
            let extra: Vec<(String, f64)> =
                a.axes.iter().map(|ax| ax.param.clone()).zip(p.iter().copied()).collect();
            with_params(c, &s, &extra)
        })
        .collect::<Result<_, _>>()?;
    let staging = Staging::create(&dest(c, &s.base, "sweep"), c.output.force)?;
    let refs: Vec<&Model> = models.iter().collect();
    let bar = progress_bar(s.spec.trials, c.output.quiet);
    let out = run_set(&refs, &s.spec, 0..s.spec.trials, &mut [], &mut |d| bar.set_position(d))?;
    bar.finish_and_clear();

    let n = s.base.levels.len();
    let data = SweepData {
        axes: a.axes.clone(),
        levels: s.base.levels.iter().map(|l| l.id.clone()).collect(),
        p: out
            .aggregates
            .iter()
            .map(|agg| {
                (0..n)
                    .map(|l| {
                        let k = agg.levels[l].reached;
                        let (lo, hi) = crate::stats::wilson(k, agg.trials, crate::stats::Z95);
                        (k as f64 / agg.trials.max(1) as f64, lo, hi)
                    })
                    .collect()
            })
            .collect(),
    };
    let ctx = Context {
        scenario: s.base.name.clone(),
        variant: s.base.variant.clone(),
        trials: s.spec.trials,
        seed: s.spec.seed,
    };
    let mut files =
        vec![("sweep.csv".to_owned(), explore::sweep_csv(&a.axes, &points, &s.base, &out.aggregates))];
    let design = serde_json::json!({ "kind": "sweep", "axes": a.axes.iter().map(|ax| serde_json::json!({"param": ax.param, "values": ax.values})).collect::<Vec<_>>() });
    files.push(("manifest.json".into(), manifest_json(&s, c, design)));
    if c.charts.charts != Formats::None {
        files.extend(render_sweep(&ctx, &data, &c.charts.options())?);
    }
    write_all(&staging, files)?;
    let dest = staging.commit()?;
    if !c.output.quiet {
        let top = n - 1;
        let mut text = format!(
            "{}: P({}) over {} settings, {} trials each, seed {}\n\n",
            s.base.name,
            s.base.levels[top].id,
            points.len(),
            s.spec.trials,
            s.spec.seed
        );
        for (p, row) in points.iter().zip(&data.p) {
            let name: Vec<String> =
                a.axes.iter().zip(p).map(|(ax, v)| format!("{}={}", ax.param, trim(*v))).collect();
            let (v, lo, hi) = row[top];
            text.push_str(&format!(
                "  {:<40} {:>7.2}%  [{:.2}, {:.2}]\n",
                name.join(" "),
                100.0 * v,
                100.0 * lo,
                100.0 * hi
            ));
        }
        text.push_str(&format!(
            "\n  results in {}/ (sweep.csv, sweep charts, manifest.json)\n",
            dest.display()
        ));
        say(&text);
    }
    Ok(())
}

pub(super) fn sensitivity(a: SensitivityArgs) -> Result<(), Failure> {
    let c = &a.common;
    let s = setup(c)?;
    let level = match &a.metric {
        Some(id) => s.base.level_ix(id).ok_or_else(|| {
            let ids: Vec<&str> = s.base.levels.iter().map(|l| l.id.as_str()).collect();
            Failure::Usage(format!(
                "--metric: unknown level `{id}`; {}",
                crate::diag::suggest("level", id, &ids)
            ))
        })?,
        None => s.base.top_level(),
    };
    let design = sensitivity_design(&s.base, a.spread);
    let mut models = vec![s.base.clone()];
    for st in &design {
        for v in [st.low, st.high] {
            models.push(with_params(c, &s, &[(st.param.clone(), v)])?);
        }
    }
    let staging = Staging::create(&dest(c, &s.base, "sensitivity"), c.output.force)?;
    let refs: Vec<&Model> = models.iter().collect();
    let bar = progress_bar(s.spec.trials, c.output.quiet);
    let out = run_set(&refs, &s.spec, 0..s.spec.trials, &mut [], &mut |d| bar.set_position(d))?;
    bar.finish_and_clear();
    let level_id = s.base.levels[level].id.clone();
    let k_in_pairs =
        out.paired.first().and_then(|p| p.levels.iter().position(|&(a, _)| a == level)).unwrap_or(level);
    let rows = sensitivity_rows(&design, &out.paired, k_in_pairs);
    let agg = &out.aggregates[0];
    let (lo, hi) = crate::stats::wilson(agg.levels[level].reached, agg.trials, crate::stats::Z95);
    let base = crate::compare::Estimate {
        value: agg.levels[level].reached as f64 / agg.trials.max(1) as f64,
        low: Some(lo),
        high: Some(hi),
    };
    let ctx = Context {
        scenario: s.base.name.clone(),
        variant: s.base.variant.clone(),
        trials: s.spec.trials,
        seed: s.spec.seed,
    };
    let mut files = vec![("sensitivity.csv".to_owned(), explore::sensitivity_csv(&level_id, base, &rows))];
    let d = serde_json::json!({ "kind": "sensitivity", "spread": a.spread, "metric": level_id });
    files.push(("manifest.json".into(), manifest_json(&s, c, d)));
    if c.charts.charts != Formats::None {
        files.extend(render_tornado(&ctx, &level_id, base.value, &rows, &c.charts.options())?);
    }
    write_all(&staging, files)?;
    let dest = staging.commit()?;
    if !c.output.quiet {
        let mut text = format!(
            "{}: sensitivity of P({level_id}) = {:.2}% [{:.2}, {:.2}] to each param x (1 -/+ {}), {} trials, seed {}\n\n",
            s.base.name,
            100.0 * base.value,
            100.0 * lo,
            100.0 * hi,
            a.spread,
            s.spec.trials,
            s.spec.seed
        );
        text.push_str(&format!(
            "  {:<36} {:>21}  {:>9}  {:>9}  {:>9}\n",
            "param", "low - high", "P(low)", "P(high)", "swing"
        ));
        for r in &rows {
            text.push_str(&format!(
                "  {:<36} {:>21}  {:>8.2}%  {:>8.2}%  {:>6.2} pts\n",
                r.setting.param,
                format!("{} - {}", trim(r.setting.low), trim(r.setting.high)),
                100.0 * r.low.value,
                100.0 * r.high.value,
                100.0 * r.swing()
            ));
        }
        text.push_str(&format!(
            "\n  results in {}/ (sensitivity.csv, tornado charts, manifest.json)\n",
            dest.display()
        ));
        say(&text);
    }
    Ok(())
}
