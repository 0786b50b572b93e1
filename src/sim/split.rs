//! Multilevel splitting: the probability of reaching each level of the ladder, for rungs too
//! rare for plain Monte Carlo (`brink run --split`, docs/splitting.md).
//!
//! Fixed effort, with the ladder's levels as the thresholds. Stage 1 runs `n` trials from
//! the start; those whose highest level reaches the first rung above the initial one are
//! paused at that moment ([`Engine::run_to`], [`Snapshot`]). Stage k runs `n`
//! continuations from the pauses of stage k - 1 until each ends or reaches rung k, each with
//! streams of its own keyed by its lineage ([`Engine::resume`]). The estimate of
//! P(reach rung k) is the product of the stages' shares of hits, `h_1/n x ... x h_k/n`.
//!
//! **Unbiased.** Each pause gets `n / m` continuations and the remainder `n mod m` go to
//! distinct pauses drawn at random, so every pause's expected number of continuations is
//! exactly `n / m`: an unbiased resampling, under which the product of the stages' shares
//! is an unbiased estimator of the probability (Del Moral 2004, the normalising constant
//! of a Feynman-Kac particle model; Cérou, Del Moral, Furon and Guyader 2012 for
//! splitting). Its variance has no simple formula (the stages share their ancestors), so
//! the interval comes from `R` independent replications of the whole splitting run: their
//! mean, and Student's t with `R - 1` degrees of freedom on their spread.
//!
//! **Deterministic.** Replication r's stage-1 trials are the run's trials `r n .. (r + 1) n`;
//! continuation c of stage k draws from the streams of lineage `k << 24 | c` of its trial;
//! the choice of pauses draws from the stream `#split/allocation`. Continuations run on
//! worker threads in chunks, and their results are gathered in continuation order, so the
//! numbers are the same for any thread count.

use crate::sim::engine::{Engine, Runaway, Snapshot};
use crate::sim::model::Model;
use crate::sim::rng::split_stream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The most continuations per stage of a replication: continuation indices take the low
/// 24 bits of a lineage.
pub const MAX_EFFORT: u64 = 1 << 24;

/// The most stages (rungs above the initial level): the stage takes the high 8 bits.
pub const MAX_STAGES: usize = 255;

/// Continuations a worker takes at a time.
const CHUNK: usize = 128;

/// What a splitting run does.
#[derive(Debug, Clone, Copy)]
pub struct SplitSpec {
    /// Continuations per stage in each replication (`n`); stage 1's are trials.
    pub effort: u64,
    /// Independent replications of the whole splitting run (`R`, at least 2).
    pub replications: u32,
    /// Seed of every stream.
    pub seed: u64,
    /// Worker threads.
    pub threads: usize,
    /// Per-trial firing limit (a continuation counts its trial's firings from the start).
    pub max_events: u64,
}

/// One replication's results.
#[derive(Debug, Clone)]
pub struct Replication {
    /// P(reached) of every level (1 at or below the initial level).
    pub p: Vec<f64>,
    /// Hits of the stage of each level (0 at or below the initial level, and for the
    /// levels above a stage with no hit).
    pub hits: Vec<u64>,
    /// The first day each level was reached, for each hit of its stage.
    pub days: Vec<Vec<f64>>,
    /// The distinct trials (stage-1 ancestors) among the hits of each level's stage: the
    /// independent evidence behind them.
    pub roots: Vec<u64>,
}

/// A whole splitting run.
#[derive(Debug, Clone)]
pub struct SplitRun {
    /// The spec it ran with.
    pub spec: SplitSpec,
    /// The initial level: the first rung is the level above it.
    pub initial: usize,
    /// The replications, in order.
    pub replications: Vec<Replication>,
    /// Continuations simulated (stage-1 trials included), over all replications: the work.
    pub simulated: u64,
}

/// One level's estimate from the replications.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelEstimate {
    /// Mean of the replications' estimates: unbiased.
    pub p: f64,
    /// 95% interval: t with R - 1 degrees of freedom on the replications' spread, on the
    /// log scale; where no replication reached the level, from 0 to a rule-of-three bound
    /// (`SplitRun::unseen_bound`).
    pub low: f64,
    /// Upper end of the interval.
    pub high: f64,
    /// Standard error of `p`.
    pub se: f64,
    /// Hits of the level's stage over all replications.
    pub hits: u64,
    /// Continuations of the level's stage over the replications that ran it (n each; a
    /// replication with no pause below runs none).
    pub continuations: u64,
    /// Replications whose estimate of the level is 0. Where more than a few are, the
    /// interval covers less than 95% (91% with half of them at 0, in tests): the run
    /// needs more `--trials`.
    pub zeros: u32,
    /// P(level) / P(level below): the conditional probability of the rung given the one
    /// below (the ratio of the two estimates; the share of one stage's continuations that
    /// reached the rung is not, where replications' pauses differ); NaN if the level below
    /// was never reached.
    pub conditional: f64,
    /// Median first day of reaching the level, among the trials that reached it (each
    /// hit weighted by its replication's estimate over its hits); NaN if none did.
    pub median_day: f64,
}

impl SplitRun {
    /// The estimate of level `level`.
    pub fn estimate(&self, level: usize) -> LevelEstimate {
        let r = self.replications.len() as f64;
        let xs: Vec<f64> = self.replications.iter().map(|x| x.p[level]).collect();
        let p = xs.iter().sum::<f64>() / r;
        let var = xs.iter().map(|x| (x - p) * (x - p)).sum::<f64>() / (r - 1.0);
        let se = (var / r).sqrt();
        let hits: u64 = self.replications.iter().map(|x| x.hits[level]).sum();
        let (low, high) = if level <= self.initial {
            (1.0, 1.0)
        } else if p == 0.0 {
            (0.0, self.unseen_bound(level))
        } else {
            let t = crate::sim::stats::t_quantile(r - 1.0, 0.975);
            let spread = (t * se / p).exp();
            (p / spread, (p * spread).min(1.0))
        };
        // A replication with no pause below ran no continuation of this stage.
        let ran = self.replications.iter().filter(|x| level <= self.initial || x.p[level - 1] > 0.0).count();
        let below = if level <= self.initial {
            1.0
        } else {
            self.replications.iter().map(|x| x.p[level - 1]).sum::<f64>() / r
        };
        let conditional = if level <= self.initial {
            1.0
        } else if below > 0.0 {
            p / below
        } else {
            f64::NAN
        };
        let continuations = if level <= self.initial { 0 } else { self.spec.effort * ran as u64 };
        let zeros = self.replications.iter().filter(|x| x.p[level] == 0.0).count() as u32;
        LevelEstimate {
            p,
            low,
            high,
            se,
            hits,
            continuations,
            zeros,
            conditional,
            median_day: self.median_day(level),
        }
    }

    /// The upper end of the interval of a level no replication reached: at most the rung
    /// below's upper end (it is no likelier), times the rule of three over the independent
    /// trials behind its stage (3 / H, H the distinct stage-1 trials its pauses descend
    /// from, all of which missed it: the continuations of one trial are not independent
    /// evidence, so they count as one). Two 95% statements joined make a nominal 92.5%
    /// (Bonferroni); counting trials, not continuations, makes it conservative in practice
    /// (a review found it covering in all of some 2,000 such cases).
    fn unseen_bound(&self, level: usize) -> f64 {
        let below = self.estimate(level - 1);
        let independent: u64 = if level - 1 <= self.initial {
            self.spec.effort * self.replications.len() as u64
        } else {
            self.replications.iter().map(|x| x.roots[level - 1]).sum()
        };
        if independent == 0 {
            below.high
        } else {
            below.high * (3.0 / independent as f64).min(1.0)
        }
    }

    /// The weighted median of the first days of reaching `level` over its stage's hits.
    fn median_day(&self, level: usize) -> f64 {
        if level <= self.initial {
            return 0.0;
        }
        let mut days: Vec<(f64, f64)> = Vec::new();
        for x in &self.replications {
            if x.hits[level] > 0 {
                let w = x.p[level] / x.hits[level] as f64;
                days.extend(x.days[level].iter().map(|&d| (d, w)));
            }
        }
        days.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total: f64 = days.iter().map(|d| d.1).sum();
        let mut acc = 0.0;
        for (d, w) in days {
            acc += w;
            if acc >= total / 2.0 {
                return d;
            }
        }
        f64::NAN
    }
}

/// Two splitting runs of one ladder compared level by level (`brink compare --split`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedEstimate {
    /// `b`'s P minus `a`'s.
    pub difference: f64,
    /// 95% interval of the difference: t with R - 1 degrees of freedom on the
    /// replications' differences (replication r of both runs uses the same trials and
    /// streams, so their difference is paired).
    pub difference_low: f64,
    /// Upper end.
    pub difference_high: f64,
    /// `b`'s P over `a`'s (NaN when `a`'s is 0).
    pub ratio: f64,
    /// 95% interval of the ratio, on the log scale by the delta method with the paired
    /// covariance (NaN when either P is 0).
    pub ratio_low: f64,
    /// Upper end.
    pub ratio_high: f64,
}

/// Level `la` of `a` against level `lb` of `b`, two runs with the same replications.
pub fn paired(a: &SplitRun, la: usize, b: &SplitRun, lb: usize) -> PairedEstimate {
    let r = a.replications.len().min(b.replications.len());
    let rf = r as f64;
    let xs: Vec<f64> = a.replications[..r].iter().map(|x| x.p[la]).collect();
    let ys: Vec<f64> = b.replications[..r].iter().map(|x| x.p[lb]).collect();
    let (mx, my) = (xs.iter().sum::<f64>() / rf, ys.iter().sum::<f64>() / rf);
    let cov = |u: &[f64], mu: f64, v: &[f64], mv: f64| {
        u.iter().zip(v).map(|(x, y)| (x - mu) * (y - mv)).sum::<f64>() / (rf - 1.0)
    };
    let (vx, vy, cxy) = (cov(&xs, mx, &xs, mx), cov(&ys, my, &ys, my), cov(&xs, mx, &ys, my));
    let t = crate::sim::stats::t_quantile(rf - 1.0, 0.975);
    let difference = my - mx;
    let se_d = ((vx + vy - 2.0 * cxy).max(0.0) / rf).sqrt();
    let (ratio, ratio_low, ratio_high) = if mx > 0.0 && my > 0.0 {
        let var_log = (vx / (mx * mx) + vy / (my * my) - 2.0 * cxy / (mx * my)).max(0.0) / rf;
        let q = my / mx;
        let spread = (t * var_log.sqrt()).exp();
        (q, q / spread, q * spread)
    } else {
        (if mx > 0.0 { 0.0 } else { f64::NAN }, f64::NAN, f64::NAN)
    };
    // A level one run never reached has no spread to pair: its rule-of-three bound widens
    // the difference's interval on that side.
    let unseen = |run: &SplitRun, l: usize, m: f64| if m == 0.0 { run.estimate(l).high } else { 0.0 };
    PairedEstimate {
        difference,
        difference_low: difference - t * se_d - unseen(a, la, mx),
        difference_high: difference + t * se_d + unseen(b, lb, my),
        ratio,
        ratio_low,
        ratio_high,
    }
}

/// Why a splitting run cannot start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// Too few replications for an interval.
    #[error("--replications {0}: the interval needs at least 10 replications")]
    Replications(u32),
    /// Effort per stage out of range.
    #[error("{trials} trials over {replications} replications is {effort} per stage in each; give between {replications} and {} trials", MAX_EFFORT * u64::from(*replications))]
    Effort {
        /// `--trials`.
        trials: u64,
        /// `--replications`.
        replications: u32,
        /// Their quotient.
        effort: u64,
    },
    /// Nothing to split: the initial level is the top one.
    #[error("the scenario starts at its top level: there is no rung to estimate")]
    NoRung,
    /// Too many levels.
    #[error("{0} levels above the initial one: splitting handles at most {MAX_STAGES}")]
    Stages(usize),
}

/// Checks a splitting run of `trials` per stage over `replications` before it starts.
pub fn spec_for(model: &Model, trials: u64, replications: u32) -> Result<u64, SplitError> {
    if replications < 10 {
        return Err(SplitError::Replications(replications));
    }
    let effort = trials / u64::from(replications);
    if effort == 0 || effort > MAX_EFFORT {
        return Err(SplitError::Effort { trials, replications, effort });
    }
    let stages = model.levels.len() - 1 - model.initial_level;
    if stages == 0 {
        return Err(SplitError::NoRung);
    }
    if stages > MAX_STAGES {
        return Err(SplitError::Stages(stages));
    }
    Ok(effort)
}

/// Runs the splitting estimator; `progress` hears the continuations done so far (of
/// replications x stages x effort at most) after each stage.
pub fn run_split(
    model: &Model,
    spec: &SplitSpec,
    progress: &mut dyn FnMut(u64),
) -> Result<SplitRun, Runaway> {
    let levels = model.levels.len();
    let initial = model.initial_level;
    let n = spec.effort;
    let mut replications = Vec::with_capacity(spec.replications as usize);
    let mut simulated = 0;
    let mut done = 0;
    // Snapshots of stages done with, whose buffers the next hits reuse: after the first
    // stages, a continuation allocates nothing.
    let pool: Mutex<Vec<Snapshot>> = Mutex::new(Vec::new());
    for r in 0..u64::from(spec.replications) {
        let mut p = vec![1.0; levels];
        let mut hits = vec![0; levels];
        let mut days = vec![Vec::new(); levels];
        let mut roots = vec![0; levels];
        let mut pauses: Vec<Snapshot> = Vec::new();
        for rung in initial + 1..levels {
            let stage = rung - initial;
            if stage > 1 && pauses.is_empty() {
                p[rung] = 0.0;
                done += n;
                continue;
            }
            let next: Vec<Snapshot> = if stage == 1 {
                simulated += n;
                run_stage(
                    model,
                    spec,
                    n as usize,
                    &pool,
                    &|e: &mut Engine<'_>, c: usize, _: &mut Snapshot| {
                        Ok(if e.run_to(r * n + c as u64, rung)? {
                            Continued::Reached
                        } else {
                            Continued::Missed
                        })
                    },
                )?
            } else {
                let starts = allocate(spec.seed, r, stage, pauses.len(), n);
                simulated +=
                    starts.iter().filter(|&&i| pauses[i].max_level() < rung && !pauses[i].ended()).count()
                        as u64;
                let pauses = &pauses;
                run_stage(
                    model,
                    spec,
                    n as usize,
                    &pool,
                    &|e: &mut Engine<'_>, c: usize, out: &mut Snapshot| {
                        let from = &pauses[starts[c]];
                        if from.max_level() >= rung {
                            // It jumped past this rung already: a hit that costs nothing.
                            out.copy_from(from);
                            return Ok(Continued::Passed);
                        }
                        if from.ended() {
                            return Ok(Continued::Missed);
                        }
                        let lineage = ((stage as u32) << 24) | c as u32;
                        Ok(if e.resume(from, lineage, rung)? {
                            Continued::Reached
                        } else {
                            Continued::Missed
                        })
                    },
                )?
            };
            hits[rung] = next.len() as u64;
            p[rung] = p[rung - 1] * next.len() as f64 / n as f64;
            days[rung] = next.iter().map(|s| s.reached_day(rung)).collect();
            let mut trials: Vec<u64> = next.iter().map(Snapshot::trial).collect();
            trials.sort_unstable();
            trials.dedup();
            roots[rung] = trials.len() as u64;
            let done_with = std::mem::replace(&mut pauses, next);
            pool.lock().unwrap_or_else(|e| e.into_inner()).extend(done_with);
            done += n;
            progress(done);
        }
        pool.lock().unwrap_or_else(|e| e.into_inner()).extend(pauses);
        replications.push(Replication { p, hits, days, roots });
    }
    Ok(SplitRun { spec: *spec, initial, replications, simulated })
}

/// The pause each of the `n` continuations of a stage starts from: every one of the `m`
/// pauses `n / m` times, and `n mod m` distinct pauses drawn at random once more (a
/// partial Fisher-Yates shuffle), in pause order.
fn allocate(seed: u64, replication: u64, stage: usize, m: usize, n: u64) -> Vec<usize> {
    let (base, extra) = (n / m as u64, (n % m as u64) as usize);
    let mut order: Vec<usize> = (0..m).collect();
    let mut s = split_stream(seed, replication, stage as u32);
    for i in 0..extra {
        let j = i + s.below((m - i) as u64) as usize;
        order.swap(i, j);
    }
    let mut times = vec![base; m];
    for &i in &order[..extra] {
        times[i] += 1;
    }
    times.iter().enumerate().flat_map(|(i, &k)| std::iter::repeat_n(i, k as usize)).collect()
}

/// The hits of one chunk of continuations, or the error that stopped it.
type ChunkHits = Result<Vec<Snapshot>, Runaway>;

/// How one continuation of a stage went.
enum Continued {
    /// It reached the rung: the engine is paused there.
    Reached,
    /// Its pause had passed the rung already: the task copied it into the slot.
    Passed,
    /// It ended below the rung.
    Missed,
}

/// Runs `task` for continuations `0..n` on the spec's threads, each worker with its own
/// engine, and a snapshot buffer from `pool` (or a new one) as the slot of each hit. The
/// hits come back in continuation order, and the error of the lowest chunk that failed,
/// if any.
fn run_stage<F>(model: &Model, spec: &SplitSpec, n: usize, pool: &Mutex<Vec<Snapshot>>, task: &F) -> ChunkHits
where
    F: Fn(&mut Engine<'_>, usize, &mut Snapshot) -> Result<Continued, Runaway> + Sync,
{
    let chunks = n.div_ceil(CHUNK);
    let threads = spec.threads.max(1).min(chunks);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, ChunkHits)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut engine = Engine::new(model, spec.seed);
                engine.set_max_events(spec.max_events);
                let mut spare: Option<Snapshot> = None;
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= chunks {
                        return;
                    }
                    let mut hits = Vec::new();
                    let mut out = Ok(());
                    for c in k * CHUNK..((k + 1) * CHUNK).min(n) {
                        let mut slot = match spare.take() {
                            Some(s) => s,
                            None => match pool.lock().unwrap_or_else(|e| e.into_inner()).pop() {
                                Some(s) => s,
                                None => engine.snapshot(),
                            },
                        };
                        match task(&mut engine, c, &mut slot) {
                            Ok(Continued::Reached) => {
                                engine.snapshot_into(&mut slot);
                                hits.push(slot);
                            }
                            Ok(Continued::Passed) => hits.push(slot),
                            Ok(Continued::Missed) => spare = Some(slot),
                            Err(e) => {
                                out = Err(e);
                                break;
                            }
                        }
                    }
                    let part = out.map(|()| hits);
                    results.lock().unwrap_or_else(|e| e.into_inner()).push((k, part));
                }
            });
        }
    });
    let mut parts = results.into_inner().unwrap_or_else(|e| e.into_inner());
    parts.sort_by_key(|(k, _)| *k);
    let mut all = Vec::new();
    for (_, part) in parts {
        all.extend(part?);
    }
    Ok(all)
}
