//! What a run of trials collects: [`Accumulate`], the contract between the runner
//! ([`crate::sim::runner`]) and everything that adds trials up: an [`Aggregate`], the
//! pairings of a comparison, the rows of `trials.csv`, a backtest's per-trial values.
//!
//! The runner gives each chunk of trials an empty accumulator on a worker thread, adds the
//! chunk's trials to it in trial order, and merges the chunks into the caller's total
//! strictly in chunk order. So an accumulator whose merge is exact (integer sums) or
//! appends (rows, per-trial values) gives the same total on any number of threads.
//! It lives beside the runner rather than in it so that the layers that implement it
//! (`analysis`, `output`) need not name the runner.

use crate::sim::engine::{EndReason, Firing, NoObserver, Observer, Outcome, TriggerCheck};
use crate::sim::model::{LevelIx, ModifierSpec, StepIx, TallyIx};
use crate::sim::stats::Aggregate;

/// What a chunk of trials collects, and how chunks add up.
///
/// Models of a lockstep set run trial i one after another (model 0 first) before any runs
/// trial i + 1; `model` says which one an outcome is of. The trial index is
/// `outcome.trial`. Combinators pass `model` through unchanged: in a `Vec`, element k sees
/// only model k's outcomes, with `model == k`; a bare accumulator (an [`Aggregate`]) sees
/// every model's, so in a set of several models it belongs in a `Vec` or a `SetOutput`.
pub trait Accumulate: Send + Sized {
    /// What watches model `model`'s trial while it runs, for an accumulator that needs the
    /// firings and not only the outcome (a backtest's monthly counts). By default nothing,
    /// which compiles away: the trial loop then costs what `Engine::run` costs.
    fn watch(&mut self, _model: usize) -> impl Observer + '_ {
        NoObserver
    }

    /// Adds model `model`'s outcome of one trial. `first` is model 0's outcome of the same
    /// trial (`outcome` itself for model 0): the partner of a pairing.
    fn add(&mut self, model: usize, outcome: &Outcome<'_>, first: &Outcome<'_>);

    /// Adds `later`, the accumulator of the trials right after this one's (the runner merges
    /// in trial order). A total that streams, such as rows going to a file, writes here:
    /// hence the error.
    fn merge(&mut self, later: Self) -> std::io::Result<()>;
}

/// Every outcome it is given: in a lockstep set, one per model (`Vec<Aggregate>`).
impl Accumulate for Aggregate {
    fn add(&mut self, _model: usize, outcome: &Outcome<'_>, _first: &Outcome<'_>) {
        Aggregate::add(self, outcome)
    }

    fn merge(&mut self, later: Self) -> std::io::Result<()> {
        Aggregate::merge(self, &later);
        Ok(())
    }
}

/// One accumulator per model of a lockstep set: element k collects model k.
impl<A: Accumulate> Accumulate for Vec<A> {
    fn watch(&mut self, model: usize) -> impl Observer + '_ {
        self[model].watch(model)
    }

    fn add(&mut self, model: usize, outcome: &Outcome<'_>, first: &Outcome<'_>) {
        self[model].add(model, outcome, first)
    }

    fn merge(&mut self, later: Self) -> std::io::Result<()> {
        if self.len() != later.len() {
            return Err(shape_differs("a list", self.len(), later.len()));
        }
        for (a, b) in self.iter_mut().zip(later) {
            a.merge(b)?;
        }
        Ok(())
    }
}

/// The error of merging a chunk whose accumulator does not have the total's shape: a
/// caller's `empty()` that disagrees with its total, which would otherwise lose data
/// silently (rows missing from `trials.csv`, models missing from a comparison).
pub fn shape_differs(what: &str, total: usize, chunk: usize) -> std::io::Error {
    std::io::Error::other(format!(
        "internal error: a chunk's accumulator does not have the total's shape \
         ({what} of {chunk} merged into one of {total})"
    ))
}

/// Something collected only when asked for (rows without `--no-trials-csv`).
impl<A: Accumulate> Accumulate for Option<A> {
    fn watch(&mut self, model: usize) -> impl Observer + '_ {
        self.as_mut().map(|a| a.watch(model))
    }

    fn add(&mut self, model: usize, outcome: &Outcome<'_>, first: &Outcome<'_>) {
        if let Some(a) = self {
            a.add(model, outcome, first)
        }
    }

    fn merge(&mut self, later: Self) -> std::io::Result<()> {
        match (self, later) {
            (Some(a), Some(b)) => a.merge(b),
            (None, None) => Ok(()),
            (total, chunk) => Err(shape_differs(
                "an optional part",
                usize::from(total.is_some()),
                usize::from(chunk.is_some()),
            )),
        }
    }
}

/// Two things collected from the same trials (an aggregate and its rows).
impl<A: Accumulate, B: Accumulate> Accumulate for (A, B) {
    fn watch(&mut self, model: usize) -> impl Observer + '_ {
        (self.0.watch(model), self.1.watch(model))
    }

    fn add(&mut self, model: usize, outcome: &Outcome<'_>, first: &Outcome<'_>) {
        self.0.add(model, outcome, first);
        self.1.add(model, outcome, first);
    }

    fn merge(&mut self, later: Self) -> std::io::Result<()> {
        self.0.merge(later.0)?;
        self.1.merge(later.1)
    }
}

/// Which levels each trial reached, in trial order: `levels` flags per trial. What a
/// paired or crossed estimate needs beyond the counts: `brink serve` keeps the baseline's
/// to pair a change with it, and a two-loop run adds each draw's into per-trial counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reached {
    levels: usize,
    flags: Vec<bool>,
}

impl Reached {
    /// No trials yet, for a model of `levels` levels.
    pub fn new(levels: usize) -> Reached {
        Reached { levels, flags: Vec::new() }
    }

    /// The number of trials held.
    pub fn trials(&self) -> u64 {
        (self.flags.len() / self.levels.max(1)) as u64
    }

    /// Whether trial `t` reached each level.
    pub fn trial(&self, t: usize) -> &[bool] {
        &self.flags[t * self.levels..(t + 1) * self.levels]
    }
}

impl Accumulate for Reached {
    fn add(&mut self, _model: usize, outcome: &Outcome<'_>, _first: &Outcome<'_>) {
        self.flags.extend(outcome.reached.iter().map(|d| !d.is_nan()));
    }

    fn merge(&mut self, later: Self) -> std::io::Result<()> {
        self.flags.extend(later.flags);
        Ok(())
    }
}

// Observers of the combinations above: each part watches. The methods are as cheap as
// the parts' (nothing, for parts that do not watch).

impl<O: Observer + ?Sized> Observer for &mut O {
    #[inline(always)]
    fn on_start(&mut self, trial: u64) {
        (**self).on_start(trial)
    }
    #[inline(always)]
    fn on_fire(&mut self, firing: &Firing) {
        (**self).on_fire(firing)
    }
    #[inline(always)]
    fn on_tally(&mut self, tally: TallyIx, amount: u64) {
        (**self).on_tally(tally, amount)
    }
    #[inline(always)]
    fn on_level(&mut self, from: LevelIx, to: LevelIx) {
        (**self).on_level(from, to)
    }
    #[inline(always)]
    fn on_modifier_start(&mut self, spec: &ModifierSpec, until: f64) {
        (**self).on_modifier_start(spec, until)
    }
    #[inline(always)]
    fn on_modifier_end(&mut self, step: StepIx, t: f64, rate_x: f64, p_x: f64) {
        (**self).on_modifier_end(step, t, rate_x, p_x)
    }
    #[inline(always)]
    fn on_trigger(&mut self, trigger: usize, check: &TriggerCheck) {
        (**self).on_trigger(trigger, check)
    }
    #[inline(always)]
    fn on_end(&mut self, t: f64, reason: EndReason) {
        (**self).on_end(t, reason)
    }
}

impl<O: Observer> Observer for Option<O> {
    #[inline(always)]
    fn on_start(&mut self, trial: u64) {
        if let Some(o) = self {
            o.on_start(trial)
        }
    }
    #[inline(always)]
    fn on_fire(&mut self, firing: &Firing) {
        if let Some(o) = self {
            o.on_fire(firing)
        }
    }
    #[inline(always)]
    fn on_tally(&mut self, tally: TallyIx, amount: u64) {
        if let Some(o) = self {
            o.on_tally(tally, amount)
        }
    }
    #[inline(always)]
    fn on_level(&mut self, from: LevelIx, to: LevelIx) {
        if let Some(o) = self {
            o.on_level(from, to)
        }
    }
    #[inline(always)]
    fn on_modifier_start(&mut self, spec: &ModifierSpec, until: f64) {
        if let Some(o) = self {
            o.on_modifier_start(spec, until)
        }
    }
    #[inline(always)]
    fn on_modifier_end(&mut self, step: StepIx, t: f64, rate_x: f64, p_x: f64) {
        if let Some(o) = self {
            o.on_modifier_end(step, t, rate_x, p_x)
        }
    }
    #[inline(always)]
    fn on_trigger(&mut self, trigger: usize, check: &TriggerCheck) {
        if let Some(o) = self {
            o.on_trigger(trigger, check)
        }
    }
    #[inline(always)]
    fn on_end(&mut self, t: f64, reason: EndReason) {
        if let Some(o) = self {
            o.on_end(t, reason)
        }
    }
}

impl<A: Observer, B: Observer> Observer for (A, B) {
    #[inline(always)]
    fn on_start(&mut self, trial: u64) {
        self.0.on_start(trial);
        self.1.on_start(trial);
    }
    #[inline(always)]
    fn on_fire(&mut self, firing: &Firing) {
        self.0.on_fire(firing);
        self.1.on_fire(firing);
    }
    #[inline(always)]
    fn on_tally(&mut self, tally: TallyIx, amount: u64) {
        self.0.on_tally(tally, amount);
        self.1.on_tally(tally, amount);
    }
    #[inline(always)]
    fn on_level(&mut self, from: LevelIx, to: LevelIx) {
        self.0.on_level(from, to);
        self.1.on_level(from, to);
    }
    #[inline(always)]
    fn on_modifier_start(&mut self, spec: &ModifierSpec, until: f64) {
        self.0.on_modifier_start(spec, until);
        self.1.on_modifier_start(spec, until);
    }
    #[inline(always)]
    fn on_modifier_end(&mut self, step: StepIx, t: f64, rate_x: f64, p_x: f64) {
        self.0.on_modifier_end(step, t, rate_x, p_x);
        self.1.on_modifier_end(step, t, rate_x, p_x);
    }
    #[inline(always)]
    fn on_trigger(&mut self, trigger: usize, check: &TriggerCheck) {
        self.0.on_trigger(trigger, check);
        self.1.on_trigger(trigger, check);
    }
    #[inline(always)]
    fn on_end(&mut self, t: f64, reason: EndReason) {
        self.0.on_end(t, reason);
        self.1.on_end(t, reason);
    }
}
