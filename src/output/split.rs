//! The files of `brink run --split`: `split.csv` (one row per level) and
//! `replications.csv` (one row per replication and level), from a
//! [`SplitRun`](crate::sim::split::SplitRun).

use crate::sim::model::Model;
use crate::sim::split::SplitRun;

/// A probability or error with six significant digits, exact 0 and 1 as such: the rungs
/// splitting is for are far below what six decimals show.
pub fn sig(x: f64) -> String {
    if x == 0.0 || x == 1.0 {
        format!("{x:.0}")
    } else if x.is_nan() {
        String::new()
    } else {
        format!("{x:.5e}")
    }
}

/// `split.csv`: per level, the estimate and its 95% interval, its standard error and
/// relative error, what its stage did, the conditional probability given the rung
/// below, the median first day, and the plain Monte Carlo trials that would give the same
/// standard error.
pub fn csv(model: &Model, run: &SplitRun) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "level",
        "label",
        "terminal",
        "p_reached",
        "p_low",
        "p_high",
        "std_error",
        "relative_error",
        "stage_hits",
        "stage_continuations",
        "p_given_level_below",
        "median_day",
        "plain_trials_equivalent",
        "replications_at_zero",
    ]);
    for (l, level) in model.levels.iter().enumerate() {
        let e = run.estimate(l);
        let above = l > run.initial;
        let rel = if above && e.p > 0.0 { sig(e.se / e.p) } else { String::new() };
        let equivalent = if above && e.se > 0.0 {
            format!("{:.0}", e.p * (1.0 - e.p) / (e.se * e.se))
        } else {
            String::new()
        };
        let _ = w.write_record([
            level.id.clone(),
            level.label.clone(),
            level.terminal.to_string(),
            sig(e.p),
            sig(e.low),
            sig(e.high),
            sig(e.se),
            rel,
            if above { e.hits.to_string() } else { String::new() },
            if above { e.continuations.to_string() } else { String::new() },
            if above && !e.conditional.is_nan() { sig(e.conditional) } else { String::new() },
            if e.median_day.is_nan() { String::new() } else { format!("{:.2}", e.median_day) },
            equivalent,
            if above { e.zeros.to_string() } else { String::new() },
        ]);
    }
    w.into_inner().unwrap_or_default()
}

/// `replications.csv`: each replication's estimate of every level above the initial
/// one and its stage's hits, the numbers the interval is computed from.
pub fn replications_csv(model: &Model, run: &SplitRun) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["replication", "level", "p_reached", "stage_hits"]);
    for (r, rep) in run.replications.iter().enumerate() {
        for l in run.initial + 1..model.levels.len() {
            let _ = w.write_record([
                r.to_string(),
                model.levels[l].id.clone(),
                sig(rep.p[l]),
                rep.hits[l].to_string(),
            ]);
        }
    }
    w.into_inner().unwrap_or_default()
}

/// `compare_split.csv` of `brink compare --split`: per run and level (levels matched by
/// id with the first run's), the estimate and its interval, and against the first run the
/// paired difference and ratio with their 95% intervals.
pub fn compare_csv(runs: &[(&str, &Model, &SplitRun)]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "run",
        "level",
        "p_reached",
        "p_low",
        "p_high",
        "difference",
        "difference_low",
        "difference_high",
        "ratio",
        "ratio_low",
        "ratio_high",
        "replications_at_zero",
    ]);
    let (_, m0, r0) = runs[0];
    for &(name, m, run) in runs {
        for (l, level) in m.levels.iter().enumerate() {
            let e = run.estimate(l);
            let mut row = vec![name.to_owned(), level.id.clone(), sig(e.p), sig(e.low), sig(e.high)];
            match m0.levels.iter().position(|x| x.id == level.id) {
                Some(l0) if !std::ptr::eq(run, r0) => {
                    let d = crate::sim::split::paired(r0, l0, run, l);
                    row.extend([d.difference, d.difference_low, d.difference_high].map(signed));
                    row.extend([d.ratio, d.ratio_low, d.ratio_high].map(sig));
                }
                _ => row.extend(std::iter::repeat_n(String::new(), 6)),
            }
            row.push(if l > run.initial { e.zeros.to_string() } else { String::new() });
            let _ = w.write_record(&row);
        }
    }
    w.into_inner().unwrap_or_default()
}

/// A difference with six significant digits and its sign.
fn signed(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else {
        format!("{x:+.5e}")
    }
}

/// `replications.csv` of `brink compare --split`: as a run's, with the run's name first.
pub fn compare_replications_csv(runs: &[(&str, &Model, &SplitRun)]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["run", "replication", "level", "p_reached", "stage_hits"]);
    for &(name, model, run) in runs {
        for (r, rep) in run.replications.iter().enumerate() {
            for l in run.initial + 1..model.levels.len() {
                let _ = w.write_record([
                    name.to_owned(),
                    r.to_string(),
                    model.levels[l].id.clone(),
                    sig(rep.p[l]),
                    rep.hits[l].to_string(),
                ]);
            }
        }
    }
    w.into_inner().unwrap_or_default()
}
