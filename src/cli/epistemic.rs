//! `brink run --epistemic K`: two-loop Monte Carlo. K draws of the uncertain params
//! (outer loop), each run on the same seeded trials (inner loop, common random numbers),
//! so the spread of P(level) across draws shows what parameter uncertainty does to the
//! answer, and rank correlations show which params drive it.

use super::*;
use crate::present::charts::explore::{render_epistemic, Context};
use crate::present::folder::FolderSpec;
use crate::sim::model::Model;
use crate::sim::params::epistemic_draw;
use crate::sim::stats::{percentile, spearman};

/// What an epistemic run needs from `brink run`'s arguments.
pub(super) struct Job<'a> {
    pub scenario: &'a ScenarioArgs,
    pub draws: u64,
    pub trials: Option<u64>,
    pub seed: Option<u64>,
    pub out: Option<PathBuf>,
    pub threads: Option<u64>,
    pub force: bool,
    pub quiet: bool,
    pub max_events: Option<u64>,
    pub charts: ChartOptions,
}

pub(super) fn epistemic(job: Job<'_>) -> Result<(), Failure> {
    let (base, source) = load(job.scenario)?;
    if base.uncertain.is_empty() {
        return Err(Failure::Usage(
            "--epistemic needs params given as distributions (e.g. p = { beta = [4, 1] }); this scenario has none".into(),
        ));
    }
    let file = job.scenario.scenario.display().to_string();
    let trials = job.trials.unwrap_or(base.trials);
    let seed = job.seed.unwrap_or(base.seed);
    let threads = worker_threads(job.threads);
    let spec = RunSpec { trials, seed, threads, max_events: job.max_events.unwrap_or(base.max_events) };
    let dest = job.out.clone().unwrap_or_else(|| {
        let name = match &base.variant {
            Some(v) => format!("{}-{v}-epistemic", base.name),
            None => format!("{}-epistemic", base.name),
        };
        Path::new("output").join(name)
    });
    let staging = Staging::create(&dest, job.force, &[&job.scenario.scenario])?;
    let names: Vec<String> = base.uncertain.iter().map(|u| base.params[u.param].0.clone()).collect();

    // Outer loop: each draw fixes every uncertain param (as --set would) and runs the
    // same trials; draws run one after another so memory stays flat.
    let bar = progress_bar(job.draws * trials, job.quiet);
    let started = Instant::now();
    let mut draws: Vec<Vec<f64>> = Vec::new();
    let mut per_draw: Vec<Vec<f64>> = Vec::new();
    // Trials of each draw that reached each level: the pooled interval needs the counts.
    let mut reached: Vec<Vec<u64>> = Vec::new();
    let mut pooled: Option<crate::sim::stats::Aggregate> = None;
    for k in 0..job.draws {
        let values = epistemic_draw(&base, seed, k);
        let mut sets = job.scenario.sets.clone();
        sets.extend(names.iter().cloned().zip(values.iter().copied()));
        let ov = Overrides { variant: job.scenario.variant.clone(), sets };
        let model: Model =
            scenario::compile_str(&file, &source, &ov).map_err(|d| Failure::Load(LoadError::Invalid(d)))?;
        let done = k * trials;
        let agg = runner::run(&model, &spec, None, &mut |n| bar.set_position(done + n))?;
        per_draw.push(agg.levels.iter().map(|l| l.reached as f64 / agg.trials.max(1) as f64).collect());
        reached.push(agg.levels.iter().map(|l| l.reached).collect());
        match &mut pooled {
            Some(p) => p.merge(&agg),
            None => pooled = Some(agg),
        }
        draws.push(values);
    }
    let secs = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let pooled = pooled.expect("at least one draw");
    // The draws share their trials, so the pooled P's interval comes from the spread of
    // the per-draw estimates, not from K x N independent trials (stats::two_loop_interval).
    let intervals: Vec<(f64, f64)> = (0..base.levels.len())
        .map(|l| {
            let counts: Vec<u64> = reached.iter().map(|r| r[l]).collect();
            crate::sim::stats::two_loop_interval(&counts, trials)
        })
        .collect();

    // params.csv: one row per draw; epistemic.csv: per level, pooled P and its spread
    // across draws, and the rank correlation of each param with P(level).
    let levels = &base.levels;
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head: Vec<String> = vec!["draw".into()];
    head.extend(names.iter().cloned());
    head.extend(levels.iter().map(|l| format!("p_{}", l.id)));
    let _ = w.write_record(&head);
    for (k, (vals, ps)) in draws.iter().zip(&per_draw).enumerate() {
        let mut row = vec![k.to_string()];
        row.extend(vals.iter().map(|v| format!("{v:.6}")));
        row.extend(ps.iter().map(|p| format!("{p:.6}")));
        let _ = w.write_record(&row);
    }
    let params_csv = w.into_inner().unwrap_or_default();
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["level", "p_pooled", "p_median", "p_p5", "p_p95", "param", "rank_correlation"]);
    let mut drivers_top = Vec::new();
    let top = base.top_level();
    for (l, level) in levels.iter().enumerate() {
        let ps: Vec<f64> = per_draw.iter().map(|d| d[l]).collect();
        let pooled_p = pooled.levels[l].reached as f64 / pooled.trials.max(1) as f64;
        let stats = [pooled_p, percentile(&ps, 0.5), percentile(&ps, 0.05), percentile(&ps, 0.95)]
            .map(|x| format!("{x:.6}"));
        let _ = w.write_record([level.id.as_str(), &stats[0], &stats[1], &stats[2], &stats[3], "", ""]);
        for (j, name) in names.iter().enumerate() {
            let xs: Vec<f64> = draws.iter().map(|d| d[j]).collect();
            let rho = spearman(&xs, &ps);
            let _ = w.write_record([
                level.id.as_str(),
                "",
                "",
                "",
                "",
                name,
                &rho.map(|r| format!("{r:.4}")).unwrap_or_default(),
            ]);
            if l == top {
                drivers_top.push((name.clone(), rho.unwrap_or(0.0)));
            }
        }
    }
    let epistemic_csv = w.into_inner().unwrap_or_default();
    drivers_top.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then_with(|| a.0.cmp(&b.0)));

    let ctx = Context { scenario: base.name.clone(), variant: base.variant.clone(), trials, seed };
    let ptop: Vec<f64> = per_draw.iter().map(|d| d[top]).collect();
    let pictures = if job.charts.formats == Formats::None {
        Vec::new()
    } else {
        render_epistemic(&ctx, &levels[top].id, &ptop, &drivers_top, &job.charts)?
    };
    let mut extra = vec!["params.csv".to_owned(), "epistemic.csv".to_owned()];
    extra.extend(pictures.iter().map(|(n, _)| n.clone()));
    let folder = FolderSpec {
        model: &base,
        scenario_file: &file,
        source: source.as_bytes(),
        seed,
        sets: job.scenario.sets.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        threads,
        seconds: secs,
        trials_csv: false,
        extra_files: extra,
        charts: job.charts,
        level_intervals: Some(intervals.clone()),
    };
    let mut files = vec![("params.csv".to_owned(), params_csv), ("epistemic.csv".to_owned(), epistemic_csv)];
    files.extend(pictures);
    for (name, bytes) in &files {
        let path = staging.file(name);
        std::fs::write(&path, bytes).map_err(io_at(&path))?;
    }
    crate::present::folder::write(staging.dir(), &folder, &pooled)?;
    let dest = staging.commit()?;
    if !job.quiet {
        let mut t = format!(
            "{}: two-loop run, {} parameter draws x {} trials (seed {}), uncertain: {}\n\n",
            base.name,
            job.draws,
            trials,
            seed,
            names.join(", ")
        );
        t.push_str(&format!(
            "  {:<20} {:>27}  {:>26}\n",
            "level", "pooled P [95% CI]", "P across draws: median [5%, 95%]"
        ));
        for (l, level) in levels.iter().enumerate() {
            let ps: Vec<f64> = per_draw.iter().map(|d| d[l]).collect();
            t.push_str(&format!(
                "  {:<20} {:>8.2}% [{:>6.2}%, {:>6.2}%]  {:>9.2}% [{:.2}%, {:.2}%]\n",
                level.id,
                100.0 * pooled.levels[l].reached as f64 / pooled.trials.max(1) as f64,
                100.0 * intervals[l].0,
                100.0 * intervals[l].1,
                100.0 * percentile(&ps, 0.5),
                100.0 * percentile(&ps, 0.05),
                100.0 * percentile(&ps, 0.95)
            ));
        }
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
            t.push_str(&format!("    {rho:+.2}  {name}\n"));
        }
        t.push_str(&format!(
            "\n  results in {}/ (params.csv, epistemic.csv, charts, pooled tables, report.html)\n",
            dest.display()
        ));
        say(&t);
    }
    Ok(())
}
