//! Proper scores of probabilistic forecasts, for `brink score` (issue 15): the CRPS and the
//! log score of a count forecast, the randomized PIT, and the Brier and log scores of a
//! binary one, with a chi-square check that PIT values are uniform.
//!
//! A count forecast is a probability mass function over 0, 1, 2, ... (from simulated
//! trials or a closed form). All scores are negatively oriented: lower is better.

use crate::analysis::estimate::gamma_p;

/// A forecast of a count: `pmf[k]` = P(count = k). Mass beyond the last entry is taken
/// as zero, so a pmf built from trials covers their largest count.
#[derive(Debug, Clone, PartialEq)]
pub struct CountForecast {
    /// P(count = k), k = 0, 1, ...
    pub pmf: Vec<f64>,
}

impl CountForecast {
    /// The empirical forecast of simulated counts.
    pub fn from_counts(counts: &[u64]) -> CountForecast {
        let max = counts.iter().copied().max().unwrap_or(0) as usize;
        let mut pmf = vec![0.0; max + 1];
        for &c in counts {
            pmf[c as usize] += 1.0;
        }
        let n = counts.len().max(1) as f64;
        for p in &mut pmf {
            *p /= n;
        }
        CountForecast { pmf }
    }

    /// The Poisson forecast with mean `mu`, up to where the tail mass is below 1e-15 (each
    /// mass from its logarithm, so a large mean does not underflow e^-mu to 0).
    ///
    /// Past the mean the masses fall faster than a geometric series of ratio
    /// r = mu / (k + 1), so the rest beyond k is at most p(k) r / (1 - r): the loop stops on
    /// that bound. (It used to stop when the running total came within 1e-15 of 1, which
    /// rounding may never allow: some means ran to ten million terms.)
    pub fn poisson(mu: f64) -> CountForecast {
        assert!(mu.is_finite(), "a Poisson mean is finite, not {mu}");
        if mu <= 0.0 {
            return CountForecast { pmf: vec![1.0] };
        }
        let ln_mu = mu.ln();
        let mut pmf = Vec::new();
        for k in 0..10_000_000usize {
            let p = (k as f64 * ln_mu - mu - libm::lgamma(k as f64 + 1.0)).exp();
            pmf.push(p);
            let r = mu / (k as f64 + 1.0);
            if r < 1.0 && p * r / (1.0 - r) < 1e-15 {
                break;
            }
        }
        CountForecast { pmf }
    }

    /// P(count <= k).
    pub fn cdf(&self, k: i64) -> f64 {
        if k < 0 {
            return 0.0;
        }
        self.pmf.iter().take(k as usize + 1).sum::<f64>().min(1.0)
    }

    /// P(count = k).
    pub fn p(&self, k: u64) -> f64 {
        self.pmf.get(k as usize).copied().unwrap_or(0.0)
    }

    /// The mean.
    pub fn mean(&self) -> f64 {
        self.pmf.iter().enumerate().map(|(k, p)| k as f64 * p).sum()
    }
}

/// The continuous ranked probability score of a count forecast for the observed `y`:
/// the sum over k >= 0 of (F(k) - 1{y <= k})^2 (for integer outcomes the integral over
/// the real line reduces to this sum). In the units of the count; 0 for a sure, right
/// forecast.
pub fn crps(f: &CountForecast, y: u64) -> f64 {
    let mut cdf = 0.0;
    let mut total = 0.0;
    for (k, p) in f.pmf.iter().enumerate() {
        cdf = (cdf + p).min(1.0);
        let step = if (k as u64) >= y { 1.0 } else { 0.0 };
        total += (cdf - step).powi(2);
    }
    // Beyond the table F = F(last): below y each term is F^2, from y on (1 - F)^2; summed
    // in closed form, so an observed count far beyond the table costs nothing to score.
    let len = f.pmf.len() as u64;
    if y > len {
        total += (y - len) as f64 * cdf * cdf;
    }
    total
}

/// The log score, -ln P(count = y), with P floored at `floor` (a forecast from N trials
/// cannot tell probabilities below about 1/N from zero, and one unseen count must not
/// make the mean score infinite: `brink score` uses 1/(2N)).
pub fn log_score(f: &CountForecast, y: u64, floor: f64) -> f64 {
    // + 0.0: a sure forecast scores 0, not -0.
    -f.p(y).max(floor).ln() + 0.0
}

/// The randomized probability integral transform of `y`: F(y - 1) + u (F(y) - F(y - 1))
/// with u uniform on [0, 1). For a calibrated forecast of a discrete count it is uniform
/// on [0, 1] (Czado, Gneiting and Held 2009), which the plain F(y) is not.
pub fn pit(f: &CountForecast, y: u64, u: f64) -> f64 {
    let below = f.cdf(y as i64 - 1);
    below + u * (f.cdf(y as i64) - below)
}

/// The Brier score of a probability `p` for a binary outcome.
pub fn brier(p: f64, happened: bool) -> f64 {
    let o = if happened { 1.0 } else { 0.0 };
    (p - o).powi(2)
}

/// The log score of a binary forecast, -ln P(what happened), with P floored at `floor`.
pub fn binary_log_score(p: f64, happened: bool, floor: f64) -> f64 {
    let q = if happened { p } else { 1.0 - p };
    -q.max(floor).ln() + 0.0
}

/// Pearson's chi-square test that PIT values are uniform, over `bins` equal bins: the
/// statistic and its p-value (chi-square with bins - 1 degrees of freedom).
pub fn pit_uniformity(pits: &[f64], bins: usize) -> (f64, f64) {
    let mut counts = vec![0u64; bins];
    for &x in pits {
        let b = ((x * bins as f64) as usize).min(bins - 1);
        counts[b] += 1;
    }
    let expected = pits.len() as f64 / bins as f64;
    let stat: f64 = counts.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum();
    let df = (bins - 1) as f64;
    (stat, 1.0 - gamma_p(df / 2.0, stat / 2.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic uniform generator (SplitMix64), for the tests' own draws.
    fn uniforms(seed: u64) -> impl FnMut() -> f64 {
        let mut s = seed;
        move || {
            s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Modified Bessel functions I0 and I1 by their series.
    fn bessel_i(x: f64) -> (f64, f64) {
        let (mut i0, mut i1) = (0.0, 0.0);
        let mut term0 = 1.0; // (x/2)^(2k) / (k!)^2
        for k in 0..200 {
            let kf = k as f64;
            i0 += term0;
            i1 += term0 * (x / 2.0) / (kf + 1.0);
            term0 *= (x / 2.0).powi(2) / ((kf + 1.0) * (kf + 1.0));
        }
        (i0, i1)
    }

    #[test]
    fn the_crps_of_a_poisson_forecast_has_its_closed_form() {
        // Wei and Held (2014): CRPS(Pois(m), y) = (y - m)(2F(y) - 1) + 2 m f(y)
        //   - m exp(-2m) (I0(2m) + I1(2m)).
        for (m, ys) in [(0.7, vec![0u64, 1, 3]), (4.0, vec![0, 4, 9]), (12.5, vec![5, 12, 30])] {
            let f = CountForecast::poisson(m);
            let (i0, i1) = bessel_i(2.0 * m);
            for y in ys {
                let closed = (y as f64 - m) * (2.0 * f.cdf(y as i64) - 1.0) + 2.0 * m * f.p(y)
                    - m * (-2.0 * m).exp() * (i0 + i1);
                let got = crps(&f, y);
                assert!((got - closed).abs() < 1e-9, "m {m}, y {y}: {got} vs {closed}");
            }
        }
    }

    #[test]
    fn a_poisson_forecast_stops_where_its_tail_is_negligible() {
        // Its masses sum to 1 within rounding, and it ends within a few dozen sd of the mean:
        // past k the tail is at most p(k) r / (1 - r) with r = m / (k + 1) < 1, and at
        // k = m + 12 sd + 40 that bound is far below 1e-15 for every mean here.
        for i in 1..=4000 {
            let m = i as f64 * 0.05;
            let f = CountForecast::poisson(m);
            let total: f64 = f.pmf.iter().sum();
            assert!((total - 1.0).abs() < 1e-12, "m {m}: masses sum to {total}");
            let most = m + 12.0 * m.sqrt() + 40.0;
            assert!((f.pmf.len() as f64) < most, "m {m}: {} masses", f.pmf.len());
        }
        assert_eq!(CountForecast::poisson(0.0).pmf, [1.0]);
    }

    #[test]
    fn the_crps_of_a_sure_forecast_is_the_absolute_error() {
        // A point mass at c: CRPS = |y - c|.
        let f = CountForecast::from_counts(&[3, 3, 3]);
        for y in [0u64, 3, 7] {
            assert!((crps(&f, y) - (y as f64 - 3.0).abs()).abs() < 1e-12);
        }
    }

    #[test]
    fn the_randomized_pit_of_the_true_model_is_uniform_and_of_a_wrong_one_is_not() {
        // Counts drawn from Poisson(3) by inversion; PIT under Poisson(3), (6) and (1.5).
        let mut u = uniforms(7);
        let truth = CountForecast::poisson(3.0);
        let draw = |u: f64| -> u64 {
            let mut k = 0;
            while truth.cdf(k) < u {
                k += 1;
            }
            k as u64
        };
        let ys: Vec<u64> = (0..4000).map(|_| draw(u())).collect();
        let pits = |f: &CountForecast, u: &mut dyn FnMut() -> f64| -> Vec<f64> {
            ys.iter().map(|&y| pit(f, y, u())).collect()
        };
        let (stat, p) = pit_uniformity(&pits(&truth, &mut u), 10);
        // A true model's p-value is uniform: fail only below 0.001.
        assert!(p > 0.001, "true model: chi2 {stat}, p {p}");
        for wrong in [6.0, 1.5] {
            let (stat, p) = pit_uniformity(&pits(&CountForecast::poisson(wrong), &mut u), 10);
            assert!(p < 1e-6, "mean {wrong}: chi2 {stat}, p {p}");
        }
    }

    #[test]
    fn the_brier_score_of_a_known_bernoulli_averages_to_q_times_one_minus_q() {
        // Forecasting p for outcomes of probability q: E[Brier] = q (1 - p)^2 + (1 - q) p^2,
        // least at p = q, where it is q (1 - q).
        let mut u = uniforms(11);
        let (q, n) = (0.3, 20_000);
        let outcomes: Vec<bool> = (0..n).map(|_| u() < q).collect();
        for p in [0.3, 0.5, 0.1] {
            let mean = outcomes.iter().map(|&o| brier(p, o)).sum::<f64>() / n as f64;
            let want = q * (1.0 - p).powi(2) + (1.0 - q) * p * p;
            // Per-outcome variance of the score: the two values' spread under q.
            let (a, b) = ((1.0 - p).powi(2), p * p);
            let var = q * (1.0 - q) * (a - b).powi(2);
            assert!((mean - want).abs() < 3.29 * (var / n as f64).sqrt() + 1e-12, "p {p}: {mean} vs {want}");
        }
        assert!((binary_log_score(0.25, true, 1e-9) - 4f64.ln()).abs() < 1e-12);
        assert!((binary_log_score(0.25, false, 1e-9) - (4.0f64 / 3.0).ln()).abs() < 1e-12);
        assert_eq!(binary_log_score(0.0, true, 1e-6), -(1e-6f64).ln());
    }

    #[test]
    fn the_log_score_is_minus_the_log_of_the_probability_floored() {
        let f = CountForecast::poisson(2.0);
        // P(2) = 2 e^-2 for Poisson(2): -ln = 2 - ln 2.
        assert!((log_score(&f, 2, 1e-9) - (2.0 - 2f64.ln())).abs() < 1e-12);
        let g = CountForecast::from_counts(&[0, 1, 1, 2]);
        assert!((log_score(&g, 1, 0.125) - 2f64.ln()).abs() < 1e-12);
        assert!((log_score(&g, 5, 0.125) - 8f64.ln()).abs() < 1e-12, "unseen: the floor");
    }
}
