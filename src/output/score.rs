//! The files of `brink score` (docs/score.md): `score.csv` (one row per origin x
//! target), `scores.csv` (means and skills) and `pit.csv` (PIT histograms and their
//! uniformity check).

use crate::analysis::score::{Group, PitRow, Row, Rule, Scored, Summary, Target, PIT_BINS};
use crate::output::text::sig;
use crate::sim::model::Model;

/// The origins of a score run, and who forecast.
pub struct ScoreTable<'a> {
    /// The model (target names).
    pub model: &'a Model,
    /// Each origin as people read it (a date, or `day N`) and its day.
    pub origins: &'a [(String, f64)],
    /// Lead (days).
    pub lead: f64,
    /// The forecasters' names; the first is brink's.
    pub forecasters: &'a [&'a str],
    /// The rows.
    pub rows: &'a [Row],
}

fn opt(x: Option<f64>) -> String {
    x.map(|x| sig(x, 6)).unwrap_or_default()
}

/// The summary and scores of one forecast, in `score.csv`'s column order.
fn cells(s: Option<&Scored>, full: bool) -> Vec<String> {
    let Some(s) = s else {
        return vec![String::new(); if full { 8 } else { 5 }];
    };
    let q = |i: usize| s.quantiles.map(|q| q[i].to_string()).unwrap_or_default();
    let mut out = vec![sig(s.mean, 6)];
    if full {
        out.extend([q(0), q(1), q(2)]);
    }
    out.extend([opt(s.crps), sig(s.log, 6), opt(s.brier), opt(s.pit)]);
    out
}

/// `score.csv`: `origin,day,lead_days,target,kind,observed`, brink's forecast (`mean`,
/// `p05`, `median`, `p95`) and scores (`crps`, `log_score`, `brier`, `pit`), then each
/// baseline's mean and scores under its name.
pub fn score_csv(t: &ScoreTable<'_>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head: Vec<String> = ["origin", "day", "lead_days", "target", "kind", "observed"]
        .iter()
        .chain(&["mean", "p05", "median", "p95", "crps", "log_score", "brier", "pit"])
        .map(|s| s.to_string())
        .collect();
    for f in &t.forecasters[1..] {
        for c in ["mean", "crps", "log_score", "brier", "pit"] {
            head.push(format!("{f}_{c}"));
        }
    }
    let _ = w.write_record(&head);
    for r in t.rows {
        let (date, day) = &t.origins[r.origin];
        let mut rec =
            vec![date.clone(), sig(*day, 6), sig(t.lead, 6), r.target.name(t.model), r.target.kind().into()];
        rec.push(r.observed.to_string());
        rec.extend(cells(r.scores[0].as_ref(), true));
        for s in &r.scores[1..] {
            rec.extend(cells(s.as_ref(), false));
        }
        let _ = w.write_record(&rec);
    }
    w.into_inner().unwrap_or_default()
}

/// A group's name: a target's, or `all <kind>` for a kind's average.
pub fn group_name(g: &Group, model: &Model) -> String {
    match g {
        Group::One(t) => t.name(model),
        Group::All(kind) => format!("all {kind}"),
    }
}

/// `scores.csv`: per group of targets, score and forecaster, the origins and rows scored,
/// the events in them and the rows whose log score met its floor, the mean per row, and
/// per baseline the skill (1 - S/S_baseline) and the improvement (S_baseline - S) with
/// their 95% bootstrap intervals over origins.
pub fn scores_csv(model: &Model, forecasters: &[&str], sums: &[Summary]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "target",
        "score",
        "forecaster",
        "origins",
        "rows",
        "events",
        "floored",
        "mean",
        "baseline",
        "skill",
        "skill_low",
        "skill_high",
        "improvement",
        "improvement_low",
        "improvement_high",
    ]);
    for s in sums {
        let head = [
            group_name(&s.group, model),
            s.rule.name().to_owned(),
            forecasters[s.forecaster].to_owned(),
            s.origins.to_string(),
            s.rows.to_string(),
            s.events.to_string(),
            if s.rule == Rule::Log { s.floored.to_string() } else { String::new() },
            sig(s.mean, 6),
        ];
        if s.versus.is_empty() {
            let mut rec = head.to_vec();
            rec.extend(std::iter::repeat_n(String::new(), 7));
            let _ = w.write_record(&rec);
        }
        for v in &s.versus {
            let mut rec = head.to_vec();
            rec.push(forecasters[v.baseline].to_owned());
            match v.skill {
                Some(k) => rec.extend([sig(k.value, 4), sig(k.low, 4), sig(k.high, 4)]),
                None => rec.extend([String::new(), String::new(), String::new()]),
            }
            rec.extend([sig(v.diff.value, 4), sig(v.diff.low, 4), sig(v.diff.high, 4)]);
            let _ = w.write_record(&rec);
        }
    }
    w.into_inner().unwrap_or_default()
}

/// `pit.csv`: per forecaster, the PITs of the counts of steps that fired (all, then each)
/// in ten bins, the chi-square check of uniformity (all steps) and the extreme values with
/// their binomial tail probability.
pub fn pit_csv(model: &Model, forecasters: &[&str], pits: &[PitRow]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head: Vec<String> =
        ["forecaster", "target", "rows", "chi2", "df", "p_value", "extreme", "extreme_p"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    for b in 0..PIT_BINS {
        head.push(format!("bin_{:.1}_{:.1}", b as f64 / PIT_BINS as f64, (b + 1) as f64 / PIT_BINS as f64));
    }
    let _ = w.write_record(&head);
    for p in pits {
        let target = p.step.map_or("all count".to_owned(), |s| Target::Count(s).name(model));
        let (chi2, df, pv) = match p.chi2 {
            Some((c, pv)) => (sig(c, 5), (PIT_BINS - 1).to_string(), sig(pv, 4)),
            None => (String::new(), String::new(), String::new()),
        };
        let mut rec = vec![
            forecasters[p.forecaster].to_owned(),
            target,
            p.bins.iter().sum::<u64>().to_string(),
            chi2,
            df,
            pv,
            p.extreme.to_string(),
            sig(p.extreme_p, 4),
        ];
        rec.extend(p.bins.iter().map(|b| b.to_string()));
        let _ = w.write_record(&rec);
    }
    w.into_inner().unwrap_or_default()
}
