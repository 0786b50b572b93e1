//! `brink fit`: a scenario's params estimated from an event log (docs/fit.md).
//!
//! Pure: a compiled model, the role of each param (which fields it feeds, from
//! [`crate::scenario::param_roles`]) and a log go in, a [`Fit`] comes out; the files are
//! written in `output::fit`. Each kind of param has its own likelihood:
//!
//! - a step's base rate: Poisson, with the exposure weighted by the step's rate windows
//!   and by the rate modifiers that the logged events started (exact Garwood interval,
//!   Gamma posterior under Jeffreys' prior);
//! - a branch p, a trigger p (through the log's `cause` links) and a binomial tally's p:
//!   k of n, Beta posterior under Jeffreys' prior;
//! - a Poisson tally mean: the tally's total over the firings, Garwood interval;
//! - an excitation's `n` and `decay_days` (with the excited step's rate): the exact
//!   exponential-kernel Hawkes likelihood, profile-likelihood intervals.
//!
//! Everything else is listed as not fitted, with the reason.

use crate::analysis::estimate::{self, Baseline, HawkesData, HawkesFit, Interval};
use crate::scenario::log::{Event, EventLog};
use crate::sim::dist::{Amount, Delay};
use crate::sim::model::{Field, LevelChange, Model};

/// Jeffreys' prior for a proportion, Beta(1/2, 1/2).
const JEFFREYS: (f64, f64) = (0.5, 0.5);

/// The data window in days from day 0: events with `from <= day < to` count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    /// First day (inclusive).
    pub from: f64,
    /// End (exclusive).
    pub to: f64,
}

/// A fitted param's distribution as `params.toml` writes it: the posterior, or a
/// distribution of the same centre and 95% range where the posterior has no closed form.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Posterior {
    /// Gamma by mean and shape.
    Gamma {
        /// Mean.
        mean: f64,
        /// Shape.
        shape: f64,
    },
    /// Beta(a, b).
    Beta(f64, f64),
    /// PERT over the 95% interval with the estimate as its mode.
    Pert(f64, f64, f64),
    /// The posterior mean as a fixed number: a branch p beside other fitted branches of
    /// its step, whose joint (Dirichlet) posterior independent distributions would break
    /// (their draws could sum above 1).
    Mean(f64),
}

/// One fitted param.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    /// Param name.
    pub param: String,
    /// The scenario's value (after variant and `--set`; the mean of a distribution).
    pub hand: f64,
    /// Maximum-likelihood estimate with its 95% interval.
    pub value: Interval,
    /// Method, as `fit.csv` names it.
    pub method: &'static str,
    /// Events (rates, tally means) or trials (proportions) behind the estimate.
    pub n: u64,
    /// Exposure in days, for rates.
    pub exposure_days: Option<f64>,
    /// The posterior (or an equivalent) for `params.toml`.
    pub posterior: Posterior,
    /// The interval against which the scenario's value is judged: one whose coverage is at
    /// least 95% (Garwood for rates, Clopper-Pearson for proportions, the profile interval
    /// for Hawkes params); `None` below [`MIN_JUDGED`] trials, where any value fits.
    pub check: Option<Interval>,
    /// What the param is, in the scenario's words ("rate of front_group_rockets").
    pub what: String,
}

/// A param that the log cannot fit, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Unfitted {
    /// Param name.
    pub param: String,
    /// The scenario's value.
    pub hand: f64,
    /// Why not.
    pub reason: String,
}

/// A check of the Poisson assumption on one spontaneous step: the Hawkes model of the
/// step exciting itself, against the plain Poisson model.
#[derive(Debug, Clone, PartialEq)]
pub struct Clustering {
    /// The step, or the steps pooled as one process (`--pool`).
    pub steps: Vec<usize>,
    /// Firings in the window.
    pub k: u64,
    /// The fit.
    pub fit: HawkesFit,
}

/// A step's counts by month beside what the fitted models expect, for the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The step, or the steps pooled as one process.
    pub steps: Vec<usize>,
    /// The months (or 30-day blocks without a start date) of the window.
    pub months: Vec<MonthCount>,
}

/// One month of a [`Series`], each value a mean per history.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthCount {
    /// `YYYY-MM`, or `day A-B` without a start date.
    pub label: String,
    /// Spontaneous firings logged.
    pub observed: f64,
    /// Expected under the fitted Poisson rate (with windows and modifiers).
    pub poisson: f64,
    /// Expected under the fitted self-exciting model, given the logged past.
    pub hawkes: Option<f64>,
}

/// Everything `brink fit` found.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// The data window.
    pub span: Span,
    /// Histories in the log.
    pub histories: u64,
    /// Log rows inside the window.
    pub rows: u64,
    /// Fitted params, in the scenario's param order.
    pub fitted: Vec<Fitted>,
    /// Params not fitted, in the scenario's param order.
    pub unfitted: Vec<Unfitted>,
    /// Self-excitation checks of the spontaneous steps with at least [`MIN_CLUSTER`] firings.
    pub clustering: Vec<Clustering>,
    /// Spontaneous steps with their fitted intensity.
    pub series: Vec<Series>,
    /// Remarks on the data (biases the reader should know of).
    pub notes: Vec<String>,
}

/// Fewest trials for judging a scenario's probability against the record: with one or
/// two, any value short of 0 or 1 is consistent with it.
pub const MIN_JUDGED: u64 = 3;

/// A proportion's check interval (see [`Fitted::check`]).
fn judged(k: u64, n: u64) -> Option<Interval> {
    (n >= MIN_JUDGED).then(|| estimate::clopper_pearson(k, n))
}

/// Fewest firings for a binomial tally's p: the people one event hurts are not
/// independent trials, so the firings, not the trials, carry the information.
pub const MIN_BINOMIAL_FIRINGS: u64 = 5;

/// Fewest firings for a self-excitation check: below this the Hawkes likelihood is flat.
pub const MIN_CLUSTER: u64 = 10;

/// One history of the log, replayed: what a fit needs to know at each firing.
struct History<'l> {
    events: Vec<&'l Event>,
    /// Each event's index in the whole log (what `cause` refers to).
    index: Vec<usize>,
    /// The level after each event.
    level_after: Vec<usize>,
    /// The time a terminal level ended the history, if one did.
    end: f64,
    /// How many histories this one stands for: 1, or the number of histories in which
    /// nothing was logged (all alike).
    weight: f64,
}

fn histories<'l>(model: &Model, log: &'l EventLog) -> Vec<History<'l>> {
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
fn exposure(model: &Model, s: usize, h: &History, span: Span) -> (Baseline, f64) {
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

fn inside(span: Span, day: f64) -> bool {
    span.from <= day && day < span.to
}

/// The posterior-equivalent of an interval that has no closed-form posterior: a Gamma
/// with the same mean and a standard deviation of a quarter of the 95% range.
fn gamma_like(v: Interval) -> Posterior {
    let sd = ((v.high - v.low) / 3.92).max(v.estimate * 1e-3);
    let shape = (v.estimate / sd).powi(2).max(0.5);
    Posterior::Gamma { mean: v.estimate, shape }
}

/// Estimates the params of `model` from `log` over `span`. `found[i]` lists the fields
/// param i feeds.
/// `pools` are groups of steps whose firings are also checked as one process (all the
/// militia's attack steps, say): their base multiplier is the steps' multipliers weighted
/// by their fitted rates.
pub fn fit(
    model: &Model,
    found: &[Result<Vec<Field>, String>],
    log: &EventLog,
    span: Span,
    pools: &[Vec<usize>],
) -> Fit {
    // A param whose role could not be found plays none here; its reason is given below.
    let owned: Vec<Vec<Field>> = found.iter().map(|r| r.clone().unwrap_or_default()).collect();
    let roles = owned.as_slice();
    let hs = histories(model, log);
    let mut notes: Vec<String> = log.warnings.clone();
    let rows = log.events.iter().filter(|e| inside(span, e.day)).count() as u64;
    let spontaneous = |h: &History, s: usize| -> Vec<f64> {
        h.events
            .iter()
            .filter(|e| e.step == s && e.cause.is_none() && inside(span, e.day))
            .map(|e| e.day)
            .collect()
    };
    // Steps with a rate that can also react: their reactions are told apart only by `cause`.
    for (s, step) in model.steps.iter().enumerate() {
        let reacts = model.triggers.iter().any(|t| t.step == s);
        if step.rate.is_some() && reacts && !log.cause_column {
            notes.push(format!(
                "step `{}` has a rate and also reacts to triggers, and the log has no `cause` column: \
                 its reactions count as spontaneous firings, which biases its rate up",
                step.id
            ));
        }
    }
    let mut fitted = Vec::new();
    let mut unfitted = Vec::new();
    // Self-exciting steps first: one joint fit gives their rate, n and decay.
    let mut hawkes: Vec<(usize, Result<Vec<Fitted>, String>)> = Vec::new();
    for step in &model.steps {
        for br in &step.branches {
            for ex in &br.excite {
                if !hawkes.iter().any(|(t, _)| *t == ex.step) {
                    hawkes.push((ex.step, hawkes_fit(model, roles, ex.step, &hs, span)));
                }
            }
        }
    }
    let from_hawkes = |target: usize, name: &str| -> Option<Result<Fitted, String>> {
        let (_, r) = hawkes.iter().find(|(t, _)| *t == target)?;
        Some(match r {
            Ok(fs) => fs
                .iter()
                .find(|f| f.param == name)
                .cloned()
                .ok_or_else(|| "not fitted with its excitation".into()),
            Err(e) => Err(e.clone()),
        })
    };
    for (i, (name, hand)) in model.params.iter().enumerate() {
        let fields = &roles[i];
        let not = |reason: String| Unfitted { param: name.clone(), hand: *hand, reason };
        if let Err(why) = &found[i] {
            unfitted.push(not(format!("its role could not be found: moving it breaks the scenario ({why})")));
            continue;
        }
        if fields.is_empty() {
            unfitted.push(not(
                "used by no step, branch or trigger (unused, a whole number or a schedule day)".into(),
            ));
            continue;
        }
        let first = fields[0];
        let same_kind = fields.iter().all(|f| std::mem::discriminant(f) == std::mem::discriminant(&first));
        if !same_kind {
            unfitted
                .push(not("plays more than one role in the scenario (e.g. a rate and a multiplier)".into()));
            continue;
        }
        match first {
            Field::Rate(_) => {
                let steps: Vec<usize> = fields.iter().map(|f| if let Field::Rate(s) = f { *s } else { 0 }).collect();
                if steps.len() == 1 && hawkes_target(model, roles, steps[0]).is_some() {
                    match from_hawkes(steps[0], name) {
                        Some(Ok(f)) => fitted.push(f),
                        Some(Err(reason)) => unfitted.push(not(reason)),
                        None => unfitted.push(not("an excited step's rate".into())),
                    }
                    continue;
                }
                let (mut k, mut e) = (0u64, 0.0);
                for h in &hs {
                    for &s in &steps {
                        k += spontaneous(h, s).len() as u64;
                        e += exposure(model, s, h, span).0.exposure();
                    }
                }
                if e <= 0.0 {
                    unfitted.push(not("no exposure in the data window (its windows or `max` close it)".into()));
                    continue;
                }
                let r = estimate::poisson_rate(k, e);
                let ids: Vec<&str> = steps.iter().map(|&s| model.steps[s].id.as_str()).collect();
                fitted.push(Fitted {
                    param: name.clone(),
                    hand: *hand,
                    value: r.rate,
                    method: "poisson-garwood",
                    n: k,
                    exposure_days: Some(e),
                    posterior: Posterior::Gamma { mean: r.posterior_shape / e, shape: r.posterior_shape },
                    check: Some(r.rate),
                    what: format!("rate per day of {}", ids.join(", ")),
                });
            }
            Field::BranchP(..) => {
                let (mut k, mut n) = (0u64, 0u64);
                let mut whats = Vec::new();
                // The branches of a step are one multinomial draw: under Jeffreys' prior
                // Dirichlet(1/2, ..., 1/2) over its m branches, one branch's share has the
                // marginal Beta(k + 1/2, n - k + (m - 1)/2), and the posterior means of all
                // branches sum to 1. (m = 2 gives the Jeffreys interval of a proportion.)
                let mut branches = 2;
                // Whether another branch of the same step has a p that is neither `rest` nor
                // zero: independent betas cannot then describe the joint posterior.
                let mut shared = false;
                for f in fields {
                    let Field::BranchP(s, b) = *f else { continue };
                    let step = &model.steps[s];
                    whats.push(format!("{}.{}", step.id, step.branches[b].id));
                    branches = branches.max(step.branches.len());
                    shared |= step.branches.iter().enumerate().any(|(i, x)| i != b && step.rest != Some(i) && x.p > 0.0);
                    for h in &hs {
                        for e in h.events.iter().filter(|e| e.step == s && inside(span, e.day)) {
                            n += 1;
                            k += u64::from(e.branch == b);
                        }
                    }
                }
                if n == 0 {
                    unfitted.push(not(format!("its step fired no time in the data window ({})", whats.join(", "))));
                    continue;
                }
                let prior = (0.5, 0.5 * (branches - 1) as f64);
                let p = estimate::proportion(k, n, prior);
                let (a, b) = p.posterior;
                fitted.push(Fitted {
                    param: name.clone(),
                    hand: *hand,
                    value: p.p,
                    method: if branches == 2 { "beta-jeffreys" } else { "dirichlet-jeffreys" },
                    n,
                    exposure_days: None,
                    posterior: if shared { Posterior::Mean(a / (a + b)) } else { Posterior::Beta(a, b) },
                    check: judged(k, n),
                    what: format!("p of branch {} ({k} of {n} firings)", whats.join(", ")),
                });
            }
            Field::TriggerP(_) => {
                if !log.cause_column {
                    unfitted.push(not(
                        "a trigger p: not identifiable from this log, which has no `cause` column linking reactions to causes"
                            .into(),
                    ));
                    continue;
                }
                // A reaction without its cause could belong to any trigger, so k is known
                // only where every firing of the reacting step in the window names its
                // cause (a step with a rate may also fire unprovoked: its unlinked firings
                // are those). Then the absence of a reaction is a "no" (docs/data.md).
                let unlinked: Vec<&str> = fields
                    .iter()
                    .filter_map(|f| if let Field::TriggerP(t) = f { Some(model.triggers[*t].step) } else { None })
                    .filter(|&s| model.steps[s].rate.is_none())
                    .filter(|&s| {
                        hs.iter().any(|h| h.events.iter().any(|e| e.step == s && e.cause.is_none() && inside(span, e.day)))
                    })
                    .map(|s| model.steps[s].id.as_str())
                    .collect();
                if let Some(step) = unlinked.first() {
                    unfitted.push(not(format!(
                        "a trigger p: not identifiable from this log, where a firing of `{step}` in the window names no `cause`"
                    )));
                    continue;
                }
                let Chances { k, n, ambiguous, whats, step } = trigger_counts(model, fields, &hs, span);
                if n == 0 {
                    unfitted.push(not(format!("no firing of {} in the data window could have set it off", whats)));
                    continue;
                }
                if ambiguous > 0 {
                    unfitted.push(not(format!(
                        "a trigger p the log cannot tell: between {k} and {} of {n} chances drew a reaction, since \
                         {ambiguous} firing(s) of `{step}` without a cause fall within the delay after a chance",
                        k + ambiguous
                    )));
                    continue;
                }
                let p = estimate::proportion(k, n, JEFFREYS);
                let what = format!("p of reacting to {whats} ({k} of {n} by `cause`)");
                fitted.push(Fitted {
                    param: name.clone(),
                    hand: *hand,
                    value: p.p,
                    method: "trigger-beta-jeffreys",
                    n,
                    exposure_days: None,
                    posterior: Posterior::Beta(p.posterior.0, p.posterior.1),
                    check: judged(k, n),
                    what,
                });
            }
            Field::Amount(..) => match amount_fit(model, fields, &hs, span) {
                Ok(f) => fitted.push(Fitted { param: name.clone(), hand: *hand, ..f }),
                Err(reason) => unfitted.push(not(reason)),
            },
            Field::ExciteN(s, b, x) | Field::ExciteDecay(s, b, x) => {
                let target = model.steps[s].branches[b].excite[x].step;
                match from_hawkes(target, name) {
                    Some(Ok(f)) => fitted.push(f),
                    Some(Err(reason)) => unfitted.push(not(reason)),
                    None => unfitted.push(not("an excitation".into())),
                }
            }
            Field::WindowRateX(..) | Field::ModifierRateX(..) => unfitted.push(not(format!(
                "a rate multiplier: held at the scenario's value, which weights the exposure of the base rate \
                 (for a regime's own rate, fit over it with --from/--to and --set {name}=1)"
            ))),
            Field::ModifierPX(..) => {
                unfitted.push(not("a trigger-p multiplier: held at the scenario's value".into()))
            }
            Field::WindowTime(..) | Field::ModifierDays(..) | Field::TriggerDelay(..) => {
                unfitted.push(not("a time or a duration: brink fit estimates rates and probabilities only".into()))
            }
            Field::Dispersion(..) => {
                unfitted.push(not("a negative binomial dispersion: brink fit does not estimate it".into()))
            }
        }
    }

    // The Poisson assumption, checked on every spontaneous step with enough firings, and
    // on each pool of steps.
    let mut clustering = Vec::new();
    let mut series = Vec::new();
    let bins = month_bins(model, span);
    let mut groups: Vec<Vec<usize>> =
        (0..model.steps.len()).filter(|&s| model.steps[s].rate.is_some()).map(|s| vec![s]).collect();
    groups.extend(pools.iter().cloned());
    for group in groups {
        let Some(data) = group_data(model, &group, &hs, span, &spontaneous) else { continue };
        let k: u64 = data.iter().map(|d| d.targets.len() as u64).sum();
        let exposure_total: f64 = data.iter().map(|d| d.baseline.exposure()).sum();
        let rate = k as f64 / exposure_total;
        // A step that an excitation already feeds was fitted as self-exciting above.
        let excited = group.len() == 1 && hawkes_target(model, roles, group[0]).is_some();
        let hawkes = if k >= MIN_CLUSTER && !excited { estimate::fit_hawkes(&data) } else { None };
        if let Some(fit) = hawkes {
            clustering.push(Clustering { steps: group.clone(), k, fit });
        }
        let per = hs.iter().map(|h| h.weight).sum::<f64>().max(1.0);
        let months = bins
            .iter()
            .map(|(label, a, b)| {
                let observed = data
                    .iter()
                    .map(|d| d.targets.iter().filter(|&&t| *a <= t && t < *b).count())
                    .sum::<usize>() as f64
                    / per;
                let poisson = data.iter().map(|d| rate * integral(&d.baseline, *a, *b)).sum::<f64>() / per;
                let hawkes = hawkes.map(|f| {
                    data.iter()
                        .map(|d| {
                            let h = f.params;
                            h.mu * integral(&d.baseline, *a, *b)
                                + d.exciters
                                    .iter()
                                    .filter(|&&e| e < *b)
                                    .map(|&e| {
                                        let from = e.max(*a);
                                        h.n * ((-(from - e) / h.decay).exp() - (-(*b - e) / h.decay).exp())
                                    })
                                    .sum::<f64>()
                        })
                        .sum::<f64>()
                        / per
                });
                MonthCount { label: label.clone(), observed, poisson, hawkes }
            })
            .collect();
        series.push(Series { steps: group, months });
    }
    Fit { span, histories: log.histories, rows, fitted, unfitted, clustering, series, notes }
}

/// A step's id, or the ids of pooled steps joined by `+`.
pub fn group_name(model: &Model, steps: &[usize]) -> String {
    steps.iter().map(|&s| model.steps[s].id.as_str()).collect::<Vec<_>>().join("+")
}

/// The excitation feeding step `target` whose `n` and `decay_days` are both params, if
/// exactly one excitation targets it.
fn hawkes_target(model: &Model, roles: &[Vec<Field>], target: usize) -> Option<(usize, usize, usize)> {
    let mut found = Vec::new();
    for (s, step) in model.steps.iter().enumerate() {
        for (b, br) in step.branches.iter().enumerate() {
            for (x, ex) in br.excite.iter().enumerate() {
                if ex.step == target {
                    found.push((s, b, x));
                }
            }
        }
    }
    let &[one] = found.as_slice() else { return None };
    let (s, b, x) = one;
    let fed = |f: Field| roles.iter().any(|r| r.len() == 1 && r[0] == f);
    (fed(Field::ExciteN(s, b, x)) && fed(Field::ExciteDecay(s, b, x))).then_some(one)
}

fn hawkes_fit(
    model: &Model,
    roles: &[Vec<Field>],
    target: usize,
    hs: &[History],
    span: Span,
) -> Result<Vec<Fitted>, String> {
    let step_id = &model.steps[target].id;
    let Some((s, b, x)) = hawkes_target(model, roles, target) else {
        return Err(format!(
            "an excitation of `{step_id}`: fitted only when one excitation feeds the step and both its `n` and \
             `decay_days` are params of their own"
        ));
    };
    if model.steps[target].rate.is_none() {
        return Err(format!("an excitation of `{step_id}`, which has no base rate to fit beside it"));
    }
    let data: Vec<HawkesData> = hs
        .iter()
        .map(|h| HawkesData {
            targets: h
                .events
                .iter()
                .filter(|e| e.step == target && inside(span, e.day))
                .map(|e| e.day)
                .collect(),
            exciters: h
                .events
                .iter()
                .filter(|e| e.step == s && e.branch == b && e.day < span.to)
                .map(|e| e.day)
                .collect(),
            baseline: exposure(model, target, h, span).0,
            until: exposure(model, target, h, span).1,
        })
        .collect();
    let k: u64 = data.iter().map(|d| d.targets.len() as u64).sum();
    let e: f64 = data.iter().map(|d| d.baseline.exposure()).sum();
    let Some(f) = estimate::fit_hawkes(&data) else {
        return Err(format!("an excitation of `{step_id}`, which did not fire in the data window"));
    };
    // A fit that explodes or whose kernel outlasts the window describes a trend, not the
    // excitation the scenario has: no params to hand on.
    if f.params.n >= 1.0 {
        return Err(format!(
            "an excitation of `{step_id}`: the fitted branching ratio {:.3} is not below 1 (an exploding \
             process; the log's rise is more likely a trend than self-excitation)",
            f.params.n
        ));
    }
    let span_days = span.to - span.from;
    if f.params.decay >= 0.99 * span_days {
        return Err(format!(
            "an excitation of `{step_id}`: the fitted decay reaches the window's length ({span_days} days), \
             so the kernel acts as a trend and n and decay_days are not identified"
        ));
    }
    let name_of = |field: Field| {
        roles.iter().position(|r| r.len() == 1 && r[0] == field).map(|i| model.params[i].clone())
    };
    let exciter = format!("{}.{}", model.steps[s].id, model.steps[s].branches[b].id);
    let test =
        format!("LR {:.2} (p ~ {:.3}), AIC {:.1} vs Poisson {:.1}", f.lr, f.lr_p, f.aic, f.poisson_aic);
    let mut out = Vec::new();
    let rate_param =
        roles.iter().position(|r| r.as_slice() == [Field::Rate(target)]).map(|i| model.params[i].clone());
    if let Some((p, hand)) = rate_param {
        out.push(Fitted {
            param: p,
            hand,
            value: f.mu,
            method: "hawkes-profile",
            n: k,
            exposure_days: Some(e),
            posterior: gamma_like(f.mu),
            check: Some(f.mu),
            what: format!("base rate per day of {step_id} beside its excitation; {test}"),
        });
    }
    let (pn, hn) = name_of(Field::ExciteN(s, b, x)).expect("checked by hawkes_target");
    let (pd, hd) = name_of(Field::ExciteDecay(s, b, x)).expect("checked by hawkes_target");
    out.push(Fitted {
        param: pn,
        hand: hn,
        value: f.n,
        method: "hawkes-profile",
        n: k,
        exposure_days: Some(e),
        posterior: Posterior::Pert(f.n.low, f.n.estimate, f.n.high.min(1.0 - 1e-9).max(f.n.estimate)),
        check: Some(f.n),
        what: format!("branching ratio of {exciter} on {step_id}; {test}"),
    });
    out.push(Fitted {
        param: pd,
        hand: hd,
        value: f.decay,
        method: "hawkes-profile",
        n: k,
        exposure_days: Some(e),
        posterior: Posterior::Pert(f.decay.low.max(1e-6), f.decay.estimate, f.decay.high),
        check: Some(f.decay),
        what: format!("kernel decay in days of {exciter} on {step_id}"),
    });
    Ok(out)
}

/// What a log says of the triggers fed by one param.
struct Chances {
    /// Chances answered by a reaction that names the chance as its cause.
    k: u64,
    /// Chances.
    n: u64,
    /// Chances without a linked reaction but with an unlinked firing of the reacting step
    /// inside the delay after them: a reaction or not, the log cannot tell.
    ambiguous: u64,
    /// The `after`s, for people.
    whats: String,
    /// The reacting step, for people.
    step: String,
}

/// k reactions of n chances for the triggers fed by one param. A chance is a firing of
/// the trigger's `after` inside the window whose level (after it) meets the guards, whose
/// reaction would fall before the window's end at the delay's 99th percentile, while the
/// reacting step could still fire (`max`, also not reached by another firing within the
/// delay: that chance was pre-empted, not refused), and with no `p_x` modifier on the
/// reacting step (the p is then not the param alone).
fn trigger_counts(model: &Model, fields: &[Field], hs: &[History], span: Span) -> Chances {
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
fn delay_min(d: &Delay) -> f64 {
    match *d {
        Delay::Fixed(x) => x,
        Delay::Uniform(a, _) | Delay::Triangular(a, _, _) => a,
        Delay::Exponential(_) | Delay::Lognormal { .. } => 0.0,
    }
}

/// Index in the whole log of the i-th event of a history: the cause column refers to it.
fn log_index(h: &History, i: usize) -> usize {
    h.index[i]
}

/// A delay's 99th percentile (its maximum where it has one).
fn delay_p99(d: &Delay) -> f64 {
    match *d {
        Delay::Fixed(x) => x,
        Delay::Uniform(_, b) | Delay::Triangular(_, _, b) => b,
        Delay::Exponential(m) => m * 4.605,
        Delay::Lognormal { median, sigma } => median * (2.326 * sigma).exp(),
    }
}

/// Poisson means and binomial ps of tallies, pooled over the branch firings that log
/// the tally (an empty cell is not counted).
fn amount_fit(model: &Model, fields: &[Field], hs: &[History], span: Span) -> Result<Fitted, String> {
    let (mut total, mut n, mut trials) = (0u64, 0u64, 0u64);
    let mut kind = None;
    let mut whats = Vec::new();
    for f in fields {
        let Field::Amount(s, b, ti) = *f else { continue };
        let (tally, amount) = model.steps[s].branches[b].tallies[ti];
        let this = match amount {
            Amount::Poisson(_) => "poisson",
            Amount::Binomial(..) => "binomial",
            Amount::PoissonAtLeastOne(_) => {
                return Err("the mean of a poisson_at_least_one tally: brink fit does not estimate it".into())
            }
            _ => return Err("a negative binomial mean: brink fit does not estimate it".into()),
        };
        if kind.is_some_and(|k| k != this) {
            return Err("feeds tallies of different kinds".into());
        }
        kind = Some(this);
        whats.push(format!(
            "{} of {}.{}",
            model.tallies[tally].id, model.steps[s].id, model.steps[s].branches[b].id
        ));
        for h in hs {
            for e in h.events.iter().filter(|e| e.step == s && e.branch == b && inside(span, e.day)) {
                let Some(v) = e.tallies[tally] else { continue };
                total += v;
                n += 1;
                if let Amount::Binomial(m, _) = amount {
                    trials += m;
                }
            }
        }
    }
    if n == 0 {
        return Err(format!("no counted firing of {} in the data window", whats.join(", ")));
    }
    if kind == Some("binomial") && n < MIN_BINOMIAL_FIRINGS {
        return Err(format!(
            "a binomial tally's p from {n} firing(s): the scenario's {trials} trials are not independent draws \
             when one event hurts them all, so brink fit needs at least {MIN_BINOMIAL_FIRINGS} firings"
        ));
    }
    let what = whats.join(", ");
    Ok(if kind == Some("binomial") {
        let p = estimate::proportion(total.min(trials), trials, JEFFREYS);
        Fitted {
            param: String::new(),
            hand: 0.0,
            value: p.p,
            method: "binomial-beta-jeffreys",
            n,
            exposure_days: None,
            posterior: Posterior::Beta(p.posterior.0, p.posterior.1),
            check: judged(total.min(trials), trials),
            what: format!("binomial p of {what} ({total} of {trials} over {n} firings)"),
        }
    } else {
        let r = estimate::poisson_rate(total, n as f64);
        Fitted {
            param: String::new(),
            hand: 0.0,
            value: r.rate,
            method: "poisson-mean-garwood",
            n,
            exposure_days: None,
            posterior: Posterior::Gamma { mean: r.posterior_shape / n as f64, shape: r.posterior_shape },
            check: Some(r.rate),
            what: format!("mean of {what} ({total} over {n} firings)"),
        }
    })
}

/// The integral of a multiplier over `[a, b)`.
fn integral(m: &Baseline, a: f64, b: f64) -> f64 {
    m.pieces.iter().map(|&(p, q, x)| (q.min(b) - p.max(a)).max(0.0) * x).sum()
}

/// Calendar months of the window (`YYYY-MM`), cut at its ends; 30-day blocks when the
/// scenario has no start date.
fn month_bins(model: &Model, span: Span) -> Vec<(String, f64, f64)> {
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
fn group_data(
    model: &Model,
    group: &[usize],
    hs: &[History],
    span: Span,
    spontaneous: &dyn Fn(&History, usize) -> Vec<f64>,
) -> Option<Vec<HawkesData>> {
    let (baselines, stops): (Vec<Vec<Baseline>>, Vec<Vec<f64>>) =
        group.iter().map(|&s| hs.iter().map(|h| exposure(model, s, h, span)).unzip()).unzip();
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
fn mix(parts: &[(f64, &Baseline)], span: Span) -> Baseline {
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
