//! Validation: from the raw document to a [`Model`], collecting every problem found.
//!
//! Each check that fails adds a [`Diagnostic`] and the compiler carries on with a
//! placeholder, so one run reports as many independent problems as possible. Problems
//! that depend on earlier ones (a branch sum when a p was already invalid) are skipped
//! rather than reported twice.

use super::raw::{self, Dist, NumRef, ParamValue, VariantValue};
use super::{Overrides, SetSyntax};
use crate::scenario::diag::{shown_id, shown_text, suggest, suggest_listed, Diagnostic, MAX_ID_CHARS};
use crate::sim::calendar::Date;
use crate::sim::dist::{Amount, Delay};
use crate::sim::model::{self, LevelChange, Model, ModifierSpec};
use crate::sim::params::{ParamDist, Provenance, Uncertain};
use std::collections::HashMap;
use std::ops::Range;
use toml::value::Datetime;
use toml::Spanned;

mod checks;
mod dists;
mod overrides;

pub use checks::{sparse_spectral_radius, spectral_radius, ExcitationMatrix};

/// Default per-trial limit on firings.
pub(crate) const DEFAULT_MAX_EVENTS: u64 = 1_000_000;
/// Default number of trials when the file gives none.
pub(crate) const DEFAULT_TRIALS: u64 = 10_000;
/// Largest per-trial event limit (firing counts are 32-bit).
pub(crate) const MAX_EVENTS_LIMIT: u64 = u32::MAX as u64;
/// Column names of trials.csv that a tally id (its own column) must not take.
pub(crate) const RESERVED_TALLY_IDS: [&str; 6] =
    ["trial", "end_day", "end_reason", "final_level", "max_level", "path"];
/// Largest whole number accepted where a count is expected: 2^53, the last one a float
/// holds exactly.
const MAX_WHOLE: f64 = 9_007_199_254_740_992.0;
/// Longest horizon accepted, in days (about 270 years).
pub(crate) const MAX_HORIZON_DAYS: i64 = 100_000;

/// Where a param's value came from, for messages.
#[derive(Debug, Clone)]
enum Origin {
    File,
    Variant(String),
    /// `--params FILE`, named as given.
    ParamsFile(String),
    /// A set, named as its reader wrote it.
    Set(SetSyntax),
}

struct Param {
    name: String,
    value: f64,
    origin: Origin,
    uses: model::ParamUse,
    /// Drawn per trial from this distribution (value is its mean).
    dist: Option<ParamDist>,
    source: Option<String>,
    note: Option<String>,
}

/// What a number must satisfy.
#[derive(Clone, Copy)]
enum Range01 {
    /// Finite and >= 0.
    NonNeg,
    /// In [0, 1].
    Prob,
    /// Finite and > 0.
    Positive,
    /// Finite.
    Any,
}

struct Ctx {
    diags: Vec<Diagnostic>,
    params: Vec<Param>,
    level_ids: Vec<String>,
    tally_ids: Vec<String>,
    step_ids: Vec<String>,
    /// Position of each id in `level_ids`, `tally_ids` and `step_ids`, by kind: looking an
    /// id up must not walk (or copy) a list of 20,000 steps.
    index: HashMap<&'static str, HashMap<String, usize>>,
    start: Option<Date>,
}

/// The settings of the `[scenario]` table that the model keeps as numbers.
struct Header {
    name: String,
    horizon: i64,
    trials: u64,
    seed: u64,
    max_events: u64,
}

/// Compiles a parsed document: one pass per section, in file order, so that problems are
/// reported in the order a reader meets them. Steps may name later steps, so their ids are
/// known before any step is compiled.
pub fn compile(doc: &raw::Document, ov: &Overrides) -> Result<Model, Vec<Diagnostic>> {
    let mut cx = Ctx {
        diags: Vec::new(),
        params: Vec::new(),
        level_ids: Vec::new(),
        tally_ids: Vec::new(),
        step_ids: Vec::new(),
        index: HashMap::new(),
        start: None,
    };
    let head = cx.scenario_table(doc);
    cx.params_table(doc);
    let variant = cx.variant(doc, ov);
    cx.params_file(ov);
    cx.sets(ov);
    let (levels, initial_level) = cx.levels(doc);
    let tallies = cx.tallies(doc);
    let (steps, triggers) = cx.steps(doc);
    let schedule = cx.schedule(doc, &steps, head.horizon);
    let questions = cx.questions(doc, initial_level, head.horizon);
    if cx.diags.is_empty() {
        cx.zero_delay_cycles(doc, &steps, &triggers);
        cx.excitation_stability(doc, &steps);
    }
    if !cx.diags.is_empty() {
        return Err(cx.diags);
    }
    let header = doc.scenario.get_ref();
    let first_terminal = levels.iter().position(|l| l.terminal);
    Ok(Model {
        title: header.title.clone().unwrap_or_else(|| head.name.clone()),
        name: head.name,
        description: header.description.clone().unwrap_or_default(),
        start: cx.start,
        horizon_days: head.horizon as u32,
        initial_level,
        levels,
        tallies,
        steps,
        triggers,
        schedule,
        questions,
        trials: head.trials,
        seed: head.seed,
        max_events: head.max_events,
        params: cx.params.iter().map(|p| (p.name.clone(), p.value)).collect(),
        param_uses: cx.params.iter().map(|p| p.uses).collect(),
        uncertain: cx
            .params
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.dist.map(|dist| Uncertain { param: i, dist, fields: Vec::new() }))
            .collect(),
        uncertain_fields: Vec::new(),
        provenance: cx
            .params
            .iter()
            .map(|p| Provenance { dist: p.dist, source: p.source.clone(), note: p.note.clone() })
            .collect(),
        variant,
        first_terminal,
        variants: variant_descriptions(doc),
    })
}

/// Each variant's name and description, in file order.
fn variant_descriptions(doc: &raw::Document) -> Vec<(String, String)> {
    doc.variants
        .0
        .iter()
        .map(|(k, t)| {
            let desc = t.get_ref().0.iter().find_map(|(key, v)| match v.get_ref() {
                VariantValue::Text(d) if key.get_ref() == "description" => Some(d.clone()),
                _ => None,
            });
            (k.get_ref().clone(), desc.unwrap_or_default())
        })
        .collect()
}

/// The sections of a scenario file, one method each.
impl Ctx {
    /// `[scenario]`: name, start date, horizon and the run settings.
    fn scenario_table(&mut self, doc: &raw::Document) -> Header {
        let header = doc.scenario.get_ref();
        let name = header.name.get_ref().clone();
        let chars = name.chars().count();
        if chars > MAX_ID_CHARS {
            self.err(
                header.name.span(),
                format!(
                    "scenario name `{}` is {chars} characters long: at most {MAX_ID_CHARS} are allowed",
                    shown_id(&name)
                ),
            )
            .hint("it names the output folder: use lower-case letters, digits and dashes, e.g. \"baghdad-2020\"");
        } else if !valid_name(&name) {
            self.err(header.name.span(), format!("scenario name `{name}` must match [a-z0-9-]+")).hint(
                "it names the output folder: use lower-case letters, digits and dashes, e.g. \"baghdad-2020\"",
            );
        }
        self.start = header.start.as_ref().and_then(|d| self.date(d, "start"));
        let horizon = *header.horizon_days.get_ref();
        if horizon <= 0 || horizon > MAX_HORIZON_DAYS {
            self.err(
                header.horizon_days.span(),
                format!(
                    "horizon_days must be a whole number of days from 1 to {MAX_HORIZON_DAYS}, got {horizon}"
                ),
            );
        }
        let trials = self.positive_int(header.trials.as_ref(), "trials").unwrap_or(DEFAULT_TRIALS);
        let seed = match &header.seed {
            Some(s) if *s.get_ref() < 0 => {
                self.err(s.span(), format!("seed must be a whole number >= 0, got {}", s.get_ref()));
                0
            }
            Some(s) => *s.get_ref() as u64,
            None => 0,
        };
        let max_events =
            self.positive_int(header.max_events.as_ref(), "max_events").unwrap_or(DEFAULT_MAX_EVENTS);
        if max_events > MAX_EVENTS_LIMIT {
            if let Some(m) = &header.max_events {
                self.err(m.span(), format!("max_events must be at most {MAX_EVENTS_LIMIT}"));
            }
        }
        Header { name, horizon, trials, seed, max_events }
    }

    /// `[params]`: each param's value (a distribution's mean), distribution and provenance.
    fn params_table(&mut self, doc: &raw::Document) {
        for (k, v) in &doc.params.0 {
            let name = k.get_ref();
            if let Some(problem) = id_problem("param name", name) {
                self.err(k.span(), problem).hint(ID_RULE);
            } else if name == "rest" {
                self.err(
                    k.span(),
                    "`rest` is reserved (a branch p of \"rest\" takes the remaining probability)",
                )
                .hint("rename the param");
            }
            let spec = v.get_ref();
            let (value, dist) = match spec.value {
                ParamValue::Num(x) => (x, None),
                ParamValue::Dist(d) => (d.mean(), Some(d)),
            };
            if !value.is_finite() {
                self.err(v.span(), format!("param `{name}` must be a finite number"));
            }
            self.params.push(Param {
                name: name.clone(),
                value,
                origin: Origin::File,
                uses: Default::default(),
                dist,
                source: spec.source.clone(),
                note: spec.note.clone(),
            });
        }
    }

    /// `[[levels]]` and the initial level of `[scenario]`.
    fn levels(&mut self, doc: &raw::Document) -> (Vec<model::Level>, usize) {
        let header = doc.scenario.get_ref();
        if doc.levels.is_empty() {
            self.diags.push(Diagnostic::at(doc.scenario.span(), "the escalation ladder is empty").help(
                "add [[levels]] tables, lowest first, e.g. id = \"calm\" ... id = \"war\", terminal = true",
            ));
        }
        let mut levels = Vec::new();
        for l in &doc.levels {
            let l = l.get_ref();
            self.new_id(&l.id, "level", |c| &mut c.level_ids);
            levels.push(model::Level {
                id: l.id.get_ref().clone(),
                label: l.label.clone().unwrap_or_else(|| l.id.get_ref().clone()),
                terminal: l.terminal,
            });
        }
        let initial_level = match &header.initial_level {
            Some(id) => self.level(id).unwrap_or(0),
            None => 0,
        };
        // A trial ends once its level is at or above the lowest terminal level, so starting
        // on one, or above one, would end every trial at once.
        if let Some(t) = levels.iter().position(|l| l.terminal).filter(|&t| initial_level >= t) {
            let span = header.initial_level.as_ref().map(|s| s.span()).unwrap_or(doc.levels[0].span());
            let what = if initial_level == t {
                format!("the initial level `{}` is terminal", levels[initial_level].id)
            } else {
                format!(
                    "the initial level `{}` is above the terminal level `{}`",
                    levels[initial_level].id, levels[t].id
                )
            };
            let below: Vec<String> = levels[..t].iter().map(|l| format!("`{}`", l.id)).collect();
            let hint = match below.len() {
                0 => "the first level is terminal: put a level below it to start on".to_owned(),
                1 => format!("start below every terminal level: on {}", below[0]),
                _ => format!("start below every terminal level: on one of {}", below.join(", ")),
            };
            self.err(span, format!("{what}: every trial would end at its first event")).hint(hint);
        }
        (levels, initial_level)
    }

    /// `[tallies]`.
    fn tallies(&mut self, doc: &raw::Document) -> Vec<model::Tally> {
        let mut tallies = Vec::new();
        for (k, label) in &doc.tallies.0 {
            self.new_id(k, "tally", |c| &mut c.tally_ids);
            let id = k.get_ref();
            if RESERVED_TALLY_IDS.contains(&id.as_str())
                || id.starts_with("count_")
                || id.starts_with("reached_")
            {
                self.err(k.span(), format!("tally id `{id}` would clash with a column of trials.csv"))
                    .hint("trials.csv has columns trial, end_day, end_reason, final_level, max_level, path, count_<step> and reached_<level>_day; rename the tally");
            }
            tallies.push(model::Tally { id: k.get_ref().clone(), label: label.get_ref().clone() });
        }
        tallies
    }

    /// `[[steps]]` with their branches, triggers, modifiers and excitations. Ids come
    /// first, so that steps may refer to later steps; modifiers are checked once every
    /// step and trigger is known.
    fn steps(&mut self, doc: &raw::Document) -> (Vec<model::Step>, Vec<model::Trigger>) {
        for s in &doc.steps {
            self.new_id(&s.get_ref().id, "step", |c| &mut c.step_ids);
        }
        if doc.steps.is_empty() {
            self.diags.push(Diagnostic::at(
                doc.scenario.span(),
                "the scenario has no [[steps]]: nothing can happen",
            ));
        }
        let mut steps = Vec::new();
        for s in &doc.steps {
            steps.push(self.step(s.get_ref()));
        }
        let mut triggers = Vec::new();
        for (si, s) in doc.steps.iter().enumerate() {
            for t in &s.get_ref().triggers {
                if let Some(t) = self.trigger(si, t, &steps) {
                    triggers.push(t);
                }
            }
        }
        for (si, s) in doc.steps.iter().enumerate() {
            for (bi, b) in s.get_ref().branches.iter().enumerate() {
                for m in &b.get_ref().modify {
                    if let Some(spec) = self.modifier(m, &steps, &triggers) {
                        if let Some(branch) = steps[si].branches.get_mut(bi) {
                            branch.modify.push(spec);
                        }
                    }
                }
                for e in &b.get_ref().excite {
                    if let Some(x) = self.excitation(e) {
                        if let Some(branch) = steps[si].branches.get_mut(bi) {
                            branch.excite.push(x);
                        }
                    }
                }
            }
        }
        // Reactions: per (step, branch), the triggers that follow it, in file order.
        for (ti, t) in triggers.iter().enumerate() {
            let step = &mut steps[t.after];
            for (bi, b) in step.branches.iter_mut().enumerate() {
                if t.after_branch.is_none_or(|ab| ab == bi) {
                    b.reactions.push(ti);
                }
            }
        }
        (steps, triggers)
    }

    /// `[[schedule]]`, sorted by day.
    fn schedule(
        &mut self,
        doc: &raw::Document,
        steps: &[model::Step],
        horizon: i64,
    ) -> Vec<model::Scheduled> {
        let mut schedule = Vec::new();
        for e in &doc.schedule {
            if let Some(sc) = self.scheduled(e, steps, horizon as f64) {
                schedule.push(sc);
            }
        }
        schedule.sort_by(|a: &model::Scheduled, b| a.day.total_cmp(&b.day));
        schedule
    }
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// `[a-z][a-z0-9_]*`, at most [`MAX_ID_CHARS`] characters.
pub(crate) fn valid_id(s: &str) -> bool {
    let mut c = s.chars();
    s.len() <= MAX_ID_CHARS
        && c.next().is_some_and(|f| f.is_ascii_lowercase())
        && c.all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
}

/// The rule for ids, as the help line of a bad id states it.
const ID_RULE: &str = "ids are lower-case letters, digits and underscores, starting with a letter, \
     at most 64 characters; put longer text in a `label`";

/// What is wrong with the id `s` (of `what`: "step id", "param name", ...), if anything.
/// A long id is quoted cut short, so the message stays readable.
fn id_problem(what: &str, s: &str) -> Option<String> {
    let chars = s.chars().count();
    if chars > MAX_ID_CHARS {
        Some(format!(
            "{what} `{}` is {chars} characters long: at most {MAX_ID_CHARS} are allowed",
            shown_id(s)
        ))
    } else if !valid_id(s) {
        Some(format!("{what} `{s}` must match [a-z][a-z0-9_]*"))
    } else {
        None
    }
}

/// `[a-z0-9-]+`
pub(crate) fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
}

impl Ctx {
    fn err(&mut self, span: Range<usize>, message: impl Into<String>) -> &mut Diagnostic {
        self.diags.push(Diagnostic::at(span, message));
        self.diags.last_mut().expect("just pushed")
    }

    fn positive_int(&mut self, v: Option<&Spanned<i64>>, what: &str) -> Option<u64> {
        let v = v?;
        if *v.get_ref() <= 0 {
            self.err(v.span(), format!("{what} must be a whole number >= 1, got {}", v.get_ref()));
            return None;
        }
        Some(*v.get_ref() as u64)
    }

    /// Registers a new id of `kind`, checking its form and uniqueness.
    fn new_id(
        &mut self,
        id: &Spanned<String>,
        kind: &'static str,
        list: impl Fn(&mut Self) -> &mut Vec<String>,
    ) {
        let s = id.get_ref();
        if let Some(problem) = id_problem(&format!("{kind} id"), s) {
            self.err(id.span(), problem).hint(ID_RULE);
        }
        let next = list(self).len();
        let known = self.index.entry(kind).or_default();
        let twice = known.contains_key(s);
        if !twice {
            known.insert(s.clone(), next);
        }
        if twice {
            self.err(id.span(), format!("{kind} id `{}` is defined twice", shown_id(s)));
        }
        list(self).push(s.clone());
    }

    /// The position of a known id of `kind` (the first, if it was defined twice).
    fn position(&self, kind: &str, id: &str) -> Option<usize> {
        self.index.get(kind).and_then(|known| known.get(id)).copied()
    }

    fn lookup(
        &mut self,
        id: &Spanned<String>,
        kind: &'static str,
        known: impl Fn(&Self) -> &Vec<String>,
    ) -> Option<usize> {
        let s = id.get_ref();
        let found = self.position(kind, s);
        if found.is_none() {
            let help = suggest(kind, s, &strs(known(self)));
            self.err(id.span(), format!("unknown {kind} `{}`", shown_id(s))).hint(help);
        }
        found
    }

    fn level(&mut self, id: &Spanned<String>) -> Option<usize> {
        self.lookup(id, "level", |c| &c.level_ids)
    }

    fn step_ref(&mut self, id: &Spanned<String>) -> Option<usize> {
        self.lookup(id, "step", |c| &c.step_ids)
    }

    /// A calendar date (date only, no time).
    fn date(&mut self, d: &Spanned<Datetime>, what: &str) -> Option<Date> {
        let v = d.get_ref();
        match (v.date, v.time, v.offset) {
            (Some(date), None, None) => {
                let r = Date::new(date.year as i32, date.month as u32, date.day as u32);
                if r.is_none() {
                    self.err(d.span(), format!("{what}: {v} is not a calendar date"));
                }
                r
            }
            _ => {
                self.err(d.span(), format!("{what} must be a date like 2020-12-20, without a time"));
                None
            }
        }
    }

    /// The day number of a date, relative to `start`.
    fn day_of(&mut self, d: &Spanned<Datetime>, what: &str) -> Option<f64> {
        let date = self.date(d, what)?;
        match self.start {
            Some(start) => Some((date.days() - start.days()) as f64),
            None => {
                self.err(
                    d.span(),
                    format!("{what} is a date, but [scenario] has no `start` date to count days from"),
                )
                .hint("add `start = YYYY-MM-DD` to [scenario], or give days instead (from_day/to_day, day)");
                None
            }
        }
    }

    /// Resolves a number or param name and checks its range.
    fn num(&mut self, r: &Spanned<NumRef>, what: &str, range: Range01) -> Option<f64> {
        let (value, from) = match r.get_ref() {
            NumRef::Num(x) => (*x, None),
            NumRef::Name(name) => match self.params.iter_mut().find(|p| &p.name == name) {
                Some(p) => {
                    p.uses.used = true;
                    p.uses.probability |= matches!(range, Range01::Prob);
                    (p.value, Some((p.name.clone(), p.origin.clone())))
                }
                None => {
                    let known: Vec<String> = self.params.iter().map(|p| p.name.clone()).collect();
                    let help = if name == "rest" {
                        "\"rest\" is only allowed as a branch p".to_owned()
                    } else {
                        suggest("param", name, &strs(&known))
                    };
                    self.err(r.span(), format!("{what}: unknown param `{name}`")).hint(help);
                    return None;
                }
            },
        };
        let ok = value.is_finite()
            && match range {
                Range01::NonNeg => value >= 0.0,
                Range01::Prob => (0.0..=1.0).contains(&value),
                Range01::Positive => value > 0.0,
                Range01::Any => true,
            };
        if !ok {
            let want = match range {
                Range01::NonNeg => "a finite number >= 0",
                Range01::Prob => "a probability in [0, 1]",
                Range01::Positive => "a finite number > 0",
                Range01::Any => "a finite number",
            };
            let source = match from {
                None => String::new(),
                Some((n, Origin::File)) => format!(" (param `{n}`)"),
                Some((n, Origin::Variant(v))) => format!(" (param `{n}`, as set by variant `{v}`)"),
                Some((n, Origin::ParamsFile(f))) => format!(" (param `{n}`, as set by --params {f})"),
                Some((n, Origin::Set(how))) => format!(" (param `{n}`, as set by {})", how.by(&n)),
            };
            self.err(r.span(), format!("{what} must be {want}, got {value}{source}"));
            return None;
        }
        Some(value)
    }

    /// A whole number >= 0 (for counts inside distributions and caps).
    fn whole(&mut self, r: &Spanned<NumRef>, what: &str) -> Option<u64> {
        if let NumRef::Name(name) = r.get_ref() {
            if let Some(p) = self.params.iter_mut().find(|p| &p.name == name) {
                p.uses.whole = true;
            }
        }
        let x = self.num(r, what, Range01::NonNeg)?;
        // Above 2^53 a float no longer holds every whole number, so the value could not
        // be the one written.
        if x > MAX_WHOLE {
            self.err(
                r.span(),
                format!("{what} is too large: {x} is above the largest accepted, {MAX_WHOLE}"),
            );
            return None;
        }
        if x.fract() != 0.0 {
            self.err(r.span(), format!("{what} must be a whole number, got {x}"));
            return None;
        }
        Some(x as u64)
    }

    fn step(&mut self, s: &raw::Step) -> model::Step {
        let id = s.id.get_ref().clone();
        let rate = s
            .rate
            .as_ref()
            .map(|r| self.num(r, &format!("rate of step `{id}`"), Range01::NonNeg).unwrap_or(0.0));
        let mut windows = Vec::new();
        for w in &s.windows {
            if let Some(w) = self.window(w, &id) {
                windows.push(w);
            }
        }
        if !s.windows.is_empty() && s.rate.is_none() {
            self.err(
                s.windows[0].span(),
                format!("step `{id}` has windows but no rate: windows multiply a spontaneous rate"),
            )
            .hint("add `rate = ...` or remove the windows");
        }
        let max = s
            .max
            .as_ref()
            .and_then(|m| self.whole(m, &format!("max of step `{id}`")))
            .map(|m| m.min(u32::MAX as u64) as u32);

        let mut branches = Vec::new();
        let mut branch_ids: Vec<String> = Vec::new();
        let mut rest: Option<usize> = None;
        let mut sum = 0.0;
        let mut p_ok = true;
        for b in &s.branches {
            let braw = b.get_ref();
            let bid = braw.id.get_ref().clone();
            if let Some(problem) = id_problem("branch id", &bid) {
                self.err(braw.id.span(), problem).hint(ID_RULE);
            }
            if branch_ids.contains(&bid) {
                self.err(braw.id.span(), format!("branch id `{bid}` is defined twice in step `{id}`"));
            }
            branch_ids.push(bid.clone());
            let p = match braw.p.get_ref() {
                NumRef::Name(n) if n == "rest" => {
                    if rest.is_some() {
                        self.err(
                            braw.p.span(),
                            format!("step `{id}` has more than one branch with p = \"rest\""),
                        )
                        .hint("at most one branch takes the remaining probability");
                        p_ok = false;
                    }
                    rest = Some(branches.len());
                    0.0
                }
                _ => match self.num(&braw.p, &format!("p of branch `{id}.{bid}`"), Range01::Prob) {
                    Some(p) => {
                        sum += p;
                        p
                    }
                    None => {
                        p_ok = false;
                        0.0
                    }
                },
            };
            let mut btallies = Vec::new();
            for (tid, dist) in &braw.tally.0 {
                let t = self.lookup(tid, "tally", |c| &c.tally_ids);
                let a = self.amount(dist, &format!("tally `{}` of `{id}.{bid}`", tid.get_ref()));
                if let (Some(t), Some(a)) = (t, a) {
                    btallies.push((t, a));
                }
            }
            let level = match (&braw.raise_to, &braw.lower_to) {
                (Some(_), Some(l)) => {
                    self.err(l.span(), format!("branch `{id}.{bid}` has both raise_to and lower_to"))
                        .hint("a branch moves the level one way; split it into two branches");
                    LevelChange::None
                }
                (Some(l), None) => self.level(l).map_or(LevelChange::None, LevelChange::RaiseTo),
                (None, Some(l)) => self.level(l).map_or(LevelChange::None, LevelChange::LowerTo),
                (None, None) => LevelChange::None,
            };
            branches.push(model::Branch {
                id: bid.clone(),
                label: braw.label.clone().unwrap_or(bid),
                p,
                laws: btallies.iter().map(|(_, a)| a.law()).collect(),
                tallies: btallies,
                level,
                modify: Vec::new(),
                excite: Vec::new(),
                reactions: Vec::new(),
            });
        }
        if p_ok && !s.branches.is_empty() {
            match rest {
                Some(r) => {
                    if sum > 1.0 + 1e-9 {
                        self.err(s.branches[0].get_ref().p.span(), format!("branch probabilities of step `{id}` sum to {sum} before \"rest\": more than 1"))
                            .hint("lower them so that \"rest\" gets 1 minus their sum");
                    } else {
                        branches[r].p = (1.0 - sum).max(0.0);
                    }
                }
                None => {
                    if (sum - 1.0).abs() > 1e-9 {
                        self.err(
                            s.branches[0].get_ref().p.span(),
                            format!("branch probabilities of step `{id}` sum to {sum}, not 1"),
                        )
                        .hint("make them sum to 1, or set one branch's p to \"rest\"");
                    }
                }
            }
        }
        if branches.is_empty() {
            branches.push(model::Branch {
                id: "default".into(),
                label: "default".into(),
                p: 1.0,
                tallies: Vec::new(),
                laws: Vec::new(),
                level: LevelChange::None,
                modify: Vec::new(),
                excite: Vec::new(),
                reactions: Vec::new(),
            });
        }
        let mut cdf = Vec::with_capacity(branches.len());
        let mut acc = 0.0;
        for b in &branches {
            acc += b.p;
            cdf.push(acc);
        }
        if let Some(last) = cdf.last_mut() {
            *last = f64::INFINITY; // rounding can never leave a draw without a branch
        }
        model::Step {
            rest,
            label: s.label.clone().unwrap_or_else(|| id.clone()),
            actor: s.actor.clone().unwrap_or_default(),
            id,
            rate,
            windows,
            max,
            branches,
            branch_cdf: cdf,
        }
    }

    fn window(&mut self, w: &Spanned<raw::Window>, step: &str) -> Option<model::Window> {
        let wr = w.get_ref();
        let what = format!("window of step `{step}`");
        let rate_x = self.num(&wr.rate_x, &format!("rate_x of {what}"), Range01::NonNeg);
        let (from, to) = match (&wr.from, &wr.to, &wr.from_day, &wr.to_day) {
            (Some(f), Some(t), None, None) => {
                let a = self.day_of(f, &format!("from of {what}"));
                let b = self.day_of(t, &format!("to of {what}"));
                (a?, b? + 1.0) // `to` includes that whole day
            }
            (None, None, Some(f), Some(t)) => {
                let a = self.num(f, &format!("from_day of {what}"), Range01::Any);
                let b = self.num(t, &format!("to_day of {what}"), Range01::Any);
                (a?, b?)
            }
            _ => {
                self.err(
                    w.span(),
                    format!("{what} needs `from` and `to` (dates) or `from_day` and `to_day` (days)"),
                );
                return None;
            }
        };
        if from > to {
            self.err(w.span(), format!("{what} ends (day {to}) before it starts (day {from})"));
            return None;
        }
        Some(model::Window { from, to, rate_x: rate_x? })
    }

    fn trigger(
        &mut self,
        si: usize,
        t: &Spanned<raw::Trigger>,
        steps: &[model::Step],
    ) -> Option<model::Trigger> {
        let tr = t.get_ref();
        let me = steps[si].id.clone();
        let after_text = tr.after.get_ref();
        let (step_part, branch_part) = match after_text.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (after_text.as_str(), None),
        };
        let after = self.position("step", step_part);
        if after.is_none() {
            let help = suggest("step", step_part, &strs(&self.step_ids));
            self.err(
                tr.after.span(),
                format!("trigger of step `{me}`: unknown step `{step_part}` in after = \"{after_text}\""),
            )
            .hint(help);
        }
        let after_branch = match (after, branch_part) {
            (Some(a), Some(b)) => {
                let names: Vec<String> = steps[a].branches.iter().map(|x| x.id.clone()).collect();
                let found = names.iter().position(|n| n == b);
                if found.is_none() {
                    let help = suggest("branch", b, &strs(&names));
                    self.err(
                        tr.after.span(),
                        format!("trigger of step `{me}`: step `{step_part}` has no branch `{b}`"),
                    )
                    .hint(help);
                    return None;
                }
                found
            }
            _ => None,
        };
        let p = match &tr.p {
            Some(p) => self.num(p, &format!("p of trigger `{me}` after `{after_text}`"), Range01::Prob),
            None => Some(1.0),
        };
        let delay = match &tr.delay {
            Some(d) => self.delay(d, &format!("delay of trigger `{me}` after `{after_text}`")),
            None => Some(Delay::Fixed(0.0)),
        };
        let min_level = tr.min_level.as_ref().map(|l| self.level(l));
        let max_level = tr.max_level.as_ref().map(|l| self.level(l));
        if let (Some(Some(a)), Some(Some(b))) = (min_level, max_level) {
            if a > b {
                self.err(
                    t.span(),
                    format!("trigger of step `{me}`: min_level is above max_level, so it can never fire"),
                );
            }
        }
        Some(model::Trigger {
            step: si,
            after: after?,
            after_branch,
            p: p?,
            delay: delay?,
            min_level: min_level.flatten(),
            max_level: max_level.flatten(),
        })
    }

    fn modifier(
        &mut self,
        m: &Spanned<raw::Modifier>,
        steps: &[model::Step],
        triggers: &[model::Trigger],
    ) -> Option<ModifierSpec> {
        let mr = m.get_ref();
        let target = self.step_ref(&mr.step);
        let what = format!("modifier on `{}`", mr.step.get_ref());
        let rate_x = mr.rate_x.as_ref().map(|x| self.num(x, &format!("rate_x of {what}"), Range01::NonNeg));
        let p_x = mr.p_x.as_ref().map(|x| self.num(x, &format!("p_x of {what}"), Range01::NonNeg));
        let days = self.num(&mr.days, &format!("days of {what}"), Range01::NonNeg);
        if rate_x.is_none() && p_x.is_none() {
            self.err(m.span(), format!("{what} changes nothing"))
                .hint("give rate_x (spontaneous rate) and/or p_x (trigger probabilities)");
            return None;
        }
        let target = target?;
        if rate_x.is_some() && steps[target].rate.is_none() {
            self.err(m.span(), format!("{what}: rate_x, but step `{}` has no rate", steps[target].id))
                .hint("rate_x multiplies a spontaneous rate; use p_x to change how likely its triggers fire");
        }
        if p_x.is_some() && !triggers.iter().any(|t| t.step == target) {
            self.err(m.span(), format!("{what}: p_x, but step `{}` has no triggers", steps[target].id))
                .hint("p_x multiplies the p of the step's triggers; use rate_x for a spontaneous rate");
        }
        Some(ModifierSpec {
            step: target,
            rate_x: rate_x.unwrap_or(Some(1.0))?,
            p_x: p_x.unwrap_or(Some(1.0))?,
            days: days?,
        })
    }

    fn excitation(&mut self, e: &Spanned<raw::Excite>) -> Option<model::Excitation> {
        let er = e.get_ref();
        let step = self.step_ref(&er.step);
        let what = format!("excitation of `{}`", er.step.get_ref());
        let n = self.num(&er.n, &format!("n (branching ratio) of {what}"), Range01::NonNeg);
        let decay = self.num(&er.decay_days, &format!("decay_days of {what}"), Range01::Positive);
        let n = n?;
        Some(model::Excitation {
            step: step?,
            n,
            decay_days: decay?,
            offspring: crate::sim::dist::PoissonLaw::new(n),
        })
    }

    /// `[[questions]]`: each names what answers it as `fired:STEP`, `level:LEVEL` or
    /// `tally:TALLY` (with `at_least`, 1 unless given).
    fn questions(&mut self, doc: &raw::Document, initial_level: usize, horizon: i64) -> Vec<model::Question> {
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut out = Vec::new();
        for q in &doc.questions {
            let q = q.get_ref();
            let id = q.id.get_ref();
            if let Some(problem) = id_problem("question id", id) {
                self.err(q.id.span(), problem);
            } else if !seen.insert(id.clone()) {
                self.err(q.id.span(), format!("question id `{id}` is used twice"));
            }
            let kind = match &q.kind {
                Some(k) => {
                    if let Some(problem) = id_problem("question kind", k.get_ref()) {
                        self.err(k.span(), problem);
                    }
                    k.get_ref().clone()
                }
                None => id.clone(),
            };
            let days = match &q.days {
                None => Some(horizon as u32),
                Some(d) if (1..=horizon).contains(d.get_ref()) => Some(*d.get_ref() as u32),
                Some(d) => {
                    self.err(
                        d.span(),
                        format!(
                            "days must be a whole number from 1 to the horizon, {horizon}; got {}",
                            d.get_ref()
                        ),
                    );
                    None
                }
            };
            let at_least = match &q.at_least {
                None => Some(1),
                Some(a) if *a.get_ref() >= 1 => Some(*a.get_ref() as u64),
                Some(a) => {
                    self.err(a.span(), format!("at_least must be a whole number >= 1, got {}", a.get_ref()));
                    None
                }
            };
            let target = self.asked(&q.target, q.at_least.as_ref(), at_least, initial_level);
            if let (Some(target), Some(days)) = (target, days) {
                out.push(model::Question { id: id.clone(), kind, text: q.text.clone(), target, days });
            }
        }
        out
    }

    /// A question's `target`.
    fn asked(
        &mut self,
        target: &Spanned<String>,
        at_least_key: Option<&Spanned<i64>>,
        at_least: Option<u64>,
        initial_level: usize,
    ) -> Option<model::Asked> {
        let text = target.get_ref();
        let Some((kind, id)) = text.split_once(':') else {
            self.err(target.span(), format!("target `{}` is not of the form KIND:ID", shown_id(text)))
                .hint("write fired:STEP, level:LEVEL or tally:TALLY");
            return None;
        };
        if kind != "tally" {
            if let Some(a) = at_least_key {
                self.err(a.span(), "at_least belongs to a tally target (tally:TALLY)");
                return None;
            }
        }
        let spanned = Spanned::new(target.span(), id.to_owned());
        match kind {
            "fired" => self.step_ref(&spanned).map(model::Asked::Fired),
            "level" => {
                let l = self.lookup(&spanned, "level", |c| &c.level_ids)?;
                if l <= initial_level {
                    self.err(
                        target.span(),
                        format!("level `{id}` is at or below the initial level: the answer is yes at day 0"),
                    )
                    .hint("ask for a level above the initial level");
                    return None;
                }
                Some(model::Asked::Level(l))
            }
            "tally" => {
                let t = self.lookup(&spanned, "tally", |c| &c.tally_ids)?;
                Some(model::Asked::Tally(t, at_least?))
            }
            other => {
                self.err(target.span(), format!("`{}` is not a kind of target", shown_id(other)))
                    .hint("write fired:STEP, level:LEVEL or tally:TALLY");
                None
            }
        }
    }

    fn scheduled(
        &mut self,
        e: &Spanned<raw::Scheduled>,
        steps: &[model::Step],
        horizon: f64,
    ) -> Option<model::Scheduled> {
        let er = e.get_ref();
        let step = self.step_ref(&er.step)?;
        let branch = match &er.branch {
            Some(b) => {
                let names: Vec<String> = steps[step].branches.iter().map(|x| x.id.clone()).collect();
                let found = names.iter().position(|n| n == b.get_ref());
                if found.is_none() {
                    let help = suggest("branch", b.get_ref(), &strs(&names));
                    self.err(b.span(), format!("step `{}` has no branch `{}`", steps[step].id, b.get_ref()))
                        .hint(help);
                    return None;
                }
                found
            }
            None => None,
        };
        let day = match (&er.date, &er.day) {
            (Some(d), None) => self.day_of(d, "schedule date")?,
            (None, Some(d)) => {
                if let NumRef::Name(name) = d.get_ref() {
                    if let Some(p) = self.params.iter_mut().find(|p| &p.name == name) {
                        p.uses.schedule = true;
                    }
                }
                self.num(d, "schedule day", Range01::Any)?
            }
            _ => {
                self.err(e.span(), "a [[schedule]] entry needs exactly one of `date` or `day`");
                return None;
            }
        };
        if !(0.0..horizon).contains(&day) {
            let span =
                er.date.as_ref().map(|d| d.span()).or(er.day.as_ref().map(|d| d.span())).unwrap_or(e.span());
            self.err(
                span,
                format!(
                    "scheduled firing of `{}` on day {day} is outside the horizon (0 <= day < {horizon})",
                    steps[step].id
                ),
            );
            return None;
        }
        Some(model::Scheduled { step, branch, day })
    }
}
