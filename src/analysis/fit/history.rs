//! The log replayed per history for `brink fit`: levels, the end of a history, the
//! exposure of each step (its windows, the modifiers logged firings started, `max`), pools
//! of steps as one process, and the months of the counts chart.

use super::Span;
use crate::analysis::estimate::{Baseline, HawkesData};
use crate::scenario::log::{Event, EventLog};
use crate::sim::model::{LevelChange, Model};

/// One history of the log, replayed: what a fit needs to know at each firing.
pub(super) struct History<'l> {
    pub(super) events: Vec<&'l Event>,
    /// Each event's index in the whole log (what `cause` refers to).
    pub(super) index: Vec<usize>,
    /// The level after each event.
    pub(super) level_after: Vec<usize>,
    /// The time a terminal level ended the history, if one did.
    pub(super) end: f64,
    /// How many histories this one stands for: 1, or the number of histories in which
    /// nothing was logged (all alike).
    pub(super) weight: f64,
}

pub(super) fn histories<'l>(model: &Model, log: &'l EventLog) -> Vec<History<'l>> {
    // The log's rows come grouped by trial (the reader checks it); a trial without rows
    // is a history in which nothing fired, and all of those share one stand-in of weight
    // their number, so a log naming trial 10^9 costs no more than its rows.
    let mut out: Vec<History<'l>> = Vec::new();
    let mut i = 0;
    while i < log.events.len() {
        let trial = log.events[i].trial;
        let mut j = i;
        while j < log.events.len() && log.events[j].trial == trial {
            j += 1;
        }
        let events: Vec<&Event> = log.events[i..j].iter().collect();
        let mut level = model.initial_level;
        let mut end = f64::INFINITY;
        let mut level_after = Vec::with_capacity(events.len());
        for e in &events {
            match model.steps[e.step].branches[e.branch].level {
                LevelChange::None => {}
                LevelChange::RaiseTo(l) => level = level.max(l),
                LevelChange::LowerTo(l) => level = level.min(l),
            }
            level_after.push(level);
            if model.levels[level].terminal && end.is_infinite() {
                end = e.day;
            }
        }
        out.push(History { events, index: (i..j).collect(), level_after, end, weight: 1.0 });
        i = j;
    }
    let empty = log.histories.saturating_sub(out.len() as u64);
    if empty > 0 {
        out.push(History {
            events: Vec::new(),
            index: Vec::new(),
            level_after: Vec::new(),
            end: f64::INFINITY,
            weight: empty as f64,
        });
    }
    out
}

/// The multiplier of step `s`'s base rate over the window in one history: its rate
/// windows, the rate modifiers started by logged firings (each its own, stacking
/// multiplicatively), zero once the step has fired `max` times or a terminal level ended
/// the history.
pub(super) fn exposure(model: &Model, s: usize, h: &History, span: Span) -> (Baseline, f64) {
    let step = &model.steps[s];
    let mut modifiers: Vec<(f64, f64, f64)> = Vec::new();
    let mut stop = h.end.min(span.to);
    let mut fired = 0u32;
    for e in &h.events {
        if e.day >= span.to {
            break;
        }
        for m in &model.steps[e.step].branches[e.branch].modify {
            if m.step == s && m.rate_x != 1.0 {
                modifiers.push((e.day, e.day + m.days, m.rate_x));
            }
        }
        if e.step == s {
            fired += 1;
            if step.max.is_some_and(|max| fired >= max) {
                stop = stop.min(e.day);
            }
        }
    }
    let stop = stop.max(span.from);
    let mut cuts = vec![span.from, span.to, stop];
    for w in &step.windows {
        cuts.extend([w.from, w.to]);
    }
    for m in &modifiers {
        cuts.extend([m.0, m.1]);
    }
    cuts.retain(|&t| span.from <= t && t <= span.to);
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    let pieces = cuts
        .windows(2)
        .map(|p| {
            let t = p[0];
            let mut m: f64 =
                step.windows.iter().filter(|w| w.from <= t && t < w.to).map(|w| w.rate_x).product();
            m *= modifiers.iter().filter(|x| x.0 <= t && t < x.1).map(|x| x.2).product::<f64>();
            if t >= stop {
                m = 0.0;
            }
            (p[0], p[1], m * h.weight)
        })
        .collect();
    (Baseline { pieces }, stop)
}

pub(super) fn inside(span: Span, day: f64) -> bool {
    span.from <= day && day < span.to
}

/// The integral of a multiplier over `[a, b)`.
pub(super) fn integral(m: &Baseline, a: f64, b: f64) -> f64 {
    m.pieces.iter().map(|&(p, q, x)| (q.min(b) - p.max(a)).max(0.0) * x).sum()
}

/// Calendar months of the window (`YYYY-MM`), cut at its ends; 30-day blocks when the
/// scenario has no start date.
pub(super) fn month_bins(model: &Model, span: Span) -> Vec<(String, f64, f64)> {
    let mut out = Vec::new();
    match model.start {
        Some(start) => {
            let mut t = span.from;
            while t < span.to {
                let d = start.plus_days(t.floor() as i64);
                let next_month = if d.month == 12 {
                    crate::sim::calendar::Date::new(d.year + 1, 1, 1)
                } else {
                    crate::sim::calendar::Date::new(d.year, d.month + 1, 1)
                };
                let end = next_month.map_or(span.to, |n| (n.days() - start.days()) as f64).min(span.to);
                out.push((format!("{:04}-{:02}", d.year, d.month), t, end));
                t = end;
            }
        }
        None => {
            let mut t = span.from;
            while t < span.to {
                let end = (t + 30.0).min(span.to);
                out.push((format!("day {t:.0}-{end:.0}"), t, end));
                t = end;
            }
        }
    }
    out
}

/// The Hawkes data of a group of steps taken as one process, per history: their
/// spontaneous firings, and a base multiplier that mixes the steps' own multipliers in
/// proportion to their fitted Poisson rates (one step: its own). `None` when the group has
/// no exposure or no firing to weigh by.
pub(super) fn group_data(
    group: &[usize],
    hs: &[History],
    exposures: &[Vec<(Baseline, f64)>],
    span: Span,
    spontaneous: &dyn Fn(&History, usize) -> Vec<f64>,
) -> Option<Vec<HawkesData>> {
    let (baselines, stops): (Vec<Vec<Baseline>>, Vec<Vec<f64>>) =
        group.iter().map(|&s| exposures[s].iter().cloned().unzip()).unzip();
    let exposures: Vec<f64> = baselines.iter().map(|b| b.iter().map(Baseline::exposure).sum()).collect();
    if exposures.iter().sum::<f64>() <= 0.0 {
        return None;
    }
    let weights: Vec<f64> = if group.len() == 1 {
        vec![1.0]
    } else {
        let counts: Vec<f64> =
            group.iter().map(|&s| hs.iter().map(|h| spontaneous(h, s).len()).sum::<usize>() as f64).collect();
        let w: Vec<f64> =
            counts.iter().zip(&exposures).map(|(k, e)| if *e > 0.0 { k / e } else { 0.0 }).collect();
        let total: f64 = w.iter().sum();
        if total <= 0.0 {
            return None;
        }
        w.iter().map(|x| x / total).collect()
    };
    let data = hs
        .iter()
        .enumerate()
        .map(|(hi, h)| {
            let mut targets: Vec<f64> = group.iter().flat_map(|&s| spontaneous(h, s)).collect();
            targets.sort_by(f64::total_cmp);
            let mut exciters: Vec<f64> = h
                .events
                .iter()
                .filter(|e| group.contains(&e.step) && e.cause.is_none() && e.day < span.to)
                .map(|e| e.day)
                .collect();
            exciters.sort_by(f64::total_cmp);
            let parts: Vec<(f64, &Baseline)> =
                weights.iter().zip(&baselines).map(|(w, b)| (*w, &b[hi])).collect();
            // A single step stops where its exposure does; a pool when the history ends.
            let until = if group.len() == 1 { stops[0][hi] } else { h.end };
            HawkesData { targets, exciters, baseline: mix(&parts, span), until }
        })
        .collect();
    Some(data)
}

/// The weighted sum of multipliers, piecewise over the union of their cuts.
pub(super) fn mix(parts: &[(f64, &Baseline)], span: Span) -> Baseline {
    if let [(w, b)] = parts {
        if *w == 1.0 {
            return (*b).clone();
        }
    }
    let mut cuts = vec![span.from, span.to];
    for (_, b) in parts {
        for p in &b.pieces {
            cuts.extend([p.0, p.1]);
        }
    }
    cuts.retain(|&t| span.from <= t && t <= span.to);
    cuts.sort_by(f64::total_cmp);
    cuts.dedup();
    let pieces =
        cuts.windows(2).map(|c| (c[0], c[1], parts.iter().map(|(w, b)| w * b.at(c[0])).sum())).collect();
    Baseline { pieces }
}
