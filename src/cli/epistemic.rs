//! `brink run --epistemic K`: two-loop Monte Carlo. K draws of the uncertain params
//! (outer loop), each run on the same seeded trials (inner loop, common random numbers),
//! so the spread of P(level) across draws shows what parameter uncertainty does to the
//! answer, and rank correlations show which params drive it.

use super::*;
use crate::analysis::epistemic::{epistemic_draw, SpreadCounts};
use crate::analysis::explore::LevelCounts;
use crate::output::epistemic::{epistemic_csv, params_csv, Draws};
use crate::output::text::{distinct, pct, thousands};
use crate::present::charts::explore::{render_epistemic, Context};
use crate::present::folder::FolderSpec;
use crate::sim::accumulate::Reached;
use crate::sim::stats::{percentile, Aggregate};

/// Runs `draws` outer draws of `base` (the scenario of `scenario`, loaded from `source`)
/// with the options `s`, and writes the pooled results folder with the two-loop files.
pub(super) fn epistemic(
    scenario: &ScenarioArgs,
    ov: &Overrides,
    base: Model,
    source: String,
    draws: u64,
    s: &Settled,
) -> Result<(), Failure> {
    if base.uncertain.is_empty() {
        return Err(Failure::Usage(
            "--epistemic needs params given as distributions (e.g. p = { beta = [4, 1] }); this scenario has none".into(),
        ));
    }
    let file = scenario.scenario.display().to_string();
    let spec = &s.spec;
    let (trials, seed) = (spec.trials, spec.seed);
    let staging = Staging::create(&s.dest, s.force, &inputs(scenario))?;
    let names: Vec<String> = base.uncertain.iter().map(|u| base.params[u.param].0.clone()).collect();

    // Outer loop: each draw fixes every uncertain param (as --set would) and runs the
    // same trials; draws run one after another so memory stays flat.
    let bar = progress_bar(draws * trials, s.quiet);
    let started = Instant::now();
    let mut d = Draws { names, values: Vec::new(), p: Vec::new() };
    // Trials of each draw that reached each level, and draws of each trial that reached
    // each level (trial-major): the pooled interval needs both (stats::two_loop_interval).
    let mut reached: Vec<Vec<u64>> = Vec::new();
    let n_levels = base.levels.len();
    let mut per_trial = vec![0u32; trials as usize * n_levels];
    let mut pooled: Option<crate::sim::stats::Aggregate> = None;
    for k in 0..draws {
        let values = epistemic_draw(&base, seed, k);
        let model = draw_model(&file, &source, ov, &d.names, &values)?;
        let done = k * trials;
        let mut total = (Aggregate::new(&model), Reached::new(n_levels));
        let empty = || (Aggregate::new(&model), Reached::new(n_levels));
        runner::run_set(&[&model], spec, 0..trials, &empty, &mut total, &mut |n| bar.set_position(done + n))?;
        let (agg, flags) = total;
        for t in 0..trials as usize {
            for (c, &hit) in per_trial[t * n_levels..(t + 1) * n_levels].iter_mut().zip(flags.trial(t)) {
                *c += u32::from(hit);
            }
        }
        d.p.push(agg.levels.iter().map(|l| l.reached as f64 / agg.trials.max(1) as f64).collect());
        reached.push(agg.levels.iter().map(|l| l.reached).collect());
        match &mut pooled {
            Some(p) => p.merge(&agg),
            None => pooled = Some(agg),
        }
        d.values.push(values);
    }
    let secs = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let pooled = pooled.expect("at least one draw");
    // The draws share their trials, so the pooled P's interval comes from the spread of
    // the per-draw estimates, not from K x N independent trials (stats::two_loop_interval).
    let intervals: Vec<(f64, f64)> = (0..base.levels.len())
        .map(|l| {
            let counts: Vec<u64> = reached.iter().map(|r| r[l]).collect();
            let shares: Vec<u32> = per_trial.iter().skip(l).step_by(n_levels).copied().collect();
            crate::sim::stats::two_loop_interval(&counts, &shares, trials)
        })
        .collect();

    let levels = &base.levels;
    let top = base.top_level();
    let drivers_top = d.drivers(top);
    let mut files = vec![
        ("params.csv".to_owned(), params_csv(&base, &d)),
        ("epistemic.csv".to_owned(), epistemic_csv(&base, &d, &pooled_p(&pooled))),
    ];

    let ctx = Context { scenario: base.name.clone(), variant: base.variant.clone(), trials, seed };
    let pictures = if s.charts.formats == Formats::None {
        Vec::new()
    } else {
        render_epistemic(&ctx, &levels[top].id, &d.level(top), &drivers_top, &s.charts)?
    };
    files.extend(pictures);
    let extra = files.iter().map(|(n, _)| n.clone()).collect();
    let folder = FolderSpec {
        model: &base,
        scenario_file: &file,
        source: source.as_bytes(),
        seed,
        sets: scenario.set.text(),
        params_file: params_record(ov),
        threads: spec.threads,
        seconds: secs,
        trials_csv: false,
        extra_files: extra,
        charts: s.charts,
        level_intervals: Some(intervals.clone()),
        spread: None,
    };
    write_files(&staging, files)?;
    crate::present::folder::write(staging.dir(), &folder, &pooled)?;
    let dest = staging.commit()?;
    if !s.quiet {
        let mut t = format!(
            "{}: two-loop run, {} parameter draws x {} trials (seed {}), uncertain: {}\n\n",
            base.name,
            draws,
            trials,
            seed,
            d.names.join(", ")
        );
        t.push_str(&format!(
            "  {:<20} {:>28}  {:>26}\n",
            "level", "pooled P [95% CI]", "P across draws: median [5%, 95%]"
        ));
        for (l, level) in levels.iter().enumerate() {
            let ps = d.level(l);
            let pooled_p = pooled.levels[l].reached as f64 / pooled.trials.max(1) as f64;
            let (lo, hi) = crate::output::text::pct_bounds(pooled_p, intervals[l].0, intervals[l].1);
            t.push_str(&format!(
                "  {:<20} {:>8} [{:>7}, {:>7}]  {:>9} [{}, {}]\n",
                level.id,
                pct(pooled_p),
                lo,
                hi,
                pct(percentile(&ps, 0.5)),
                pct(percentile(&ps, 0.05)),
                pct(percentile(&ps, 0.95))
            ));
        }
        let top_distinct = per_trial.iter().skip(top).step_by(n_levels).filter(|&&c| c > 0).count();
        t.push_str(&format!(
            "\n  {}: {} of the {} trial runs, in {} distinct trials of the {}\n",
            levels[top].id,
            thousands(pooled.levels[top].reached),
            thousands(pooled.trials),
            thousands(top_distinct as u64),
            thousands(trials)
        ));
        t.push_str(
            "\n  pooled P: the average over all draws and trials. Its 95% CI is the precision of that\n  \
             average (it narrows as draws and trials grow), not a range for P: the draws share their\n  \
             trials, so it counts their spread as well as the Monte Carlo error. P across draws: the\n  \
             spread of the per-draw P (5th to 95th percentile), which parameter uncertainty makes,\n  \
             plus each draw's own Monte Carlo noise; it is not a confidence interval.\n",
        );
        t.push_str(&format!(
            "\n  what drives P({}) (Spearman rank correlation across draws):\n",
            levels[top].id
        ));
        for (name, rho) in drivers_top.iter().take(8) {
            // Marked when its 95% interval at these K draws holds 0 (stats::spearman_zero_bound).
            let noise = if crate::sim::stats::spearman_holds_zero(Some(*rho), draws as usize) {
                "  (95% interval holds 0: not distinguishable from no effect)"
            } else {
                ""
            };
            t.push_str(&format!("    {rho:+.2}  {name}{noise}\n"));
        }
        // With many params some cross the per-param bound by chance: the strongest must
        // pass the family-wise bound (as the report's card and drivers.png say).
        if let (Some(fb), Some((_, top_rho))) =
            (crate::sim::stats::spearman_family_bound(draws as usize, drivers_top.len()), drivers_top.first())
        {
            if drivers_top.len() > 1 {
                let verdict = if top_rho.abs() >= fb {
                    "it passes"
                } else {
                    "none passes, so no param is shown to drive it"
                };
                // Enough decimals to tell the strongest from the bound when they are close.
                let (bound, strongest) = distinct(fb, top_rho.abs(), 3);
                t.push_str(&format!(
                    "    with {} params drawn, the strongest must reach |r| {bound} to stand out (Bonferroni);\n    \
                     it is {strongest}: {verdict}\n",
                    drivers_top.len()
                ));
            }
        }
        t.push_str(&format!(
            "\n  results in {}/ (params.csv, epistemic.csv, charts, pooled tables, report.html)\n",
            dest.display()
        ));
        say(&t);
    }
    Ok(())
}

/// P(reached) of each level over all the trials of an aggregate.
fn pooled_p(agg: &crate::sim::stats::Aggregate) -> Vec<f64> {
    agg.levels.iter().map(|l| l.reached as f64 / agg.trials.max(1) as f64).collect()
}

/// The scenario compiled with each uncertain param fixed at a draw's value, exactly as
/// `--set name=value` would fix it (after the variant and `--params`).
fn draw_model(
    file: &str,
    source: &str,
    ov: &Overrides,
    names: &[String],
    values: &[f64],
) -> Result<Model, Failure> {
    let mut ov = ov.clone();
    ov.sets.extend(names.iter().cloned().zip(values.iter().copied()));
    scenario::compile_str(file, source, &ov).map_err(|d| Failure::Load(LoadError::Invalid(d)))
}

/// The spread of a predictive run (docs/uncertainty.md): draws `range` of `total` draws
/// of the uncertain params of `base` (loaded from `source` with `ov`), each compiled at
/// its values and run on trials `0..trials` of the run's seed, counting the levels
/// reached. The draws are `--epistemic`'s (`epistemic_draw`), so each draw's P equals
/// that of `--epistemic K --trials N`. Calls `progress` with the trials done.
#[allow(clippy::too_many_arguments)]
pub(super) fn spread_pass(
    file: &str,
    source: &str,
    ov: &Overrides,
    base: &Model,
    spec: &RunSpec,
    total: u64,
    range: std::ops::Range<u64>,
    trials: u64,
    progress: &mut dyn FnMut(u64),
) -> Result<SpreadCounts, Failure> {
    let names: Vec<String> = base.uncertain.iter().map(|u| base.params[u.param].0.clone()).collect();
    let inner = RunSpec { trials, ..spec.clone() };
    let empty = || LevelCounts { trials: 0, reached: vec![0; base.levels.len()] };
    let mut counts = Vec::with_capacity((range.end - range.start) as usize);
    for (i, k) in range.clone().enumerate() {
        let model = draw_model(file, source, ov, &names, &epistemic_draw(base, spec.seed, k))?;
        let mut c = empty();
        let done = i as u64 * trials;
        runner::run_set(&[&model], &inner, 0..trials, &empty, &mut c, &mut |n| progress(done + n))?;
        counts.push(c);
    }
    Ok(SpreadCounts { draws: total, trials, first: range.start, counts })
}

/// The files of a predictive run's spread, from all its draws: `params.csv` (each draw's
/// values and P(level)), `epistemic.csv` (per level the P pooled over the draws, the
/// median and 5th and 95th percentile across draws, the rank correlations) and the
/// `epistemic` and `drivers` charts, as `--epistemic` writes them.
pub(super) fn spread_files(
    base: &Model,
    seed: u64,
    spread: &SpreadCounts,
    charts: &ChartOptions,
) -> Result<Vec<(String, Vec<u8>)>, Failure> {
    let names: Vec<String> = base.uncertain.iter().map(|u| base.params[u.param].0.clone()).collect();
    let values = (spread.first..spread.first + spread.counts.len() as u64)
        .map(|k| epistemic_draw(base, seed, k))
        .collect();
    let p = (0..spread.counts.len())
        .map(|i| {
            let c = &spread.counts[i];
            c.reached.iter().map(|&r| r as f64 / c.trials.max(1) as f64).collect()
        })
        .collect();
    let d = Draws { names, values, p };
    let mut all = LevelCounts { trials: 0, reached: vec![0; base.levels.len()] };
    for c in &spread.counts {
        all.merge(c);
    }
    let pooled: Vec<f64> = all.reached.iter().map(|&r| r as f64 / all.trials.max(1) as f64).collect();
    let top = base.top_level();
    let mut files = vec![
        ("params.csv".to_owned(), params_csv(base, &d)),
        ("epistemic.csv".to_owned(), epistemic_csv(base, &d, &pooled)),
    ];
    if charts.formats != Formats::None {
        let ctx = Context {
            scenario: base.name.clone(),
            variant: base.variant.clone(),
            trials: spread.trials,
            seed,
        };
        files.extend(render_epistemic(&ctx, &base.levels[top].id, &d.level(top), &d.drivers(top), charts)?);
    }
    Ok(files)
}
