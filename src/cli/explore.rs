//! `brink sweep` and `brink sensitivity`: the scenario with params overridden, every
//! setting run on the same seeded trials (common random numbers).
//!
//! With `--shard K/N` either command runs only shard K and writes a shard folder
//! (`counts.json`, and `paired.json` for sensitivity); `brink merge` then writes what one
//! unsharded command writes, through [`finish_sweep`] and [`finish_sensitivity`].

use super::*;
use crate::analysis::compare::{Estimate, Paired, SetOutput};
use crate::analysis::explore::{
    self, grid, parse_axis, sensitivity_design, sensitivity_rows, Axis, LevelCounts,
};
use crate::output::explore::{sensitivity_csv, sweep_csv, trim};
use crate::output::manifest::{explore_manifest, push_folder_manifest, RunRecord};
use crate::output::text::{pct, sig};
use crate::present::charts::explore::{render_sweep, render_tornado, Context, SweepData};
use crate::shard::set::{self, COUNTS_JSON, PAIRED_JSON};
use crate::shard::{Design, RunFacts, SensitivityPart, Shard, ShardManifest, SweepPart, SweepSplit};
use crate::sim::model::Model;
use crate::sim::runner::run_set;

/// Options shared by sweep and sensitivity.
#[derive(Debug, Args)]
#[command(mut_arg("trials", |a| a.help("Number of trials of every setting (default: the file's `trials`)")))]
#[command(mut_arg("seed", |a| a.help("Seed, shared by every setting (default: the file's `seed`)")))]
#[command(mut_arg("out", |a| a.help("Results folder (default: output/<scenario>[-<variant>]-sweep or -sensitivity)")))]
pub(super) struct ExploreArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    #[command(flatten)]
    common: SimulateArgs,
    /// Simulate only shard K of N into a shard folder for `brink merge` (default folder:
    /// the results folder's name with -shard-K-of-N).
    #[arg(long, value_name = "K/N", value_parser = Shard::parse)]
    shard: Option<Shard>,
}

#[derive(Debug, Args)]
pub(super) struct SweepArgs {
    #[command(flatten)]
    common: ExploreArgs,
    /// A param and its values, NAME=FROM:TO:STEPS (once or twice: a line or a grid).
    #[arg(long = "param", required = true, value_name = "NAME=FROM:TO:STEPS", value_parser = parse_axis)]
    axes: Vec<Axis>,
    /// With --shard: give each shard a share of the trials of every grid point, or a
    /// share of the grid points with all their trials.
    #[arg(long, value_enum, value_name = "HOW", default_value = "trials", requires = "shard")]
    shard_by: SweepSplit,
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

/// Everything a sweep or sensitivity run shares once the scenario is loaded (from the
/// command line, or from the shards being merged).
pub(super) struct Setup {
    pub(super) base: Model,
    pub(super) source: String,
    pub(super) file: String,
    pub(super) spec: RunSpec,
    /// `--set`, applied after the variant and the params file.
    pub(super) sets: Vec<(String, f64)>,
    /// `--params FILE`, applied after the variant.
    pub(super) params: Option<std::sync::Arc<scenario::ParamsFile>>,
}

impl Setup {
    fn sets_text(&self) -> Vec<String> {
        sets_text(&self.sets)
    }

    /// The manifest of shard `sh` with `design` over `trials`.
    fn shard_manifest(&self, design: Design, sh: Shard, trials: std::ops::Range<u64>) -> ShardManifest {
        let sets = self.sets_text();
        let facts = RunFacts {
            scenario_file: &self.file,
            source: self.source.as_bytes(),
            sets: &sets,
            params_file: self.params.as_deref(),
            spec: &self.spec,
        };
        ShardManifest::new(design, &self.base, &facts, sh, trials)
    }

    /// The files the results folder must not replace: the scenario and the params file.
    fn inputs(&self) -> Vec<&Path> {
        std::iter::once(Path::new(&self.file))
            .chain(self.params.as_deref().map(|p| Path::new(&p.file)))
            .collect()
    }

    /// The context the charts print.
    fn context(&self) -> Context {
        Context {
            scenario: self.base.name.clone(),
            variant: self.base.variant.clone(),
            trials: self.spec.trials,
            seed: self.spec.seed,
        }
    }
}

/// The setup and settled options of a sweep or sensitivity run of `kind`.
fn setup(a: &ExploreArgs, kind: &str) -> Result<(Setup, Settled), Failure> {
    let (base, source, ov) = load(&a.scenario)?;
    let s = a.common.settle(&base, || default_out(&base.name, base.variant.as_deref(), Some(kind), a.shard));
    let setup = Setup {
        file: a.scenario.scenario.display().to_string(),
        spec: s.spec.clone(),
        sets: a.scenario.set.sets.clone(),
        params: ov.params,
        base,
        source,
    };
    Ok((setup, s))
}

/// The scenario compiled with extra overrides (after the variant and --set). `by` names
/// where the extra values come from (`--param`, the sensitivity design), so that a bad
/// value is blamed on it rather than on `--set`.
fn with_params(s: &Setup, extra: &[(String, f64)], by: &str) -> Result<Model, Failure> {
    let mut sets = s.sets.clone();
    sets.extend(extra.iter().cloned());
    let ov =
        Overrides { variant: s.base.variant.clone(), sets, params: s.params.clone(), ..Default::default() };
    scenario::compile_str(&s.file, &s.source, &ov).map_err(|mut d| {
        // The compiler sees every override as a --set; a swept param never comes from
        // --set (sweep refuses both), so its messages are reworded for the real source.
        for item in &mut d.items {
            for (k, _) in extra {
                item.message = item
                    .message
                    .replace(&format!("`{k}`, as set by --set)"), &format!("`{k}`, as set by {by})"))
                    .replace(&format!("--set {k}=...:"), &format!("{by} {k}=...:"))
                    .replace(&format!("--set {k}:"), &format!("{by} {k}:"));
            }
        }
        Failure::Load(LoadError::Invalid(d))
    })
}

/// `--out`, or output/<scenario>[-<variant>]-<kind>: where `brink merge` writes.
pub(super) fn dest(out: &Option<PathBuf>, base: &Model, kind: &str) -> PathBuf {
    out.clone().unwrap_or_else(|| default_out(&base.name, base.variant.as_deref(), Some(kind), None))
}

/// The `manifest.json` of a sweep or sensitivity folder of this `format` (without its
/// `files`, which [`push_folder_manifest`] adds).
fn manifest_json(s: &Setup, design: serde_json::Value, format: &str) -> serde_json::Value {
    let run = RunRecord {
        file: &s.file,
        source: &s.source,
        model: &s.base,
        sets: s.sets_text(),
        params_file: s.params.as_deref().map(crate::output::manifest::ParamsFileRecord::of),
        seed: s.spec.seed,
        trials: s.spec.trials,
    };
    explore_manifest(format, &run, design)
}

use crate::output::guard::{SENSITIVITY_FORMAT, SWEEP_FORMAT};

/// Runs `models` on `trials` in lockstep, with a progress bar.
fn simulate(
    models: &[Model],
    s: &Setup,
    trials: std::ops::Range<u64>,
    quiet: bool,
) -> Result<(SetOutput, f64), Failure> {
    if models.is_empty() {
        // A sweep's shard of grid points may hold none (more shards than points).
        return Ok((SetOutput { aggregates: Vec::new(), paired: Vec::new() }, 0.0));
    }
    let refs: Vec<&Model> = models.iter().collect();
    let bar = progress_bar(trials.end - trials.start, quiet);
    let started = Instant::now();
    let mut out = SetOutput::empty(&refs);
    run_set(&refs, &s.spec, trials, &|| SetOutput::empty(&refs), &mut out, &mut |d| bar.set_position(d))?;
    bar.finish_and_clear();
    Ok((out, started.elapsed().as_secs_f64()))
}

/// The sweep's setup, settled options and one compiled model per grid point (in `grid`
/// order).
fn sweep_models(a: &SweepArgs) -> Result<(Setup, Settled, Vec<Model>), Failure> {
    if a.axes.len() > 2 {
        return Err(Failure::Usage("sweep takes one or two --param axes".into()));
    }
    if a.axes.len() == 2 && a.axes[0].param == a.axes[1].param {
        return Err(Failure::Usage(format!("--param {} is given twice", a.axes[0].param)));
    }
    // The grid would silently override the --set at every point.
    if let Some(ax) = a.axes.iter().find(|ax| a.common.scenario.set.sets.iter().any(|(k, _)| k == &ax.param))
    {
        let p = &ax.param;
        return Err(Failure::Usage(format!(
            "`{p}` is given both to --set and to --param: the sweep sets it at every grid point, \
             so the --set would be ignored; drop --set {p}=... (or sweep another param)"
        )));
    }
    let (s, settled) = setup(&a.common, "sweep")?;
    let points = grid(&a.axes);
    // Every setting compiles before anything runs, so a bad value fails every shard alike.
    let models: Vec<Model> = points
        .iter()
        .map(|p| {
            let extra: Vec<(String, f64)> =
                a.axes.iter().map(|ax| ax.param.clone()).zip(p.iter().copied()).collect();
            with_params(&s, &extra, "--param")
        })
        .collect::<Result<_, _>>()?;
    Ok((s, settled, models))
}

/// What `brink slurm` checks before it writes the jobs of a sharded sweep: every grid
/// point compiles, as it will in each task.
pub(super) fn sweep_plan(a: &SweepArgs) -> Result<Plan, Failure> {
    let (s, _, models) = sweep_models(a)?;
    let by_points = a.common.shard.is_some() && a.shard_by == SweepSplit::Points;
    let n = models.len() as u64;
    Ok(Plan::new(&a.common.common, &s.base, format!("{n} grid points"), by_points.then_some(n)))
}

/// What `brink slurm` checks before it writes the jobs of a sharded sensitivity run:
/// the metric exists and every low and high setting compiles.
pub(super) fn sensitivity_plan(a: &SensitivityArgs) -> Result<Plan, Failure> {
    let (s, _, SensitivityRun { settings: design, .. }) = sensitivity_models(a)?;
    Ok(Plan::new(&a.common.common, &s.base, format!("{} params at low and high", design.len()), None))
}

pub(super) fn sweep(a: SweepArgs) -> Result<(), Failure> {
    let c = &a.common;
    let (s, o, models) = sweep_models(&a)?;
    let points = grid(&a.axes);
    let staging = Staging::create(&o.dest, o.force, &s.inputs())?;
    let all = 0..s.spec.trials;
    let Some(sh) = c.shard else {
        let (out, _) = simulate(&models, &s, all, o.quiet)?;
        let counts: Vec<LevelCounts> = out.aggregates.iter().map(LevelCounts::of).collect();
        let text = finish_sweep(staging, &s, &a.axes, &counts, &o.charts)?;
        if !o.quiet {
            say(&text);
        }
        return Ok(());
    };
    let (point_range, trials) = match a.shard_by {
        SweepSplit::Points => (sh.range(points.len() as u64), all),
        SweepSplit::Trials => (0..points.len() as u64, sh.range(s.spec.trials)),
    };
    let mine = &models[point_range.start as usize..point_range.end as usize];
    let (out, secs) = simulate(mine, &s, trials.clone(), o.quiet)?;
    let sweep = SweepPart {
        axes: a.axes.clone(),
        split: a.shard_by,
        points: points.len() as u64,
        first_point: point_range.start,
        end_point: point_range.end,
    };
    let m = s.shard_manifest(Design::Sweep { sweep }, sh, trials);
    set::write_counts(staging.dir(), &s.base, out.aggregates.iter().map(LevelCounts::of).collect())?;
    finish_shard(staging, m, secs, &[COUNTS_JSON], &s, o.quiet)
}

/// Writes `scenario.toml` and, last, `shard.json` of a sweep or sensitivity shard whose
/// `state` files are written, and commits the folder.
fn finish_shard(
    staging: Staging,
    mut m: ShardManifest,
    secs: f64,
    state: &[&str],
    s: &Setup,
    quiet: bool,
) -> Result<(), Failure> {
    let copy = staging.file(crate::shard::SCENARIO_COPY);
    std::fs::write(&copy, s.source.as_bytes()).map_err(io_at(&copy))?;
    m.wall_seconds = secs;
    m.files = state.iter().map(|f| f.to_string()).collect();
    m.files.extend([crate::shard::SCENARIO_COPY, crate::shard::SHARD_JSON].map(String::from));
    shard_done(staging, &m, quiet)
}

/// Writes `sweep.csv`, `manifest.json` and the sweep charts from every grid point's
/// counts, commits the folder, and returns the terminal summary.
pub(super) fn finish_sweep(
    staging: Staging,
    s: &Setup,
    axes: &[Axis],
    counts: &[LevelCounts],
    opts: &ChartOptions,
) -> Result<String, Failure> {
    let points = grid(axes);
    let n = s.base.levels.len();
    let data = SweepData {
        axes: axes.to_vec(),
        levels: s.base.levels.iter().map(|l| l.id.clone()).collect(),
        p: counts
            .iter()
            .map(|c| {
                (0..n)
                    .map(|l| {
                        let p = c.p(l);
                        (p.value, p.low.unwrap_or(0.0), p.high.unwrap_or(1.0))
                    })
                    .collect()
            })
            .collect(),
    };
    let mut files = vec![("sweep.csv".to_owned(), sweep_csv(axes, &points, &s.base, counts))];
    let design = serde_json::json!({ "kind": "sweep", "axes": axes.iter().map(|ax| serde_json::json!({"param": ax.param, "values": ax.values})).collect::<Vec<_>>() });
    if opts.formats != Formats::None {
        files.extend(render_sweep(&s.context(), &data, opts)?);
    }
    push_folder_manifest(&mut files, manifest_json(s, design, SWEEP_FORMAT));
    write_files(&staging, files)?;
    let dest = staging.commit()?;
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
            axes.iter().zip(p).map(|(ax, v)| format!("{}={}", ax.param, sig(*v, 6))).collect();
        let (v, lo, hi) = row[top];
        text.push_str(&format!("  {:<40} {:>7}  [{}, {}]\n", name.join(" "), pct(v), pct(lo), pct(hi)));
    }
    text.push_str(&format!("\n  results in {}/ (sweep.csv, sweep charts, manifest.json)\n", dest.display()));
    Ok(text)
}

/// The models of a sensitivity design, in run order: the base, then each param's low
/// and high setting, with the names their pairings carry in `paired.json`.
pub(super) fn sensitivity_names(design: &[explore::Setting]) -> Vec<String> {
    let mut names = vec!["base".to_string()];
    for st in design {
        names.extend([st.low, st.high].map(|v| format!("{}={}", st.param, trim(v))));
    }
    names
}

/// What a sensitivity run simulates.
struct SensitivityRun {
    /// The level whose probability is studied.
    level: usize,
    /// Each param's low and high setting.
    settings: Vec<explore::Setting>,
    /// The base, then each param's low and high setting, compiled.
    models: Vec<Model>,
}

/// The sensitivity run's setup, settled options and design.
fn sensitivity_models(a: &SensitivityArgs) -> Result<(Setup, Settled, SensitivityRun), Failure> {
    let (s, settled) = setup(&a.common, "sensitivity")?;
    let level = match &a.metric {
        Some(id) => s.base.level_ix(id).ok_or_else(|| {
            let ids: Vec<&str> = s.base.levels.iter().map(|l| l.id.as_str()).collect();
            Failure::Usage(format!(
                "--metric: unknown level `{id}`; {}",
                crate::scenario::diag::suggest("level", id, &ids)
            ))
        })?,
        None => s.base.top_level(),
    };
    let design = sensitivity_design(&s.base, a.spread);
    let mut models = vec![s.base.clone()];
    for st in &design {
        for v in [st.low, st.high] {
            models.push(with_params(&s, &[(st.param.clone(), v)], "the sensitivity design (--spread)")?);
        }
    }
    Ok((s, settled, SensitivityRun { level, settings: design, models }))
}

pub(super) fn sensitivity(a: SensitivityArgs) -> Result<(), Failure> {
    let c = &a.common;
    let (s, o, SensitivityRun { level, settings: design, models }) = sensitivity_models(&a)?;
    let staging = Staging::create(&o.dest, o.force, &s.inputs())?;
    let trials = c.shard.map_or(0..s.spec.trials, |sh| sh.range(s.spec.trials));
    let (out, secs) = simulate(&models, &s, trials.clone(), o.quiet)?;
    let counts: Vec<LevelCounts> = out.aggregates.iter().map(LevelCounts::of).collect();
    let Some(sh) = c.shard else {
        let text = finish_sensitivity(staging, &s, a.spread, level, &counts[0], &out.paired, &o.charts)?;
        if !o.quiet {
            say(&text);
        }
        return Ok(());
    };
    let sensitivity = SensitivityPart { spread: a.spread, metric: s.base.levels[level].id.clone() };
    let m = s.shard_manifest(Design::Sensitivity { sensitivity }, sh, trials);
    set::write_counts(staging.dir(), &s.base, counts)?;
    let refs: Vec<&Model> = models.iter().collect();
    set::write_paired(staging.dir(), &sensitivity_names(&design), &refs, &out.paired)?;
    finish_shard(staging, m, secs, &[COUNTS_JSON, PAIRED_JSON], &s, o.quiet)
}

/// Writes `sensitivity.csv`, `manifest.json` and the tornado charts from the base's
/// counts and each setting's pairing with the base, commits the folder, and returns the
/// terminal summary.
pub(super) fn finish_sensitivity(
    staging: Staging,
    s: &Setup,
    spread: f64,
    level: usize,
    base_counts: &LevelCounts,
    paired: &[Paired],
    opts: &ChartOptions,
) -> Result<String, Failure> {
    let design = sensitivity_design(&s.base, spread);
    let level_id = s.base.levels[level].id.clone();
    let k_in_pairs =
        paired.first().and_then(|p| p.levels.iter().position(|&(a, _)| a == level)).unwrap_or(level);
    let rows = sensitivity_rows(&design, paired, k_in_pairs);
    let base: Estimate = base_counts.p(level);
    let (lo, hi) = (base.low.unwrap_or(0.0), base.high.unwrap_or(1.0));
    let mut files = vec![("sensitivity.csv".to_owned(), sensitivity_csv(&level_id, base, &rows))];
    let d = serde_json::json!({ "kind": "sensitivity", "spread": spread, "metric": level_id });
    if opts.formats != Formats::None {
        files.extend(render_tornado(&s.context(), &level_id, base.value, &rows, opts)?);
    }
    push_folder_manifest(&mut files, manifest_json(s, d, SENSITIVITY_FORMAT));
    write_files(&staging, files)?;
    let dest = staging.commit()?;
    let mut text = format!(
        "{}: sensitivity of P({level_id}) = {} [{}, {}] to each param x (1 -/+ {}), {} trials, seed {}\n\n",
        s.base.name,
        pct(base.value),
        pct(lo),
        pct(hi),
        spread,
        s.spec.trials,
        s.spec.seed
    );
    // A base P that rests on a handful of trials makes every swing mostly Monte Carlo
    // noise: say so before the table, with the trials that would give some 20 events.
    let hits = base_counts.reached[level];
    if hits < 20 {
        let need = if hits == 0 {
            "many more".to_owned()
        } else {
            // Rounded up to two significant figures: a value to type.
            let n = (s.spec.trials * 20).div_ceil(hits);
            let unit = 10u64.pow((n.ilog10()).saturating_sub(1));
            (n.div_ceil(unit) * unit).to_string()
        };
        text.push_str(&format!(
            "  note: only {hits} of the {} base trials reached {level_id}, so the swings below are mostly \
             Monte Carlo noise;\n  run with --trials {need} for some 20, or look at a lower level (--metric)\n\n",
            s.spec.trials
        ));
    }
    text.push_str(&format!(
        "  {:<36} {:>21}  {:>9}  {:>9}  {:>9}\n",
        "param", "low - high", "P(low)", "P(high)", "swing"
    ));
    for r in &rows {
        text.push_str(&format!(
            "  {:<36} {:>21}  {:>9}  {:>9}  {:>6} pts\n",
            r.setting.param,
            format!("{} - {}", sig(r.setting.low, 6), sig(r.setting.high, 6)),
            pct(r.low.value),
            pct(r.high.value),
            pct(r.swing()).trim_end_matches('%')
        ));
    }
    text.push_str(&format!(
        "\n  results in {}/ (sensitivity.csv, tornado charts, manifest.json)\n",
        dest.display()
    ));
    Ok(text)
}
