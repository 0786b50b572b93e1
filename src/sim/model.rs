//! The compiled model: a validated scenario with every id resolved to an index and every
//! param substituted. This is all the engine sees; it cannot be built with dangling
//! references or out-of-range numbers except through [`crate::scenario`].

use crate::sim::dist::{Amount, Delay};

/// Index of a level in the ladder (0 = lowest).
pub type LevelIx = usize;
/// Index of a step, in file order.
pub type StepIx = usize;
/// Index of a tally, in file order.
pub type TallyIx = usize;

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
    /// Level change.
    pub level: LevelChange,
    /// Modifiers started.
    pub modify: Vec<ModifierSpec>,
    /// Excitations started (Hawkes kernels on other steps' rates).
    pub excite: Vec<Excitation>,
    /// Triggers that react to this branch (of any step), in file order.
    pub reactions: Vec<usize>,
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
    /// Index of a level by id.
    pub fn level_ix(&self, id: &str) -> Option<LevelIx> {
        self.levels.iter().position(|l| l.id == id)
    }

    /// Index of a step by id.
    pub fn step_ix(&self, id: &str) -> Option<StepIx> {
        self.steps.iter().position(|s| s.id == id)
    }

    /// The highest level of the ladder (the one comparisons and precision targets use).
    pub fn top_level(&self) -> LevelIx {
        self.levels.len() - 1
    }
}
