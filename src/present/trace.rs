//! Explaining a run: single trials told as a chronology (`brink trace`).
//!
//! The tables of a run say how often a crisis escalated; an analyst also needs to see
//! *how* it did, to check that the scenario means what they meant. This module re-runs
//! chosen trials with an engine [`Observer`] and records every firing: why it happened,
//! the branch, tallies, level moves, modifiers and each trigger's draw. Because a trial
//! draws only from its own streams, trial `i` here is trial `i` of `brink run` with the
//! same seed, variant and `--set`, and its outcome row is byte for byte the row in
//! `trials.csv`.
//!
//! Trials can be picked by index, or found in trial order by the level they reach or by
//! their escalation path (a pattern such as `a>*>c`). Stories render as text for people,
//! as JSON for programs, and as CSV in the `events.csv` format.

use crate::output::text::num;
use crate::output::trials::{push_day, TrialRows};
use crate::scenario::diag::{shown_actor, shown_text};
use crate::sim::engine::{Cause, EndReason, Engine, Firing, Observer, Outcome, Runaway, TriggerCheck};
use crate::sim::model::{LevelIx, Model, ModifierSpec, StepIx, TallyIx};
use serde::Serialize;
use std::borrow::Cow;
use std::fmt::Write as _;

/// One thing that happened in a trial, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// A counted firing and everything it did.
    Fire(FireEntry),
    /// A modifier ran out.
    ModifierEnd {
        /// When.
        time: f64,
        /// The step it modified.
        step: StepIx,
        /// Its rate multiplier.
        rate_x: f64,
        /// Its trigger-p multiplier.
        p_x: f64,
    },
}

/// A firing with its effects and the triggers it evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct FireEntry {
    /// Time, step, branch, cause and the level before.
    pub firing: Firing,
    /// The level after the firing's effects.
    pub level_after: LevelIx,
    /// Amounts added, in the order drawn.
    pub tallies: Vec<(TallyIx, u64)>,
    /// Modifiers started, with the time each ends.
    pub modifiers: Vec<(ModifierSpec, f64)>,
    /// Triggers evaluated (index into `Model::triggers`), in file order.
    pub triggers: Vec<(usize, TriggerCheck)>,
}

/// One trial, told from start to end.
#[derive(Debug, Clone, PartialEq)]
pub struct Story {
    /// Trial index.
    pub trial: u64,
    /// What happened, in order.
    pub entries: Vec<Entry>,
    /// When the trial ended.
    pub end_day: f64,
    /// Why it ended.
    pub end_reason: EndReason,
    /// Level at the end.
    pub final_level: LevelIx,
    /// Highest level reached.
    pub max_level: LevelIx,
    /// The escalation path (steps whose firing raised the level).
    pub path: Vec<StepIx>,
    /// The trial's row of `trials.csv`, without the line end.
    pub outcome_row: String,
}

/// The observer that writes a [`Story`]'s entries.
#[derive(Debug, Default)]
struct Recorder {
    entries: Vec<Entry>,
}

impl Recorder {
    fn current(&mut self) -> Option<&mut FireEntry> {
        match self.entries.last_mut() {
            Some(Entry::Fire(f)) => Some(f),
            _ => None,
        }
    }
}

impl Observer for Recorder {
    fn on_fire(&mut self, firing: &Firing) {
        self.entries.push(Entry::Fire(FireEntry {
            firing: *firing,
            level_after: firing.level,
            tallies: Vec::new(),
            modifiers: Vec::new(),
            triggers: Vec::new(),
        }));
    }
    fn on_tally(&mut self, tally: TallyIx, amount: u64) {
        if let Some(f) = self.current() {
            f.tallies.push((tally, amount));
        }
    }
    fn on_level(&mut self, _from: LevelIx, to: LevelIx) {
        if let Some(f) = self.current() {
            f.level_after = to;
        }
    }
    fn on_modifier_start(&mut self, spec: &ModifierSpec, until: f64) {
        if let Some(f) = self.current() {
            f.modifiers.push((*spec, until));
        }
    }
    fn on_modifier_end(&mut self, step: StepIx, t: f64, rate_x: f64, p_x: f64) {
        self.entries.push(Entry::ModifierEnd { time: t, step, rate_x, p_x });
    }
    fn on_trigger(&mut self, trigger: usize, check: &TriggerCheck) {
        if let Some(f) = self.current() {
            f.triggers.push((trigger, *check));
        }
    }
}

/// Runs trial `trial` on `engine` (built for `model`) and tells it.
pub fn record(engine: &mut Engine<'_>, model: &Model, trial: u64) -> Result<Story, Runaway> {
    let mut rec = Recorder::default();
    engine.run_observed(trial, &mut rec)?;
    let o = engine.outcome();
    let mut row = TrialRows::new(model);
    row.push(&o);
    let mut outcome_row = String::from_utf8_lossy(&row.into_bytes()).into_owned();
    outcome_row.pop();
    Ok(Story {
        trial,
        entries: rec.entries,
        end_day: o.end_day,
        end_reason: o.end_reason,
        final_level: o.final_level,
        max_level: o.max_level,
        path: o.path.iter().map(|&s| s as usize).collect(),
        outcome_row,
    })
}

/// An escalation-path pattern: step ids joined by `>`, where `*` stands for any number
/// of steps (none included), and `(none)` (or an empty text) for a level that never rose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Step(StepIx),
    Any,
}

impl PathPattern {
    /// Parses a pattern; the error names the unknown step or the empty part.
    pub fn parse(model: &Model, text: &str) -> Result<PathPattern, String> {
        let t = text.trim();
        if t.is_empty() || t == "(none)" {
            return Ok(PathPattern { parts: Vec::new() });
        }
        let mut parts = Vec::new();
        for raw in t.split('>') {
            let id = raw.trim();
            if id.is_empty() {
                return Err(format!(
                    "--path `{text}` has an empty step: write step ids joined by `>`, e.g. `a>b>c`, with `*` for any steps"
                ));
            }
            if id == "*" {
                if parts.last() != Some(&Part::Any) {
                    parts.push(Part::Any);
                }
                continue;
            }
            match model.step_ix(id) {
                Some(s) => parts.push(Part::Step(s)),
                None => {
                    let known: Vec<&str> = model.steps.iter().map(|s| s.id.as_str()).collect();
                    return Err(format!(
                        "unknown step `{id}` in --path `{text}`; {}",
                        crate::scenario::diag::suggest("step", id, &known)
                    ));
                }
            }
        }
        Ok(PathPattern { parts })
    }

    /// Whether an escalation path (step indices, in order) matches.
    pub fn matches(&self, path: &[u32]) -> bool {
        // Wildcard matching with backtracking to the last `*` (linear for one `*`).
        let (p, s) = (&self.parts, path);
        let (mut i, mut j) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while j < s.len() {
            match p.get(i) {
                Some(Part::Step(x)) if *x == s[j] as usize => {
                    i += 1;
                    j += 1;
                }
                Some(Part::Any) => {
                    star = Some((i, j));
                    i += 1;
                }
                _ => match star {
                    Some((si, sj)) => {
                        i = si + 1;
                        j = sj + 1;
                        star = Some((si, sj + 1));
                    }
                    None => return false,
                },
            }
        }
        p[i..].iter().all(|x| *x == Part::Any)
    }
}

/// Which trials `--find` and `--path` select: all given conditions must hold.
#[derive(Debug, Clone, Default)]
pub struct Criteria {
    /// The trial reaches this level (its highest level is at or above it).
    pub level: Option<LevelIx>,
    /// The trial's escalation path matches.
    pub path: Option<PathPattern>,
}

impl Criteria {
    /// Whether a finished trial qualifies.
    pub fn matches(&self, o: &Outcome<'_>) -> bool {
        self.level.is_none_or(|l| o.max_level >= l) && self.path.as_ref().is_none_or(|p| p.matches(o.path))
    }
}

/// The first `count` trials among `0..trials`, in trial order, that meet `criteria`.
pub fn find(
    engine: &mut Engine<'_>,
    criteria: &Criteria,
    trials: u64,
    count: u64,
) -> Result<Vec<u64>, Runaway> {
    let mut found = Vec::new();
    for trial in 0..trials {
        if found.len() as u64 >= count {
            break;
        }
        engine.run(trial)?;
        if criteria.matches(&engine.outcome()) {
            found.push(trial);
        }
    }
    Ok(found)
}

fn day_text(t: f64) -> String {
    let mut b = Vec::new();
    push_day(&mut b, t);
    String::from_utf8_lossy(&b).into_owned()
}

/// The calendar date of the day that contains time `t`, if the scenario has a start.
fn date(model: &Model, t: f64) -> Option<String> {
    model.start.map(|d| d.plus_days(t.floor() as i64).to_string())
}

/// `step` or `step.branch`: what a trigger reacts to.
fn after_text(model: &Model, trigger: usize) -> String {
    let tr = &model.triggers[trigger];
    let step = &model.steps[tr.after];
    match tr.after_branch {
        Some(b) => format!("{}.{}", step.id, step.branches[b].id),
        None => step.id.clone(),
    }
}

fn guard_text(model: &Model, trigger: usize) -> String {
    let tr = &model.triggers[trigger];
    let mut g = Vec::new();
    if let Some(l) = tr.min_level {
        g.push(format!("level >= {}", model.levels[l].id));
    }
    if let Some(l) = tr.max_level {
        g.push(format!("level <= {}", model.levels[l].id));
    }
    g.join(" and ")
}

fn cause_text(model: &Model, cause: Cause) -> String {
    match cause {
        Cause::Scheduled { forced: true } => "scheduled, branch set".into(),
        Cause::Scheduled { forced: false } => "scheduled".into(),
        Cause::Spontaneous => "spontaneous".into(),
        Cause::Triggered { trigger } => format!("reaction to {}", after_text(model, trigger)),
        Cause::Excited { by } => format!("excited by {}", model.steps[by].id),
        Cause::Logged { .. } => "logged".into(),
    }
}

fn modifier_text(model: &Model, step: StepIx, rate_x: f64, p_x: f64) -> String {
    let mut what = Vec::new();
    if rate_x != 1.0 {
        what.push(format!("rate x{}", num(rate_x)));
    }
    if p_x != 1.0 {
        what.push(format!("trigger p x{}", num(p_x)));
    }
    format!("{} {}", model.steps[step].id, what.join(", "))
}

/// The effects of one firing, as `; `-separated clauses.
fn effects_text(model: &Model, f: &FireEntry) -> Vec<String> {
    let mut out = Vec::new();
    if !f.tallies.is_empty() {
        let t: Vec<String> =
            f.tallies.iter().map(|&(t, x)| format!("{} +{x}", model.tallies[t].id)).collect();
        out.push(t.join(", "));
    }
    if f.level_after != f.firing.level {
        let to = &model.levels[f.level_after];
        out.push(format!(
            "level {} -> {} ({})",
            model.levels[f.firing.level].id,
            to.id,
            shown_text(&to.label)
        ));
    }
    for (spec, until) in &f.modifiers {
        out.push(format!(
            "modifier {} until day {}",
            modifier_text(model, spec.step, spec.rate_x, spec.p_x),
            day_text(*until)
        ));
    }
    for &(ti, check) in &f.triggers {
        let target = &model.steps[model.triggers[ti].step].id;
        out.push(match check {
            TriggerCheck::Guarded => format!("{target} not considered ({} fails)", guard_text(model, ti)),
            TriggerCheck::Drawn { u, p, at: None } => {
                format!("{target} not scheduled (p {}, drew {u:.4})", num(p))
            }
            TriggerCheck::Drawn { u, p, at: Some(at) } if at >= model.horizon_days as f64 => {
                format!("{target} due after the horizon, dropped (p {}, drew {u:.4})", num(p))
            }
            TriggerCheck::Drawn { u, p, at: Some(at) } => {
                let when = match date(model, at) {
                    Some(d) => format!("day {}, {d}", day_text(at)),
                    None => format!("day {}", day_text(at)),
                };
                format!("{target} scheduled for {when} (p {}, drew {u:.4})", num(p))
            }
        });
    }
    out
}

/// A story as text: a heading, one line per firing (with a line for each modifier that
/// runs out), the end, and the trial's `trials.csv` row under its header. A step's label
/// is given on its first firing, so that the lines after stay short.
pub fn text(model: &Model, story: &Story, seed: u64) -> String {
    let mut s = String::new();
    let variant = model.variant.as_ref().map(|v| format!(" [{v}]")).unwrap_or_default();
    let end_date = date(model, story.end_day).map(|d| format!(" ({d})")).unwrap_or_default();
    let how = match story.end_reason {
        EndReason::Terminal => format!("reached {} (terminal)", model.levels[story.final_level].id),
        EndReason::Horizon => format!("horizon, at level {}", model.levels[story.final_level].id),
    };
    let _ = writeln!(
        s,
        "{}{variant}, trial {}, seed {}: ended on day {}{end_date}, {how}",
        model.name,
        story.trial,
        seed,
        day_text(story.end_day)
    );
    let initial = &model.levels[model.initial_level];
    let _ = writeln!(s, "  starts at level {} ({})", initial.id, shown_text(&initial.label));
    let path: Vec<&str> = story.path.iter().map(|&p| model.steps[p].id.as_str()).collect();
    let _ = writeln!(s, "  path: {}", if path.is_empty() { "(none)".into() } else { path.join(">") });
    let _ = writeln!(s);

    let dw = day_text(model.horizon_days as f64).len();
    // Actors are free text: the column is as wide as the longest actor as shown (cut to
    // SHOWN_ACTOR_CHARS), so the width stays bounded.
    let aw = model.steps.iter().map(|st| shown_actor(&st.actor).chars().count()).max().unwrap_or(0).max(5);
    let date_w = if model.start.is_some() { 12 } else { 0 };
    let lead = |s: &mut String, t: f64, actor: &str| {
        let d = date(model, t).map(|d| format!("{d}  ")).unwrap_or_default();
        let _ = write!(s, "  {:>dw$}  {d:date_w$}{actor:<aw$}  ", day_text(t));
    };
    let _ = writeln!(
        s,
        "  {:>dw$}  {:date_w$}{:<aw$}  step.branch[: label, on first firing] [why]; effects; triggers",
        "day",
        if model.start.is_some() { "date" } else { "" },
        "actor"
    );
    let mut labelled = vec![false; model.steps.len()];
    for e in &story.entries {
        match e {
            Entry::Fire(f) => {
                let step = &model.steps[f.firing.step];
                lead(&mut s, f.firing.time, &shown_actor(&step.actor));
                let _ = write!(s, "{}.{}", step.id, step.branches[f.firing.branch].id);
                if step.label != step.id && !labelled[f.firing.step] {
                    let _ = write!(s, ": {}", shown_text(&step.label));
                }
                labelled[f.firing.step] = true;
                let _ = write!(s, " [{}]", cause_text(model, f.firing.cause));
                for clause in effects_text(model, f) {
                    let _ = write!(s, "; {clause}");
                }
                s.push('\n');
            }
            Entry::ModifierEnd { time, step, rate_x, p_x } => {
                lead(&mut s, *time, "");
                let _ = writeln!(s, "(modifier ends: {})", modifier_text(model, *step, *rate_x, *p_x));
            }
        }
    }
    lead(&mut s, story.end_day, "");
    let _ = match story.end_reason {
        EndReason::Terminal => {
            writeln!(s, "(end: level {} is terminal)", model.levels[story.final_level].id)
        }
        EndReason::Horizon => writeln!(s, "(end: the horizon)"),
    };
    let _ = writeln!(s, "\n  outcome, as in trials.csv:");
    let _ = writeln!(s, "{}", crate::output::trials::header(model).join(","));
    let _ = writeln!(s, "{}", story.outcome_row);
    s
}

#[derive(Serialize)]
struct JsonDoc<'a> {
    scenario: &'a str,
    title: Cow<'a, str>,
    variant: Option<&'a str>,
    seed: u64,
    start: Option<String>,
    horizon_days: u32,
    initial_level: &'a str,
    trials_csv_header: String,
    stories: Vec<JsonStory<'a>>,
}

#[derive(Serialize)]
struct JsonStory<'a> {
    trial: u64,
    end_day: f64,
    end_date: Option<String>,
    end_reason: &'static str,
    final_level: &'a str,
    max_level: &'a str,
    path: Vec<&'a str>,
    trials_csv_row: &'a str,
    events: Vec<JsonEvent<'a>>,
}

// Built once per event of a trace for people, then serialised: the size of a variant
// does not matter here.
#[allow(clippy::large_enum_variant)]
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum JsonEvent<'a> {
    Fire {
        day: f64,
        date: Option<String>,
        actor: Cow<'a, str>,
        step: &'a str,
        step_label: Cow<'a, str>,
        branch: &'a str,
        branch_label: Cow<'a, str>,
        cause: &'static str,
        /// For a reaction: what it reacted to (`step` or `step.branch`).
        after: Option<String>,
        /// For a scheduled firing: whether the schedule set the branch.
        branch_set: bool,
        level_before: &'a str,
        level_after: &'a str,
        tallies: Vec<JsonTally<'a>>,
        modifiers: Vec<JsonModifier<'a>>,
        triggers: Vec<JsonTrigger<'a>>,
    },
    ModifierEnd {
        day: f64,
        date: Option<String>,
        step: &'a str,
        rate_x: f64,
        p_x: f64,
    },
}

#[derive(Serialize)]
struct JsonTally<'a> {
    tally: &'a str,
    amount: u64,
}

#[derive(Serialize)]
struct JsonModifier<'a> {
    step: &'a str,
    rate_x: f64,
    p_x: f64,
    until_day: f64,
}

#[derive(Serialize)]
struct JsonTrigger<'a> {
    /// The step that would react.
    step: &'a str,
    /// What the trigger reacts to.
    after: String,
    /// Index of the trigger among all triggers, in file order.
    index: usize,
    /// The level guards held (if not, nothing was drawn).
    guard_ok: bool,
    p: Option<f64>,
    u: Option<f64>,
    scheduled: bool,
    at_day: Option<f64>,
    /// Scheduled at or after the horizon, so it never fires.
    after_horizon: bool,
}

fn json_event<'a>(model: &'a Model, e: &Entry) -> JsonEvent<'a> {
    match e {
        Entry::Fire(f) => {
            let step = &model.steps[f.firing.step];
            let branch = &step.branches[f.firing.branch];
            let (cause, after, branch_set) = match f.firing.cause {
                Cause::Scheduled { forced } => ("scheduled", None, forced),
                Cause::Spontaneous => ("spontaneous", None, false),
                Cause::Triggered { trigger } => ("reaction", Some(after_text(model, trigger)), false),
                Cause::Excited { by } => ("excited", Some(model.steps[by].id.clone()), false),
                Cause::Logged { .. } => ("logged", None, true),
            };
            JsonEvent::Fire {
                day: f.firing.time,
                date: date(model, f.firing.time),
                actor: shown_text(&step.actor),
                step: &step.id,
                step_label: shown_text(&step.label),
                branch: &branch.id,
                branch_label: shown_text(&branch.label),
                cause,
                after,
                branch_set,
                level_before: &model.levels[f.firing.level].id,
                level_after: &model.levels[f.level_after].id,
                tallies: f
                    .tallies
                    .iter()
                    .map(|&(t, amount)| JsonTally { tally: &model.tallies[t].id, amount })
                    .collect(),
                modifiers: f
                    .modifiers
                    .iter()
                    .map(|(m, until)| JsonModifier {
                        step: &model.steps[m.step].id,
                        rate_x: m.rate_x,
                        p_x: m.p_x,
                        until_day: *until,
                    })
                    .collect(),
                triggers: f
                    .triggers
                    .iter()
                    .map(|&(ti, check)| {
                        let (guard_ok, p, u, at) = match check {
                            TriggerCheck::Guarded => (false, None, None, None),
                            TriggerCheck::Drawn { u, p, at } => (true, Some(p), Some(u), at),
                        };
                        JsonTrigger {
                            step: &model.steps[model.triggers[ti].step].id,
                            after: after_text(model, ti),
                            index: ti,
                            guard_ok,
                            p,
                            u,
                            scheduled: at.is_some(),
                            at_day: at,
                            after_horizon: at.is_some_and(|a| a >= model.horizon_days as f64),
                        }
                    })
                    .collect(),
            }
        }
        Entry::ModifierEnd { time, step, rate_x, p_x } => JsonEvent::ModifierEnd {
            day: *time,
            date: date(model, *time),
            step: &model.steps[*step].id,
            rate_x: *rate_x,
            p_x: *p_x,
        },
    }
}

/// Stories as one JSON document (pretty-printed, with a final newline). Days are exact
/// (not rounded as in the CSV files).
pub fn json(model: &Model, stories: &[Story], seed: u64) -> String {
    let doc = JsonDoc {
        scenario: &model.name,
        title: shown_text(&model.title),
        variant: model.variant.as_deref(),
        seed,
        start: model.start.map(|d| d.to_string()),
        horizon_days: model.horizon_days,
        initial_level: &model.levels[model.initial_level].id,
        trials_csv_header: crate::output::trials::header(model).join(","),
        stories: stories
            .iter()
            .map(|st| JsonStory {
                trial: st.trial,
                end_day: st.end_day,
                end_date: date(model, st.end_day),
                end_reason: st.end_reason.as_str(),
                final_level: &model.levels[st.final_level].id,
                max_level: &model.levels[st.max_level].id,
                path: st.path.iter().map(|&p| model.steps[p].id.as_str()).collect(),
                trials_csv_row: &st.outcome_row,
                events: st.entries.iter().map(|e| json_event(model, e)).collect(),
            })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Model {
        let src = r#"
[scenario]
name = "t"
horizon_days = 10
[[levels]]
id = "a"
[[levels]]
id = "b"
[[steps]]
id = "x"
[[steps]]
id = "y"
[[steps]]
id = "z"
"#;
        crate::scenario::compile_str("t.toml", src, &Default::default()).expect("valid")
    }

    #[test]
    fn path_patterns() {
        let m = model();
        let pat = |t: &str| PathPattern::parse(&m, t).unwrap();
        let (x, y, z) = (0u32, 1u32, 2u32);
        assert!(pat("x>y").matches(&[x, y]));
        assert!(!pat("x>y").matches(&[x, y, z]));
        assert!(!pat("x>y").matches(&[x]));
        assert!(pat("x>*").matches(&[x]));
        assert!(pat("x>*").matches(&[x, z, z]));
        assert!(!pat("x>*").matches(&[y, x]));
        assert!(pat("*>z").matches(&[x, y, z]));
        assert!(pat("*>x>*>z").matches(&[y, x, x, y, z]));
        assert!(!pat("*>x>*>z").matches(&[y, z, x]));
        assert!(pat("*").matches(&[]));
        assert!(pat("(none)").matches(&[]));
        assert!(!pat("(none)").matches(&[x]));
        assert!(pat(" x > y ").matches(&[x, y]));
        assert!(PathPattern::parse(&m, "x>>y").unwrap_err().contains("empty step"));
        let e = PathPattern::parse(&m, "x>yy").unwrap_err();
        assert!(e.contains("unknown step `yy`"), "{e}");
    }
}
