//! Comparing runs: paired statistics under common random numbers, and unpaired ones.
//!
//! Two variants run on the same seed and trial indices draw the same random numbers
//! wherever their steps are the same (docs/reproducibility.md), so trial i of A and trial i of B are
//! a matched pair. The difference of two proportions is then estimated from per-trial
//! differences, whose variance is far smaller than var(A) + var(B): the
//! *variance reduction factor* reports how much the pairing bought.
//!
//! Accumulators are integer-exact (like [`crate::sim::stats`]), so paired results do not
//! depend on threads or chunking either. A paired difference of proportions has
//! Newcombe's square-and-add interval for paired data ([`paired_difference`]), which
//! stays valid where a Wald interval on the per-trial differences collapses to a point
//! (no discordant pairs: a level reached in exactly the same trials by both runs). A
//! paired difference of means has a normal (Wald) interval on the per-trial differences.
//! With pairing they are typically several times narrower than the unpaired Newcombe
//! interval, which [`unpaired_difference`] provides for runs that do not share seeds.
//!
//! A [`Paired`] serialises (serde) without losing a bit, like [`crate::sim::stats::Aggregate`]:
//! 128-bit sums as decimal strings, 256-bit ones as hex. Shards of `brink compare` and
//! `brink sensitivity` store it, and `brink merge` adds the shards' accumulators up.

use crate::sim::accumulate::{shape_differs, Accumulate};
use crate::sim::engine::Outcome;
use crate::sim::model::Model;
use crate::sim::stats::{u128_text, wilson, Aggregate, U256, Z95};
use serde::{Deserialize, Serialize};

/// An estimate with a 95% interval (`low`/`high` None where undefined).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Point estimate.
    pub value: f64,
    /// Lower bound.
    pub low: Option<f64>,
    /// Upper bound.
    pub high: Option<f64>,
}

impl Estimate {
    fn interval(value: f64, half: f64) -> Estimate {
        Estimate { value, low: Some(value - half), high: Some(value + half) }
    }
}

/// Paired counts for one level: (reached in A, reached in B) over trials.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairedLevel {
    /// Reached in both.
    pub both: u64,
    /// Reached in A only.
    pub a_only: u64,
    /// Reached in B only.
    pub b_only: u64,
}

/// Exact paired sums for one tally.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairedTally {
    /// Sum of A's totals.
    #[serde(with = "u128_text")]
    pub sum_a: u128,
    /// Sum of B's totals.
    #[serde(with = "u128_text")]
    pub sum_b: u128,
    /// Sum of squares of A's totals.
    pub sum_aa: U256,
    /// Sum of squares of B's totals.
    pub sum_bb: U256,
    /// Sum of squared differences (B - A).
    pub sum_dd: U256,
}

/// Paired accumulators for one pair (A = the first run, B = another), over the levels
/// and tallies the two models share (matched by id).
///
/// Serialised, `levels` and `tallies` are `[index in A, index in B]` pairs;
/// deserialising checks that the counts fit them and the trial count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PairedData")]
pub struct Paired {
    /// Trials paired.
    pub trials: u64,
    /// Level index in A and in B of each shared level, in A's ladder order.
    pub levels: Vec<(usize, usize)>,
    /// Tally index in A and in B of each shared tally.
    pub tallies: Vec<(usize, usize)>,
    /// Per shared level.
    pub level_counts: Vec<PairedLevel>,
    /// Per shared tally.
    pub tally_sums: Vec<PairedTally>,
}

/// The serialised form of [`Paired`], checked before it becomes one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PairedData {
    trials: u64,
    levels: Vec<(usize, usize)>,
    tallies: Vec<(usize, usize)>,
    level_counts: Vec<PairedLevel>,
    tally_sums: Vec<PairedTally>,
}

impl TryFrom<PairedData> for Paired {
    type Error = String;

    fn try_from(d: PairedData) -> Result<Paired, String> {
        if d.level_counts.len() != d.levels.len() || d.tally_sums.len() != d.tallies.len() {
            return Err(format!(
                "{} level counts and {} tally sums for {} levels and {} tallies",
                d.level_counts.len(),
                d.tally_sums.len(),
                d.levels.len(),
                d.tallies.len()
            ));
        }
        for (k, c) in d.level_counts.iter().enumerate() {
            let counted = c.both.checked_add(c.a_only).and_then(|x| x.checked_add(c.b_only));
            if counted.is_none_or(|n| n > d.trials) {
                return Err(format!("shared level {k}: its counts exceed the {} trials", d.trials));
            }
        }
        Ok(Paired {
            trials: d.trials,
            levels: d.levels,
            tallies: d.tallies,
            level_counts: d.level_counts,
            tally_sums: d.tally_sums,
        })
    }
}

impl Paired {
    /// An empty accumulator pairing `a` and `b` by level and tally ids.
    pub fn new(a: &Model, b: &Model) -> Paired {
        fn levels(m: &Model) -> Vec<&str> {
            m.levels.iter().map(|l| l.id.as_str()).collect()
        }
        fn tallies(m: &Model) -> Vec<&str> {
            m.tallies.iter().map(|t| t.id.as_str()).collect()
        }
        Paired::from_ids(&levels(a), &levels(b), &tallies(a), &tallies(b))
    }

    /// An empty accumulator pairing levels and tallies that have the same ids.
    pub fn from_ids(levels_a: &[&str], levels_b: &[&str], tallies_a: &[&str], tallies_b: &[&str]) -> Paired {
        let pair = |a: &[&str], b: &[&str]| -> Vec<(usize, usize)> {
            a.iter().enumerate().filter_map(|(i, x)| b.iter().position(|y| y == x).map(|j| (i, j))).collect()
        };
        let levels = pair(levels_a, levels_b);
        let tallies = pair(tallies_a, tallies_b);
        Paired {
            trials: 0,
            level_counts: vec![PairedLevel::default(); levels.len()],
            tally_sums: vec![PairedTally::default(); tallies.len()],
            levels,
            tallies,
        }
    }

    /// Counts one pair of outcomes of the same trial index.
    pub fn add(&mut self, a: &Outcome<'_>, b: &Outcome<'_>) {
        self.add_with(|i| !a.reached[i].is_nan(), a.tallies, |j| !b.reached[j].is_nan(), b.tallies);
    }

    /// Counts one pair given as reached flags and tally totals (from trials.csv rows).
    pub(crate) fn add_raw(
        &mut self,
        a_reached: &[bool],
        a_tallies: &[u64],
        b_reached: &[bool],
        b_tallies: &[u64],
    ) {
        self.add_with(|i| a_reached[i], a_tallies, |j| b_reached[j], b_tallies);
    }

    fn add_with(
        &mut self,
        a_reached: impl Fn(usize) -> bool,
        a_tallies: &[u64],
        b_reached: impl Fn(usize) -> bool,
        b_tallies: &[u64],
    ) {
        self.trials += 1;
        for (k, &(i, j)) in self.levels.iter().enumerate() {
            let (ra, rb) = (a_reached(i), b_reached(j));
            let c = &mut self.level_counts[k];
            match (ra, rb) {
                (true, true) => c.both += 1,
                (true, false) => c.a_only += 1,
                (false, true) => c.b_only += 1,
                (false, false) => {}
            }
        }
        for (k, &(i, j)) in self.tallies.iter().enumerate() {
            let (x, y) = (a_tallies[i] as u128, b_tallies[j] as u128);
            let s = &mut self.tally_sums[k];
            s.sum_a += x;
            s.sum_b += y;
            s.sum_aa.add(x * x);
            s.sum_bb.add(y * y);
            let d = x.abs_diff(y);
            s.sum_dd.add(d * d);
        }
    }

    /// Adds another accumulator of the same pair.
    pub fn merge(&mut self, o: &Paired) {
        self.trials += o.trials;
        for (a, b) in self.level_counts.iter_mut().zip(&o.level_counts) {
            a.both += b.both;
            a.a_only += b.a_only;
            a.b_only += b.b_only;
        }
        for (a, b) in self.tally_sums.iter_mut().zip(&o.tally_sums) {
            a.sum_a += b.sum_a;
            a.sum_b += b.sum_b;
            a.sum_aa.add_u256(b.sum_aa);
            a.sum_bb.add_u256(b.sum_bb);
            a.sum_dd.add_u256(b.sum_dd);
        }
    }

    /// Paired statistics of shared level `k`.
    pub fn level(&self, k: usize) -> PairedProportion {
        paired_proportion(self.level_counts[k], self.trials)
    }

    /// Paired statistics of shared tally `k`.
    pub fn tally(&self, k: usize) -> PairedMean {
        let s = &self.tally_sums[k];
        let n = self.trials as f64;
        let (ma, mb) = (s.sum_a as f64 / n, s.sum_b as f64 / n);
        let var = |sum: f64, sum_sq: f64| {
            if n > 1.0 {
                ((sum_sq - sum * sum / n) / (n - 1.0)).max(0.0)
            } else {
                0.0
            }
        };
        let va = var(s.sum_a as f64, s.sum_aa.to_f64());
        let vb = var(s.sum_b as f64, s.sum_bb.to_f64());
        let sd = s.sum_b as f64 - s.sum_a as f64;
        let vd = var(sd, s.sum_dd.to_f64());
        let d = mb - ma;
        PairedMean {
            a: Estimate::interval(ma, Z95 * (va / n).sqrt()),
            b: Estimate::interval(mb, Z95 * (vb / n).sqrt()),
            difference: Estimate::interval(d, Z95 * (vd / n).sqrt()),
            correlation: if va > 0.0 && vb > 0.0 {
                Some((va + vb - vd) / (2.0 * (va * vb).sqrt()))
            } else {
                None
            },
            variance_reduction: if vd > 0.0 { Some((va + vb) / vd) } else { None },
        }
    }
}

/// Pairs each outcome it is given with `first`, model 0's outcome of the same trial.
impl Accumulate for Paired {
    fn add(&mut self, _model: usize, outcome: &Outcome<'_>, first: &Outcome<'_>) {
        Paired::add(self, first, outcome)
    }

    fn merge(&mut self, later: Self) -> std::io::Result<()> {
        Paired::merge(self, &later);
        Ok(())
    }
}

/// What a lockstep set of runs yields (`compare`, `sweep`, `sensitivity`).
#[derive(Debug, Clone, PartialEq)]
pub struct SetOutput {
    /// One aggregate per model.
    pub aggregates: Vec<Aggregate>,
    /// For each model after the first: its pairing with the first, trial by trial.
    pub paired: Vec<Paired>,
}

impl SetOutput {
    /// Nothing yet, for these models (the first is the one the others pair with).
    pub fn empty(models: &[&Model]) -> SetOutput {
        SetOutput {
            aggregates: models.iter().map(|m| Aggregate::new(m)).collect(),
            paired: models.iter().skip(1).map(|m| Paired::new(models[0], m)).collect(),
        }
    }

    /// Adds the output of other trials of the same models.
    pub fn merge(&mut self, o: &SetOutput) {
        for (a, b) in self.aggregates.iter_mut().zip(&o.aggregates) {
            a.merge(b);
        }
        for (a, b) in self.paired.iter_mut().zip(&o.paired) {
            a.merge(b);
        }
    }
}

/// Model k's outcomes go to aggregate k and, after the first model, to pairing k - 1.
impl Accumulate for SetOutput {
    fn add(&mut self, model: usize, outcome: &Outcome<'_>, first: &Outcome<'_>) {
        self.aggregates[model].add(outcome);
        if model > 0 {
            self.paired[model - 1].add(first, outcome);
        }
    }

    fn merge(&mut self, later: Self) -> std::io::Result<()> {
        if (self.aggregates.len(), self.paired.len()) != (later.aggregates.len(), later.paired.len()) {
            return Err(shape_differs("a set of models", self.aggregates.len(), later.aggregates.len()));
        }
        SetOutput::merge(self, &later);
        Ok(())
    }
}

/// Paired statistics of a proportion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedProportion {
    /// P in A, with its Wilson interval.
    pub a: Estimate,
    /// P in B, with its Wilson interval.
    pub b: Estimate,
    /// P(B) - P(A), with Newcombe's paired interval ([`paired_difference`]).
    pub difference: Estimate,
    /// P(B) / P(A), delta-method interval on the log scale (None if either is 0).
    pub ratio: Option<Estimate>,
    /// Correlation (phi) of the paired indicators.
    pub correlation: Option<f64>,
    /// (var A + var B) / var(B - A): how many times fewer trials pairing needs.
    pub variance_reduction: Option<f64>,
}

/// Paired statistics of a mean.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedMean {
    /// Mean in A.
    pub a: Estimate,
    /// Mean in B.
    pub b: Estimate,
    /// Mean of B - A.
    pub difference: Estimate,
    /// Correlation of the paired totals.
    pub correlation: Option<f64>,
    /// (var A + var B) / var(B - A).
    pub variance_reduction: Option<f64>,
}

/// P(level) of `k` in `n` trials with its 95% Wilson interval (0 with the whole range
/// for no trials).
pub(crate) fn wilson_estimate(k: u64, n: u64) -> Estimate {
    let (lo, hi) = wilson(k, n, Z95);
    Estimate { value: if n == 0 { 0.0 } else { k as f64 / n as f64 }, low: Some(lo), high: Some(hi) }
}

/// Paired statistics from the 2x2 counts of `n` paired trials.
pub fn paired_proportion(c: PairedLevel, n: u64) -> PairedProportion {
    let nf = n as f64;
    let ka = c.both + c.a_only;
    let kb = c.both + c.b_only;
    let (pa, pb) = (ka as f64 / nf, kb as f64 / nf);
    let d = pb - pa;
    // Per-trial differences D in {-1, 0, 1}: E[D^2] = discordant share.
    let discordant = (c.a_only + c.b_only) as f64 / nf;
    let var_d = if n > 1 { ((discordant - d * d) * nf / (nf - 1.0)).max(0.0) } else { 0.0 };
    let (va, vb) = (pa * (1.0 - pa), pb * (1.0 - pb));
    let p11 = c.both as f64 / nf;
    let cov = p11 - pa * pb;
    let ratio = (pa > 0.0 && pb > 0.0).then(|| {
        let r = pb / pa;
        let v = (vb / (pb * pb) + va / (pa * pa) - 2.0 * cov / (pa * pb)) / nf;
        let half = Z95 * v.max(0.0).sqrt();
        Estimate { value: r, low: Some(r * (-half).exp()), high: Some(r * half.exp()) }
    });
    PairedProportion {
        a: wilson_estimate(ka, n),
        b: wilson_estimate(kb, n),
        difference: paired_difference(c, n),
        ratio,
        correlation: (va > 0.0 && vb > 0.0).then(|| cov / (va * vb).sqrt()),
        variance_reduction: (var_d > 0.0).then(|| (va + vb) / var_d),
    }
}

/// P(B) - P(A) of `n` paired trials with Newcombe's square-and-add interval for paired
/// data (method 10 of Newcombe 1998, Stat Med 17:2635), built from the Wilson intervals
/// [l_A, u_A] and [l_B, u_B] of the two margins and their correlation phi:
///
/// low  = d - sqrt((p_B - l_B)² - 2 phi (p_B - l_B)(u_A - p_A) + (u_A - p_A)²)
/// high = d + sqrt((u_B - p_B)² - 2 phi (u_B - p_B)(p_A - l_A) + (p_A - l_A)²)
///
/// phi is the correlation of the 2x2 table with Newcombe's correction: with
/// D = both x neither - b_only x a_only, phi = (D - n/2) / sqrt(product of the four
/// margins) when D > n/2, 0 when 0 <= D <= n/2, D / sqrt(...) when D < 0, and 0 when a
/// margin is empty. Why not Wald: with no discordant pairs (the two runs reach the level
/// in exactly the same trials) the per-trial differences are all 0 and a Wald interval
/// is [0, 0], claiming certainty that 0 discordant trials out of n cannot give; this
/// interval stays as wide as the Wilson intervals allow (phi < 1).
pub fn paired_difference(c: PairedLevel, n: u64) -> Estimate {
    if n == 0 {
        return Estimate { value: 0.0, low: Some(-1.0), high: Some(1.0) };
    }
    let ka = c.both + c.a_only;
    let kb = c.both + c.b_only;
    let neither = n.saturating_sub(c.both + c.a_only + c.b_only);
    let nf = n as f64;
    let (pa, pb) = (ka as f64 / nf, kb as f64 / nf);
    let (la, ua) = wilson(ka, n, Z95);
    let (lb, ub) = wilson(kb, n, Z95);
    let margins = [kb, n - kb, ka, n - ka];
    let phi = if margins.contains(&0) {
        0.0
    } else {
        // Exact in i128: each product is below 2^128 for counts below 2^63.
        let det = c.both as i128 * neither as i128 - c.b_only as i128 * c.a_only as i128;
        let root = margins.iter().map(|&m| m as f64).product::<f64>().sqrt();
        if 2 * det > n as i128 {
            (det as f64 - nf / 2.0) / root
        } else if det >= 0 {
            0.0
        } else {
            det as f64 / root
        }
    };
    let d = pb - pa;
    // Square and add the distances to the Wilson limits, less their covariance.
    let combine = |x: f64, y: f64| (x * x - 2.0 * phi * x * y + y * y).max(0.0).sqrt();
    Estimate {
        value: d,
        low: Some((d - combine(pb - lb, ua - pa)).max(-1.0)),
        high: Some((d + combine(ub - pb, pa - la)).min(1.0)),
    }
}

/// Newcombe's hybrid score interval for P(B) - P(A) from independent samples (method 10
/// of Newcombe 1998), built from the two Wilson intervals.
pub fn unpaired_difference(ka: u64, na: u64, kb: u64, nb: u64) -> Estimate {
    let (pa, pb) = (ka as f64 / na as f64, kb as f64 / nb as f64);
    let (la, ua) = wilson(ka, na, Z95);
    let (lb, ub) = wilson(kb, nb, Z95);
    let d = pb - pa;
    Estimate {
        value: d,
        low: Some(d - ((pb - lb).powi(2) + (ua - pa).powi(2)).sqrt()),
        high: Some(d + ((ub - pb).powi(2) + (pa - la).powi(2)).sqrt()),
    }
}

/// Welch interval for the difference of two independent means (normal approximation).
pub(crate) fn welch_difference(mean_a: f64, sd_a: f64, na: u64, mean_b: f64, sd_b: f64, nb: u64) -> Estimate {
    let se = (sd_a * sd_a / na as f64 + sd_b * sd_b / nb as f64).sqrt();
    Estimate::interval(mean_b - mean_a, Z95 * se)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-worked: A reached iff u < 0.5, B iff u < 0.4 (same u): 40% both, 10% A only.
    /// d = -0.1; var(D) = 0.1 - 0.01 = 0.09; var A + var B = 0.25 + 0.24 = 0.49;
    /// phi = (0.4 - 0.2) / sqrt(0.25 x 0.24); ratio 0.8. With a million trials Newcombe's
    /// paired interval is as wide as the Wald interval `d ± z sqrt(var(D) / n)` to 1%.
    #[test]
    fn paired_proportion_by_hand() {
        let n = 1_000_000;
        let c = PairedLevel { both: 400_000, a_only: 100_000, b_only: 0 };
        let p = paired_proportion(c, n);
        assert!((p.difference.value + 0.1).abs() < 1e-12);
        let half = (p.difference.high.unwrap() - p.difference.low.unwrap()) / 2.0;
        let wald = 1.959_963_984_540_054 * (0.09f64 * 1e6 / (1e6 - 1.0) / 1e6).sqrt();
        assert!((half / wald - 1.0).abs() < 0.01, "{half} vs {wald}");
        assert!((p.variance_reduction.unwrap() - 0.49 / (0.09 * 1e6 / (1e6 - 1.0))).abs() < 1e-9);
        assert!((p.correlation.unwrap() - 0.2 / (0.25f64 * 0.24).sqrt()).abs() < 1e-12);
        assert!((p.ratio.unwrap().value - 0.8).abs() < 1e-12);
    }

    /// The paired relative risk's interval by hand: 1,000 trials, 20 reach the level in
    /// both runs, 10 in A only, 30 in B only. p_A = 0.03, p_B = 0.05, RR = 5/3. The delta
    /// method on log RR for paired proportions gives var = (b + c) / n / (n p_A p_B)
    /// = 0.04 / 1.5 = 0.0266667, so 5/3 x exp(-/+ 1.959964 x 0.1632993) = [1.210175, 2.295352].
    #[test]
    fn paired_ratio_interval_by_hand() {
        let p = paired_proportion(PairedLevel { both: 20, a_only: 10, b_only: 30 }, 1000);
        let r = p.ratio.unwrap();
        assert!((r.value - 5.0 / 3.0).abs() < 1e-12);
        assert!((r.low.unwrap() - 1.210_175).abs() < 1e-6, "{r:?}");
        assert!((r.high.unwrap() - 2.295_352).abs() < 1e-6, "{r:?}");
        // A zero count has no ratio (the chart says 0, infinite or 0 / 0 in words).
        assert!(paired_proportion(PairedLevel { both: 0, a_only: 0, b_only: 3 }, 1000).ratio.is_none());
    }

    /// Newcombe's worked example (1998, Table II, method 10): 56/70 vs 48/80 gives
    /// 0.2 with interval 0.0524 to 0.3339 (A = 48/80, B = 56/70 here).
    #[test]
    fn newcombe_example() {
        let e = unpaired_difference(48, 80, 56, 70);
        assert!((e.value - 0.2).abs() < 1e-12);
        assert!((e.low.unwrap() - 0.0524).abs() < 5e-5, "{e:?}");
        assert!((e.high.unwrap() - 0.3339).abs() < 5e-5, "{e:?}");
    }
}
