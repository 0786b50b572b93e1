//! Trigger chances and reactions for `brink fit`: which firings of a trigger's `after`
//! could have drawn a reaction, which did by the log's `cause` links, and which the log
//! leaves ambiguous.

use super::history::{inside, History};
use super::Span;
use crate::scenario::log::Event;
use crate::sim::dist::Delay;
use crate::sim::model::{Field, Model};

/// What a log says of the triggers fed by one param.
pub(super) struct Chances {
    /// Chances answered by a reaction that names the chance as its cause.
    pub(super) k: u64,
    /// Chances.
    pub(super) n: u64,
    /// Chances without a linked reaction but with an unlinked firing of the reacting step
    /// inside the delay after them: a reaction or not, the log cannot tell.
    pub(super) ambiguous: u64,
    /// The `after`s, for people.
    pub(super) whats: String,
    /// The reacting step, for people.
    pub(super) step: String,
}

/// k reactions of n chances for the triggers fed by one param. A chance is a firing of
/// the trigger's `after` inside the window whose level (after it) meets the guards, whose
/// reaction would fall before the window's end at the delay's 99th percentile, while the
/// reacting step could still fire (`max`, also not reached by another firing within the
/// delay: that chance was pre-empted, not refused), and with no `p_x` modifier on the
/// reacting step (the p is then not the param alone).
pub(super) fn trigger_counts(model: &Model, fields: &[Field], hs: &[History], span: Span) -> Chances {
    let (mut k, mut n, mut ambiguous) = (0u64, 0u64, 0u64);
    let mut whats = Vec::new();
    let mut step = String::new();
    for f in fields {
        let Field::TriggerP(t) = *f else { continue };
        let trig = &model.triggers[t];
        let after = &model.steps[trig.after];
        step = model.steps[trig.step].id.clone();
        whats.push(match trig.after_branch {
            Some(b) => format!("{}.{}", after.id, after.branches[b].id),
            None => after.id.clone(),
        });
        let (early, late) = (delay_min(&trig.delay), delay_p99(&trig.delay));
        for h in hs {
            // The causes answered by this trigger's step within the window, looked up once.
            let answered: std::collections::HashSet<usize> = h
                .events
                .iter()
                .filter(|r| r.step == trig.step && r.day < span.to)
                .filter_map(|r| r.cause)
                .collect();
            let reactions: Vec<&Event> = h.events.iter().copied().filter(|r| r.step == trig.step).collect();
            // When the reacting step used up its `max`, and which firing did it.
            let full = model.steps[trig.step]
                .max
                .and_then(|m| (m as usize).checked_sub(1))
                .and_then(|i| reactions.get(i).copied());
            let mut reacted_count = 0u32;
            let mut px_until: Vec<f64> = Vec::new();
            for (i, e) in h.events.iter().enumerate() {
                if e.day >= span.to {
                    break;
                }
                for m in &model.steps[e.step].branches[e.branch].modify {
                    if m.step == trig.step && m.p_x != 1.0 {
                        px_until.push(e.day + m.days);
                    }
                }
                if e.step == trig.step {
                    reacted_count += 1;
                }
                let is_cause = e.step == trig.after && trig.after_branch.is_none_or(|b| b == e.branch);
                if !is_cause || !inside(span, e.day) || e.day + late >= span.to {
                    continue;
                }
                let level = h.level_after[i];
                if trig.min_level.is_some_and(|l| level < l) || trig.max_level.is_some_and(|l| level > l) {
                    continue;
                }
                if model.steps[trig.step].max.is_some_and(|m| reacted_count >= m) {
                    continue;
                }
                let idx = log_index(h, i);
                if full.is_some_and(|r| e.day < r.day && r.day <= e.day + late && r.cause != Some(idx)) {
                    continue;
                }
                if px_until.iter().any(|&u| e.day < u) {
                    continue;
                }
                n += 1;
                if answered.contains(&idx) {
                    k += 1;
                } else if reactions.iter().any(|r| {
                    r.cause.is_none() && e.day + early <= r.day && r.day <= e.day + late && r.day < span.to
                }) {
                    ambiguous += 1;
                }
            }
        }
    }
    Chances { k, n, ambiguous, whats: whats.join(", "), step }
}

/// A delay's least value (0 where it has no positive minimum).
pub(super) fn delay_min(d: &Delay) -> f64 {
    match *d {
        Delay::Fixed(x) => x,
        Delay::Uniform(a, _) | Delay::Triangular(a, _, _) => a,
        Delay::Exponential(_) | Delay::Lognormal { .. } => 0.0,
    }
}

/// Index in the whole log of the i-th event of a history: the cause column refers to it.
pub(super) fn log_index(h: &History, i: usize) -> usize {
    h.index[i]
}

/// A delay's 99th percentile (its maximum where it has one).
pub(super) fn delay_p99(d: &Delay) -> f64 {
    match *d {
        Delay::Fixed(x) => x,
        Delay::Uniform(_, b) | Delay::Triangular(_, _, b) => b,
        Delay::Exponential(m) => m * 4.605,
        Delay::Lognormal { median, sigma } => median * (2.326 * sigma).exp(),
    }
}
