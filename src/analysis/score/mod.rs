//! `brink score`: rolling-origin evaluation of a scenario's forecasts against a dated
//! event log (docs/score.md).
//!
//! At each origin t the log's firings before t are replayed into the engine
//! ([`crate::sim::engine::Past`]), so a forecast starts from the level, modifiers, caps,
//! self-excitation and reactions in flight that the record implies; brink then simulates
//! the window [t, t + lead) and each target (a step's firings, a tally's sum, whether a
//! step fired, whether a level was reached) is scored against what the log records in the
//! window, beside baselines scored on the same windows. The scores themselves are in
//! [`proper`]; the command (refitting, files) is `cli/score.rs`.
//!
//! Everything here is integer-exact until read out (histograms of simulated counts), and
//! the only random numbers outside trials (the randomized PIT, the bootstrap) come from
//! streams of the run's seed, so a score run is byte-identical whatever the threads.

pub mod proper;

pub use proper::{binary_log_score, brier, crps, log_score, pit, pit_uniformity, CountForecast};

use crate::scenario::log::EventLog;
use crate::sim::accumulate::Accumulate;
use crate::sim::engine::{Firing, Observer, Outcome, Past, PastFiring};
use crate::sim::model::{LevelChange, LevelIx, Model, StepIx, TallyIx};
use crate::sim::rng::{score_key, stream, Purpose};
use crate::sim::runner::{self, RunError, RunSpec, Start};
use std::collections::BTreeMap;

/// Days of the record a climatology looks back over.
pub const CLIMATE_DAYS: f64 = 365.0;

/// Bootstrap resamples of the origins behind each skill interval.
pub const BOOTSTRAP: usize = 2000;

/// Bins of the PIT uniformity check.
pub const PIT_BINS: usize = 10;

/// A simulated count above this is not turned into a probability table (a tally of
/// millions would need a table as long): its target is left unscored.
const MAX_TABLE: u64 = 1_000_000;

/// Most origins a score run takes: each simulates its own trials.
pub const MAX_ORIGINS: u64 = 10_000;

/// The number of origins: `from`, then every `every` days, while `t + lead <= to`.
pub fn origin_count(from: f64, to: f64, every: f64, lead: f64) -> u64 {
    let room = to - from - lead;
    if room < -1e-9 || every.is_nan() || every <= 0.0 {
        return 0;
    }
    let n = (room.max(0.0) / every + 1e-9).floor() + 1.0;
    if n >= u64::MAX as f64 {
        u64::MAX
    } else {
        n as u64
    }
}

/// The origins (at most [`MAX_ORIGINS`]; the caller refuses more).
pub fn origins(from: f64, to: f64, every: f64, lead: f64) -> Vec<f64> {
    let n = origin_count(from, to, every, lead).min(MAX_ORIGINS);
    (0..n).map(|k| from + k as f64 * every).collect()
}

/// What one forecast is of, over the window [t, t + lead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// How often a step fires.
    Count(StepIx),
    /// The sum a tally gains.
    Tally(TallyIx),
    /// Whether a step fires at least once.
    Fired(StepIx),
    /// Whether the level rises to this one or higher (targets only above the level the
    /// record stands at when the window opens).
    Level(LevelIx),
}

impl Target {
    /// Its kind, as `score.csv` names it.
    pub fn kind(self) -> &'static str {
        match self {
            Target::Count(_) => "count",
            Target::Tally(_) => "tally",
            Target::Fired(_) => "fired",
            Target::Level(_) => "level",
        }
    }

    /// Its name: `kind:id`.
    pub fn name(self, m: &Model) -> String {
        let id = match self {
            Target::Count(s) | Target::Fired(s) => &m.steps[s].id,
            Target::Tally(t) => &m.tallies[t].id,
            Target::Level(l) => &m.levels[l].id,
        };
        format!("{}:{id}", self.kind())
    }

    /// A yes/no target (Brier and log score), not a count (CRPS, log score, PIT).
    pub fn binary(self) -> bool {
        matches!(self, Target::Fired(_) | Target::Level(_))
    }
}

/// What a log records in one window, and the level it stands at when the window opens.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// Firings per step in the window.
    pub steps: Vec<u64>,
    /// Sums per tally in the window; `None` if a row in it leaves the tally uncounted.
    pub tallies: Vec<Option<u64>>,
    /// The level at the origin, replaying the logged branches' level changes from the
    /// scenario's initial level.
    pub level_at_origin: LevelIx,
    /// The highest level a logged firing raised the level to in the window.
    pub rose_to: Option<LevelIx>,
}

/// The rows of history `history` of the log, in file order (time order).
fn rows(log: &EventLog, history: u64) -> impl Iterator<Item = (usize, &crate::scenario::log::Event)> {
    log.events.iter().enumerate().filter(move |(_, e)| e.trial == history)
}

/// What the log records in [origin, until).
pub fn observe(m: &Model, log: &EventLog, history: u64, origin: f64, until: f64) -> Observed {
    let mut o = Observed {
        steps: vec![0; m.steps.len()],
        tallies: vec![Some(0); m.tallies.len()],
        level_at_origin: m.initial_level,
        rose_to: None,
    };
    let mut level = m.initial_level;
    for (_, e) in rows(log, history) {
        if e.day >= until {
            break;
        }
        let inside = e.day >= origin;
        if inside {
            o.steps[e.step] += 1;
            for (t, x) in e.tallies.iter().enumerate() {
                o.tallies[t] = match (o.tallies[t], x) {
                    (Some(sum), Some(x)) => sum.checked_add(*x).filter(|&s| s <= MAX_TABLE),
                    _ => None,
                };
            }
        }
        match m.steps[e.step].branches[e.branch].level {
            LevelChange::RaiseTo(l) if l > level => {
                level = l;
                if inside {
                    o.rose_to = Some(o.rose_to.map_or(l, |r| r.max(l)));
                }
            }
            LevelChange::LowerTo(l) if l < level => level = l,
            _ => {}
        }
        if !inside {
            o.level_at_origin = level;
        }
    }
    o
}

/// The logged past before `origin`, for [`crate::sim::engine::Engine::run_from`]: every
/// row of the history before it, with the steps whose rows name it as their `cause`, and
/// every `[[schedule]]` entry before it that the log does not record (a row of the step
/// on the entry's day): the schedule is known in advance (an inauguration), so it is part
/// of the past whether or not a log lists it.
pub fn past(m: &Model, log: &EventLog, history: u64, origin: f64) -> Past {
    let mut firings: Vec<PastFiring> = Vec::new();
    let mut at: BTreeMap<usize, usize> = BTreeMap::new();
    for (i, e) in rows(log, history) {
        if e.day >= origin {
            break;
        }
        if let Some(&f) = e.cause.as_ref().and_then(|c| at.get(c)) {
            let answered: &mut Vec<StepIx> = &mut firings[f].answered_by;
            if !answered.contains(&e.step) {
                answered.push(e.step);
            }
        }
        at.insert(i, firings.len());
        firings.push(PastFiring {
            time: e.day,
            step: e.step,
            branch: Some(e.branch),
            answered_by: Vec::new(),
        });
    }
    for sc in m.schedule.iter().filter(|sc| sc.day < origin) {
        let logged = firings.iter().any(|f| f.step == sc.step && f.time.floor() == sc.day.floor());
        if !logged {
            firings.push(PastFiring {
                time: sc.day,
                step: sc.step,
                branch: sc.branch,
                answered_by: Vec::new(),
            });
        }
    }
    // In time order; a stable sort keeps logged rows before scheduled entries of their time.
    firings.sort_by(|a, b| a.time.total_cmp(&b.time));
    Past { origin, firings }
}

/// The climatology of one origin: what the log recorded over the [`CLIMATE_DAYS`] before
/// it (or since `since`, the start of the record, if that is later).
#[derive(Debug, Clone, PartialEq)]
pub struct Climate {
    /// Days looked back over.
    pub days: f64,
    /// Firings per step over them.
    pub steps: Vec<u64>,
    /// Per level, the logged firings that raised the level to it or higher from below.
    pub raises: Vec<u64>,
    /// Per tally, its sums over every window of the forecast's length that fits in the
    /// look-back (one starting each day); `None` if none fits or a row leaves it uncounted.
    pub tally_windows: Vec<Option<Vec<u64>>>,
}

/// The climatology at `origin` for windows of `lead` days, from the record since `since`.
pub fn climate(m: &Model, log: &EventLog, history: u64, since: f64, origin: f64, lead: f64) -> Climate {
    let from = (origin - CLIMATE_DAYS).max(since);
    let mut c = Climate {
        days: (origin - from).max(0.0),
        steps: vec![0; m.steps.len()],
        raises: vec![0; m.levels.len()],
        tally_windows: vec![None; m.tallies.len()],
    };
    let mut level = m.initial_level;
    let mut inside: Vec<&crate::scenario::log::Event> = Vec::new();
    for (_, e) in rows(log, history) {
        if e.day >= origin {
            break;
        }
        let raise = match m.steps[e.step].branches[e.branch].level {
            LevelChange::RaiseTo(l) if l > level => Some(l),
            _ => None,
        };
        if e.day >= from {
            c.steps[e.step] += 1;
            if let Some(l) = raise {
                for r in &mut c.raises[level + 1..=l] {
                    *r += 1;
                }
            }
            inside.push(e);
        }
        match m.steps[e.step].branches[e.branch].level {
            LevelChange::RaiseTo(l) if l > level => level = l,
            LevelChange::LowerTo(l) if l < level => level = l,
            _ => {}
        }
    }
    let windows = if c.days >= lead { (c.days - lead).floor() as u64 + 1 } else { 0 };
    for (t, slot) in c.tally_windows.iter_mut().enumerate() {
        let mut sums = Vec::with_capacity(windows as usize);
        for w in 0..windows {
            let (a, b) = (from + w as f64, from + w as f64 + lead);
            let mut sum = Some(0u64);
            for e in inside.iter().filter(|e| e.day >= a && e.day < b) {
                sum = sum.zip(e.tallies[t]).and_then(|(s, x)| s.checked_add(x)).filter(|&s| s <= MAX_TABLE);
            }
            if let Some(s) = sum {
                sums.push(s);
            }
        }
        if !sums.is_empty() {
            *slot = Some(sums);
        }
    }
    c
}

/// The climatology's forecast of a target for a window of `lead` days: a Poisson with
/// the step's (or the level's raises') rate over the look-back, (k + 1/2) / days (the
/// Jeffreys posterior mean, so that a step not seen in the look-back is not given
/// probability 0); for a tally, the empirical distribution of its sums over the
/// look-back's windows. `None` where the look-back is empty.
pub fn climate_forecast(c: &Climate, target: Target, lead: f64) -> Option<Forecast> {
    if c.days <= 0.0 {
        return None;
    }
    let mu = |k: u64| (k as f64 + 0.5) / c.days * lead;
    let chance = |m: f64| Forecast::Binary { p: 1.0 - (-m).exp(), samples: None };
    Some(match target {
        Target::Count(s) => Forecast::Poisson(mu(c.steps[s])),
        Target::Fired(s) => chance(mu(c.steps[s])),
        Target::Level(l) => chance(mu(c.raises[l])),
        Target::Tally(t) => {
            let sums = c.tally_windows[t].as_deref()?;
            Forecast::Sampled(CountForecast::from_counts(sums), sums.len() as u64)
        }
    })
}

/// A forecast of one target.
#[derive(Debug, Clone, PartialEq)]
pub enum Forecast {
    /// The distribution of a count estimated from this many equally weighted samples
    /// (trials, or a climatology's windows): it cannot tell a probability below about one
    /// sample from zero, so its log score floors probabilities at half a sample.
    Sampled(CountForecast, u64),
    /// A Poisson distribution with this mean: exact, its log score unfloored.
    Poisson(f64),
    /// The probability of yes, from `samples` samples (floored as above) or exact (`None`).
    Binary {
        /// P(yes).
        p: f64,
        /// Samples behind it, if estimated.
        samples: Option<u64>,
    },
}

impl Forecast {
    /// The forecast mean (for a binary target, the probability of yes).
    pub fn mean(&self) -> f64 {
        match self {
            Forecast::Sampled(c, _) => c.mean(),
            &Forecast::Poisson(mu) => mu,
            &Forecast::Binary { p, .. } => p,
        }
    }
}

/// What trials of one model produced in the forecast window: exact integer histograms,
/// so that chunks merge to the same totals on any number of threads.
#[derive(Debug, Clone)]
pub struct WindowCounts {
    origin: f64,
    /// Trials added.
    pub trials: u64,
    /// Per step, trials by its firings in the window (index = firings).
    pub steps: Vec<Vec<u64>>,
    /// Per tally, trials by its sum in the window.
    pub tallies: Vec<BTreeMap<u64, u64>>,
    /// Per level, trials in which a firing in the window raised the level to it or higher.
    pub rose: Vec<u64>,
    // The trial being run.
    now_steps: Vec<u64>,
    now_tallies: Vec<u64>,
    now_top: Option<LevelIx>,
    in_window: bool,
}

impl WindowCounts {
    /// Empty, for `m`'s windows opening at `origin`.
    pub fn new(m: &Model, origin: f64) -> WindowCounts {
        WindowCounts {
            origin,
            trials: 0,
            steps: vec![Vec::new(); m.steps.len()],
            tallies: vec![BTreeMap::new(); m.tallies.len()],
            rose: vec![0; m.levels.len()],
            now_steps: vec![0; m.steps.len()],
            now_tallies: vec![0; m.tallies.len()],
            now_top: None,
            in_window: false,
        }
    }

    /// The simulated forecast of a target; `None` for a tally whose sums are too large
    /// for a probability table.
    pub fn forecast(&self, target: Target) -> Option<Forecast> {
        let n = self.trials.max(1) as f64;
        let pmf = |hist: &mut dyn Iterator<Item = (u64, u64)>, last: u64| {
            let mut pmf = vec![0.0; last as usize + 1];
            for (k, c) in hist {
                pmf[k as usize] += c as f64 / n;
            }
            CountForecast { pmf }
        };
        Some(match target {
            Target::Count(s) => {
                let h = &self.steps[s];
                Forecast::Sampled(
                    pmf(
                        &mut h.iter().copied().enumerate().map(|(k, c)| (k as u64, c)),
                        h.len().saturating_sub(1) as u64,
                    ),
                    self.trials,
                )
            }
            Target::Tally(t) => {
                let h = &self.tallies[t];
                let last = h.keys().next_back().copied().unwrap_or(0);
                if last > MAX_TABLE {
                    return None;
                }
                Forecast::Sampled(pmf(&mut h.iter().map(|(&k, &c)| (k, c)), last), self.trials)
            }
            Target::Fired(s) => {
                let none = self.steps[s].first().copied().unwrap_or(0);
                Forecast::Binary { p: 1.0 - none as f64 / n, samples: Some(self.trials) }
            }
            Target::Level(l) => Forecast::Binary { p: self.rose[l] as f64 / n, samples: Some(self.trials) },
        })
    }
}

/// Counts what falls in the window of the trial being run.
pub struct Watch<'a>(&'a mut WindowCounts);

impl Observer for Watch<'_> {
    fn on_start(&mut self, _trial: u64) {
        let w = &mut *self.0;
        w.now_steps.fill(0);
        w.now_tallies.fill(0);
        w.now_top = None;
        w.in_window = false;
    }

    fn on_fire(&mut self, f: &Firing) {
        let w = &mut *self.0;
        w.in_window = f.time >= w.origin;
        if w.in_window {
            w.now_steps[f.step] += 1;
        }
    }

    fn on_tally(&mut self, tally: TallyIx, amount: u64) {
        let w = &mut *self.0;
        if w.in_window {
            w.now_tallies[tally] = w.now_tallies[tally].saturating_add(amount);
        }
    }

    fn on_level(&mut self, from: LevelIx, to: LevelIx) {
        let w = &mut *self.0;
        if w.in_window && to > from {
            w.now_top = Some(w.now_top.map_or(to, |t| t.max(to)));
        }
    }
}

impl Accumulate for WindowCounts {
    fn watch(&mut self, _model: usize) -> impl Observer + '_ {
        Watch(self)
    }

    fn add(&mut self, _model: usize, _outcome: &Outcome<'_>, _first: &Outcome<'_>) {
        self.trials += 1;
        for (h, &c) in self.steps.iter_mut().zip(&self.now_steps) {
            if h.len() <= c as usize {
                h.resize(c as usize + 1, 0);
            }
            h[c as usize] += 1;
        }
        for (h, &x) in self.tallies.iter_mut().zip(&self.now_tallies) {
            *h.entry(x).or_insert(0) += 1;
        }
        if let Some(top) = self.now_top {
            for r in &mut self.rose[..=top] {
                *r += 1;
            }
        }
    }

    fn merge(&mut self, later: Self) -> std::io::Result<()> {
        self.trials += later.trials;
        for (h, l) in self.steps.iter_mut().zip(later.steps) {
            if h.len() < l.len() {
                h.resize(l.len(), 0);
            }
            for (a, b) in h.iter_mut().zip(l) {
                *a += b;
            }
        }
        for (h, l) in self.tallies.iter_mut().zip(later.tallies) {
            for (k, c) in l {
                *h.entry(k).or_insert(0) += c;
            }
        }
        for (a, b) in self.rose.iter_mut().zip(later.rose) {
            *a += b;
        }
        Ok(())
    }
}

/// Simulates `spec.trials` forecasts of each model (in lockstep, so they share their
/// random numbers) from `past` to `until`. Origin number `k` runs trials
/// `[k N, (k + 1) N)`, so the forecasts of different origins use different streams.
pub fn simulate(
    models: &[&Model],
    past: &Past,
    until: f64,
    k: u64,
    spec: &RunSpec,
) -> Result<Vec<WindowCounts>, RunError> {
    let empty = || models.iter().map(|m| WindowCounts::new(m, past.origin)).collect::<Vec<_>>();
    let mut total = empty();
    let range = k * spec.trials..(k + 1) * spec.trials;
    runner::run_set_from(models, spec, Start::From { past, until }, range, &empty, &mut total, &mut |_| {})?;
    Ok(total)
}

/// One forecast's summary and scores. Count targets have `crps` and `pit`; binary ones
/// have `brier`; both have `log` (negatively oriented, nats).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// The forecast mean (for a binary target, the probability of yes).
    pub mean: f64,
    /// The 5th, 50th and 95th percentiles of a count (nearest rank of the pmf).
    pub quantiles: Option<[u64; 3]>,
    /// CRPS of a count.
    pub crps: Option<f64>,
    /// Log score.
    pub log: f64,
    /// Whether the log score met its floor: the forecast gave what happened less than half
    /// a sample's probability.
    pub floored: bool,
    /// Brier score of a binary target.
    pub brier: Option<f64>,
    /// Randomized PIT of a count.
    pub pit: Option<f64>,
}

/// The smallest k with P(count <= k) >= q.
fn quantile(f: &CountForecast, q: f64) -> u64 {
    let mut cdf = 0.0;
    for (k, p) in f.pmf.iter().enumerate() {
        cdf += p;
        if cdf >= q - 1e-12 {
            return k as u64;
        }
    }
    f.pmf.len().saturating_sub(1) as u64
}

/// Half a sample: the smallest probability a forecast from `n` samples can tell from 0.
fn floor_of(samples: Option<u64>) -> f64 {
    samples.map_or(f64::MIN_POSITIVE, |n| 0.5 / n.max(1) as f64)
}

/// Scores a forecast of the observed `y` (0 or 1 for a binary target); `u` is the PIT's
/// uniform draw. A sampled forecast's log score floors probabilities at half a sample
/// ([`Forecast::Sampled`]); a Poisson's is exact, from its log mass function.
pub fn score(f: &Forecast, y: u64, u: f64) -> Scored {
    let counted = |c: &CountForecast, log: f64, floored: bool| Scored {
        mean: c.mean(),
        quantiles: Some([quantile(c, 0.05), quantile(c, 0.5), quantile(c, 0.95)]),
        crps: Some(crps(c, y)),
        log,
        floored,
        brier: None,
        pit: Some(pit(c, y, u)),
    };
    match f {
        Forecast::Sampled(c, n) => {
            let floor = floor_of(Some(*n));
            counted(c, log_score(c, y, floor), c.p(y) < floor)
        }
        &Forecast::Poisson(mu) => {
            let c = CountForecast::poisson(mu);
            let y = y as f64;
            let log = if mu > 0.0 {
                mu - y * mu.ln() + libm::lgamma(y + 1.0)
            } else if y == 0.0 {
                0.0
            } else {
                f64::INFINITY
            };
            Scored { mean: mu, ..counted(&c, log, false) }
        }
        &Forecast::Binary { p, samples } => {
            let floor = floor_of(samples);
            let q = if y > 0 { p } else { 1.0 - p };
            Scored {
                mean: p,
                quantiles: None,
                crps: None,
                log: binary_log_score(p, y > 0, floor),
                floored: q < floor,
                brier: Some(brier(p, y > 0)),
                pit: None,
            }
        }
    }
}

/// One origin x target: what happened and each forecaster's score (`None` where a
/// forecaster has no forecast, e.g. a climatology at the first day of the record).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Index of the origin.
    pub origin: usize,
    /// The target.
    pub target: Target,
    /// What the log records (0/1 for binary targets).
    pub observed: u64,
    /// Per forecaster, in the order the caller gives them.
    pub scores: Vec<Option<Scored>>,
}

/// The targets of a window: every step's count and whether it fired, every tally the
/// log counts in the window, and every level above the one the record stands at.
pub fn targets(m: &Model, obs: &Observed) -> Vec<(Target, u64)> {
    let mut out = Vec::new();
    for s in 0..m.steps.len() {
        out.push((Target::Count(s), obs.steps[s]));
    }
    for (t, sum) in obs.tallies.iter().enumerate() {
        if let Some(sum) = sum {
            out.push((Target::Tally(t), *sum));
        }
    }
    for s in 0..m.steps.len() {
        out.push((Target::Fired(s), u64::from(obs.steps[s] > 0)));
    }
    for l in obs.level_at_origin + 1..m.levels.len() {
        out.push((Target::Level(l), u64::from(obs.rose_to.is_some_and(|r| r >= l))));
    }
    out
}

/// Scores origin number `k`: each target against each forecaster's forecast (`None`:
/// no forecast). `forecasts(i, target)` gives forecaster i's. The PIT draws come from
/// stream `k` of `#score/pit`, one per target, shared by the forecasters, so that two
/// forecasters with the same forecast get the same PIT.
pub fn score_origin(
    k: usize,
    targets: &[(Target, u64)],
    forecasters: usize,
    forecasts: &dyn Fn(usize, Target) -> Option<Forecast>,
    seed: u64,
) -> Vec<Row> {
    let mut u = stream(&score_key(seed, "pit"), k as u64, Purpose::Arrival);
    targets
        .iter()
        .map(|&(target, observed)| {
            let draw = u.uniform();
            Row {
                origin: k,
                target,
                observed,
                scores: (0..forecasters)
                    .map(|i| forecasts(i, target).map(|f| score(&f, observed, draw)))
                    .collect(),
            }
        })
        .collect()
}

/// A group of targets whose scores are averaged together.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// One target.
    One(Target),
    /// Every target of a kind (`count`, `tally`, `fired`, `level`).
    All(&'static str),
}

/// Which score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// CRPS of counts.
    Crps,
    /// Log score.
    Log,
    /// Brier score of binary targets.
    Brier,
}

impl Rule {
    /// Its name in `scores.csv`.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Crps => "crps",
            Rule::Log => "log_score",
            Rule::Brier => "brier",
        }
    }

    fn of(self, s: &Scored) -> Option<f64> {
        match self {
            Rule::Crps => s.crps,
            Rule::Log => Some(s.log),
            Rule::Brier => s.brier,
        }
    }
}

/// A 95% interval with its estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Est {
    /// Point estimate.
    pub value: f64,
    /// 2.5th percentile of the bootstrap.
    pub low: f64,
    /// 97.5th percentile.
    pub high: f64,
}

/// One forecaster against one baseline on a group and a score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Versus {
    /// The baseline (forecaster index).
    pub baseline: usize,
    /// Skill 1 - S / S_baseline (positive: better than the baseline); `None` if the
    /// baseline's mean score is 0, or is 0 in a bootstrap resample (a ratio with no
    /// interval is not shown).
    pub skill: Option<Est>,
    /// S_baseline - S, the mean improvement per row in the score's units.
    pub diff: Est,
}

/// The mean score of one forecaster over a group, with its skill against each baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The targets.
    pub group: Group,
    /// The score.
    pub rule: Rule,
    /// The forecaster.
    pub forecaster: usize,
    /// Origins with at least one scored row.
    pub origins: usize,
    /// Rows scored.
    pub rows: usize,
    /// What happened in them: firings, tally sums or yeses.
    pub events: u64,
    /// Rows whose log score met its floor (a sampled forecast gave what happened less than
    /// half a sample's probability).
    pub floored: usize,
    /// Mean score per row.
    pub mean: f64,
    /// Against each baseline (on the rows both scored).
    pub versus: Vec<Versus>,
}

/// The block length of the bootstrap over `origins` origins: at least the windows one
/// window overlaps (lead / every), and the cube root of the number of origins, the usual
/// order for a moving-block bootstrap, so that runs of similar months (a regime) are
/// resampled together rather than as if independent.
pub fn block_length(origins: usize, every: f64, lead: f64) -> usize {
    let overlap = (lead / every).ceil().max(1.0) as usize;
    let cube = (origins as f64).cbrt().ceil() as usize;
    overlap.max(cube).clamp(1, origins.max(1))
}

/// `BOOTSTRAP` resamples of `origins` origins by the moving-block bootstrap: blocks of
/// `block` consecutive origins with uniformly drawn starts, joined and cut to `origins`.
fn resamples(origins: usize, block: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut boot = stream(&score_key(seed, "bootstrap"), 0, Purpose::Arrival);
    let block = block.clamp(1, origins.max(1));
    let starts = (origins + 1).saturating_sub(block).max(1) as u64;
    (0..BOOTSTRAP)
        .map(|_| {
            let mut pick = Vec::with_capacity(origins + block);
            while pick.len() < origins {
                let s = boot.below(starts) as usize;
                pick.extend(s..(s + block).min(origins));
            }
            pick.truncate(origins);
            pick
        })
        .collect()
}

/// Fewest events (observed firings, sums or yeses) in a group for its skill to be shown:
/// below it, a skill mostly compares the forecasters' probabilities of nothing.
pub const MIN_EVENTS: u64 = 5;

/// Means and skills over origins. `baselines` are the forecaster indices to compare each
/// forecaster with. Intervals are percentiles of a paired moving-block bootstrap over
/// origins ([`block_length`]): whole origins are resampled (all targets of an origin
/// together, so their dependence is kept), in blocks of consecutive origins, drawn from
/// `#score/bootstrap`.
pub fn summarize(
    rows: &[Row],
    origins: usize,
    forecasters: usize,
    baselines: &[usize],
    block: usize,
    seed: u64,
) -> Vec<Summary> {
    let mut groups: Vec<Group> = Vec::new();
    for r in rows {
        let g = Group::One(r.target);
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    groups.sort();
    for kind in ["count", "tally", "fired", "level"] {
        if rows.iter().any(|r| r.target.kind() == kind) {
            groups.push(Group::All(kind));
        }
    }
    let mut out = Vec::new();
    for g in &groups {
        let in_group = |r: &&Row| match g {
            Group::One(t) => r.target == *t,
            Group::All(kind) => r.target.kind() == *kind,
        };
        let binary = rows.iter().find(|r| in_group(r)).is_some_and(|r| r.target.binary());
        let rules: &[Rule] = if binary { &[Rule::Brier, Rule::Log] } else { &[Rule::Crps, Rule::Log] };
        for &rule in rules {
            for f in 0..forecasters {
                // Per origin: (sum, rows) of f alone.
                let mut alone = vec![(0.0, 0usize); origins];
                for r in rows.iter().filter(in_group) {
                    if let Some(x) = r.scores[f].as_ref().and_then(|s| rule.of(s)) {
                        alone[r.origin].0 += x;
                        alone[r.origin].1 += 1;
                    }
                }
                let n: usize = alone.iter().map(|a| a.1).sum();
                if n == 0 {
                    continue;
                }
                let mean = alone.iter().map(|a| a.0).sum::<f64>() / n as f64;
                let mut versus = Vec::new();
                for &b in baselines.iter().filter(|&&b| b > f) {
                    // Per origin: (sum of f, sum of b, rows) where both scored.
                    let mut both = vec![(0.0, 0.0, 0usize); origins];
                    for r in rows.iter().filter(in_group) {
                        let x = r.scores[f].as_ref().and_then(|s| rule.of(s));
                        let y = r.scores[b].as_ref().and_then(|s| rule.of(s));
                        if let (Some(x), Some(y)) = (x, y) {
                            both[r.origin].0 += x;
                            both[r.origin].1 += y;
                            both[r.origin].2 += 1;
                        }
                    }
                    if both.iter().all(|b| b.2 == 0) {
                        continue;
                    }
                    let stats = |pick: &mut dyn Iterator<Item = usize>| {
                        let (mut sx, mut sy, mut m) = (0.0, 0.0, 0usize);
                        for o in pick {
                            sx += both[o].0;
                            sy += both[o].1;
                            m += both[o].2;
                        }
                        let m = m.max(1) as f64;
                        let skill = (sy > 0.0).then(|| 1.0 - sx / sy);
                        (skill, (sy - sx) / m)
                    };
                    let (skill, diff) = stats(&mut (0..origins));
                    let mut skills = Vec::with_capacity(BOOTSTRAP);
                    let mut diffs = Vec::with_capacity(BOOTSTRAP);
                    // Only origins where both scored are resampled (a climatology has no
                    // forecast at day 0), in blocks of consecutive such origins.
                    let active: Vec<usize> = (0..origins).filter(|&o| both[o].2 > 0).collect();
                    for p in &resamples(active.len(), block, seed) {
                        let (s, d) = stats(&mut p.iter().map(|&i| active[i]));
                        skills.extend(s);
                        diffs.push(d);
                    }
                    let ci = |v: f64, mut xs: Vec<f64>| {
                        xs.sort_by(f64::total_cmp);
                        Est {
                            value: v,
                            low: crate::sim::stats::nearest_rank(&xs, 0.025),
                            high: crate::sim::stats::nearest_rank(&xs, 0.975),
                        }
                    };
                    versus.push(Versus {
                        baseline: b,
                        skill: skill.filter(|_| skills.len() == BOOTSTRAP).map(|s| ci(s, skills)),
                        diff: ci(diff, diffs),
                    });
                }
                let scored = || rows.iter().filter(in_group).filter(|r| r.scores[f].is_some());
                out.push(Summary {
                    group: g.clone(),
                    rule,
                    forecaster: f,
                    origins: alone.iter().filter(|a| a.1 > 0).count(),
                    rows: n,
                    events: scored().map(|r| r.observed).sum(),
                    floored: scored().filter(|r| r.scores[f].is_some_and(|s| s.floored)).count(),
                    mean,
                    versus,
                });
            }
        }
    }
    out
}

/// The PIT values of one forecaster's step counts, of one step or of all, over the steps
/// the log records at least once in the scored windows. (A step that never fires in them
/// gives PIT values near uniform on [0, P(0)] whatever the forecaster, and would only
/// dilute the check; a step that fires is kept whole, so a forecast of "surely none" that
/// meets firings shows as PIT values near 1.)
pub fn pits(rows: &[Row], forecaster: usize, step: Option<StepIx>) -> Vec<f64> {
    let fired = |s: StepIx| rows.iter().any(|r| r.target == Target::Count(s) && r.observed > 0);
    rows.iter()
        .filter(|r| matches!(r.target, Target::Count(s) if step.is_none_or(|x| x == s) && fired(s)))
        .filter_map(|r| r.scores[forecaster].as_ref())
        .filter_map(|s| s.pit)
        .collect()
}

/// P(X >= k) for X binomial(n, p): how surprising k extreme PITs are.
pub fn binomial_upper(k: u64, n: u64, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    let ln = |j: u64| {
        libm::lgamma(n as f64 + 1.0) - libm::lgamma(j as f64 + 1.0) - libm::lgamma((n - j) as f64 + 1.0)
            + j as f64 * p.ln()
            + (n - j) as f64 * (1.0 - p).ln()
    };
    (k..=n).map(|j| ln(j).exp()).sum::<f64>().min(1.0)
}

/// PIT uniformity of one forecaster's step counts (of steps that fired): (rows, chi-square, p-value),
/// with at least 2 x [`PIT_BINS`] values.
pub fn pit_check(rows: &[Row], forecaster: usize) -> Option<(usize, f64, f64)> {
    let pits = pits(rows, forecaster, None);
    if pits.len() < 2 * PIT_BINS {
        return None;
    }
    let (chi2, p) = pit_uniformity(&pits, PIT_BINS);
    Some((pits.len(), chi2, p))
}

/// The PIT histogram of one forecaster's step-count forecasts of steps that fired (all, or
/// one), with the chi-square uniformity check where there are enough values and the count
/// of extreme values (below 0.05 or above 0.95: 10% of them for a calibrated forecaster).
#[derive(Debug, Clone, PartialEq)]
pub struct PitRow {
    /// Forecaster index.
    pub forecaster: usize,
    /// The step, or all steps.
    pub step: Option<usize>,
    /// Count per bin of width 1 / [`PIT_BINS`].
    pub bins: Vec<u64>,
    /// Chi-square statistic and p-value (PIT_BINS - 1 degrees of freedom), with at least
    /// 2 x PIT_BINS values.
    pub chi2: Option<(f64, f64)>,
    /// Values below 0.05 or above 0.95.
    pub extreme: u64,
    /// P(at least that many) for a calibrated forecaster: binomial(rows, 0.1).
    pub extreme_p: f64,
}

/// Each forecaster's PIT histograms of the counts of steps that fired: all first, then
/// each such step.
pub fn pit_rows(model: &Model, rows: &[Row], forecasters: usize) -> Vec<PitRow> {
    let mut out = Vec::new();
    for f in 0..forecasters {
        for step in std::iter::once(None).chain((0..model.steps.len()).map(Some)) {
            let values = pits(rows, f, step);
            if values.is_empty() {
                continue;
            }
            let mut bins = vec![0u64; PIT_BINS];
            for &x in &values {
                bins[((x * PIT_BINS as f64) as usize).min(PIT_BINS - 1)] += 1;
            }
            let extreme = values.iter().filter(|&&x| !(0.05..=0.95).contains(&x)).count() as u64;
            out.push(PitRow {
                forecaster: f,
                step,
                bins,
                chi2: (values.len() >= 2 * PIT_BINS).then(|| pit_uniformity(&values, PIT_BINS)),
                extreme,
                extreme_p: binomial_upper(extreme, values.len() as u64, 0.1),
            });
        }
    }
    out
}
