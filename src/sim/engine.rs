//! The engine: one trial as a discrete-event simulation (docs/scenario-language.md, "What firing a
//! step means" and "Time, ties and the horizon").
//!
//! Events are ordered by (time, sequence number): ties fire in the order they were
//! scheduled, as in nexosim's queue. Spontaneous arrivals are an exact non-homogeneous
//! Poisson process by a change of clock: each step with a rate spends a unit exponential
//! draw of hazard at its current rate, and a change of rate (a window edge, a modifier
//! starting or ending, a cap) rescales what is left of it (the time-change theorem), so
//! the pending arrival moves without a new draw.
//!
//! Pending arrivals live beside the event queue ([`crate::sim::queue`]), which holds every
//! other event: one `Clock` record per step with a rate, the records side by side. The
//! engine takes whichever of the queue's earliest event and the earliest arrival comes
//! first; moving an arrival is an overwrite, not a stale queue entry to pop later.
//! Arrivals take their sequence numbers from the queue's counter, so the order is the
//! one a single queue would give.
//!
//! An [`Engine`] borrows its model (with uncertain params, it owns a copy written per
//! trial) and owns every buffer a trial needs, reused from trial to trial, so the steady
//! state allocates nothing per event.
//!
//! [`Engine::run_observed`] reports what happens inside a trial to an [`Observer`] (for
//! `brink trace` and `events.csv`). Observing never draws a random number or changes the
//! order of anything, so an observed trial is the very trial that [`Engine::run`]
//! computes; `run` passes [`NoObserver`], whose empty methods compile away.

use crate::sim::model::{LevelChange, LevelIx, Model, ModifierSpec, StepIx, TallyIx};
use crate::sim::queue::{EventQueue, Key};
use crate::sim::rng::{param_key, step_key, Purpose, Stream, TrialStreams};
use std::borrow::Cow;

mod modifiers;
mod pause;

use modifiers::Multipliers;
pub use pause::Snapshot;

/// How a trial ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// It reached the horizon.
    Horizon,
    /// It reached a terminal level.
    Terminal,
}

impl EndReason {
    /// The word used in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Horizon => "horizon",
            EndReason::Terminal => "terminal",
        }
    }
}

/// A trial that fired more events than the per-trial limit: almost always a loop that
/// the scenario did not mean (triggers, or a rate that its own firings keep raising).
#[derive(Debug, Clone, thiserror::Error)]
#[error("trial {trial} exceeded the limit of {limit} firings; step `{step}` fired {count} times: {cause} (raise the limit with --max-events or [scenario] max_events if this is intended)")]
pub struct Runaway {
    /// Trial index.
    pub trial: u64,
    /// The most frequently fired step.
    pub step: String,
    /// How often it fired.
    pub count: u32,
    /// The limit.
    pub limit: u64,
    /// What most likely made that step fire so often.
    pub cause: RunawayCause,
}

/// Why the most frequently fired step of a runaway trial fired so often, as far as the
/// state at the limit tells.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RunawayCause {
    /// Its own firings raise its rate (it modifies itself with `rate_x` above 1): it fires
    /// ever faster. `rate_x` is the product of its active modifiers at the limit.
    OwnRateRaised {
        /// The multiplier on its rate at the limit.
        rate_x: f64,
    },
    /// Active modifiers of other steps raise its rate, and keep being renewed.
    RateRaised {
        /// The multiplier on its rate at the limit.
        rate_x: f64,
    },
    /// Triggers fire it: most likely a loop of triggers through it.
    Triggers,
    /// Excitations fire it: their clusters are larger than the limit.
    Excitations,
    /// Its own rate alone gives more firings than the limit.
    Rate,
}

impl std::fmt::Display for RunawayCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let times = |x: f64| match x {
            x if x.is_infinite() => "more than 1e308".to_owned(),
            x if x >= 1e6 => format!("{x:.3e}"),
            x => format!("{x:.3}"),
        };
        match *self {
            RunawayCause::OwnRateRaised { rate_x } => write!(
                f,
                "each of its firings raises its own rate (it modifies itself with a rate_x above 1), so it fires ever faster; its rate stood at {} times its base rate. Lower that rate_x or the modifier's days, or give the step a `max`",
                times(rate_x)
            ),
            RunawayCause::RateRaised { rate_x } => write!(
                f,
                "its rate is raised {} times by active modifiers of other steps (rate_x above 1), which its firings keep renewing. Lower their rate_x or days, or give a step a `max`",
                times(rate_x)
            ),
            RunawayCause::Triggers => f.write_str("triggers fire it, which suggests a loop of triggers through it"),
            RunawayCause::Excitations => {
                f.write_str("its excitations (`excite`) cause more firings than the limit allows; lower their n")
            }
            RunawayCause::Rate => f.write_str("its rate gives more firings than the limit allows"),
        }
    }
}

/// What one trial produced; borrowed from the engine until the next trial starts.
#[derive(Debug, Clone, Copy)]
pub struct Outcome<'a> {
    /// Trial index.
    pub trial: u64,
    /// Day the trial ended.
    pub end_day: f64,
    /// Why it ended.
    pub end_reason: EndReason,
    /// Level at the end.
    pub final_level: LevelIx,
    /// Highest level reached.
    pub max_level: LevelIx,
    /// First day each level was reached (NaN: never).
    pub reached: &'a [f64],
    /// Firings of each step.
    pub counts: &'a [u32],
    /// Totals of each tally.
    pub tallies: &'a [u64],
    /// Steps whose firing raised the level, in order.
    pub path: &'a [u32],
    /// Level changes `(day, new level)`, in order, starting from the initial level.
    pub changes: &'a [(f64, u32)],
}

/// Why a step fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// A `[[schedule]]` entry; `forced` if the entry named the branch.
    Scheduled {
        /// The branch was given by the schedule, not drawn.
        forced: bool,
    },
    /// A spontaneous arrival (the step's `rate`).
    Spontaneous,
    /// A reaction scheduled by this trigger (index into [`Model::triggers`]).
    Triggered {
        /// Index of the trigger.
        trigger: usize,
    },
    /// An offspring of an excitation started by a firing of this step (Hawkes).
    Excited {
        /// The exciting step.
        by: StepIx,
    },
    /// A firing of a logged past replayed before the origin of a forecast
    /// ([`Engine::run_from`]).
    Logged {
        /// Index into [`Past::firings`].
        index: usize,
    },
}

/// A logged past to forecast from (`brink score`): the firings an event log records before
/// the forecast's origin. [`Engine::run_from`] replays them, so that the level, the active
/// modifiers, the `max` caps, self-excitation and reactions still in flight at the origin
/// are those the record implies; nothing else happens before the origin.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Past {
    /// The origin (day): the forecast starts here.
    pub origin: f64,
    /// The logged firings before the origin, in time order.
    pub firings: Vec<PastFiring>,
}

/// One logged firing of a [`Past`].
#[derive(Debug, Clone, PartialEq)]
pub struct PastFiring {
    /// Its day (before the origin).
    pub time: f64,
    /// The step.
    pub step: StepIx,
    /// The branch the log gives (`None`: drawn, as for a scheduled entry without one).
    pub branch: Option<usize>,
    /// Steps whose logged firings before the origin answer this one (the log's `cause`
    /// links): their triggers on this firing are settled and not drawn again.
    pub answered_by: Vec<StepIx>,
}

/// A counted firing, as seen by an [`Observer`] before its effects apply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Firing {
    /// Time of the firing (days).
    pub time: f64,
    /// The step that fired.
    pub step: StepIx,
    /// The branch drawn (or forced).
    pub branch: usize,
    /// Why it fired.
    pub cause: Cause,
    /// The level before the firing's effects.
    pub level: LevelIx,
}

/// What became of one trigger evaluated after a firing (docs/scenario-language.md, firing, step 4).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TriggerCheck {
    /// A level guard did not hold: nothing was drawn.
    Guarded,
    /// The trigger's decision was drawn.
    Drawn {
        /// The uniform draw on [0, 1).
        u: f64,
        /// The probability in force: p times active `p_x`, capped at 1.
        p: f64,
        /// When the reaction fires, if `u < p`. A time at or after the horizon means
        /// the reaction was dropped (it would fire after the trial).
        at: Option<f64>,
    },
}

/// Sees what happens inside a trial. Every method does nothing by default. Calls come in
/// this order for each firing: [`on_fire`](Observer::on_fire), then its effects in the
/// order docs/scenario-language.md gives them (tallies, level, modifiers), then one
/// [`on_trigger`](Observer::on_trigger) per trigger that reacts to the drawn branch.
pub trait Observer {
    /// A trial starts.
    #[inline(always)]
    fn on_start(&mut self, _trial: u64) {}
    /// A step fired and counts (a firing beyond `max` is not reported: nothing happens).
    #[inline(always)]
    fn on_fire(&mut self, _firing: &Firing) {}
    /// The firing added `amount` to `tally`.
    #[inline(always)]
    fn on_tally(&mut self, _tally: TallyIx, _amount: u64) {}
    /// The firing moved the level.
    #[inline(always)]
    fn on_level(&mut self, _from: LevelIx, _to: LevelIx) {}
    /// The firing started a modifier on `spec.step`, in force until `until`.
    #[inline(always)]
    fn on_modifier_start(&mut self, _spec: &ModifierSpec, _until: f64) {}
    /// A modifier on `step` ended at time `t`.
    #[inline(always)]
    fn on_modifier_end(&mut self, _step: StepIx, _t: f64, _rate_x: f64, _p_x: f64) {}
    /// A trigger reacting to the firing was evaluated.
    #[inline(always)]
    fn on_trigger(&mut self, _trigger: usize, _check: &TriggerCheck) {}
    /// The trial ended at `t`.
    #[inline(always)]
    fn on_end(&mut self, _t: f64, _reason: EndReason) {}
}

/// The observer that looks at nothing: [`Engine::run`] uses it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NoObserver;

impl Observer for NoObserver {}

const NO_BRANCH: u32 = u32::MAX;
/// `Kind::Fire::cause` of a scheduled firing; otherwise the cause is a trigger index, or
/// EXCITED | the exciting step.
const SCHEDULED: u32 = u32::MAX;
const EXCITED: u32 = 1 << 31;
/// LOGGED | index into [`Past::firings`]: a replayed firing of the logged past.
const LOGGED: u32 = 1 << 30;

/// What a queued event does.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Fire a step (scheduled or triggered), with a forced branch or NO_BRANCH, and the
    /// trigger that scheduled it or SCHEDULED. (The cause costs nothing: a queued event
    /// is 32 bytes with or without it.)
    Fire { step: u32, branch: u32, cause: u32 },
    /// A window of this step opens or closes.
    WindowEdge { step: u32 },
    /// The modifier `spec` of `branch` of `step` (a firing of it) expires.
    ModifierEnd { step: u32, branch: u32, spec: u32 },
}

/// The spontaneous arrivals of one step with a rate, by a change of clock
/// (docs/scenario-language.md, "Rates"): the step's next arrival comes when the hazard it
/// accumulates (its rate integrated over time) uses up a unit exponential draw. A change
/// of rate rescales the remaining wait instead of drawing a new one, so it costs no
/// random number and keeps variants that change a rate coupled.
///
/// Everything an arrival needs sits in one record per step with a rate, and the records
/// of all such steps side by side: the engine reads them at every spontaneous firing and
/// scans their `next` for the earliest.
#[derive(Debug, Clone, Copy)]
struct Clock {
    /// The pending arrival, with its place in the queue's order; `Key::NEVER` if none.
    next: Key,
    step: StepIx,
    /// What is left of the unit exponential draw at day `hazard_at`, spent since at
    /// `rate_now` (0 while capped or off).
    hazard: f64,
    hazard_at: f64,
    rate_now: f64,
    /// The step's rate in this trial (its param's value) and the product of its windows
    /// open now.
    base: f64,
    window_x: f64,
    /// The step's `max`, or `u32::MAX` for none.
    cap: u32,
}

/// `clock_of` for a step without a rate.
const NO_CLOCK: u32 = u32::MAX;

/// Simulates trials of one model with one seed: one per chunk of trials, reused for each
/// trial of it (a model with uncertain params is copied once per engine, to patch).
///
/// The engine borrows the model; in predictive mode (uncertain params) it keeps its own
/// copy instead, into which each trial's param values are written before the trial
/// starts. Everything a trial changes lives in its `State`, which borrows the model for
/// the length of the trial, so that firing a step never needs to share or copy it.
pub struct Engine<'m> {
    /// The model as compiled, or the engine's own copy patched with this trial's values
    /// of the uncertain params.
    model: Cow<'m, Model>,
    /// The streams of the uncertain params (keyed once, repositioned per trial), and this
    /// trial's draws of them.
    param_streams: Vec<Stream>,
    param_values: Vec<f64>,
    /// Where the uncertain params are written ([`Model::patch_slots`]).
    patch_slots: Vec<(crate::sim::model::Field, u8, usize)>,
    state: State,
}

/// The state of the trial being run, and every buffer it needs, reused from trial to
/// trial. Cloned (without its streams) to pause a trial for multilevel splitting.
#[derive(Clone)]
struct State {
    horizon: f64,
    /// The forecast's origin ([`Engine::run_from`]), 0 otherwise: no spontaneous arrival,
    /// trigger or excitation fires before it; only the logged past does.
    origin: f64,
    /// Per logged firing of the past being replayed, the steps that answered it in the log
    /// (`answered_by`), flattened: `answered[answered_at[i]..answered_at[i + 1]]`.
    answered: Vec<StepIx>,
    answered_at: Vec<usize>,
    max_events: u64,
    streams: TrialStreams,
    queue: EventQueue<Kind>,
    /// Groups and powers visited by the modifier bookkeeping, over the engine's life: a
    /// measure of its work that tests can compare across sizes.
    modifier_work: u64,
    // Per step.
    counts: Vec<u32>,
    /// The arrival clock of each step with a rate, in step order, and the clock of each
    /// step (`NO_CLOCK` for a step without a rate).
    clocks: Vec<Clock>,
    clock_of: Vec<u32>,
    /// The steps with a rate (the clocks' steps), for computing their first blocks at once.
    rate_steps: Vec<StepIx>,
    /// The clock whose pending arrival is earliest, if any.
    first_arrival: Option<usize>,
    rate_x: Vec<f64>,
    p_x: Vec<f64>,
    /// The active modifiers' `rate_x` and `p_x` on each step; their products are `rate_x`
    /// and `p_x`.
    rate_mods: Vec<Multipliers>,
    p_mods: Vec<Multipliers>,
    /// Whether a modifier has started in this trial. Until one does, every `rate_x` and
    /// `p_x` is 1 and no multiplier is active, so starting a trial and continuing a paused
    /// one skip those four per-step lists (most scenarios have no modifier at all).
    modifiers_on: bool,
    // Per trial.
    trial: u64,
    level: LevelIx,
    max_level: LevelIx,
    reached: Vec<f64>,
    tallies: Vec<u64>,
    path: Vec<u32>,
    changes: Vec<(f64, u32)>,
    end_day: f64,
    end_reason: EndReason,
    fired: u64,
    /// The day of the last event handled: where a paused trial stands.
    now: f64,
    /// (sequence number, day of the firing it answers) of every reaction queued in this
    /// trial, in queueing order: what a continuation needs to draw their waits anew.
    reactions: Vec<(u64, f64)>,
    /// The reactions drawn past the horizon in this trial, with the day of the firing
    /// each answers: pending still, for a continuation that draws their waits anew.
    beyond: Vec<(Kind, f64)>,
    /// Scratch for [`State::redraw_reactions`].
    requeue: Vec<(Key, Kind)>,
    beyond_spare: Vec<(Kind, f64)>,
}

impl<'m> Engine<'m> {
    /// An engine for `model` drawing from the streams of `seed`.
    pub fn new(model: &'m Model, seed: u64) -> Self {
        let keys = model.steps.iter().map(|s| step_key(seed, &s.id)).collect();
        let n = model.steps.len();
        let state = State {
            horizon: model.horizon_days as f64,
            origin: 0.0,
            answered: Vec::new(),
            answered_at: Vec::new(),
            max_events: model.max_events,
            streams: TrialStreams::new(keys),
            queue: EventQueue::with_capacity(64),
            modifier_work: 0,
            counts: vec![0; n],
            clocks: Vec::new(),
            clock_of: vec![NO_CLOCK; n],
            rate_steps: model
                .steps
                .iter()
                .enumerate()
                .filter(|(_, s)| s.rate.is_some())
                .map(|(i, _)| i)
                .collect(),
            first_arrival: None,
            rate_x: vec![1.0; n],
            p_x: vec![1.0; n],
            rate_mods: vec![Multipliers::default(); n],
            p_mods: vec![Multipliers::default(); n],
            modifiers_on: false,
            trial: 0,
            level: model.initial_level,
            max_level: model.initial_level,
            reached: vec![f64::NAN; model.levels.len()],
            tallies: vec![0; model.tallies.len()],
            path: Vec::new(),
            changes: Vec::new(),
            end_day: 0.0,
            end_reason: EndReason::Horizon,
            fired: 0,
            now: 0.0,
            reactions: Vec::new(),
            beyond: Vec::new(),
            requeue: Vec::new(),
            beyond_spare: Vec::new(),
        };
        let mut model: Cow<'m, Model> =
            if model.uncertain.is_empty() { Cow::Borrowed(model) } else { Cow::Owned(model.clone()) };
        let patch_slots = if model.uncertain.is_empty() { Vec::new() } else { model.to_mut().patch_slots() };
        let param_streams = model
            .uncertain
            .iter()
            .map(|u| crate::sim::rng::stream(&param_key(seed, &model.params[u.param].0), 0, Purpose::Arrival))
            .collect();
        let param_values = vec![0.0; model.uncertain.len()];
        // Copied once here, so that no trial allocates to patch it.
        Engine { model, patch_slots, param_streams, param_values, state }
    }

    /// The work of the modifier bookkeeping so far (groups and powers visited): it grows
    /// linearly with the modifiers started, whatever the number active. For tests.
    #[doc(hidden)]
    pub fn modifier_work(&self) -> u64 {
        self.state.modifier_work
    }

    /// Overrides the per-trial firing limit.
    pub fn set_max_events(&mut self, limit: u64) {
        self.state.max_events = limit;
    }

    /// The outcome of the last trial run.
    pub fn outcome(&self) -> Outcome<'_> {
        let s = &self.state;
        Outcome {
            trial: s.trial,
            end_day: s.end_day,
            end_reason: s.end_reason,
            final_level: s.level,
            max_level: s.max_level,
            reached: &s.reached,
            counts: &s.counts,
            tallies: &s.tallies,
            path: &s.path,
            changes: &s.changes,
        }
    }

    /// Runs trial `trial` to its end; read the result with [`Engine::outcome`].
    pub fn run(&mut self, trial: u64) -> Result<(), Runaway> {
        self.run_observed(trial, &mut NoObserver)
    }

    /// Runs trial `trial` like [`Engine::run`], reporting what happens to `obs`. The
    /// trial is the same one: observing draws nothing and reorders nothing.
    pub fn run_observed<O: Observer>(&mut self, trial: u64, obs: &mut O) -> Result<(), Runaway> {
        if !self.param_streams.is_empty() {
            self.draw_params(trial);
        }
        self.state.run(&self.model, trial, None, obs)
    }

    /// Runs trial `trial` as a forecast from `past.origin` to `until` (exclusive): the
    /// logged firings of `past` are replayed with their branches (their tallies, level
    /// changes, modifiers, excitations and triggers apply as in any trial), while no
    /// spontaneous arrival, scheduled firing, reaction or excited firing happens before the
    /// origin: the log says what happened then. Reactions and offspring drawn from the past
    /// that fall at or after the origin are kept. A trigger is not drawn for a logged
    /// firing that the log shows answered by that trigger's step. `until` replaces the
    /// scenario's horizon. The engine's other buffers are reused; only the first runs with a
    /// longer past allocate.
    pub fn run_from<O: Observer>(
        &mut self,
        trial: u64,
        past: &Past,
        until: f64,
        obs: &mut O,
    ) -> Result<(), Runaway> {
        if !self.param_streams.is_empty() {
            self.draw_params(trial);
        }
        self.state.run(&self.model, trial, Some((past, until)), obs)
    }

    /// Predictive mode: draws this trial's value of every uncertain param from its own
    /// stream and writes them into the engine's copy of the model.
    fn draw_params(&mut self, trial: u64) {
        // Every param draws: their first blocks are computed at once (see `rng::prefill`).
        for s in &mut self.param_streams {
            s.restart(trial, Purpose::Arrival);
        }
        crate::sim::rng::prefill(&mut self.param_streams);
        for (k, s) in self.param_streams.iter_mut().enumerate() {
            self.param_values[k] = self.model.uncertain[k].dist.sample(s);
        }
        // Owned since `new`: `to_mut` copies nothing here.
        self.model.to_mut().patch(&self.patch_slots, &self.param_values);
    }

    /// This trial's values of the uncertain params (in [`Model::uncertain`] order).
    pub fn param_values(&self) -> &[f64] {
        &self.param_values
    }
}

impl State {
    /// Runs trial `trial` of `m` to its end.
    fn run<O: Observer>(
        &mut self,
        m: &Model,
        trial: u64,
        past: Option<(&Past, f64)>,
        obs: &mut O,
    ) -> Result<(), Runaway> {
        self.reset(m, trial, past);
        obs.on_start(trial);
        self.advance(m, obs, LevelIx::MAX)?;
        Ok(())
    }

    /// Handles events until the trial ends (true) or its highest level reaches `rung`
    /// (false: paused after the firing that reached it, at `now`).
    fn advance<O: Observer>(&mut self, m: &Model, obs: &mut O, rung: LevelIx) -> Result<bool, Runaway> {
        loop {
            // The next event: the queue's earliest or the earliest pending arrival.
            let arrival = self.first_arrival.map(|c| (c, self.clocks[c].next));
            let from_queue = match (self.queue.peek_key(), arrival) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(queued), Some((_, pending))) => queued.before(pending),
            };
            // What fires (a step, at t, why), with the clock to renew if it arrived
            // spontaneously; window edges and the ends of modifiers fire nothing. One call
            // of `fire` for both kinds of firing, so that it is inlined here.
            let (t, step, forced, cause, renew) = if !from_queue {
                let (c, pending) = arrival.expect("an arrival is pending");
                let t = pending.time();
                if t >= self.horizon {
                    break;
                }
                (t, self.clocks[c].step, None, Cause::Spontaneous, Some(c))
            } else {
                let Some((key, kind)) = self.queue.pop() else { break };
                let t = key.time();
                if t >= self.horizon {
                    break;
                }
                match kind {
                    Kind::Fire { step, branch, cause } => {
                        let forced = (branch != NO_BRANCH).then_some(branch as usize);
                        let cause = if cause == SCHEDULED {
                            Cause::Scheduled { forced: forced.is_some() }
                        } else if cause & EXCITED != 0 {
                            Cause::Excited { by: (cause & !EXCITED) as usize }
                        } else if cause & LOGGED != 0 {
                            Cause::Logged { index: (cause & !LOGGED) as usize }
                        } else {
                            Cause::Triggered { trigger: cause as usize }
                        };
                        (t, step as usize, forced, cause, None)
                    }
                    Kind::WindowEdge { step } => {
                        let s = step as usize;
                        let c = self.clock_of[s] as usize;
                        self.clocks[c].window_x = window_factor(m, s, t);
                        self.reschedule_clock(c, t);
                        match self.after_event(m, t, obs, rung) {
                            Some(done) => return Ok(done),
                            None => continue,
                        }
                    }
                    Kind::ModifierEnd { step, branch, spec } => {
                        let gone = &m.steps[step as usize].branches[branch as usize].modify[spec as usize];
                        let s = gone.step;
                        obs.on_modifier_end(s, t, gone.rate_x, gone.p_x);
                        if gone.rate_x != 1.0 {
                            self.rate_x[s] = self.rate_mods[s].end(gone.rate_x, &mut self.modifier_work);
                        }
                        if gone.p_x != 1.0 {
                            self.p_x[s] = self.p_mods[s].end(gone.p_x, &mut self.modifier_work);
                        }
                        if gone.rate_x != 1.0 {
                            self.reschedule_arrival(s, t);
                        }
                        match self.after_event(m, t, obs, rung) {
                            Some(done) => return Ok(done),
                            None => continue,
                        }
                    }
                }
            };
            self.fire(m, step, forced, cause, t, obs)?;
            if let Some(c) = renew {
                self.renew_arrival(c, t);
            }
            if let Some(done) = self.after_event(m, t, obs, rung) {
                return Ok(done);
            }
        }
        obs.on_end(self.end_day, self.end_reason);
        Ok(true)
    }

    /// After every event at `t` (docs/scenario-language.md, "Terminal levels"): `Some(true)`
    /// if the trial ended, `Some(false)` if its highest level reached `rung` (paused at
    /// `t`), `None` to go on.
    #[inline(always)]
    fn after_event<O: Observer>(&mut self, m: &Model, t: f64, obs: &mut O, rung: LevelIx) -> Option<bool> {
        if self.ended(m, t, obs) {
            return Some(true);
        }
        if self.max_level >= rung {
            self.now = t;
            return Some(false);
        }
        None
    }

    /// Ends the trial at `t` if its level reached a terminal one.
    #[inline]
    fn ended<O: Observer>(&mut self, m: &Model, t: f64, obs: &mut O) -> bool {
        if m.first_terminal.is_some_and(|l| self.level >= l) {
            self.end_day = t;
            self.end_reason = EndReason::Terminal;
            obs.on_end(t, EndReason::Terminal);
            return true;
        }
        false
    }

    fn reset(&mut self, m: &Model, trial: u64, past: Option<(&Past, f64)>) {
        self.trial = trial;
        self.horizon = past.map_or(m.horizon_days as f64, |(_, until)| until);
        self.origin = past.map_or(0.0, |(p, _)| p.origin);
        self.answered.clear();
        self.answered_at.clear();
        self.reactions.clear();
        self.beyond.clear();
        self.streams.begin(trial);
        self.queue.clear();
        self.first_arrival = None;
        self.fired = 0;
        self.counts.fill(0);
        if self.modifiers_on {
            self.rate_x.fill(1.0);
            self.p_x.fill(1.0);
            for x in self.rate_mods.iter_mut().chain(&mut self.p_mods) {
                x.clear();
            }
            self.modifiers_on = false;
        }
        self.level = m.initial_level;
        self.max_level = m.initial_level;
        for (l, r) in self.reached.iter_mut().enumerate() {
            *r = if l <= m.initial_level { 0.0 } else { f64::NAN };
        }
        self.tallies.fill(0);
        self.path.clear();
        self.changes.clear();
        self.changes.push((0.0, m.initial_level as u32));
        self.end_day = self.horizon;
        self.end_reason = EndReason::Horizon;

        if let Some((past, _)) = past {
            self.answered_at.push(0);
            for (i, f) in past.firings.iter().enumerate() {
                self.answered.extend_from_slice(&f.answered_by);
                self.answered_at.push(self.answered.len());
                debug_assert!((i as u32) < LOGGED, "more logged firings than causes can name");
                let branch = f.branch.map_or(NO_BRANCH, |b| b as u32);
                let kind = Kind::Fire { step: f.step as u32, branch, cause: LOGGED | i as u32 };
                // Only the past replays: a row at or after the origin is the future.
                if f.time < past.origin && f.time < self.horizon {
                    self.queue.push(f.time, kind);
                }
            }
        }

        for sc in &m.schedule {
            let branch = sc.branch.map_or(NO_BRANCH, |b| b as u32);
            self.push(sc.day, Kind::Fire { step: sc.step as u32, branch, cause: SCHEDULED });
        }
        // Every step with a rate draws its first arrival now (but one whose rate is 0 in
        // this trial, for which a block is computed in vain): their first blocks at once
        // (see `rng::prefill`).
        self.streams.prefill(Purpose::Arrival, &self.rate_steps);
        self.clocks.clear();
        for (s, step) in m.steps.iter().enumerate() {
            let Some(base) = step.rate else { continue };
            for w in &step.windows {
                for edge in [w.from, w.to] {
                    if edge > 0.0 && edge < self.horizon {
                        self.push(edge, Kind::WindowEdge { step: s as u32 });
                    }
                }
            }
            self.clock_of[s] = self.clocks.len() as u32;
            self.clocks.push(Clock {
                next: Key::NEVER,
                step: s,
                hazard: 0.0,
                hazard_at: 0.0,
                rate_now: 0.0,
                base,
                window_x: window_factor(m, s, 0.0),
                cap: step.max.unwrap_or(u32::MAX),
            });
            self.renew_arrival(self.clocks.len() - 1, 0.0);
        }
    }

    /// Queues an event, unless it falls at or after the horizon: then it never happens
    /// and takes no sequence number.
    #[inline]
    fn push(&mut self, time: f64, kind: Kind) -> Option<Key> {
        // Before a forecast's origin, only the logged past fires (replayed in `reset`).
        if time < self.origin && matches!(kind, Kind::Fire { .. }) {
            return None;
        }
        (time < self.horizon).then(|| self.queue.push(time, kind))
    }

    /// Queues a reaction to a firing on day `since`, and notes that day by its sequence
    /// number, so that a continuation of a paused trial can draw its wait anew
    /// ([`State::redraw_reactions`]).
    fn push_reaction(&mut self, time: f64, kind: Kind, since: f64) {
        match self.push(time, kind) {
            Some(key) => self.reactions.push((key.seq, since)),
            // Past the horizon it never happens in this trial; a continuation may draw
            // it anew within it.
            None if time >= self.horizon => self.beyond.push((kind, since)),
            None => {}
        }
    }

    /// Starts clock `c`'s next wait at `t` (the trial's start, or its step's spontaneous
    /// firing): a fresh unit of hazard to spend, then the arrival at the rate in force.
    #[inline(always)]
    fn renew_arrival(&mut self, c: usize, t: f64) {
        let step = self.clocks[c].step;
        let hazard = crate::sim::ziggurat::exp1(self.streams.get(step, Purpose::Arrival));
        let clock = &mut self.clocks[c];
        clock.hazard = hazard;
        clock.hazard_at = t;
        clock.rate_now = 0.0;
        self.reschedule_clock(c, t);
    }

    /// The rate of step `s` may have changed at `t` (a modifier on it started or ended):
    /// [`State::reschedule_clock`] for its clock, if it has a rate.
    fn reschedule_arrival(&mut self, s: StepIx, t: f64) {
        let c = self.clock_of[s];
        if c != NO_CLOCK {
            self.reschedule_clock(c as usize, t);
        }
    }

    /// Clock `c`'s rate may have changed at `t`: spends its hazard up to `t` at the old
    /// rate, then schedules the arrival at the new one, replacing any pending one.
    /// Exact for a rate that is constant between changes (the time-change theorem of
    /// Poisson processes); no hazard is spent before a forecast's origin, where only the
    /// logged past fires.
    #[inline(always)]
    fn reschedule_clock(&mut self, c: usize, t: f64) {
        let origin = self.origin;
        let clock = &mut self.clocks[c];
        let s = clock.step;
        let (from, to) = (clock.hazard_at.max(origin), t.max(origin));
        if clock.rate_now > 0.0 && to > from {
            clock.hazard = (clock.hazard - clock.rate_now * (to - from)).max(0.0);
        }
        clock.hazard_at = t;
        clock.next = Key::NEVER;
        let capped = self.counts[s] >= clock.cap;
        let rate = if capped { 0.0 } else { clock.base * clock.window_x * self.rate_x[s] };
        clock.rate_now = rate;
        if rate > 0.0 {
            let time = to + clock.hazard / rate;
            // As `push` would: beyond the horizon is never, and takes no sequence number.
            if time < self.horizon {
                clock.next = self.queue.stamp(time);
            }
        }
        let next = clock.next;
        // The earliest pending arrival: unchanged unless this clock's new one comes before
        // it, or this clock held it (then its new one may come later than another's).
        match self.first_arrival {
            Some(f) if f != c => {
                if next.before(self.clocks[f].next) {
                    self.first_arrival = Some(c);
                }
            }
            // None: every arrival was never, so this clock's is the earliest if it has one.
            None => self.first_arrival = next.before(Key::NEVER).then_some(c),
            Some(_) => self.first_arrival = self.scan_first_arrival(),
        }
        debug_assert_eq!(
            self.first_arrival,
            self.scan_first_arrival(),
            "the kept earliest arrival is the earliest"
        );
    }

    /// The clock with the earliest pending arrival, by a scan of them all (in step order,
    /// so that of equal keys, which only `Key::NEVER` can be, the first step's wins).
    fn scan_first_arrival(&self) -> Option<usize> {
        let mut first = None;
        let mut best = Key::NEVER;
        for (c, clock) in self.clocks.iter().enumerate() {
            if clock.next.before(best) {
                best = clock.next;
                first = Some(c);
            }
        }
        first
    }

    /// docs/scenario-language.md, "What firing a step means": what firing step `s` at time `t` means.
    #[inline(always)]
    fn fire<O: Observer>(
        &mut self,
        m: &Model,
        s: StepIx,
        forced: Option<usize>,
        cause: Cause,
        t: f64,
        obs: &mut O,
    ) -> Result<(), Runaway> {
        let step = &m.steps[s];
        if step.max.is_some_and(|cap| self.counts[s] >= cap) {
            return Ok(());
        }
        self.counts[s] += 1;
        // The limit guards against loops in the simulated future, not a long logged past.
        if t >= self.origin {
            self.fired += 1;
        }
        if self.fired > self.max_events {
            return Err(self.runaway(m));
        }
        let b = match forced {
            Some(b) => b,
            // A step of one branch takes it without a draw.
            None if step.branches.len() == 1 => 0,
            None => {
                let u = self.streams.get(s, Purpose::Branch).uniform();
                step.branch_cdf.iter().position(|&c| u < c).unwrap_or(step.branches.len() - 1)
            }
        };
        let branch = &step.branches[b];
        obs.on_fire(&Firing { time: t, step: s, branch: b, cause, level: self.level });

        debug_assert_eq!(branch.laws.len(), branch.tallies.len(), "every amount has its law");
        for (&(tally, _), law) in branch.tallies.iter().zip(&branch.laws) {
            let x = law.sample(self.streams.get(s, Purpose::Tally));
            self.tallies[tally] = self.tallies[tally].saturating_add(x);
            obs.on_tally(tally, x);
        }

        match branch.level {
            LevelChange::RaiseTo(l) if l > self.level => {
                obs.on_level(self.level, l);
                for r in &mut self.reached[self.level + 1..=l] {
                    if r.is_nan() {
                        *r = t;
                    }
                }
                self.level = l;
                self.max_level = self.max_level.max(l);
                self.path.push(s as u32);
                self.changes.push((t, l as u32));
            }
            LevelChange::LowerTo(l) if l < self.level => {
                obs.on_level(self.level, l);
                self.level = l;
                self.changes.push((t, l as u32));
            }
            _ => {}
        }

        for (i, spec) in branch.modify.iter().enumerate() {
            self.modifiers_on = true;
            obs.on_modifier_start(spec, t + spec.days);
            if spec.rate_x != 1.0 {
                self.rate_x[spec.step] =
                    self.rate_mods[spec.step].start(spec.rate_x, &mut self.modifier_work);
            }
            if spec.p_x != 1.0 {
                self.p_x[spec.step] = self.p_mods[spec.step].start(spec.p_x, &mut self.modifier_work);
            }
            if spec.rate_x != 1.0 {
                self.reschedule_arrival(spec.step, t);
            }
            self.push(t + spec.days, Kind::ModifierEnd { step: s as u32, branch: b as u32, spec: i as u32 });
        }

        // Excitations (Hawkes, cluster representation): Poisson(n) offspring of the
        // excited step, each after an exponential delay with mean decay_days.
        for x in &branch.excite {
            let stream = self.streams.get(s, Purpose::Excite);
            let k = x.offspring.sample(stream);
            for _ in 0..k {
                let d = x.decay_days * crate::sim::ziggurat::exp1(self.streams.get(s, Purpose::Excite));
                self.push(
                    t + d,
                    Kind::Fire { step: x.step as u32, branch: NO_BRANCH, cause: EXCITED | s as u32 },
                );
            }
        }

        let answered = match cause {
            Cause::Logged { index } => self.answered_at[index]..self.answered_at[index + 1],
            _ => 0..0,
        };
        for &ti in &branch.reactions {
            let trig = &m.triggers[ti];
            if !answered.is_empty() && self.answered[answered.clone()].contains(&trig.step) {
                // The log records the answer: it happened before the origin, as logged.
                continue;
            }
            if trig.min_level.is_some_and(|l| self.level < l)
                || trig.max_level.is_some_and(|l| self.level > l)
            {
                obs.on_trigger(ti, &TriggerCheck::Guarded);
                continue;
            }
            let mut p = (trig.p * self.p_x[trig.step]).min(1.0);
            // A logged firing's reaction that has not fired by the origin (the log would
            // show it): conditioned on that, it comes with p S / (1 - p F) at a delay
            // beyond the days elapsed (S = 1 - F, F the delay's distribution there).
            let elapsed = self.origin - t;
            let beyond = matches!(cause, Cause::Logged { .. }) && elapsed > 0.0;
            if beyond {
                let f = trig.delay.cdf(elapsed);
                p = if p * f >= 1.0 { 0.0 } else { p * (1.0 - f) / (1.0 - p * f) };
            }
            let u = self.streams.get(trig.step, Purpose::Trigger).uniform();
            if u < p {
                let stream = self.streams.get(trig.step, Purpose::Delay);
                let d = if beyond {
                    trig.delay.sample_beyond(elapsed, stream)
                } else {
                    trig.delay.sample(stream)
                };
                obs.on_trigger(ti, &TriggerCheck::Drawn { u, p, at: Some(t + d) });
                let kind = Kind::Fire { step: trig.step as u32, branch: NO_BRANCH, cause: ti as u32 };
                self.push_reaction(t + d, kind, t);
            } else {
                obs.on_trigger(ti, &TriggerCheck::Drawn { u, p, at: None });
            }
        }
        Ok(())
    }

    fn runaway(&self, m: &Model) -> Runaway {
        let (s, &count) =
            self.counts.iter().enumerate().max_by_key(|&(i, c)| (c, std::cmp::Reverse(i))).unwrap_or((0, &0));
        let step = &m.steps[s];
        let cause = if step.rate.is_some() && self.rate_x[s] > 1.0 {
            let rate_x = self.rate_x[s];
            let modifies_itself =
                step.branches.iter().flat_map(|b| &b.modify).any(|x| x.step == s && x.rate_x > 1.0);
            if modifies_itself {
                RunawayCause::OwnRateRaised { rate_x }
            } else {
                RunawayCause::RateRaised { rate_x }
            }
        } else if m.triggers.iter().any(|t| t.step == s) {
            RunawayCause::Triggers
        } else if m.steps.iter().flat_map(|x| &x.branches).flat_map(|b| &b.excite).any(|x| x.step == s) {
            RunawayCause::Excitations
        } else {
            RunawayCause::Rate
        };
        Runaway { trial: self.trial, step: step.id.clone(), count, limit: self.max_events, cause }
    }
}

/// Product of the multipliers of the step's windows open at `t` (`from <= t < to`).
fn window_factor(m: &Model, s: StepIx, t: f64) -> f64 {
    m.steps[s].windows.iter().filter(|w| w.from <= t && t < w.to).fold(1.0, |acc, w| acc * w.rate_x)
}
