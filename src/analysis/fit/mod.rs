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
use crate::scenario::log::EventLog;
use crate::sim::dist::Amount;
use crate::sim::model::{Field, Model};

mod history;
mod trigger;

use history::{exposure, group_data, histories, inside, integral, month_bins, History};
use trigger::{trigger_counts, Chances};

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
    // Each step's exposure in each history, worked out once: rates, Hawkes fits and the
    // self-excitation checks all need it.
    let exposures: Vec<Vec<(Baseline, f64)>> =
        (0..model.steps.len()).map(|s| hs.iter().map(|h| exposure(model, s, h, span)).collect()).collect();
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
                    hawkes.push((ex.step, hawkes_fit(model, roles, ex.step, &hs, &exposures[ex.step], span)));
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
                for (hi, h) in hs.iter().enumerate() {
                    for &s in &steps {
                        k += spontaneous(h, s).len() as u64;
                        e += exposures[s][hi].0.exposure();
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
        let Some(data) = group_data(&group, &hs, &exposures, span, &spontaneous) else { continue };
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
    exposures: &[(Baseline, f64)],
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
        .zip(exposures)
        .map(|(h, (baseline, until))| HawkesData {
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
            baseline: baseline.clone(),
            until: *until,
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
