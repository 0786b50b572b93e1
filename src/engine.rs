//! The engine: one trial as a discrete-event simulation (MODEL.md §1, §3).
//!
//! Events sit in a binary heap ordered by (time, sequence number): ties fire in the order
//! they were scheduled, as in nexosim's queue. Spontaneous arrivals are an exact
//! non-homogeneous Poisson process: each step with a rate has one pending arrival drawn
//! for its current rate; whenever that rate changes (a window edge, a modifier starting
//! or ending) the pending arrival is dropped (its generation number goes stale) and a new
//! one is drawn from the change time, which is exact because the exponential distribution
//! is memoryless.
//!
//! An [`Engine`] owns every buffer a trial needs and reuses them from trial to trial, so
//! the steady state allocates nothing per event.

use crate::model::{LevelChange, LevelIx, Model, StepIx};
use crate::rng::{stream_key, Purpose, TrialStreams};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

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

/// A trial that fired more events than the per-trial limit: almost always a loop of
/// triggers that the scenario did not mean.
#[derive(Debug, Clone, thiserror::Error)]
#[error("trial {trial} exceeded the limit of {limit} firings; step `{step}` fired {count} times, which suggests a loop of triggers through it (raise the limit with --max-events or [scenario] max_events if this is intended)")]
pub struct Runaway {
    /// Trial index.
    pub trial: u64,
    /// The most frequently fired step.
    pub step: String,
    /// How often it fired.
    pub count: u32,
    /// The limit.
    pub limit: u64,
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

const NO_BRANCH: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Fire a step (scheduled or triggered), with a forced branch or NO_BRANCH.
    Fire { step: u32, branch: u32 },
    /// A spontaneous arrival; stale unless `gen` matches the step's generation.
    Arrival { step: u32, gen: u32 },
    /// A window of this step opens or closes.
    WindowEdge { step: u32 },
    /// A modifier on this step expires.
    ModifierEnd { step: u32, uid: u32 },
}

#[derive(Debug, Clone, Copy)]
struct Event {
    time: f64,
    seq: u64,
    kind: Kind,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    /// Reversed, so that the max-heap pops the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.time.total_cmp(&self.time).then(other.seq.cmp(&self.seq))
    }
}

/// A modifier in force on a step.
#[derive(Debug, Clone, Copy)]
struct Active {
    uid: u32,
    rate_x: f64,
    p_x: f64,
}

/// Simulates trials of one model with one seed. One per worker thread.
pub struct Engine<'m> {
    model: &'m Model,
    horizon: f64,
    max_events: u64,
    streams: TrialStreams,
    queue: BinaryHeap<Event>,
    seq: u64,
    next_uid: u32,
    // Per step.
    counts: Vec<u32>,
    generation: Vec<u32>,
    window_x: Vec<f64>,
    rate_x: Vec<f64>,
    p_x: Vec<f64>,
    active: Vec<Vec<Active>>,
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
}

impl<'m> Engine<'m> {
    /// An engine for `model` drawing from the streams of `seed`.
    pub fn new(model: &'m Model, seed: u64) -> Self {
        let keys = model.steps.iter().map(|s| stream_key(seed, &s.id)).collect();
        let n = model.steps.len();
        Engine {
            model,
            horizon: model.horizon_days as f64,
            max_events: model.max_events,
            streams: TrialStreams::new(keys),
            queue: BinaryHeap::with_capacity(64),
            seq: 0,
            next_uid: 0,
            counts: vec![0; n],
            generation: vec![0; n],
            window_x: vec![1.0; n],
            rate_x: vec![1.0; n],
            p_x: vec![1.0; n],
            active: vec![Vec::new(); n],
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
        }
    }

    /// Overrides the per-trial firing limit.
    pub fn set_max_events(&mut self, limit: u64) {
        self.max_events = limit;
    }

    /// The outcome of the last trial run.
    pub fn outcome(&self) -> Outcome<'_> {
        Outcome {
            trial: self.trial,
            end_day: self.end_day,
            end_reason: self.end_reason,
            final_level: self.level,
            max_level: self.max_level,
            reached: &self.reached,
            counts: &self.counts,
            tallies: &self.tallies,
            path: &self.path,
            changes: &self.changes,
        }
    }

    /// Runs trial `trial` to its end; read the result with [`Engine::outcome`].
    pub fn run(&mut self, trial: u64) -> Result<(), Runaway> {
        self.reset(trial);
        while let Some(ev) = self.queue.pop() {
            if ev.time >= self.horizon {
                break;
            }
            let t = ev.time;
            match ev.kind {
                Kind::Fire { step, branch } => {
                    let forced = (branch != NO_BRANCH).then_some(branch as usize);
                    self.fire(step as usize, forced, t)?;
                }
                Kind::Arrival { step, gen } => {
                    if gen != self.generation[step as usize] {
                        continue;
                    }
                    self.fire(step as usize, None, t)?;
                    self.redraw_arrival(step as usize, t);
                }
                Kind::WindowEdge { step } => {
                    let s = step as usize;
                    self.window_x[s] = self.window_factor(s, t);
                    self.redraw_arrival(s, t);
                }
                Kind::ModifierEnd { step, uid } => {
                    let s = step as usize;
                    if let Some(i) = self.active[s].iter().position(|a| a.uid == uid) {
                        let gone = self.active[s].remove(i);
                        self.recompute_modifiers(s);
                        if gone.rate_x != 1.0 {
                            self.redraw_arrival(s, t);
                        }
                    }
                }
            }
            if self.model.first_terminal.is_some_and(|t| self.level >= t) {
                self.end_day = t;
                self.end_reason = EndReason::Terminal;
                return Ok(());
            }
        }
        Ok(())
    }

    fn reset(&mut self, trial: u64) {
        let m = self.model;
        self.trial = trial;
        self.streams.begin(trial);
        self.queue.clear();
        self.seq = 0;
        self.next_uid = 0;
        self.fired = 0;
        self.counts.fill(0);
        self.rate_x.fill(1.0);
        self.p_x.fill(1.0);
        for a in &mut self.active {
            a.clear();
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

        for sc in &m.schedule {
            let branch = sc.branch.map_or(NO_BRANCH, |b| b as u32);
            self.push(sc.day, Kind::Fire { step: sc.step as u32, branch });
        }
        for (s, step) in m.steps.iter().enumerate() {
            if step.rate.is_none() {
                continue;
            }
            self.window_x[s] = self.window_factor(s, 0.0);
            for w in &step.windows {
                for edge in [w.from, w.to] {
                    if edge > 0.0 && edge < self.horizon {
                        self.push(edge, Kind::WindowEdge { step: s as u32 });
                    }
                }
            }
            self.redraw_arrival(s, 0.0);
        }
    }

    #[inline]
    fn push(&mut self, time: f64, kind: Kind) {
        if time < self.horizon {
            self.seq += 1;
            self.queue.push(Event { time, seq: self.seq, kind });
        }
    }

    /// Product of the multipliers of the step's windows open at `t` (`from <= t < to`).
    fn window_factor(&self, s: StepIx, t: f64) -> f64 {
        self.model.steps[s]
            .windows
            .iter()
            .filter(|w| w.from <= t && t < w.to)
            .fold(1.0, |acc, w| acc * w.rate_x)
    }

    fn recompute_modifiers(&mut self, s: StepIx) {
        let (mut r, mut p) = (1.0, 1.0);
        for a in &self.active[s] {
            r *= a.rate_x;
            p *= a.p_x;
        }
        self.rate_x[s] = r;
        self.p_x[s] = p;
    }

    /// Draws the step's next spontaneous arrival from time `t` at its current rate,
    /// invalidating any pending one.
    fn redraw_arrival(&mut self, s: StepIx, t: f64) {
        let step = &self.model.steps[s];
        let Some(base) = step.rate else { return };
        self.generation[s] = self.generation[s].wrapping_add(1);
        if step.max.is_some_and(|m| self.counts[s] >= m) {
            return;
        }
        let rate = base * self.window_x[s] * self.rate_x[s];
        if rate > 0.0 {
            let e = -libm::log(self.streams.get(s, Purpose::Arrival).uniform_open0());
            let gen = self.generation[s];
            self.push(t + e / rate, Kind::Arrival { step: s as u32, gen });
        }
    }

    /// MODEL.md §3: what firing step `s` at time `t` means.
    fn fire(&mut self, s: StepIx, forced: Option<usize>, t: f64) -> Result<(), Runaway> {
        let m = self.model;
        let step = &m.steps[s];
        if step.max.is_some_and(|cap| self.counts[s] >= cap) {
            return Ok(());
        }
        self.counts[s] += 1;
        self.fired += 1;
        if self.fired > self.max_events {
            return Err(self.runaway());
        }
        let b = match forced {
            Some(b) => b,
            None => {
                let u = self.streams.get(s, Purpose::Branch).uniform();
                step.branch_cdf.iter().position(|&c| u < c).unwrap_or(step.branches.len() - 1)
            }
        };
        let branch = &step.branches[b];

        for &(tally, amount) in &branch.tallies {
            let x = amount.sample(self.streams.get(s, Purpose::Tally));
            self.tallies[tally] = self.tallies[tally].saturating_add(x);
        }

        match branch.level {
            LevelChange::RaiseTo(l) if l > self.level => {
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
                self.level = l;
                self.changes.push((t, l as u32));
            }
            _ => {}
        }

        for spec in &branch.modify {
            let uid = self.next_uid;
            self.next_uid = self.next_uid.wrapping_add(1);
            self.active[spec.step].push(Active { uid, rate_x: spec.rate_x, p_x: spec.p_x });
            self.recompute_modifiers(spec.step);
            if spec.rate_x != 1.0 {
                self.redraw_arrival(spec.step, t);
            }
            self.push(t + spec.days, Kind::ModifierEnd { step: spec.step as u32, uid });
        }

        for &ti in &branch.reactions {
            let trig = &m.triggers[ti];
            if trig.min_level.is_some_and(|l| self.level < l)
                || trig.max_level.is_some_and(|l| self.level > l)
            {
                continue;
            }
            let p = (trig.p * self.p_x[trig.step]).min(1.0);
            if self.streams.get(trig.step, Purpose::Trigger).uniform() < p {
                let d = trig.delay.sample(self.streams.get(trig.step, Purpose::Delay));
                self.push(t + d, Kind::Fire { step: trig.step as u32, branch: NO_BRANCH });
            }
        }
        Ok(())
    }

    fn runaway(&self) -> Runaway {
        let (s, &count) =
            self.counts.iter().enumerate().max_by_key(|&(i, c)| (c, std::cmp::Reverse(i))).unwrap_or((0, &0));
        Runaway { trial: self.trial, step: self.model.steps[s].id.clone(), count, limit: self.max_events }
    }
}
