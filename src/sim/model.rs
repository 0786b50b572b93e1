//! The compiled model: a validated scenario with every id resolved to an index and every
//! param substituted. This is all the engine sees; it cannot be built with dangling
//! references or out-of-range numbers except through [`crate::scenario`].

use crate::sim::dist::{Amount, AmountLaw, Delay, PoissonLaw};

/// Index of a level in the ladder (0 = lowest).
pub(crate) type LevelIx = usize;
/// Index of a step, in file order.
pub(crate) type StepIx = usize;
/// Index of a tally, in file order.
pub(crate) type TallyIx = usize;

/// A validated, resolved scenario, ready to simulate.
#[derive(Debug, Clone)]
pub struct Model {
    /// `[a-z0-9-]+`, used for output folder names.
    pub name: String,
    /// Human title (defaults to the name).
    pub title: String,
    /// Free text.
    pub description: String,
    /// Calendar date of day 0, if given.
    pub start: Option<crate::sim::calendar::Date>,
    /// Length of a trial, in whole days.
    pub horizon_days: u32,
    /// Level at day 0.
    pub initial_level: LevelIx,
    /// The escalation ladder, lowest first.
    pub levels: Vec<Level>,
    /// Counted quantities.
    pub tallies: Vec<Tally>,
    /// Steps, in file order.
    pub steps: Vec<Step>,
    /// Triggers of all steps, in file order (step order, then order within a step).
    pub triggers: Vec<Trigger>,
    /// Firings known in advance, sorted by day (stable: file order among equal days).
    pub schedule: Vec<Scheduled>,
    /// Forecast questions, in file order.
    pub questions: Vec<Question>,
    /// Default number of trials.
    pub trials: u64,
    /// Default seed.
    pub seed: u64,
    /// Per-trial limit on processed firings before the trial is declared a runaway loop.
    pub max_events: u64,
    /// Params after variant and `--set` overrides, in file order.
    pub params: Vec<(String, f64)>,
    /// How each param is used, in the order of `params`: what values it may take.
    pub param_uses: Vec<ParamUse>,
    /// The variant applied, if any.
    pub variant: Option<String>,
    /// Every variant the file defines: (name, description).
    pub variants: Vec<(String, String)>,
    /// Params drawn per trial (predictive mode), with the fields they feed.
    pub uncertain: Vec<crate::sim::params::Uncertain>,
    /// (field index, index into `uncertain`) for every field an uncertain param feeds,
    /// sorted by field: what [`Model::patch`] writes.
    pub uncertain_fields: Vec<(usize, usize)>,
    /// Distribution, source and note of each param, in the order of `params`.
    pub provenance: Vec<crate::sim::params::Provenance>,
    /// The lowest terminal level: a trial ends once its level is at or above it (a jump
    /// over a terminal level reaches it, so it ends the trial too).
    pub first_terminal: Option<LevelIx>,
}

/// The tightest constraint a param's uses put on its value, so that tools that vary
/// params (sensitivity, sweeps) can keep them valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ParamUse {
    /// Used where a probability is expected: must stay in [0, 1].
    pub probability: bool,
    /// Used where a whole number is expected.
    pub whole: bool,
    /// Used at all.
    pub used: bool,
    /// Used as a scheduled day (fixed per run: the schedule is ordered once).
    pub schedule: bool,
}

/// What a numeric field of the model is: the role a param plays where it is used.
/// Indices are step, branch (within the step), then the position within the branch's
/// list (tally, modifier, excitation), or a window or trigger index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// A step's base rate per day.
    Rate(usize),
    /// A rate window's start or end day.
    WindowTime(usize, usize),
    /// A rate window's multiplier.
    WindowRateX(usize, usize),
    /// A branch's probability.
    BranchP(usize, usize),
    /// The mean of a tally amount (Poisson, at-least-one, negative binomial) or a
    /// binomial's p.
    Amount(usize, usize, usize),
    /// A negative binomial amount's dispersion.
    Dispersion(usize, usize, usize),
    /// A modifier's rate multiplier.
    ModifierRateX(usize, usize, usize),
    /// A modifier's trigger-p multiplier.
    ModifierPX(usize, usize, usize),
    /// A modifier's duration.
    ModifierDays(usize, usize, usize),
    /// An excitation's branching ratio.
    ExciteN(usize, usize, usize),
    /// An excitation's kernel decay, days.
    ExciteDecay(usize, usize, usize),
    /// A trigger's probability.
    TriggerP(usize),
    /// A number of a trigger's delay distribution.
    TriggerDelay(usize),
}

/// A rung of the ladder.
#[derive(Debug, Clone)]
pub struct Level {
    /// Id.
    pub id: String,
    /// Label for people.
    pub label: String,
    /// Reaching it ends the trial.
    pub terminal: bool,
}

/// A counted quantity.
#[derive(Debug, Clone)]
pub struct Tally {
    /// Id.
    pub id: String,
    /// Label for people.
    pub label: String,
}

/// A step: something that can happen, spontaneously, on schedule, or as a reaction.
#[derive(Debug, Clone)]
pub struct Step {
    /// Id.
    pub id: String,
    /// Label for people.
    pub label: String,
    /// Who acts (free text).
    pub actor: String,
    /// Spontaneous rate per day (None: fires only by trigger or schedule).
    pub rate: Option<f64>,
    /// Rate multipliers over time intervals.
    pub windows: Vec<Window>,
    /// Cap on firings per trial.
    pub max: Option<u32>,
    /// Mutually exclusive outcomes (at least one).
    pub branches: Vec<Branch>,
    /// The branch whose p is `"rest"`, if any.
    pub rest: Option<usize>,
    /// Cumulative branch probabilities, for drawing (the last entry is infinity, so
    /// rounding never leaves a draw without a branch).
    pub branch_cdf: Vec<f64>,
}

/// A rate multiplier on `[from, to)` (days).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Start day (inclusive).
    pub from: f64,
    /// End day (exclusive).
    pub to: f64,
    /// Multiplier.
    pub rate_x: f64,
}

/// One outcome of a firing.
#[derive(Debug, Clone)]
pub struct Branch {
    /// Id (`"default"` for the implicit branch of a step without branches).
    pub id: String,
    /// Label for people.
    pub label: String,
    /// Probability (after resolving `"rest"`).
    pub p: f64,
    /// Amounts added to tallies, in file order.
    pub tallies: Vec<(TallyIx, Amount)>,
    /// The amounts ready to draw from, in the same order ([`Branch::prepare`]).
    pub laws: Vec<AmountLaw>,
    /// Level change.
    pub level: LevelChange,
    /// Modifiers started.
    pub modify: Vec<ModifierSpec>,
    /// Excitations started (Hawkes kernels on other steps' rates).
    pub excite: Vec<Excitation>,
    /// Triggers that react to this branch (of any step), in file order.
    pub reactions: Vec<usize>,
}

impl Branch {
    /// Computes the laws its draws use (of its amounts and its excitations' offspring)
    /// from their parameters: when the model is built and whenever a param changes them.
    pub fn prepare(&mut self) {
        self.laws.clear();
        self.laws.extend(self.tallies.iter().map(|(_, a)| a.law()));
        for x in &mut self.excite {
            x.offspring = PoissonLaw::new(x.n);
        }
    }
}

/// What a branch does to the level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelChange {
    /// Nothing.
    None,
    /// Level becomes the higher of current and this.
    RaiseTo(LevelIx),
    /// Level becomes the lower of current and this.
    LowerTo(LevelIx),
}

/// A temporary change to another step's rate or trigger probabilities.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModifierSpec {
    /// Step affected.
    pub step: StepIx,
    /// Multiplier on its spontaneous rate.
    pub rate_x: f64,
    /// Multiplier on the p of each of its triggers (result capped at 1).
    pub p_x: f64,
    /// Duration in days from the firing.
    pub days: f64,
}

/// A Hawkes kernel: the firing adds `n * exp(-(t - t0) / decay) / decay` to `step`'s
/// rate, so it causes `n` extra firings of `step` on average (the branching ratio).
/// Simulated exactly by its cluster representation: Poisson(n) offspring, each after an
/// exponential delay with mean `decay`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Excitation {
    /// Step excited.
    pub step: StepIx,
    /// Branching ratio: mean number of extra firings.
    pub n: f64,
    /// Decay time of the kernel, in days (the mean delay of an offspring).
    pub decay_days: f64,
    /// The law of the number of offspring, Poisson(n) ([`Branch::prepare`]).
    pub offspring: PoissonLaw,
}

/// A reaction: fire `step` after `after` fires (optionally with a given branch).
#[derive(Debug, Clone)]
pub struct Trigger {
    /// The step that fires in reaction (the step the trigger is written under).
    pub step: StepIx,
    /// The step reacted to.
    pub after: StepIx,
    /// Only after this branch of it, if set.
    pub after_branch: Option<usize>,
    /// Probability of reacting.
    pub p: f64,
    /// Delay until the reaction fires.
    pub delay: Delay,
    /// Guard: level (after the firing's effects) must be at least this.
    pub min_level: Option<LevelIx>,
    /// Guard: level must be at most this.
    pub max_level: Option<LevelIx>,
}

/// A forecast question of the file's `[[questions]]`: asked at day 0 of the days
/// `[0, days)`, and answered yes or no by a record (`brink track-record`).
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    /// `[a-z][a-z0-9_]*`, unique in the file.
    pub id: String,
    /// What it asks, across episodes: the questions of one kind share a base rate.
    pub kind: String,
    /// The question in words.
    pub text: String,
    /// What answers it.
    pub target: Asked,
    /// The window, from day 0, in days (1 to the horizon).
    pub days: u32,
}

/// What answers a [`Question`] yes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// The step fires at least once.
    Fired(StepIx),
    /// The level is reached (it lies above the initial level).
    Level(LevelIx),
    /// The tally gains at least this much.
    Tally(TallyIx, u64),
}

/// A firing known in advance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scheduled {
    /// Step that fires.
    pub step: StepIx,
    /// Branch forced, if any.
    pub branch: Option<usize>,
    /// Day (0 <= day < horizon).
    pub day: f64,
}

impl Model {
    /// A question's target as a scenario file writes it (`fired:STEP`, `tally:T >= 2`).
    pub fn asked_text(&self, target: Asked) -> String {
        match target {
            Asked::Fired(s) => format!("fired:{}", self.steps[s].id),
            Asked::Level(l) => format!("level:{}", self.levels[l].id),
            Asked::Tally(t, 1) => format!("tally:{}", self.tallies[t].id),
            Asked::Tally(t, n) => format!("tally:{} >= {n}", self.tallies[t].id),
        }
    }

    /// Index of a level by id.
    pub fn level_ix(&self, id: &str) -> Option<LevelIx> {
        self.levels.iter().position(|l| l.id == id)
    }

    /// Index of a step by id.
    pub fn step_ix(&self, id: &str) -> Option<StepIx> {
        self.steps.iter().position(|s| s.id == id)
    }

    /// The highest level of the ladder (the one comparisons and precision targets use).
    pub(crate) fn top_level(&self) -> LevelIx {
        self.levels.len() - 1
    }
}

/// Predictive mode: the numeric fields an uncertain param can feed, and writing a trial's
/// param values into them (docs/ARCHITECTURE.md, "Predictive mode").
impl Model {
    /// Visits every numeric field that a param can set, in a fixed order (the indices
    /// [`Uncertain::fields`](crate::sim::params::Uncertain::fields) refers to). Derived fields (a `"rest"` branch's p, the
    /// branch tables) are not visited: [`Model::finish`] recomputes them.
    pub(crate) fn visit_numbers(&mut self, mut f: impl FnMut(&mut f64)) {
        self.visit_fields(|_, x| f(x));
    }

    /// [`Model::visit_numbers`] with each field's role, so that an estimator can tell
    /// what a param controls (a step's rate, a branch's p, a trigger's p, ...).
    /// Generic, not `dyn`: `patch` calls it before every trial in predictive mode.
    pub(crate) fn visit_fields(&mut self, mut f: impl FnMut(Field, &mut f64)) {
        fn delay(t: usize, d: &mut Delay, f: &mut impl FnMut(Field, &mut f64)) {
            match d {
                Delay::Fixed(x) | Delay::Exponential(x) => f(Field::TriggerDelay(t), x),
                Delay::Uniform(a, b) => {
                    f(Field::TriggerDelay(t), a);
                    f(Field::TriggerDelay(t), b)
                }
                Delay::Triangular(a, c, b) => {
                    f(Field::TriggerDelay(t), a);
                    f(Field::TriggerDelay(t), c);
                    f(Field::TriggerDelay(t), b)
                }
                Delay::Lognormal { median, sigma } => {
                    f(Field::TriggerDelay(t), median);
                    f(Field::TriggerDelay(t), sigma)
                }
            }
        }
        for (s, step) in self.steps.iter_mut().enumerate() {
            if let Some(r) = &mut step.rate {
                f(Field::Rate(s), r);
            }
            for (w, win) in step.windows.iter_mut().enumerate() {
                f(Field::WindowTime(s, w), &mut win.from);
                f(Field::WindowTime(s, w), &mut win.to);
                f(Field::WindowRateX(s, w), &mut win.rate_x);
            }
            for (bi, b) in step.branches.iter_mut().enumerate() {
                if step.rest != Some(bi) {
                    f(Field::BranchP(s, bi), &mut b.p);
                }
                for (ti, (_, a)) in b.tallies.iter_mut().enumerate() {
                    let at = Field::Amount(s, bi, ti);
                    match a {
                        Amount::Poisson(m) | Amount::PoissonAtLeastOne(m) => f(at, m),
                        Amount::Binomial(_, p) => f(at, p),
                        Amount::NegativeBinomial { mean, dispersion } => {
                            f(at, mean);
                            f(Field::Dispersion(s, bi, ti), dispersion)
                        }
                        Amount::Fixed(_) | Amount::UniformInt(..) => {}
                    }
                }
                for (k, m) in b.modify.iter_mut().enumerate() {
                    f(Field::ModifierRateX(s, bi, k), &mut m.rate_x);
                    f(Field::ModifierPX(s, bi, k), &mut m.p_x);
                    f(Field::ModifierDays(s, bi, k), &mut m.days);
                }
                for (k, x) in b.excite.iter_mut().enumerate() {
                    f(Field::ExciteN(s, bi, k), &mut x.n);
                    f(Field::ExciteDecay(s, bi, k), &mut x.decay_days);
                }
            }
        }
        for (t, trig) in self.triggers.iter_mut().enumerate() {
            f(Field::TriggerP(t), &mut trig.p);
            delay(t, &mut trig.delay, &mut f);
        }
    }

    /// The role of every numeric field, in visiting order.
    pub fn fields(&mut self) -> Vec<Field> {
        let mut v = Vec::new();
        self.visit_fields(|r, _| v.push(r));
        v
    }

    /// Recomputes derived fields: each `"rest"` branch's p, every branch table and every
    /// branch's laws.
    pub fn finish(&mut self) {
        for s in 0..self.steps.len() {
            self.finish_step(s);
            for b in &mut self.steps[s].branches {
                b.prepare();
            }
        }
    }

    /// [`Model::finish`] for one step's branch table (its laws apart).
    fn finish_step(&mut self, s: usize) {
        let step = &mut self.steps[s];
        if let Some(r) = step.rest {
            let others: f64 =
                step.branches.iter().enumerate().filter(|&(i, _)| i != r).map(|(_, b)| b.p).sum();
            step.branches[r].p = (1.0 - others).max(0.0);
        }
        let mut acc = 0.0;
        for (c, b) in step.branch_cdf.iter_mut().zip(&step.branches) {
            acc += b.p;
            *c = acc;
        }
        if let Some(last) = step.branch_cdf.last_mut() {
            *last = f64::INFINITY;
        }
    }

    /// Where each field an uncertain param feeds lives: its role and which of the role's
    /// numbers it is (a window's start or end, a delay's first or second parameter), with
    /// the index into `uncertain`. Computed once per engine, so that [`Model::patch`]
    /// writes each field directly instead of walking every number of the model.
    pub(crate) fn patch_slots(&mut self) -> Vec<(Field, u8, usize)> {
        let mut roles: Vec<(Field, u8)> = Vec::new();
        self.visit_fields(|r, _| {
            let nth = match roles.last() {
                Some(&(last, k)) if last == r => k + 1,
                _ => 0,
            };
            roles.push((r, nth));
        });
        self.uncertain_fields.iter().map(|&(i, k)| (roles[i].0, roles[i].1, k)).collect()
    }

    /// The number at `(role, nth)` of [`Model::patch_slots`].
    fn slot_mut(&mut self, role: Field, nth: u8) -> &mut f64 {
        fn delay(d: &mut Delay, nth: u8) -> &mut f64 {
            match (d, nth) {
                (Delay::Fixed(x) | Delay::Exponential(x), _) => x,
                (Delay::Uniform(a, _), 0) | (Delay::Triangular(a, _, _), 0) => a,
                (Delay::Uniform(_, b), _) | (Delay::Triangular(_, _, b), 2..) => b,
                (Delay::Triangular(_, c, _), _) => c,
                (Delay::Lognormal { median, .. }, 0) => median,
                (Delay::Lognormal { sigma, .. }, _) => sigma,
            }
        }
        match role {
            Field::Rate(s) => self.steps[s].rate.as_mut().expect("a rate field has a rate"),
            Field::WindowTime(s, w) if nth == 0 => &mut self.steps[s].windows[w].from,
            Field::WindowTime(s, w) => &mut self.steps[s].windows[w].to,
            Field::WindowRateX(s, w) => &mut self.steps[s].windows[w].rate_x,
            Field::BranchP(s, b) => &mut self.steps[s].branches[b].p,
            Field::Amount(s, b, t) => match &mut self.steps[s].branches[b].tallies[t].1 {
                Amount::Poisson(m) | Amount::PoissonAtLeastOne(m) => m,
                Amount::Binomial(_, p) => p,
                Amount::NegativeBinomial { mean, .. } => mean,
                Amount::Fixed(_) | Amount::UniformInt(..) => unreachable!("not a param's field"),
            },
            Field::Dispersion(s, b, t) => match &mut self.steps[s].branches[b].tallies[t].1 {
                Amount::NegativeBinomial { dispersion, .. } => dispersion,
                _ => unreachable!("only a negative binomial has a dispersion"),
            },
            Field::ModifierRateX(s, b, k) => &mut self.steps[s].branches[b].modify[k].rate_x,
            Field::ModifierPX(s, b, k) => &mut self.steps[s].branches[b].modify[k].p_x,
            Field::ModifierDays(s, b, k) => &mut self.steps[s].branches[b].modify[k].days,
            Field::ExciteN(s, b, k) => &mut self.steps[s].branches[b].excite[k].n,
            Field::ExciteDecay(s, b, k) => &mut self.steps[s].branches[b].excite[k].decay_days,
            Field::TriggerP(t) => &mut self.triggers[t].p,
            Field::TriggerDelay(t) => delay(&mut self.triggers[t].delay, nth),
        }
    }

    /// Sets every uncertain param to its value in `values` (in [`Model::uncertain`]
    /// order) in every field it feeds (`slots`, from [`Model::patch_slots`]), then
    /// recomputes the derived fields. No allocation: the engine calls this before each
    /// trial.
    pub(crate) fn patch(&mut self, slots: &[(Field, u8, usize)], values: &[f64]) {
        for &(role, nth, k) in slots {
            *self.slot_mut(role, nth) = values[k];
        }
        for (u, &v) in self.uncertain.iter().zip(values) {
            self.params[u.param].1 = v;
        }
        // A branch's p feeds its step's table, an amount or excitation its branch's laws:
        // those of the steps and branches written.
        let (mut last_step, mut last_branch) = (usize::MAX, (usize::MAX, usize::MAX));
        for &(role, _, _) in slots {
            match role {
                Field::BranchP(s, _) if s != last_step => {
                    self.finish_step(s);
                    last_step = s;
                }
                Field::Amount(s, b, _) | Field::Dispersion(s, b, _) | Field::ExciteN(s, b, _)
                    if (s, b) != last_branch =>
                {
                    self.steps[s].branches[b].prepare();
                    last_branch = (s, b);
                }
                _ => {}
            }
        }
    }

    /// All numeric fields, in visiting order (for finding which a param feeds).
    pub fn numbers(&mut self) -> Vec<f64> {
        let mut v = Vec::new();
        self.visit_numbers(|x| v.push(*x));
        v
    }
}
