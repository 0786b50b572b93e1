//! The outputs of `brink compare`: a [`Comparison`] table built from paired (or
//! unpaired) statistics, written as tidy `compare.csv` and as hyperfine-style summary
//! lines on the terminal.

use super::text::pct;
use crate::analysis::compare::{
    paired_proportion, unpaired_difference, welch_difference, wilson_estimate, Estimate, Paired,
};
use crate::sim::stats::Z95;
use std::fmt::Write as _;

/// One level across the compared runs.
#[derive(Debug, Clone)]
pub struct LevelRow {
    /// Level id.
    pub id: String,
    /// Level label.
    pub label: String,
    /// P(reached) per run, with Wilson intervals.
    pub p: Vec<Estimate>,
    /// Per run after the first: its comparison with the first.
    pub vs_first: Vec<PairStats>,
}

/// One tally across the compared runs.
#[derive(Debug, Clone)]
pub struct TallyRow {
    /// Tally id.
    pub id: String,
    /// Tally label.
    pub label: String,
    /// Mean per run, with a normal interval.
    pub mean: Vec<Estimate>,
    /// Per run after the first: its comparison with the first.
    pub vs_first: Vec<PairStats>,
}

/// One step across the compared runs.
#[derive(Debug, Clone)]
pub struct StepRow {
    /// Step id.
    pub id: String,
    /// Mean firings per trial in each run (None: the run has no such step).
    pub mean: Vec<Option<f64>>,
}

/// A run compared with the first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairStats {
    /// Difference (this run minus the first).
    pub difference: Estimate,
    /// Ratio (this run over the first), for proportions.
    pub ratio: Option<Estimate>,
    /// Correlation of paired outcomes (paired comparisons only).
    pub correlation: Option<f64>,
    /// Variance reduction factor of pairing (paired comparisons only).
    pub variance_reduction: Option<f64>,
}

/// Everything `brink compare` reports.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Names of the runs; the first is the reference.
    pub names: Vec<String>,
    /// Whether trials were paired (same seed and trial indices).
    pub paired: bool,
    /// Why the runs were not paired (for example "different seeds"), if they were not
    /// and the caller said why.
    pub unpaired_because: Option<String>,
    /// Trials per run.
    pub trials: Vec<u64>,
    /// Each run as its own manifest describes it: runs of other trial counts or seeds
    /// are described one by one, never as "N trials each".
    pub runs: Vec<RunInfo>,
    /// Levels shared by all runs, in the first run's ladder order.
    pub levels: Vec<LevelRow>,
    /// Tallies shared by all runs.
    pub tallies: Vec<TallyRow>,
    /// Steps of any run.
    pub steps: Vec<StepRow>,
}

/// What a compared run is: its scenario, variant, trials and seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    /// `[scenario] name`.
    pub scenario: String,
    /// Variant applied (None: baseline).
    pub variant: Option<String>,
    /// Trials.
    pub trials: u64,
    /// Seed.
    pub seed: u64,
}

/// Level and tally summaries of one run, for unpaired comparisons.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// Its scenario, variant, trials and seed.
    pub info: RunInfo,
    /// Trials.
    pub trials: u64,
    /// (id, label, trials that reached it).
    pub levels: Vec<(String, String, u64)>,
    /// (id, label, mean, sd).
    pub tallies: Vec<(String, String, f64, f64)>,
    /// (step id, mean count).
    pub steps: Vec<(String, f64)>,
}

fn steps_of(runs: &[RunSummary]) -> Vec<StepRow> {
    let mut ids: Vec<String> = Vec::new();
    for r in runs {
        for (id, _) in &r.steps {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
    }
    ids.into_iter()
        .map(|id| StepRow {
            mean: runs.iter().map(|r| r.steps.iter().find(|(s, _)| *s == id).map(|(_, m)| *m)).collect(),
            id,
        })
        .collect()
}

impl Comparison {
    /// A paired comparison: `paired[j]` pairs run 0 with run j + 1 (same trials).
    pub fn from_paired(names: Vec<String>, runs: &[RunSummary], paired: &[Paired]) -> Comparison {
        let first = &runs[0];
        let n = first.trials;
        let mut levels = Vec::new();
        for (li, (id, label, _)) in first.levels.iter().enumerate() {
            // Shared by every run: each pairing must know this level of run 0.
            let ks: Option<Vec<usize>> =
                paired.iter().map(|p| p.levels.iter().position(|&(a, _)| a == li)).collect();
            let Some(ks) = ks else { continue };
            let mut p = vec![wilson_estimate(first.levels[li].2, n)];
            let mut vs = Vec::new();
            for (pair, &k) in paired.iter().zip(&ks) {
                let s = paired_proportion(pair.level_counts[k], pair.trials);
                p.push(s.b);
                vs.push(PairStats {
                    difference: s.difference,
                    ratio: s.ratio,
                    correlation: s.correlation,
                    variance_reduction: s.variance_reduction,
                });
            }
            levels.push(LevelRow { id: id.clone(), label: label.clone(), p, vs_first: vs });
        }
        let mut tallies = Vec::new();
        for (ti, (id, label, _, _)) in first.tallies.iter().enumerate() {
            let ks: Option<Vec<usize>> =
                paired.iter().map(|p| p.tallies.iter().position(|&(a, _)| a == ti)).collect();
            let Some(ks) = ks else { continue };
            let mut mean = Vec::new();
            let mut vs = Vec::new();
            for (j, (pair, &k)) in paired.iter().zip(&ks).enumerate() {
                let s = pair.tally(k);
                if j == 0 {
                    mean.push(s.a);
                }
                mean.push(s.b);
                vs.push(PairStats {
                    difference: s.difference,
                    ratio: None,
                    correlation: s.correlation,
                    variance_reduction: s.variance_reduction,
                });
            }
            tallies.push(TallyRow { id: id.clone(), label: label.clone(), mean, vs_first: vs });
        }
        Comparison {
            names,
            paired: true,
            unpaired_because: None,
            trials: runs.iter().map(|r| r.trials).collect(),
            runs: runs.iter().map(|r| r.info.clone()).collect(),
            levels,
            tallies,
            steps: steps_of(runs),
        }
    }

    /// An unpaired comparison of independent runs (Newcombe and Welch intervals), not
    /// paired `because` (for example "different seeds").
    pub(crate) fn from_unpaired(
        names: Vec<String>,
        runs: &[RunSummary],
        because: Option<String>,
    ) -> Comparison {
        let first = &runs[0];
        let mut levels = Vec::new();
        for (id, label, k0) in &first.levels {
            let found: Option<Vec<u64>> =
                runs.iter().map(|r| r.levels.iter().find(|l| &l.0 == id).map(|l| l.2)).collect();
            let Some(ks) = found else { continue };
            let p = ks.iter().zip(runs).map(|(&k, r)| wilson_estimate(k, r.trials)).collect();
            let vs = ks[1..]
                .iter()
                .zip(&runs[1..])
                .map(|(&k, r)| {
                    let (pa, pb) = (*k0 as f64 / first.trials as f64, k as f64 / r.trials as f64);
                    PairStats {
                        difference: unpaired_difference(*k0, first.trials, k, r.trials),
                        ratio: (pa > 0.0 && pb > 0.0).then(|| {
                            // Katz log interval for independent proportions.
                            let v =
                                (1.0 - pa) / (pa * first.trials as f64) + (1.0 - pb) / (pb * r.trials as f64);
                            let r = pb / pa;
                            let h = Z95 * v.sqrt();
                            Estimate { value: r, low: Some(r * (-h).exp()), high: Some(r * h.exp()) }
                        }),
                        correlation: None,
                        variance_reduction: None,
                    }
                })
                .collect();
            levels.push(LevelRow { id: id.clone(), label: label.clone(), p, vs_first: vs });
        }
        let mut tallies = Vec::new();
        for (id, label, m0, s0) in &first.tallies {
            let found: Option<Vec<(f64, f64)>> =
                runs.iter().map(|r| r.tallies.iter().find(|t| &t.0 == id).map(|t| (t.2, t.3))).collect();
            let Some(ms) = found else { continue };
            let mean = ms
                .iter()
                .zip(runs)
                .map(|(&(m, s), r)| {
                    let h = Z95 * s / (r.trials as f64).sqrt();
                    Estimate { value: m, low: Some(m - h), high: Some(m + h) }
                })
                .collect();
            let vs = ms[1..]
                .iter()
                .zip(&runs[1..])
                .map(|(&(m, s), r)| PairStats {
                    difference: welch_difference(*m0, *s0, first.trials, m, s, r.trials),
                    ratio: None,
                    correlation: None,
                    variance_reduction: None,
                })
                .collect();
            tallies.push(TallyRow { id: id.clone(), label: label.clone(), mean, vs_first: vs });
        }
        Comparison {
            names,
            paired: false,
            unpaired_because: because,
            trials: runs.iter().map(|r| r.trials).collect(),
            runs: runs.iter().map(|r| r.info.clone()).collect(),
            levels,
            tallies,
            steps: steps_of(runs),
        }
    }

    /// Tidy `compare.csv`: metric, key, run, value, low, high.
    pub fn csv(&self) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(["metric", "key", "run", "value", "low", "high"]);
        let f = |x: f64| format!("{x:.6}");
        let o = |x: Option<f64>| x.map(|v| format!("{v:.6}")).unwrap_or_default();
        let mut row = |metric: &str, key: &str, run: &str, e: Estimate| {
            let _ = w.write_record([metric, key, run, &f(e.value), &o(e.low), &o(e.high)]);
        };
        let pair = |j: usize| format!("{} vs {}", self.names[j + 1], self.names[0]);
        for l in &self.levels {
            for (name, e) in self.names.iter().zip(&l.p) {
                row("p_reached", &l.id, name, *e);
            }
            for (j, s) in l.vs_first.iter().enumerate() {
                row("p_reached_difference", &l.id, &pair(j), s.difference);
                if let Some(r) = s.ratio {
                    row("p_reached_ratio", &l.id, &pair(j), r);
                }
                if let Some(c) = s.correlation {
                    row(
                        "p_reached_correlation",
                        &l.id,
                        &pair(j),
                        Estimate { value: c, low: None, high: None },
                    );
                }
                if let Some(v) = s.variance_reduction {
                    row(
                        "p_reached_variance_reduction",
                        &l.id,
                        &pair(j),
                        Estimate { value: v, low: None, high: None },
                    );
                }
            }
        }
        for t in &self.tallies {
            for (name, e) in self.names.iter().zip(&t.mean) {
                row("tally_mean", &t.id, name, *e);
            }
            for (j, s) in t.vs_first.iter().enumerate() {
                row("tally_mean_difference", &t.id, &pair(j), s.difference);
                if let Some(c) = s.correlation {
                    row("tally_correlation", &t.id, &pair(j), Estimate { value: c, low: None, high: None });
                }
                if let Some(v) = s.variance_reduction {
                    row(
                        "tally_variance_reduction",
                        &t.id,
                        &pair(j),
                        Estimate { value: v, low: None, high: None },
                    );
                }
            }
        }
        for s in &self.steps {
            for (name, m) in self.names.iter().zip(&s.mean) {
                if let Some(m) = m {
                    row("step_mean_count", &s.id, name, Estimate { value: *m, low: None, high: None });
                }
            }
        }
        w.into_inner().unwrap_or_default()
    }

    /// Whether every run has the first run's seed and trial count, so that one phrase
    /// ("N trials each") describes them all.
    pub(crate) fn same_trials(&self) -> bool {
        self.runs.iter().all(|r| (r.trials, r.seed) == (self.runs[0].trials, self.runs[0].seed))
    }

    /// How the runs' seeds and trial counts differ ("different seeds", "different trial
    /// counts" or both), if they do: such runs cannot be paired.
    pub(crate) fn trial_difference(runs: &[RunInfo]) -> Option<&'static str> {
        let first = runs.first()?;
        let seeds = runs.iter().any(|r| r.seed != first.seed);
        let counts = runs.iter().any(|r| r.trials != first.trials);
        match (seeds, counts) {
            (true, true) => Some("different seeds and trial counts"),
            (true, false) => Some("different seeds"),
            (false, true) => Some("different trial counts"),
            (false, false) => None,
        }
    }

    /// "unpaired (why)", or "unpaired" when no reason was given.
    fn unpaired_label(&self) -> String {
        match &self.unpaired_because {
            Some(why) => format!("unpaired ({why})"),
            None => "unpaired".into(),
        }
    }

    /// Each run by its own manifest: `name (scenario, variant, N trials, seed S)`.
    pub(crate) fn describe_runs(&self) -> Vec<String> {
        let describe = |(name, r): (&String, &RunInfo)| {
            let variant =
                r.variant.as_deref().map_or_else(|| "baseline".to_string(), |v| format!("variant {v}"));
            format!("{name} ({}, {variant}, {} trials, seed {})", r.scenario, r.trials, r.seed)
        };
        self.names.iter().zip(&self.runs).map(describe).collect()
    }

    /// Summary lines in the spirit of hyperfine: one per level and run, then tallies.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let how = if self.paired {
            "paired: same seed and trials, common random numbers".to_string()
        } else {
            format!("{}: independent samples (Newcombe and Welch intervals)", self.unpaired_label())
        };
        if self.same_trials() {
            let _ = writeln!(s, "{} runs, {} trials each; {how}", self.names.len(), self.trials[0]);
        } else {
            let _ = writeln!(s, "{} runs: {}; {how}", self.names.len(), self.describe_runs().join(", "));
        }
        for l in &self.levels {
            // A level every run reaches in every trial says nothing.
            if l.p.iter().all(|e| e.value >= 1.0) {
                continue;
            }
            let _ = writeln!(s);
            let base = &l.p[0];
            for (j, st) in l.vs_first.iter().enumerate() {
                let e = &l.p[j + 1];
                let _ = writeln!(
                    s,
                    "  {} reaches {} in {} of trials {} vs {} {} for {}: {}; difference {} points {}",
                    self.names[j + 1],
                    l.id,
                    pct(e.value),
                    bracket_pct(e),
                    pct(base.value),
                    bracket_pct(base),
                    self.names[0],
                    likelihood(st.ratio),
                    signed_points(&st.difference),
                    bracket_points(&st.difference),
                );
                if let (Some(c), Some(v)) = (st.correlation, st.variance_reduction) {
                    let _ = writeln!(
                        s,
                        "      pairing: correlation {c:.2}, variance {v:.1}x smaller than independent runs"
                    );
                }
            }
        }
        if !self.tallies.is_empty() {
            let _ = writeln!(s);
        }
        for t in &self.tallies {
            for (j, st) in t.vs_first.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "  {}: mean {:.3} for {} vs {:.3} for {}; difference {:+.3} [{:+.3}, {:+.3}]",
                    t.id,
                    t.mean[j + 1].value,
                    self.names[j + 1],
                    t.mean[0].value,
                    self.names[0],
                    st.difference.value,
                    st.difference.low.unwrap_or(f64::NAN),
                    st.difference.high.unwrap_or(f64::NAN),
                );
            }
        }
        s
    }
}

/// Decimals for percentages (or points) of this size: one, or two below 1, or three below
/// 0.1, so that a rare level's interval does not read "[0.1, 0.1]" around 0.075%.
fn decimals(percents: &[f64]) -> usize {
    let most = percents.iter().map(|x| x.abs()).filter(|x| x.is_finite()).fold(0.0, f64::max);
    if most < 0.1 {
        3
    } else if most < 1.0 {
        2
    } else {
        1
    }
}

/// `d`, or more (up to 4 more) until no bound that differs from `value` prints like it:
/// "1.9% [1.86, 2.0]", not "[1.9, 2.0]" around 1.9%.
fn apart(value: f64, bounds: [f64; 2], mut d: usize) -> usize {
    let f = |x: f64, d: usize| format!("{x:.d$}");
    let stop = d + 4;
    while d < stop && bounds.iter().any(|&b| b != value && f(b, d) == f(value, d)) {
        d += 1;
    }
    d
}

fn bracket_pct(e: &Estimate) -> String {
    match (e.low, e.high) {
        (Some(a), Some(b)) => {
            let d = decimals(&[100.0 * e.value, 100.0 * b]);
            let d = apart(100.0 * e.value, [100.0 * a, 100.0 * b], d);
            format!("[{:.d$}, {:.d$}]", 100.0 * a, 100.0 * b)
        }
        _ => String::new(),
    }
}

/// A difference in points, with the decimals its interval needs.
fn signed_points(e: &Estimate) -> String {
    let d = decimals(&[100.0 * e.value, 100.0 * e.low.unwrap_or(0.0), 100.0 * e.high.unwrap_or(0.0)]);
    format!("{:+.d$}", 100.0 * e.value)
}

fn bracket_points(e: &Estimate) -> String {
    match (e.low, e.high) {
        (Some(a), Some(b)) => {
            let d = decimals(&[100.0 * e.value, 100.0 * a, 100.0 * b]);
            let d = apart(100.0 * e.value, [100.0 * a, 100.0 * b], d);
            format!("[{:+.d$}, {:+.d$}]", 100.0 * a, 100.0 * b)
        }
        _ => String::new(),
    }
}

/// "1.6x less likely [1.5, 1.7]" from a ratio B/A.
fn likelihood(r: Option<Estimate>) -> String {
    let Some(r) = r else { return "ratio undefined (a probability is 0)".into() };
    let (lo, hi) = (r.low.unwrap_or(f64::NAN), r.high.unwrap_or(f64::NAN));
    if r.value >= 1.0 {
        format!("{:.2}x as likely [{lo:.2}, {hi:.2}]", r.value)
    } else {
        format!("{:.2}x less likely [{:.2}, {:.2}]", 1.0 / r.value, 1.0 / hi, 1.0 / lo)
    }
}

impl RunSummary {
    /// From a live aggregate, simulated with `seed`.
    pub fn from_aggregate(
        model: &crate::sim::model::Model,
        agg: &crate::sim::stats::Aggregate,
        seed: u64,
    ) -> RunSummary {
        RunSummary {
            info: RunInfo {
                scenario: model.name.clone(),
                variant: model.variant.clone(),
                trials: agg.trials,
                seed,
            },
            trials: agg.trials,
            levels: model
                .levels
                .iter()
                .zip(&agg.levels)
                .map(|(l, a)| (l.id.clone(), l.label.clone(), a.reached))
                .collect(),
            tallies: model
                .tallies
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let (m, sd) = agg.tally_mean_sd(i);
                    (t.id.clone(), t.label.clone(), m, sd)
                })
                .collect(),
            steps: model
                .steps
                .iter()
                .zip(&agg.steps)
                .map(|(s, a)| (s.id.clone(), a.sum as f64 / agg.trials.max(1) as f64))
                .collect(),
        }
    }

    /// From a finished results folder.
    pub(crate) fn from_results(r: &crate::output::results::Results) -> RunSummary {
        let m = &r.manifest;
        RunSummary {
            info: RunInfo {
                scenario: m.scenario_name.clone(),
                variant: m.variant.clone(),
                trials: m.trials,
                seed: m.seed,
            },
            trials: r.manifest.trials,
            levels: r.levels.iter().map(|l| (l.level.clone(), l.label.clone(), l.trials_reached)).collect(),
            tallies: r.tallies.iter().map(|t| (t.tally.clone(), t.label.clone(), t.mean, t.sd)).collect(),
            steps: r.steps.iter().map(|s| (s.step.clone(), s.mean_count)).collect(),
        }
    }
}
