//! Statistics over trials, streamed: a [`Tally`]-style accumulator per run that takes one
//! trial [`Outcome`] at a time and never keeps the trials themselves.
//!
//! Everything accumulated is an integer (counts, histograms, exact sums of integer
//! tallies in `u128`), so merging partial aggregates is exact and independent of order:
//! the same trials give the same bits whatever the thread count or chunking. Floats
//! appear only when a summary is read out.
//!
//! Percentiles of first-reached days come from a histogram with a fixed bin width
//! (0.01 day, coarser only for horizons beyond 1,310 days), so memory does not grow with
//! the number of trials; they are reported as the lower edge of their bin.
//!
//! An [`Aggregate`] serialises (serde) to a self-describing form that keeps every bit:
//! histograms as `[value, count]` pairs, 128-bit sums as decimal strings, 256-bit sums
//! as hex strings, paths as a sorted list. Shards of a run store it (`aggregate.json`)
//! and `brink merge` adds them up exactly.

use crate::sim::engine::{EndReason, Outcome};
use crate::sim::model::Model;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{BTreeMap, HashMap};

/// z for a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Wilson score interval for `k` successes in `n` trials.
pub fn wilson(k: u64, n: u64, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    wilson_p(k as f64 / n as f64, n as f64, z)
}

/// Wilson score interval for a proportion `p` observed on `n` trials, where `n` may be
/// an effective (fractional) sample size.
pub(crate) fn wilson_p(p: f64, n: f64, z: f64) -> (f64, f64) {
    // No information (also a NaN n): the whole range.
    if n.is_nan() || n <= 0.0 {
        return (0.0, 1.0);
    }
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The 95% interval of the pooled P(level) of a two-loop run (`brink run --epistemic K`):
/// `reached[k]` of the `trials` trials of parameter draw k reached the level, every draw
/// ran the same trials (common random numbers), and `per_trial[i]` of the K draws reached
/// it in trial i.
///
/// The K x N outcomes Y_ki are not independent, so a Wilson interval over K x N trials
/// is far too narrow. They form a crossed design (draws x trials, one outcome per cell),
/// so the pooled mean has
///
///   var(mean) = var_draw / K + var_trial / N + var_rest / (K N),
///
/// estimated from the two-way analysis of variance without replication: with the mean
/// squares of draws (MS_D = N s² of the per-draw P), of trials (MS_T = K times the
/// variance of the per-trial share of draws) and of the rest (MS_E, from the remainder
/// of the total sum of squares, K N p (1 - p) for 0/1 outcomes),
///
///   V = (MS_D + MS_T - MS_E) / (K N) = s² / K + (MS_T - MS_E) / (K N),
///
/// with the trial part taken as 0 when MS_T < MS_E (the usual truncation of a variance
/// component at zero). The first term, the spread across draws, is what a plain t
/// interval on the p_k would use; the second is the Monte Carlo error the draws share
/// because they share their trials. (Bounding that share by p (1 - p) / N, as brink did
/// before, made the interval about three times too wide for a rare top level: most of
/// its Monte Carlo variance is not shared between draws.)
///
/// The interval is a Wilson interval with the effective sample size n_eff =
/// p (1 - p) / V (at most K N), so it stays inside [0, 1]. When no draw reached the
/// level in any trial, or every draw in every trial, V is 0 and n_eff is taken as N, the
/// trials that are independent: a Wilson interval for 0 or N out of N. The multiplier is
/// Student's t with Satterthwaite's degrees of freedom for V: K - 1 for the draws' part,
/// and for the trials' part the effective number of trials that carry its sum of squares
/// ((Σ d²)² / Σ d⁴ with d_i the trial's count of draws less K p). For a rare level
/// a few trials that reach it in many draws carry that part, and a normal quantile
/// covered only 92% of the time; with these, 95-96% (a test).
/// A limit no formula lifts: when the trials that reach a rare level in many draws are
/// so rare that a run may hold none, its interval cannot know they exist (then the
/// spread across draws is the better guide, and more trials per draw the remedy).
/// The trials' part rests on the D distinct trials that reached the level (or missed it),
/// so n_eff is at most N max(1, D / [`TWO_LOOP_MIN_TRIALS`]): N, as for no event at all,
/// up to 20 of them, then growing smoothly. One event then does not narrow the interval of
/// none 66-fold, and the 20th distinct trial does not narrow it 24-fold either.
/// With fewer than two draws or two trials the parts cannot be told apart: [0, 1].
pub fn two_loop_interval(reached: &[u64], per_trial: &[u32], trials: u64) -> (f64, f64) {
    let k = reached.len();
    if k < 2 || trials < 2 || per_trial.len() as u64 != trials {
        return (0.0, 1.0);
    }
    let (kf, n) = (k as f64, trials as f64);
    let total: u64 = reached.iter().sum();
    let z = Z95;
    if total == 0 {
        return wilson(0, trials, z);
    }
    if total == trials * k as u64 {
        return wilson(trials, trials, z);
    }
    let p = total as f64 / (kf * n);
    // Sums of squares of the crossed design; the total is K N p (1 - p) for 0/1 outcomes.
    let ss_draws = n * reached.iter().map(|&r| (r as f64 / n - p).powi(2)).sum::<f64>();
    let ss_trials = per_trial.iter().map(|&c| (f64::from(c) - kf * p).powi(2)).sum::<f64>() / kf;
    let ss_rest = (kf * n * p * (1.0 - p) - ss_draws - ss_trials).max(0.0);
    let ms_draws = ss_draws / (kf - 1.0);
    let ms_trials = ss_trials / (n - 1.0);
    let ms_rest = ss_rest / ((kf - 1.0) * (n - 1.0));
    let spread = ms_draws / (kf * n);
    let shared = ((ms_trials - ms_rest) / (kf * n)).max(0.0);
    let v = spread + shared;
    if v <= 0.0 {
        return wilson_p(p, kf * n, z);
    }
    // Degrees of freedom of V (Satterthwaite): the draws' part has K - 1; the trials'
    // part has as many as the trials that carry its sum of squares (for a rare level, the
    // few trials that reach it in many draws), Kish's effective count of its terms.
    let (sq2, sq4) = per_trial.iter().fold((0.0, 0.0), |(a, b), &c| {
        let d2 = (f64::from(c) - kf * p).powi(2);
        (a + d2, b + d2 * d2)
    });
    let df_trials = if sq4 > 0.0 { (sq2 * sq2 / sq4).max(1.0) } else { n - 1.0 };
    let df = v * v / (spread * spread / (kf - 1.0) + shared * shared / df_trials);
    let q = t_quantile(df.max(1.0), 0.975);
    // The trials' part is estimated from the D distinct trials that reached the level
    // (or, near 1, that missed it). From few of them it cannot be trusted: a level seen in
    // one trial would otherwise get the interval of K N independent trials, 66 times
    // narrower than the one of a level seen in none. So the interval counts as at most
    // N max(1, D / TWO_LOOP_MIN_TRIALS) independent trials: N (as for no event) up to 20
    // distinct trials, then growing with them, so it narrows smoothly as evidence comes.
    // Where that floor binds, the multiplier is z: the floor's variance is not estimated
    // (a t with Satterthwaite's one or two degrees of freedom made it absurdly wide).
    let distinct = per_trial
        .iter()
        .filter(|&&c| c > 0)
        .count()
        .min(per_trial.iter().filter(|&&c| (c as usize) < k).count());
    let n_eff = p * (1.0 - p) / v;
    if distinct < TWO_LOOP_MIN_TRIALS {
        return wilson_p(p, n_eff.min(n), z);
    }
    let cap = (n * distinct as f64 / TWO_LOOP_MIN_TRIALS as f64).min(kf * n);
    if n_eff >= cap {
        return wilson_p(p, cap, z);
    }
    wilson_p(p, n_eff, q)
}

/// The distinct trials that count, in [`two_loop_interval`], as N independent trials'
/// worth of evidence on the Monte Carlo error the draws share: with D distinct trials
/// reaching the level, its interval counts as at most N max(1, D / 20) independent trials.
pub const TWO_LOOP_MIN_TRIALS: usize = 20;

/// The q-quantile (q in (0.5, 1)) of Student's t distribution with `df` degrees of
/// freedom, by bisection on its distribution function: to 1e-9 or better for df up to
/// 1e5 (`--epistemic` allows 100,000 draws); beyond, the log-gamma terms lose digits.
pub(crate) fn t_quantile(df: f64, q: f64) -> f64 {
    // P(T <= t) for t >= 0 is 1 - I_x(df/2, 1/2) / 2 with x = df / (df + t²).
    let cdf = |t: f64| 1.0 - 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
    let mut hi = 1.0;
    while cdf(hi) < q && hi < 1e12 {
        hi *= 2.0;
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if cdf(mid) < q {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-15 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// The regularised incomplete beta function I_x(a, b), by its continued fraction
/// (modified Lentz), on whichever side converges fast.
pub(crate) fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = libm::lgamma(a + b) - libm::lgamma(a) - libm::lgamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
    let mut h = d;
    for m in 1..500 {
        let m = m as f64;
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 / guard(1.0 + even * d);
        c = guard(1.0 + even / c);
        h *= d * c;
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 / guard(1.0 + odd * d);
        c = guard(1.0 + odd / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// A histogram of non-negative integers: dense for small values, sparse beyond.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntHistogram {
    dense: Vec<u64>,
    sparse: BTreeMap<u64, u64>,
    total: u64,
}

const DENSE_LIMIT: u64 = 4096;

impl IntHistogram {
    /// Counts one value.
    pub fn add(&mut self, x: u64) {
        self.add_n(x, 1);
    }

    fn add_n(&mut self, x: u64, n: u64) {
        if x < DENSE_LIMIT {
            let i = x as usize;
            if i >= self.dense.len() {
                self.dense.resize(i + 1, 0);
            }
            self.dense[i] += n;
        } else {
            *self.sparse.entry(x).or_insert(0) += n;
        }
        self.total += n;
    }

    /// Adds another histogram's counts.
    pub fn merge(&mut self, other: &IntHistogram) {
        for (x, &n) in other.dense.iter().enumerate() {
            if n > 0 {
                self.add_n(x as u64, n);
            }
        }
        for (&x, &n) in &other.sparse {
            self.add_n(x, n);
        }
    }

    /// Number of values counted.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// (value, count) pairs in increasing order of value.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.dense
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .map(|(x, &n)| (x as u64, n))
            .chain(self.sparse.iter().map(|(&x, &n)| (x, n)))
    }

    /// Nearest-rank percentile: the smallest value v with at least `ceil(q * total)`
    /// values <= v (q in (0, 1]). None when empty.
    pub fn percentile(&self, q: f64) -> Option<u64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (x, n) in self.iter() {
            seen += n;
            if seen >= rank {
                return Some(x);
            }
        }
        None
    }
}

/// As `[[value, count], ...]`, increasing values, no zero counts.
impl Serialize for IntHistogram {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(|(x, n)| [x, n]))
    }
}

impl<'de> Deserialize<'de> for IntHistogram {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let pairs = Vec::<[u64; 2]>::deserialize(d)?;
        let mut h = IntHistogram::default();
        for [x, n] in pairs {
            if h.total.checked_add(n).is_none() {
                return Err(serde::de::Error::custom("histogram counts overflow 64 bits"));
            }
            if n > 0 {
                h.add_n(x, n);
            }
        }
        Ok(h)
    }
}

/// Ranks with ties averaged (1-based), for Spearman correlation.
fn ranks(xs: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..xs.len()).collect();
    idx.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]).then(a.cmp(&b)));
    let mut r = vec![0.0; xs.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && xs[idx[j + 1]] == xs[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// The smallest |r| at which a Spearman rank correlation over `k` pairs is told from 0 at
/// the 95% level: Fisher's z = atanh(r) of a Spearman coefficient is near normal with
/// variance 1.06 / (k - 3) (Fieller, Hartley and Pearson 1957, Biometrika 44:470), so its
/// interval tanh(atanh(r) ± 1.96 sqrt(1.06 / (k - 3))) holds 0 exactly when |r| is below
/// tanh(1.96 sqrt(1.06 / (k - 3))): 0.202 for 100 draws, 0.143 for 200. None for k <= 3,
/// where the interval is undefined (no correlation can be told from 0).
pub fn spearman_zero_bound(k: usize) -> Option<f64> {
    (k > 3).then(|| (Z95 * (1.06 / (k as f64 - 3.0)).sqrt()).tanh())
}

/// The |r| that the strongest of `family` Spearman correlations over `k` pairs each must
/// reach to be told from 0 with 95% confidence for the family (Bonferroni: each two-sided
/// test at 5% / `family`), with Fisher's z as in [`spearman_zero_bound`]. Scanning 31
/// params for the strongest driver, about one and a half cross the per-param bound by
/// chance alone; this bound (0.318 for 31 params at 100 draws) is what a headline claim
/// that one param drives the result needs. None for k <= 3.
pub fn spearman_family_bound(k: usize, family: usize) -> Option<f64> {
    let z = normal_upper_quantile(0.025 / family.max(1) as f64);
    (k > 3).then(|| (z * (1.06 / (k as f64 - 3.0)).sqrt()).tanh())
}

/// The z with P(Z > z) = a for a standard normal Z (0 < a <= 0.5), by bisection on
/// erfc: exact to the last bits, and only called once per report.
pub(crate) fn normal_upper_quantile(a: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 40.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if 0.5 * libm::erfc(mid / std::f64::consts::SQRT_2) > a {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Whether the 95% interval of a Spearman rank correlation `r` over `k` pairs holds 0
/// ([`spearman_zero_bound`]); a missing correlation (a constant side) is 0, and so holds
/// it.
pub fn spearman_holds_zero(r: Option<f64>, k: usize) -> bool {
    match (r, spearman_zero_bound(k)) {
        // Written so that a NaN correlation holds 0 too.
        (Some(r), Some(bound)) => r.is_nan() || r.abs() < bound,
        _ => true,
    }
}

/// Spearman rank correlation (Pearson correlation of the ranks); None when either side
/// is constant.
pub(crate) fn spearman(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let (rx, ry) = (ranks(xs), ranks(ys));
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// The nearest-rank percentile of a sample (q in (0, 1]).
pub fn percentile(xs: &[f64], q: f64) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    nearest_rank(&v, q)
}

/// Nearest-rank percentile `q` (0-1) of sorted values: the smallest value with at least
/// a share `q` of the values at or below it (NaN when there are none).
pub fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let n = sorted.len();
    let k = ((q * n as f64).ceil() as usize).clamp(1, n);
    sorted[k - 1]
}

/// Bin width (days) of first-reached-day histograms for a horizon.
pub(crate) fn day_bin_width(horizon_days: u32) -> f64 {
    let mut w = 0.01;
    while horizon_days as f64 / w > 131_072.0 {
        w *= 2.0;
    }
    w
}

/// Per-level accumulators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelAcc {
    /// Trials that reached the level.
    pub reached: u64,
    /// Trials whose highest level was this one.
    pub max_here: u64,
    /// Trials that ended at this level.
    pub final_here: u64,
    /// First-reached day, binned.
    pub first_day: IntHistogram,
    /// Difference array over days: trials at this level at the end of each day.
    occupancy: Vec<i64>,
    /// Trials that first reached the level during each day.
    reached_on: Vec<u64>,
}

/// An unsigned 256-bit integer, just enough to sum squares of `u64` exactly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct U256 {
    /// High 128 bits.
    pub hi: u128,
    /// Low 128 bits.
    pub lo: u128,
}

impl U256 {
    /// Adds a 128-bit value.
    pub fn add(&mut self, x: u128) {
        let (lo, carry) = self.lo.overflowing_add(x);
        self.lo = lo;
        self.hi = self.hi.wrapping_add(u128::from(carry));
    }

    /// Adds another 256-bit value.
    pub(crate) fn add_u256(&mut self, x: U256) {
        self.add(x.lo);
        self.hi = self.hi.wrapping_add(x.hi);
    }

    /// Lower-case hex with a `0x` prefix and no leading zeros (`0x0` for zero).
    pub(crate) fn to_hex(self) -> String {
        if self.hi == 0 {
            format!("0x{:x}", self.lo)
        } else {
            format!("0x{:x}{:032x}", self.hi, self.lo)
        }
    }

    /// Parses [`U256::to_hex`]'s form (1 to 64 hex digits after `0x`).
    pub(crate) fn from_hex(s: &str) -> Option<U256> {
        let h = s.strip_prefix("0x")?;
        if h.is_empty() || h.len() > 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let split = h.len().saturating_sub(32);
        let hi = if split == 0 { 0 } else { u128::from_str_radix(&h[..split], 16).ok()? };
        let lo = u128::from_str_radix(&h[split..], 16).ok()?;
        Some(U256 { hi, lo })
    }

    /// The nearest f64 (for values beyond 128 bits).
    pub(crate) fn to_f64(self) -> f64 {
        self.hi as f64 * 2f64.powi(128) + self.lo as f64
    }
}

/// As a hex string (JSON numbers cannot hold 256 bits).
impl Serialize for U256 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for U256 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        U256::from_hex(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a 256-bit hex number like 0x1f")))
    }
}

/// Serde for `u128` as a decimal string, so that no JSON reader rounds it to a double.
pub mod u128_text {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the decimal text.
    pub(crate) fn serialize<S: Serializer>(x: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&x.to_string())
    }

    /// Reads the decimal text.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(|_| serde::de::Error::custom(format!("`{s}` is not a 128-bit decimal integer")))
    }
}

/// Per-tally accumulators (exact integer sums).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TallyAcc {
    /// Sum of totals.
    #[serde(with = "u128_text")]
    pub sum: u128,
    /// Sum of squared totals, exact in 256 bits (a `u64` squared fills 128).
    pub sum_sq: U256,
    /// Trials with a total > 0.
    pub positive: u64,
    /// Distribution of totals.
    pub hist: IntHistogram,
}

/// Per-step accumulators.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepAcc {
    /// Sum of firing counts.
    pub sum: u64,
    /// Trials in which it fired at least once.
    pub fired: u64,
}

/// Everything a run reports across trials, accumulated one trial at a time.
///
/// Serialised, `paths` is a list of `{ "path": [step indices], "trials": n }` sorted by
/// path (deterministic bytes), and the day bin width is left out: it follows from
/// `horizon_days`. Deserialising checks that the parts agree with each other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "AggregateData")]
pub struct Aggregate {
    /// Trials counted.
    pub trials: u64,
    /// Trials that ended at a terminal level.
    pub terminal: u64,
    /// Per level.
    pub levels: Vec<LevelAcc>,
    /// Per tally.
    pub tallies: Vec<TallyAcc>,
    /// Per step.
    pub steps: Vec<StepAcc>,
    /// Escalation paths (step indices) and how many trials took each.
    #[serde(serialize_with = "paths_sorted")]
    pub paths: HashMap<Vec<u32>, u64>,
    horizon_days: u32,
    #[serde(skip)]
    bin_width: f64,
}

/// One escalation path and its trials, as serialised.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PathCount {
    path: Vec<u32>,
    trials: u64,
}

fn paths_sorted<S: Serializer>(paths: &HashMap<Vec<u32>, u64>, s: S) -> Result<S::Ok, S::Error> {
    let mut v: Vec<(&Vec<u32>, &u64)> = paths.iter().collect();
    v.sort();
    s.collect_seq(v.into_iter().map(|(p, &n)| PathCount { path: p.clone(), trials: n }))
}

/// The serialised form of [`Aggregate`], checked before it becomes one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AggregateData {
    trials: u64,
    terminal: u64,
    levels: Vec<LevelAcc>,
    tallies: Vec<TallyAcc>,
    steps: Vec<StepAcc>,
    paths: Vec<PathCount>,
    horizon_days: u32,
}

impl TryFrom<AggregateData> for Aggregate {
    type Error = String;

    fn try_from(d: AggregateData) -> Result<Aggregate, String> {
        let h = d.horizon_days as usize;
        if d.horizon_days == 0 {
            return Err("horizon_days must be at least 1".into());
        }
        if d.terminal > d.trials {
            return Err(format!("{} terminal trials out of {}", d.terminal, d.trials));
        }
        for (l, acc) in d.levels.iter().enumerate() {
            if acc.occupancy.len() != h + 1 || acc.reached_on.len() != h {
                return Err(format!("level {l}: daily arrays do not match horizon_days = {h}"));
            }
            if acc.first_day.total() != acc.reached || acc.reached > d.trials {
                return Err(format!("level {l}: first-reached days do not add up to `reached`"));
            }
        }
        for (t, acc) in d.tallies.iter().enumerate() {
            if acc.hist.total() != d.trials {
                return Err(format!(
                    "tally {t}: its histogram counts {} trials, not {}",
                    acc.hist.total(),
                    d.trials
                ));
            }
        }
        let mut paths = HashMap::with_capacity(d.paths.len());
        let mut counted = 0u64;
        for p in d.paths {
            counted = counted.saturating_add(p.trials);
            if paths.insert(p.path, p.trials).is_some() {
                return Err("a path is listed twice".into());
            }
        }
        if counted != d.trials {
            return Err(format!("paths count {counted} trials, not {}", d.trials));
        }
        Ok(Aggregate {
            trials: d.trials,
            terminal: d.terminal,
            levels: d.levels,
            tallies: d.tallies,
            steps: d.steps,
            paths,
            horizon_days: d.horizon_days,
            bin_width: day_bin_width(d.horizon_days),
        })
    }
}

/// Paths longer than this are cut (and marked) in the path statistics.
pub(crate) const MAX_PATH: usize = 64;

impl Aggregate {
    /// An empty aggregate for this model.
    pub fn new(model: &Model) -> Self {
        let h = model.horizon_days as usize;
        Aggregate {
            trials: 0,
            terminal: 0,
            levels: model
                .levels
                .iter()
                .map(|_| LevelAcc {
                    reached: 0,
                    max_here: 0,
                    final_here: 0,
                    first_day: IntHistogram::default(),
                    occupancy: vec![0; h + 1],
                    reached_on: vec![0; h],
                })
                .collect(),
            tallies: vec![TallyAcc::default(); model.tallies.len()],
            steps: vec![StepAcc::default(); model.steps.len()],
            paths: HashMap::new(),
            horizon_days: model.horizon_days,
            bin_width: day_bin_width(model.horizon_days),
        }
    }

    /// Counts one trial.
    pub fn add(&mut self, o: &Outcome<'_>) {
        self.trials += 1;
        if o.end_reason == EndReason::Terminal {
            self.terminal += 1;
        }
        let h = self.horizon_days as i64;
        for (l, acc) in self.levels.iter_mut().enumerate() {
            let r = o.reached[l];
            if !r.is_nan() {
                acc.reached += 1;
                // The tiny offset keeps days like 0.29 (= 28.999... bins) in their own bin.
                acc.first_day.add((r / self.bin_width + 1e-7).floor() as u64);
                let d = (r.floor() as i64).clamp(0, h - 1) as usize;
                acc.reached_on[d] += 1;
            }
        }
        self.levels[o.max_level].max_here += 1;
        self.levels[o.final_level].final_here += 1;
        // Level at the end of day d = level after every change with time < d + 1.
        // Segment k (level l_k from t_k until t_{k+1}) covers days floor(t_k) ..= floor(t_{k+1}) - 1.
        for (k, &(t, l)) in o.changes.iter().enumerate() {
            let lo = if k == 0 { 0 } else { (t.floor() as i64).clamp(0, h) };
            let hi = match o.changes.get(k + 1) {
                Some(&(next, _)) => (next.floor() as i64).clamp(0, h),
                None => h,
            };
            if hi > lo {
                let occ = &mut self.levels[l as usize].occupancy;
                occ[lo as usize] += 1;
                occ[hi as usize] -= 1;
            }
        }
        for (acc, &x) in self.tallies.iter_mut().zip(o.tallies) {
            acc.sum += x as u128;
            acc.sum_sq.add((x as u128) * (x as u128));
            acc.positive += u64::from(x > 0);
            acc.hist.add(x);
        }
        for (acc, &c) in self.steps.iter_mut().zip(o.counts) {
            acc.sum += c as u64;
            acc.fired += u64::from(c > 0);
        }
        let path = &o.path[..o.path.len().min(MAX_PATH + 1)];
        match self.paths.get_mut(path) {
            Some(n) => *n += 1,
            None => {
                self.paths.insert(path.to_vec(), 1);
            }
        }
    }

    /// Adds another aggregate of the same model (exact: integer sums only).
    pub fn merge(&mut self, other: &Aggregate) {
        self.trials += other.trials;
        self.terminal += other.terminal;
        for (a, b) in self.levels.iter_mut().zip(&other.levels) {
            a.reached += b.reached;
            a.max_here += b.max_here;
            a.final_here += b.final_here;
            a.first_day.merge(&b.first_day);
            for (x, y) in a.occupancy.iter_mut().zip(&b.occupancy) {
                *x += y;
            }
            for (x, y) in a.reached_on.iter_mut().zip(&b.reached_on) {
                *x += y;
            }
        }
        for (a, b) in self.tallies.iter_mut().zip(&other.tallies) {
            a.sum += b.sum;
            a.sum_sq.add_u256(b.sum_sq);
            a.positive += b.positive;
            a.hist.merge(&b.hist);
        }
        for (a, b) in self.steps.iter_mut().zip(&other.steps) {
            a.sum += b.sum;
            a.fired += b.fired;
        }
        for (p, n) in &other.paths {
            *self.paths.entry(p.clone()).or_insert(0) += n;
        }
    }

    /// Checks that this aggregate (read from a file) has the shape of `model`'s: the
    /// same numbers of levels, tallies and steps, the same horizon, and paths made of
    /// its steps. Merging or writing a mismatched aggregate would be meaningless.
    pub(crate) fn check_fits(&self, model: &Model) -> Result<(), String> {
        let counts = [
            ("levels", self.levels.len(), model.levels.len()),
            ("tallies", self.tallies.len(), model.tallies.len()),
            ("steps", self.steps.len(), model.steps.len()),
        ];
        for (what, have, want) in counts {
            if have != want {
                return Err(format!("it has {have} {what}, the scenario has {want}"));
            }
        }
        if self.horizon_days != model.horizon_days {
            return Err(format!(
                "its horizon is {} days, the scenario's is {}",
                self.horizon_days, model.horizon_days
            ));
        }
        let n = model.steps.len() as u32;
        if self.paths.keys().any(|p| p.len() > MAX_PATH + 1 || p.iter().any(|&s| s >= n)) {
            return Err("a path names a step the scenario does not have".into());
        }
        Ok(())
    }

    /// Nearest-rank percentile of the first-reached day of level `l` (lower bin edge).
    pub fn first_day_percentile(&self, l: usize, q: f64) -> Option<f64> {
        self.levels[l].first_day.percentile(q).map(|b| b as f64 * self.bin_width)
    }

    /// Trials at level `l` at the end of each day.
    pub fn occupancy(&self, l: usize) -> Vec<u64> {
        let mut acc = 0i64;
        self.levels[l].occupancy[..self.horizon_days as usize]
            .iter()
            .map(|d| {
                acc += d;
                acc as u64
            })
            .collect()
    }

    /// Trials that had reached level `l` by the end of each day.
    pub fn reached_by(&self, l: usize) -> Vec<u64> {
        let mut acc = 0;
        self.levels[l]
            .reached_on
            .iter()
            .map(|d| {
                acc += d;
                acc
            })
            .collect()
    }

    /// Mean and sample standard deviation of tally `t`, from the exact integer sums.
    pub fn tally_mean_sd(&self, t: usize) -> (f64, f64) {
        let n = self.trials as u128;
        if n == 0 {
            return (0.0, 0.0);
        }
        let a = &self.tallies[t];
        let mean = a.sum as f64 / n as f64;
        if n < 2 {
            return (mean, 0.0);
        }
        // n * sum_sq - sum^2 exactly in integers when it fits (always, for any realistic
        // tally); otherwise in f64 from the exact sums, still independent of order.
        let exact = (a.sum_sq.hi == 0)
            .then(|| n.checked_mul(a.sum_sq.lo))
            .flatten()
            .zip(a.sum.checked_mul(a.sum))
            .map(|(x, y)| x.saturating_sub(y));
        let var = match exact {
            Some(num) => num as f64 / (n * (n - 1)) as f64,
            None => {
                let nf = n as f64;
                let sum = a.sum as f64;
                ((a.sum_sq.to_f64() - sum * sum / nf) / (nf - 1.0)).max(0.0)
            }
        };
        (mean, var.sqrt())
    }

    /// Paths sorted by count (descending), then by step sequence: a deterministic order.
    pub(crate) fn sorted_paths(&self) -> Vec<(&[u32], u64)> {
        let mut v: Vec<(&[u32], u64)> = self.paths.iter().map(|(p, &n)| (p.as_slice(), n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_hand_values() {
        // k = 5, n = 10, z = 1.96: centre 0.5, half = 1.96*sqrt(0.025 + 0.0096)/1.38416
        let (lo, hi) = wilson(5, 10, Z95);
        assert!((lo - 0.236_593).abs() < 1e-5, "{lo}");
        assert!((hi - 0.763_407).abs() < 1e-5, "{hi}");
        let (lo, hi) = wilson(0, 100, Z95);
        assert!(lo.abs() < 1e-12, "{lo}");
        assert!((hi - 0.036_995).abs() < 1e-5, "{hi}");
    }

    /// Student's t 0.975 quantiles as printed in every table (e.g. Abramowitz and
    /// Stegun, table 26.10): 12.706205 for 1 degree of freedom, 4.302653 for 2, ...
    #[test]
    fn t_quantiles_match_tables() {
        for (df, t) in [
            (1.0, 12.706_204_736),
            (2.0, 4.302_652_730),
            (5.0, 2.570_581_836),
            (9.0, 2.262_157_163),
            (29.0, 2.045_229_642),
            // Far beyond any table: z + (z³ + z) / (4 df) + (5z⁵ + 16z³ + 3z) / (96 df²) + ...
            // (Abramowitz and Stegun 26.7.5).
            (1e5, 1.959_987_706_6),
        ] {
            let got = t_quantile(df, 0.975);
            assert!((got - t).abs() < 1e-8, "t({df}) = {got}, expected {t}");
        }
        // df = 2 has a closed form: t = (2q - 1) sqrt(2 / (1 - (2q - 1)²)).
        let q: f64 = 0.9;
        let closed = (2.0 * q - 1.0) * (2.0 / (1.0 - (2.0 * q - 1.0).powi(2))).sqrt();
        assert!((t_quantile(2.0, q) - closed).abs() < 1e-10);
    }

    /// A hand-worked two-loop interval on a 3 x 4 crossed design (the sums of squares below).
    #[test]
    fn two_loop_interval_by_hand() {
        // Three draws x four trials, reached (1) or not (0):
        //   draw 0: 1 0 0 1;  draw 1: 1 1 0 0;  draw 2: 1 0 0 0.
        // p = 5/12; per-draw P 1/2, 1/2, 1/4; per-trial shares 1, 1/3, 0, 1/3.
        // SS_draws = 4 (1/144 + 1/144 + 4/144) = 1/6, MS = 1/12;
        // SS_trials = 3 (49 + 1 + 25 + 1)/144 = 19/12, MS = 19/36;
        // SS_total = 12 (5/12)(7/12) = 35/12, SS_rest = 35/12 - 2/12 - 19/12 = 7/6, MS = 7/36.
        // V = (1/12)/12 + (19/36 - 7/36)/12 = 1/144 + 4/144 = 5/144; n_eff = (35/144)/V = 7.
        // V = 5/144, n_eff = 7; only 3 distinct trials reached the level (fewer than 20), so
        // the interval counts as at most N = 4 independent trials: Wilson for p = 5/12 on 4
        // trials, with z.
        let z0 = 1.959_963_984_540_054;
        let wilson_by_hand = |p: f64, n: f64, z: f64| {
            let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
            let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
            ((centre - half).max(0.0), centre + half)
        };
        let (lo, hi) = two_loop_interval(&[2, 2, 1], &[3, 1, 0, 1], 4);
        let (a, b) = wilson_by_hand(5.0 / 12.0, 4.0, z0);
        assert!((lo - a).abs() < 1e-9 && (hi - b).abs() < 1e-9, "{lo} {hi}");
        // Trials that agree across draws (each reached in both draws or in neither) carry
        // less information than hits spread over different trials in each draw: 2 draws x
        // 60 trials, p = 1/2 either way. Agreeing: MS_trials = 30/59, V = (30/59)/120, n_eff
        // = 59; spread: V = 0, the interval of 120 trials.
        let mut agree = vec![0u32; 60];
        agree[..30].fill(2);
        let (lo_a, hi_a) = two_loop_interval(&[30, 30], &agree, 60);
        let (lo_b, hi_b) = two_loop_interval(&[30, 30], &[1; 60], 60);
        assert!(hi_a - lo_a > hi_b - lo_b, "{lo_a} {hi_a} / {lo_b} {hi_b}");
        let (a, b) = wilson_by_hand(0.5, 120.0, z0);
        assert!((lo_b - a).abs() < 1e-9 && (hi_b - b).abs() < 1e-9);
        // The agreeing design is below its floor (n_eff 59 < 60 x 30/20 = 90): Student's t
        // with Satterthwaite's df, here all from the trials: d_i = c_i - K p = +/-1, so
        // (sum d²)² / sum d⁴ = 60, and t(60, 0.975) = 2.000298.
        let (a, b) = wilson_by_hand(0.5, 59.0, 2.000_297_822_014_4);
        assert!((lo_a - a).abs() < 1e-9 && (hi_a - b).abs() < 1e-9, "{lo_a} {hi_a} vs {a} {b}");
        // No draw reached it: Wilson for 0 of N with z; all did: its mirror.
        let (lo, hi) = two_loop_interval(&[0, 0, 0, 0], &[0; 50], 50);
        assert!(lo.abs() < 1e-15, "{lo}");
        assert!((hi - z0 * z0 / (50.0 + z0 * z0)).abs() < 1e-9, "{hi}");
        let (lo, hi2) = two_loop_interval(&[50, 50, 50, 50], &[4; 50], 50);
        assert!((lo - (1.0 - hi)).abs() < 1e-12 && (hi2 - 1.0).abs() < 1e-12);
        assert_eq!(two_loop_interval(&[3], &[1; 10], 10), (0.0, 1.0));
        // One event in K N = 500,000 runs: no narrower than half the interval of none (it
        // was 66 times narrower before the cap).
        let mut one = vec![0u32; 5000];
        one[17] = 1;
        let mut draws = vec![0u64; 100];
        draws[3] = 1;
        let (_, none_hi) = two_loop_interval(&[0; 100], &[0; 5000], 5000);
        let (_, one_hi) = two_loop_interval(&draws, &one, 5000);
        assert!(one_hi > 0.5 * none_hi && one_hi < 2.0 * none_hi, "{one_hi} vs {none_hi}");
        // One trial that reaches it in all 100 draws: p = 1/5000, V = MS_trials / (K N) =
        // (99.98 / 4999) / 500,000, n_eff = p (1 - p) / V = 4999: about the interval of one
        // event in 5,000 trials, with z, not t with one degree of freedom (which reached 3%).
        let mut all = vec![0u32; 5000];
        all[17] = 100;
        let (lo, hi) = two_loop_interval(&[1; 100], &all, 5000);
        let (a, b) = wilson_by_hand(1.0 / 5000.0, 4999.0, z0);
        assert!((lo - a).abs() < 1e-9 && (hi - b).abs() < 1e-9, "{lo} {hi} vs {a} {b}");
        // No jump as distinct trials pass 20: 19, 20, 21 and 30 trials each reached in one
        // draw give upper bounds that fall gradually.
        let upper = |d: usize| {
            let mut t = vec![0u32; 5000];
            t[..d].fill(1);
            let mut r = vec![0u64; 100];
            r[..d].fill(1);
            two_loop_interval(&r, &t, 5000).1
        };
        for (a, b) in [(19, 20), (20, 21), (21, 30)] {
            let (ua, ub) = (upper(a), upper(b));
            assert!(ub > 0.75 * ua, "{b} distinct: {ub}, {a}: {ua}");
        }
        assert_eq!(two_loop_interval(&[3, 3], &[1; 9], 10), (0.0, 1.0));
    }

    /// Coverage of the two-loop interval on crossed designs whose pooled P is known in
    /// closed form. Draw k has theta_k ~ U[a, b]; trial i has a uniform u_i shared by every
    /// draw (common random numbers), and each cell a fresh uniform w_ki; the level is
    /// reached when u_i < s theta_k or w_ki < (1 - s) theta_k. So P(reached | theta) =
    /// theta - s (1 - s) theta², and the pooled target is E[theta] - s (1 - s) E[theta²],
    /// with E[theta²] = (a² + ab + b²) / 3. Half shared, none shared, and a common level
    /// with few draws: over 1,000 replications each, the 95% interval must cover the target
    /// 95% of the time within 3 binomial standard deviations (2.1 points). A Wilson
    /// interval on K x N trials covers about 46% in the first case, and the old bound of
    /// the shared part by p (1 - p) / N 99.5%.
    #[test]
    fn two_loop_interval_covers_its_target() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut uniform = move || {
            // splitmix64: a test needs no stream brink's results depend on.
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut x = state;
            x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((x ^ (x >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        };
        let reps = 1000;
        let sd = (0.95_f64 * 0.05 / f64::from(reps)).sqrt();
        for (shared, a, b, k, n) in
            [(0.5, 0.01, 0.05, 20, 400), (0.0, 0.01, 0.05, 20, 400), (0.5, 0.1, 0.5, 10, 200)]
        {
            let target = (a + b) / 2.0 - shared * (1.0 - shared) * (a * a + a * b + b * b) / 3.0;
            let mut covered = 0;
            for _ in 0..reps {
                let u: Vec<f64> = (0..n).map(|_| uniform()).collect();
                let mut reached = vec![0u64; k];
                let mut per_trial = vec![0u32; n];
                for r in reached.iter_mut() {
                    let theta = a + (b - a) * uniform();
                    for (ui, c) in u.iter().zip(per_trial.iter_mut()) {
                        if *ui < shared * theta || uniform() < (1.0 - shared) * theta {
                            *r += 1;
                            *c += 1;
                        }
                    }
                }
                let (lo, hi) = two_loop_interval(&reached, &per_trial, n as u64);
                covered += u32::from(lo <= target && target <= hi);
            }
            let rate = f64::from(covered) / f64::from(reps);
            assert!((rate - 0.95).abs() < 3.0 * sd, "shared {shared}, theta in [{a}, {b}]: coverage {rate}");
        }
    }

    #[test]
    fn nearest_rank_percentiles() {
        let mut h = IntHistogram::default();
        for x in [5, 1, 3, 2, 4, 10_000, 7, 6, 9, 8] {
            h.add(x);
        }
        assert_eq!(h.percentile(0.1), Some(1));
        assert_eq!(h.percentile(0.5), Some(5));
        assert_eq!(h.percentile(0.95), Some(10_000));
        assert_eq!(h.percentile(0.9), Some(9));
        let mut g = IntHistogram::default();
        g.merge(&h);
        g.merge(&h);
        assert_eq!(g.total(), 20);
        assert_eq!(g.percentile(0.5), Some(5));
    }

    #[test]
    fn u256_hex_round_trips() {
        for x in [
            U256::default(),
            U256 { hi: 0, lo: 255 },
            U256 { hi: 1, lo: 0 },
            U256 { hi: u128::MAX, lo: u128::MAX },
            U256 { hi: 0xabc, lo: 7 },
        ] {
            assert_eq!(U256::from_hex(&x.to_hex()), Some(x), "{}", x.to_hex());
        }
        assert_eq!(U256 { hi: 0, lo: 255 }.to_hex(), "0xff");
        assert_eq!(U256 { hi: 1, lo: 2 }.to_hex(), format!("0x1{}2", "0".repeat(31)));
        for bad in ["", "0x", "ff", "0xg", &format!("0x{}", "f".repeat(65))] {
            assert_eq!(U256::from_hex(bad), None, "{bad}");
        }
    }

    #[test]
    fn histograms_serialise_as_pairs() {
        let mut h = IntHistogram::default();
        for x in [3, 3, 0, 9_000, 9_000, 9_000] {
            h.add(x);
        }
        let text = serde_json::to_string(&h).unwrap();
        assert_eq!(text, "[[0,1],[3,2],[9000,3]]");
        let back: IntHistogram = serde_json::from_str(&text).unwrap();
        assert_eq!(back, h);
        assert!(serde_json::from_str::<IntHistogram>("[[1,18446744073709551615],[2,1]]").is_err());
    }

    #[test]
    fn bin_width_grows_only_for_long_horizons() {
        assert_eq!(day_bin_width(90), 0.01);
        assert_eq!(day_bin_width(1310), 0.01);
        assert_eq!(day_bin_width(3650), 0.04);
    }

    #[test]
    fn spearman_by_hand() {
        // Monotone: +1; reversed: -1; ties averaged: ranks of [1, 2, 2, 3] are [1, 2.5, 2.5, 4].
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 90.0]), Some(1.0));
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), Some(-1.0));
        assert_eq!(ranks(&[1.0, 2.0, 2.0, 3.0]), vec![1.0, 2.5, 2.5, 4.0]);
        // x = [1,2,3,4,5], y = [2,1,4,3,5]: d = [-1,1,-1,1,0], 1 - 6 x 4 / (5 x 24) = 0.8.
        let r = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 1.0, 4.0, 3.0, 5.0]).unwrap();
        assert!((r - 0.8).abs() < 1e-12);
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), None);
        assert_eq!(percentile(&[5.0, 1.0, 3.0, 2.0, 4.0], 0.5), 3.0);
    }

    #[test]
    fn a_spearman_correlation_is_told_from_zero_beyond_the_fisher_bound() {
        // By hand: 1.959964 x sqrt(1.06 / 97) = 0.2048874, tanh of it 0.2020677 (K = 100);
        // 1.959964 x sqrt(1.06 / 197) = 0.1437699 -> 0.1427874 (K = 200).
        assert!((spearman_zero_bound(100).unwrap() - 0.202_067_7).abs() < 1e-6);
        assert!((spearman_zero_bound(200).unwrap() - 0.142_787_4).abs() < 1e-6);
        assert!(spearman_holds_zero(Some(0.20), 100) && spearman_holds_zero(Some(-0.20), 100));
        assert!(!spearman_holds_zero(Some(0.21), 100) && !spearman_holds_zero(Some(-0.21), 100));
        assert!(!spearman_holds_zero(Some(0.15), 200));
        // Undefined correlation, or too few draws for an interval: never told from 0.
        assert!(spearman_holds_zero(None, 100));
        assert_eq!(spearman_zero_bound(3), None);
        assert!(spearman_holds_zero(Some(0.99), 3));
    }

    #[test]
    fn family_bounds_of_spearman_correlations_match_hand_values() {
        // z for 0.025 is 1.959964 (tables); for 0.025 / 31 it is 3.153563 (Python: bisection
        // on math.erfc); tanh(3.153563 * sqrt(1.06 / 97)) = 0.318217.
        assert!((normal_upper_quantile(0.025) - Z95).abs() < 1e-9);
        assert!((normal_upper_quantile(0.025 / 31.0) - 3.153_563).abs() < 1e-5);
        let one = spearman_family_bound(100, 1).unwrap();
        assert!(
            (one - spearman_zero_bound(100).unwrap()).abs() < 1e-12,
            "a family of one is the plain bound"
        );
        assert!((spearman_family_bound(100, 31).unwrap() - 0.318_217).abs() < 1e-5);
        assert_eq!(spearman_family_bound(3, 31), None);
    }
}
