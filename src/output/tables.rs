//! The aggregate CSV files: `levels.csv`, `tallies.csv`, `steps.csv`, `daily.csv`,
//! `paths.csv`. Each is a function from the model and the aggregate to bytes, so every
//! format can be checked in memory by tests.

use crate::sim::model::Model;
use crate::sim::stats::{wilson, Aggregate, MAX_PATH, Z95};

/// How many escalation paths `paths.csv` lists at most.
pub(crate) const TOP_PATHS: usize = 100;

/// A probability or mean with 6 decimals, as every CSV file of brink writes them.
pub(crate) fn f6(x: f64) -> String {
    format!("{x:.6}")
}

fn day(x: Option<f64>) -> String {
    x.map(|d| format!("{d:.2}")).unwrap_or_default()
}

fn finish(w: csv::Writer<Vec<u8>>) -> Vec<u8> {
    w.into_inner().unwrap_or_default()
}

/// `levels.csv`: per level, P(reached) with its Wilson 95% interval and the
/// 10th/50th/90th percentile of the first-reached day.
pub fn levels(model: &Model, agg: &Aggregate) -> Vec<u8> {
    levels_with(model, agg, None)
}

/// `levels.csv` with the given 95% intervals of P(reached), one per level, in place of
/// the Wilson intervals (None: Wilson), for trials that are not independent.
pub(crate) fn levels_with(model: &Model, agg: &Aggregate, intervals: Option<&[(f64, f64)]>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "level",
        "label",
        "terminal",
        "p_reached",
        "p_low",
        "p_high",
        "trials_reached",
        "day_p10",
        "day_p50",
        "day_p90",
        "p_highest",
        "p_final",
    ]);
    let n = agg.trials;
    for (l, level) in model.levels.iter().enumerate() {
        let acc = &agg.levels[l];
        let (lo, hi) = match intervals.and_then(|iv| iv.get(l)) {
            Some(&iv) => iv,
            None => wilson(acc.reached, n, Z95),
        };
        let _ = w.write_record([
            level.id.clone(),
            level.label.clone(),
            level.terminal.to_string(),
            f6(ratio(acc.reached, n)),
            f6(lo),
            f6(hi),
            acc.reached.to_string(),
            day(agg.first_day_percentile(l, 0.10)),
            day(agg.first_day_percentile(l, 0.50)),
            day(agg.first_day_percentile(l, 0.90)),
            f6(ratio(acc.max_here, n)),
            f6(ratio(acc.final_here, n)),
        ]);
    }
    finish(w)
}

fn ratio(k: u64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        k as f64 / n as f64
    }
}

/// `tallies.csv`: per tally, mean, standard deviation, percentiles, maximum, P(> 0).
pub fn tallies(model: &Model, agg: &Aggregate) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["tally", "label", "mean", "sd", "p5", "p50", "p95", "max", "p_positive"]);
    for (t, tally) in model.tallies.iter().enumerate() {
        let acc = &agg.tallies[t];
        let (mean, sd) = agg.tally_mean_sd(t);
        let pct = |q| acc.hist.percentile(q).map(|x| x.to_string()).unwrap_or_default();
        let max = acc.hist.iter().last().map(|(x, _)| x.to_string()).unwrap_or_default();
        let _ = w.write_record([
            tally.id.clone(),
            tally.label.clone(),
            f6(mean),
            f6(sd),
            pct(0.05),
            pct(0.50),
            pct(0.95),
            max,
            f6(ratio(acc.positive, agg.trials)),
        ]);
    }
    finish(w)
}

/// `tally_distribution.csv`, tidy: for each tally, every total that occurred and in how
/// many trials (the histograms behind `tallies.csv` and the tallies chart).
pub fn tally_distribution(model: &Model, agg: &Aggregate) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["tally", "value", "trials", "share"]);
    for (t, tally) in model.tallies.iter().enumerate() {
        for (x, n) in agg.tallies[t].hist.iter() {
            let _ =
                w.write_record([tally.id.clone(), x.to_string(), n.to_string(), f6(ratio(n, agg.trials))]);
        }
    }
    finish(w)
}

/// `steps.csv`: per step, mean firings per trial and P(fired at least once).
pub fn steps(model: &Model, agg: &Aggregate) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["step", "label", "actor", "mean_count", "p_fired"]);
    for (s, step) in model.steps.iter().enumerate() {
        let acc = &agg.steps[s];
        let mean = if agg.trials == 0 { 0.0 } else { acc.sum as f64 / agg.trials as f64 };
        let _ = w.write_record([
            step.id.clone(),
            step.label.clone(),
            step.actor.clone(),
            f6(mean),
            f6(ratio(acc.fired, agg.trials)),
        ]);
    }
    finish(w)
}

/// `daily.csv`, tidy: for each day and level, the share of trials at that level at the
/// end of the day and the probability of having reached it by then.
pub fn daily(model: &Model, agg: &Aggregate) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["day", "date", "level", "share", "p_reached"]);
    let occ: Vec<Vec<u64>> = (0..model.levels.len()).map(|l| agg.occupancy(l)).collect();
    let by: Vec<Vec<u64>> = (0..model.levels.len()).map(|l| agg.reached_by(l)).collect();
    for d in 0..model.horizon_days as usize {
        let date = model.start.map(|s| s.plus_days(d as i64).to_string()).unwrap_or_default();
        for (l, level) in model.levels.iter().enumerate() {
            let _ = w.write_record([
                d.to_string(),
                date.clone(),
                level.id.clone(),
                f6(ratio(occ[l][d], agg.trials)),
                f6(ratio(by[l][d], agg.trials)),
            ]);
        }
    }
    finish(w)
}

/// The `a>b>c` text of a path; `(none)` for trials whose level never rose.
pub(crate) fn path_text(model: &Model, path: &[u32]) -> String {
    if path.is_empty() {
        return "(none)".into();
    }
    let mut s: Vec<&str> = path.iter().take(MAX_PATH).map(|&i| model.steps[i as usize].id.as_str()).collect();
    if path.len() > MAX_PATH {
        s.push("...");
    }
    s.join(">")
}

/// `paths.csv`: the most frequent escalation paths with their shares.
pub fn paths(model: &Model, agg: &Aggregate) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["rank", "path", "trials", "share"]);
    for (rank, (p, n)) in agg.sorted_paths().into_iter().take(TOP_PATHS).enumerate() {
        let _ = w.write_record([
            (rank + 1).to_string(),
            path_text(model, p),
            n.to_string(),
            f6(ratio(n, agg.trials)),
        ]);
    }
    finish(w)
}
