//! The track record: the forecast questions a scenario file writes down
//! (`[[questions]]`), forecast at day 0, answered by a dated record, and scored with the
//! Brier and log scores against a naive baseline, the base rate of the episodes before
//! (`brink track-record`, docs/track-record.md).

use crate::analysis::score::WindowCounts;
use crate::scenario::log::EventLog;
use crate::sim::engine::Past;
use crate::sim::model::{Asked, LevelChange, Model, Question};
use crate::sim::rng::{score_key, stream, Purpose};
use crate::sim::runner::{self, RunError, RunSpec, Start};

/// Resamples of the paired bootstrap over questions.
pub const BOOTSTRAP: usize = 10_000;

/// The seed of that bootstrap: fixed, so that adding an episode changes the intervals only
/// through its questions.
pub const BOOTSTRAP_SEED: u64 = 16;

/// How often each question of `m` came true in `spec.trials` trials from day 0: one run
/// per distinct window, each of trials `0..spec.trials` (so the questions share their
/// random numbers).
pub fn forecast(m: &Model, spec: &RunSpec) -> Result<Vec<u64>, RunError> {
    let mut hits = vec![0; m.questions.len()];
    let mut windows: Vec<u32> = m.questions.iter().map(|q| q.days).collect();
    windows.sort_unstable();
    windows.dedup();
    let past = Past { origin: 0.0, firings: Vec::new() };
    for days in windows {
        let empty = || WindowCounts::new(m, 0.0);
        let mut total = empty();
        let start = Start::From { past: &past, until: f64::from(days) };
        runner::run_set_from(&[m], spec, start, 0..spec.trials, &empty, &mut total, &mut |_| {})?;
        for (q, h) in m.questions.iter().zip(hits.iter_mut()).filter(|(q, _)| q.days == days) {
            *h = yes_count(&total, q.target);
        }
    }
    Ok(hits)
}

/// Trials (of those `w` counted) in which `target` came true in the window.
fn yes_count(w: &WindowCounts, target: Asked) -> u64 {
    match target {
        Asked::Fired(s) => w.trials - w.steps[s].first().copied().unwrap_or(0),
        Asked::Level(l) => w.rose[l],
        Asked::Tally(t, at_least) => w.tallies[t].range(at_least..).map(|(_, &c)| c).sum(),
    }
}

/// What the record says of `q`: yes, no, or `None` when a tally's rows leave it unknown
/// (casualties reported without a count, and the counted ones fewer than asked).
pub fn outcome(m: &Model, log: &EventLog, q: &Question) -> Option<bool> {
    let until = f64::from(q.days);
    let rows = log.events.iter().filter(|e| e.trial == 0 && e.day >= 0.0 && e.day < until);
    match q.target {
        Asked::Fired(s) => Some(rows.into_iter().any(|e| e.step == s)),
        Asked::Level(l) => {
            let mut level = m.initial_level;
            for e in rows {
                match m.steps[e.step].branches[e.branch].level {
                    LevelChange::RaiseTo(to) if to > level => level = to,
                    LevelChange::LowerTo(to) if to < level => level = to,
                    _ => {}
                }
                if level >= l {
                    return Some(true);
                }
            }
            Some(false)
        }
        Asked::Tally(t, at_least) => {
            let (mut sum, mut unknown) = (0u64, false);
            for e in rows {
                match e.tallies[t] {
                    Some(x) => sum = sum.saturating_add(x),
                    None => unknown = true,
                }
            }
            if sum >= at_least {
                Some(true)
            } else if unknown {
                None
            } else {
                Some(false)
            }
        }
    }
}

/// A probability's Brier and log scores (nats) for the outcome `yes`; the log score's
/// probability is floored at `floor` (half a trial for a simulated one), as `brink score`
/// floors it.
pub fn scores(p: f64, yes: bool, floor: f64) -> (f64, f64) {
    let o = if yes { 1.0 } else { 0.0 };
    let q = if yes { p } else { 1.0 - p };
    ((p - o) * (p - o), -q.max(floor).ln())
}

/// The naive baseline: the base rate of the question's kind over the earlier episodes,
/// with Jeffreys' prior, (yes + 1/2) / (asked + 1): one half with no earlier episode.
pub fn base_rate(yes: usize, asked: usize) -> f64 {
    (yes as f64 + 0.5) / (asked as f64 + 1.0)
}

/// Means of brink's and the baseline's scores over `pairs` (brink, baseline), and the
/// paired bootstrap's 95% interval of the baseline's mean minus brink's (above 0 when
/// brink is better), resampling questions.
pub fn paired_means(pairs: &[(f64, f64)], seed: u64, name: &str) -> Option<PairedMeans> {
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len();
    let mean = |f: &dyn Fn(&(f64, f64)) -> f64| pairs.iter().map(f).sum::<f64>() / n as f64;
    let (brink, baseline) = (mean(&|p| p.0), mean(&|p| p.1));
    let mut s = stream(&score_key(seed, &format!("track/{name}")), 0, Purpose::Arrival);
    let mut diffs: Vec<f64> = (0..BOOTSTRAP)
        .map(|_| {
            let mut d = 0.0;
            for _ in 0..n {
                let (a, b) = pairs[s.below(n as u64) as usize];
                d += b - a;
            }
            d / n as f64
        })
        .collect();
    diffs.sort_by(f64::total_cmp);
    let at = |q: f64| crate::sim::stats::nearest_rank(&diffs, q);
    Some(PairedMeans { n, brink, baseline, gain: (baseline - brink, at(0.025), at(0.975)) })
}

/// Mean scores over the questions both forecasters answered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedMeans {
    /// Questions.
    pub n: usize,
    /// brink's mean.
    pub brink: f64,
    /// The baseline's mean.
    pub baseline: f64,
    /// The baseline's mean minus brink's, with its 95% bootstrap interval.
    pub gain: (f64, f64, f64),
}

/// One question of one episode, forecast and answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The episode's scenario name.
    pub episode: String,
    /// Its day 0 (`YYYY-MM-DD`).
    pub day0: String,
    /// The question.
    pub question: Question,
    /// The target as written (`fired:STEP`, ...).
    pub target: String,
    /// Trials, and those in which the answer was yes.
    pub trials: u64,
    /// Trials that answered yes.
    pub hits: u64,
    /// What the record says (`None`: it cannot tell).
    pub outcome: Option<bool>,
    /// The base rate of the question's kind over the earlier episodes: (yes, asked).
    pub prior: (usize, usize),
    /// A version written after scoring: its note.
    pub revised: Option<String>,
}

impl Answer {
    /// brink's probability.
    pub fn p(&self) -> f64 {
        self.hits as f64 / self.trials.max(1) as f64
    }

    /// brink's 95% Monte Carlo interval (Wilson's).
    pub fn interval(&self) -> (f64, f64) {
        crate::sim::stats::wilson(self.hits, self.trials, crate::sim::stats::Z95)
    }

    /// The baseline's probability.
    pub fn baseline(&self) -> f64 {
        base_rate(self.prior.0, self.prior.1)
    }

    /// brink's (Brier, log) and the baseline's, when the record answers the question.
    pub fn scored(&self) -> Option<((f64, f64), (f64, f64))> {
        let yes = self.outcome?;
        let floor = 0.5 / self.trials.max(1) as f64;
        Some((scores(self.p(), yes, floor), scores(self.baseline(), yes, 0.0)))
    }

    /// Whether brink's log score met its floor (no trial answered as the record did).
    pub fn floored(&self) -> bool {
        match self.outcome {
            Some(true) => self.hits == 0,
            Some(false) => self.hits == self.trials,
            None => false,
        }
    }
}

/// The base rates: for each answer, the yes and asked counts of its kind over the
/// episodes with an earlier day 0 that are not revisions and whose record answered.
pub fn set_priors(answers: &mut [Answer]) {
    for i in 0..answers.len() {
        let (kind, day0) = (answers[i].question.kind.clone(), answers[i].day0.clone());
        let earlier = answers[..].iter().filter(|a| {
            a.revised.is_none() && a.question.kind == kind && a.day0 < day0 && a.outcome.is_some()
        });
        let (mut yes, mut asked) = (0, 0);
        for a in earlier {
            asked += 1;
            yes += usize::from(a.outcome == Some(true));
        }
        answers[i].prior = (yes, asked);
    }
}

/// Means over the answered questions that are not revisions: Brier and log, brink
/// against the base rate.
pub fn summary(answers: &[Answer]) -> (Option<PairedMeans>, Option<PairedMeans>) {
    let seed = BOOTSTRAP_SEED;
    let scored: Vec<_> = answers.iter().filter(|a| a.revised.is_none()).filter_map(Answer::scored).collect();
    let brier: Vec<(f64, f64)> = scored.iter().map(|(b, n)| (b.0, n.0)).collect();
    let log: Vec<(f64, f64)> = scored.iter().map(|(b, n)| (b.1, n.1)).collect();
    (paired_means(&brier, seed, "brier"), paired_means(&log, seed, "log"))
}
