//! Estimators for learning params from a dated event log (`brink fit`): exact Poisson
//! rates, proportions with a Beta posterior, and the self-exciting (Hawkes) process with
//! an exponential kernel, with the intervals an analyst can quote.
//!
//! Everything here works on plain numbers (counts, exposures, event times in days), so
//! each estimator can be checked against closed forms and simulated data without a
//! scenario. The mapping from a scenario and a log to these numbers is the caller's.

use crate::sim::model::Window;
use crate::sim::stats::incomplete_beta;

/// Chi-square(1) 0.95 quantile: a profile log-likelihood drop of half this bounds a 95%
/// likelihood-ratio interval.
const CHI2_1_95: f64 = 3.841_458_820_694_124;

/// The regularised lower incomplete gamma function P(a, x) = γ(a, x) / Γ(a), by its
/// series below a + 1 and its continued fraction above (Numerical Recipes, 6.2).
pub fn gamma_p(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let ln_front = a * x.ln() - x - libm::lgamma(a);
    if x < a + 1.0 {
        let (mut term, mut sum, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..10_000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-17 {
                break;
            }
        }
        (sum.ln() + ln_front).exp().min(1.0)
    } else {
        const TINY: f64 = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < TINY {
                d = TINY;
            }
            c = b + an / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            let step = d * c;
            h *= step;
            if (step - 1.0).abs() < 1e-16 {
                break;
            }
        }
        (1.0 - (h.ln() + ln_front).exp()).max(0.0)
    }
}

/// Bisection for the x in (lo, hi) where an increasing `cdf` reaches q.
fn invert(cdf: impl Fn(f64) -> f64, q: f64, mut lo: f64, mut hi: f64) -> f64 {
    for _ in 0..300 {
        let mid = 0.5 * (lo + hi);
        if cdf(mid) < q {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-14 * hi.abs().max(1e-300) {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// The q-quantile of Gamma(shape, rate 1).
pub fn gamma_quantile(shape: f64, q: f64) -> f64 {
    let mut hi = shape.max(1.0);
    while gamma_p(shape, hi) < q {
        hi *= 2.0;
    }
    invert(|x| gamma_p(shape, x), q, 0.0, hi)
}

/// The q-quantile of Beta(a, b).
pub fn beta_quantile(a: f64, b: f64, q: f64) -> f64 {
    invert(|x| incomplete_beta(a, b, x), q, 0.0, 1.0)
}

/// An estimate with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// The point estimate (maximum likelihood).
    pub estimate: f64,
    /// Lower end of the 95% interval.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

/// A Poisson rate per day from `k` events over `exposure` days (the integral of the
/// rate's multiplier over the data window).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateFit {
    /// k / exposure, with Garwood's exact interval (it covers at least 95% for any rate).
    pub rate: Interval,
    /// Events counted.
    pub k: u64,
    /// Exposure in days.
    pub exposure: f64,
    /// The posterior under Jeffreys' prior (rate^-1/2): Gamma with shape k + 1/2 and
    /// rate `exposure`, so mean (k + 1/2) / exposure.
    pub posterior_shape: f64,
}

/// The maximum-likelihood Poisson rate with Garwood's exact 95% interval:
/// [Gamma(k).q(0.025), Gamma(k + 1).q(0.975)] / exposure (chi-square form: χ²(2k)/2).
pub fn poisson_rate(k: u64, exposure: f64) -> RateFit {
    let kf = k as f64;
    let low = if k == 0 { 0.0 } else { gamma_quantile(kf, 0.025) / exposure };
    let high = gamma_quantile(kf + 1.0, 0.975) / exposure;
    RateFit { rate: Interval { estimate: kf / exposure, low, high }, k, exposure, posterior_shape: kf + 0.5 }
}

/// A proportion: `k` of `n` with a Beta(a, b) prior.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProportionFit {
    /// k / n, with the equal-tailed 95% interval of the posterior (with Jeffreys' prior
    /// Beta(1/2, 1/2): the Jeffreys interval, whose coverage is close to 95% on average over
    /// p, though below it for some p at small n; Brown, Cai and DasGupta 2001). The low end
    /// is 0 when k = 0, the high end 1 when k = n.
    pub p: Interval,
    /// Successes.
    pub k: u64,
    /// Trials.
    pub n: u64,
    /// The posterior Beta(k + a, n - k + b).
    pub posterior: (f64, f64),
}

/// A proportion with its posterior interval; `prior` is Beta(a, b).
pub fn proportion(k: u64, n: u64, prior: (f64, f64)) -> ProportionFit {
    let (a, b) = (k as f64 + prior.0, (n - k) as f64 + prior.1);
    let low = if k == 0 { 0.0 } else { beta_quantile(a, b, 0.025) };
    let high = if k == n { 1.0 } else { beta_quantile(a, b, 0.975) };
    let estimate = if n == 0 { f64::NAN } else { k as f64 / n as f64 };
    ProportionFit { p: Interval { estimate, low, high }, k, n, posterior: (a, b) }
}

/// The Clopper-Pearson interval of k of n: its coverage is at least 95% for every p, so a
/// value outside it disagrees with the data by more than chance (the Jeffreys interval is
/// closer to 95% on average but can fall well below it at small n).
pub fn clopper_pearson(k: u64, n: u64) -> Interval {
    let (kf, nf) = (k as f64, n as f64);
    let low = if k == 0 { 0.0 } else { beta_quantile(kf, nf - kf + 1.0, 0.025) };
    let high = if k == n { 1.0 } else { beta_quantile(kf + 1.0, nf - kf, 0.975) };
    Interval { estimate: if n == 0 { f64::NAN } else { kf / nf }, low, high }
}

/// A piecewise-constant multiplier of a base rate over a data window `[start, end)`, as
/// rate windows and modifiers make it: `pieces` are `(from, to, multiplier)`, sorted,
/// covering the window without gaps.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    /// `(from, to, multiplier)` in days.
    pub pieces: Vec<(f64, f64, f64)>,
}

impl Baseline {
    /// A multiplier of 1 over `[start, end)`.
    pub fn flat(start: f64, end: f64) -> Baseline {
        Baseline { pieces: vec![(start, end, 1.0)] }
    }

    /// The multiplier a step's rate windows give it over `[start, end)`: the product of the
    /// `rate_x` of the windows open at each time (docs/scenario-language.md, windows). A
    /// window of `x3` for ten days thus counts thirty days of exposure. Modifiers, which
    /// logged events start, are not in it.
    pub fn of_windows(windows: &[Window], start: f64, end: f64) -> Baseline {
        let mut cuts = vec![start, end];
        for w in windows {
            cuts.extend([w.from, w.to].into_iter().filter(|&t| start < t && t < end));
        }
        cuts.sort_by(f64::total_cmp);
        cuts.dedup();
        let pieces = cuts
            .windows(2)
            .map(|p| {
                let m = windows.iter().filter(|w| w.from <= p[0] && p[0] < w.to).map(|w| w.rate_x).product();
                (p[0], p[1], m)
            })
            .collect();
        Baseline { pieces }
    }

    /// The exposure: the integral of the multiplier over the window.
    pub fn exposure(&self) -> f64 {
        self.pieces.iter().map(|(a, b, m)| (b - a) * m).sum()
    }

    /// The multiplier at time t (0 outside the window).
    pub fn at(&self, t: f64) -> f64 {
        self.pieces.iter().find(|(a, b, _)| *a <= t && t < *b).map_or(0.0, |p| p.2)
    }

    fn start(&self) -> f64 {
        self.pieces.first().map_or(0.0, |p| p.0)
    }

    fn end(&self) -> f64 {
        self.pieces.last().map_or(0.0, |p| p.1)
    }
}

/// The data of a self-exciting step: the times of its firings in the window (`targets`)
/// and of the firings that excite it (`exciters`, which may start before the window), both
/// sorted, and the multiplier of its base rate.
#[derive(Debug, Clone, PartialEq)]
pub struct HawkesData {
    /// Firings of the excited step inside the window, sorted.
    pub targets: Vec<f64>,
    /// Firings of the exciting branch before the window's end, sorted.
    pub exciters: Vec<f64>,
    /// The base rate's multiplier over the window.
    pub baseline: Baseline,
    /// When the history stopped being able to fire the step (its `max` reached, a
    /// terminal level): excitation after it adds no expected firings. Infinity if never.
    pub until: f64,
}

/// Hawkes params: base rate `mu` (per day, times the multiplier), branching ratio `n`
/// (extra firings per exciting firing) and mean kernel delay `decay` (days). The
/// intensity is mu m(t) + (n / decay) Σ_{e < t} exp(-(t - e) / decay).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HawkesParams {
    /// Base rate per day.
    pub mu: f64,
    /// Branching ratio.
    pub n: f64,
    /// Mean delay of the kernel, days.
    pub decay: f64,
}

/// The exact log-likelihood of the data under `h`, in O(N) with the exponential
/// kernel's recursion: S(t) = Σ_{e < t} exp(-(t - e)/decay) decays by exp(-Δ/decay)
/// between events and grows by 1 after each exciter. An exciter at the same time as a
/// target does not excite it (strictly earlier only).
pub fn hawkes_loglik(d: &HawkesData, h: HawkesParams) -> f64 {
    let (start, end) = (d.baseline.start(), d.baseline.end());
    let mut ll = -h.mu * d.baseline.exposure();
    let (mut s, mut t_s) = (0.0, f64::NEG_INFINITY);
    let mut ei = 0;
    // The targets are sorted, so the piece of the multiplier that holds each one is found
    // by walking forward: O(N + pieces) in all, not a search per target.
    let mut pi = 0;
    let pieces = &d.baseline.pieces;
    for &t in &d.targets {
        while pi < pieces.len() && pieces[pi].1 <= t {
            pi += 1;
        }
        let m = pieces.get(pi).filter(|p| p.0 <= t).map_or(0.0, |p| p.2);
        while ei < d.exciters.len() && d.exciters[ei] < t {
            let e = d.exciters[ei];
            s = s * decay_factor(e - t_s, h.decay) + 1.0;
            t_s = e;
            ei += 1;
        }
        let excited = if t_s.is_finite() { s * decay_factor(t - t_s, h.decay) } else { 0.0 };
        ll += (h.mu * m + h.n / h.decay * excited).ln();
    }
    // The compensator of the excitation: each exciter adds n times the kernel's mass
    // inside [max(start, e), end), the end cut where the history stopped.
    let end = end.min(d.until);
    for &e in d.exciters.iter().take_while(|&&e| e < end) {
        let from = e.max(start);
        ll -= h.n * kernel_mass(from - e, end - from, h.decay);
    }
    ll
}

/// exp(-a/decay) - exp(-(a + len)/decay), without the cancellation of the plain
/// difference when decay is long (which would make the likelihood unbounded).
fn kernel_mass(a: f64, len: f64, decay: f64) -> f64 {
    -(-a / decay).exp() * libm::expm1(-len / decay)
}

fn decay_factor(dt: f64, decay: f64) -> f64 {
    if dt.is_infinite() {
        0.0
    } else {
        (-dt / decay).exp()
    }
}

/// The same log-likelihood by the direct O(N²) sum, to check the recursion.
pub fn hawkes_loglik_direct(d: &HawkesData, h: HawkesParams) -> f64 {
    let (start, end) = (d.baseline.start(), d.baseline.end());
    let mut ll = -h.mu * d.baseline.exposure();
    for &t in &d.targets {
        let excited: f64 =
            d.exciters.iter().filter(|&&e| e < t).map(|&e| (-(t - e) / h.decay).exp()).sum::<f64>();
        ll += (h.mu * d.baseline.at(t) + h.n / h.decay * excited).ln();
    }
    let end = end.min(d.until);
    for &e in &d.exciters {
        if e < end {
            ll -= h.n * ((-(e.max(start) - e) / h.decay).exp() - (-(end - e) / h.decay).exp());
        }
    }
    ll
}

/// Minimises `f` by Nelder and Mead's simplex from `x0` with initial steps `step`:
/// deterministic, derivative-free, enough for two or three smooth params.
pub fn nelder_mead<const D: usize>(f: impl Fn([f64; D]) -> f64, x0: [f64; D], step: f64) -> ([f64; D], f64) {
    let mut simplex: Vec<([f64; D], f64)> = Vec::with_capacity(D + 1);
    simplex.push((x0, f(x0)));
    for i in 0..D {
        let mut x = x0;
        x[i] += step;
        simplex.push((x, f(x)));
    }
    let value = |v: f64| if v.is_nan() { f64::INFINITY } else { v };
    for s in &mut simplex {
        s.1 = value(s.1);
    }
    for _ in 0..2000 * D {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (best, worst) = (simplex[0].1, simplex[D].1);
        // Converged when the values agree to 1e-10 (relative) and the points to 1e-7: a
        // log-likelihood needs no more, and its profile thresholds are far coarser.
        if (worst - best).abs() <= 1e-10 * (best.abs() + 1e-10) {
            let spread = (0..D)
                .map(|i| simplex.iter().map(|s| (s.0[i] - simplex[0].0[i]).abs()).fold(0.0, f64::max))
                .fold(0.0, f64::max);
            if spread < 1e-7 {
                break;
            }
        }
        let mut centroid = [0.0; D];
        for s in &simplex[..D] {
            for (c, x) in centroid.iter_mut().zip(s.0) {
                *c += x / D as f64;
            }
        }
        let along = |t: f64| {
            let mut x = [0.0; D];
            for i in 0..D {
                x[i] = centroid[i] + t * (simplex[D].0[i] - centroid[i]);
            }
            x
        };
        let xr = along(-1.0);
        let fr = value(f(xr));
        if fr < simplex[0].1 {
            let xe = along(-2.0);
            let fe = value(f(xe));
            simplex[D] = if fe < fr { (xe, fe) } else { (xr, fr) };
        } else if fr < simplex[D - 1].1 {
            simplex[D] = (xr, fr);
        } else {
            let (xc, fc) = if fr < simplex[D].1 {
                let x = along(-0.5);
                (x, value(f(x)))
            } else {
                let x = along(0.5);
                (x, value(f(x)))
            };
            if fc < simplex[D].1.min(fr) {
                simplex[D] = (xc, fc);
            } else {
                let x0 = simplex[0].0;
                for s in &mut simplex[1..] {
                    for (x, o) in s.0.iter_mut().zip(x0) {
                        *x = o + 0.5 * (*x - o);
                    }
                    s.1 = value(f(s.0));
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    simplex[0]
}

/// A fitted Hawkes model, and the plain Poisson model it is tested against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HawkesFit {
    /// The maximum-likelihood params.
    pub params: HawkesParams,
    /// 95% profile-likelihood intervals of mu, n and decay (estimate = the MLE).
    pub mu: Interval,
    /// Branching ratio.
    pub n: Interval,
    /// Kernel decay, days.
    pub decay: Interval,
    /// Log-likelihood at the MLE.
    pub loglik: f64,
    /// Log-likelihood of the Poisson model (n = 0) at its MLE.
    pub poisson_loglik: f64,
    /// The likelihood-ratio statistic 2 (loglik - poisson_loglik).
    pub lr: f64,
    /// Its approximate p-value: n = 0 lies on the boundary and the decay is not
    /// identified under the null, so the half chi-square(1) reference (Self and Liang
    /// 1987) is a guide, not an exact test.
    pub lr_p: f64,
    /// AIC of the Hawkes model (3 params).
    pub aic: f64,
    /// AIC of the Poisson model (1 param).
    pub poisson_aic: f64,
}

/// The p-value of a likelihood-ratio statistic against half a chi-square(1): the
/// reference when the tested param lies on the boundary (Self and Liang 1987).
pub fn half_chi2_tail(lr: f64) -> f64 {
    0.5 * (1.0 - gamma_p(0.5, lr / 2.0))
}

/// Largest branching ratio searched: far beyond any stable process, so it bounds only
/// the degenerate corner where n and decay grow together.
const MAX_N: f64 = 20.0;

/// The Hawkes log-likelihood over the coordinates (ln mu, ln n, ln decay), -inf where
/// the kernel outlasts the data (a decay beyond the window's length is not identified:
/// n / decay then acts as a trend) or n exceeds [`MAX_N`].
fn ll_at(d: &[HawkesData], x: [f64; 3]) -> f64 {
    let span = d.iter().map(|h| h.baseline.end() - h.baseline.start()).fold(f64::INFINITY, f64::min);
    if x[2].exp() > span || x[1].exp() > MAX_N {
        return f64::NEG_INFINITY;
    }
    let h = HawkesParams { mu: x[0].exp(), n: x[1].exp(), decay: x[2].exp() };
    d.iter().map(|one| hawkes_loglik(one, h)).sum()
}

/// Maximises the Hawkes likelihood over mu, n and decay, with profile-likelihood
/// intervals, a likelihood-ratio test and AIC against the Poisson model. `d` holds one
/// entry per history (independent histories: the log-likelihoods add). `None` when the
/// window holds no firing of the step.
pub fn fit_hawkes(d: &[HawkesData]) -> Option<HawkesFit> {
    let k = d.iter().map(|h| h.targets.len()).sum::<usize>() as f64;
    let exposure: f64 = d.iter().map(|h| h.baseline.exposure()).sum();
    if k == 0.0 || exposure <= 0.0 {
        return None;
    }
    let mu0 = k / exposure;
    let poisson_loglik: f64 =
        d.iter().map(|h| hawkes_loglik(h, HawkesParams { mu: mu0, n: 0.0, decay: 1.0 })).sum();
    let span = d.iter().map(|h| h.baseline.end() - h.baseline.start()).fold(f64::INFINITY, f64::min).max(1.0);
    // Several starts over the decay, since the likelihood can have more than one mode.
    let mut best = ([mu0.ln(), 0.3f64.ln(), 1.0f64.ln()], f64::INFINITY);
    for decay0 in [0.5, 2.0, 7.0, 30.0] {
        if decay0 > span {
            continue;
        }
        let x0 = [(0.7 * mu0).ln(), 0.3f64.ln(), f64::ln(decay0)];
        let r = nelder_mead(|x| -ll_at(d, x), x0, 0.5);
        if r.1 < best.1 {
            best = r;
        }
    }
    let best = nelder_mead(|x| -ll_at(d, x), best.0, 0.1);
    let loglik = -best.1;
    let x = best.0;
    let interval = |j: usize| -> Interval {
        // Each profile point starts from the optimum of the previous one: the walk moves
        // in small steps, so the other coordinates move little.
        let warm = std::cell::Cell::new(None::<[f64; 2]>);
        let profile = |v: f64| -> f64 {
            // The maximum over the other two coordinates with coordinate j fixed at v.
            let others: Vec<usize> = (0..3).filter(|&i| i != j).collect();
            let put = |y: [f64; 2]| {
                let mut z = [0.0; 3];
                z[j] = v;
                z[others[0]] = y[0];
                z[others[1]] = y[1];
                z
            };
            let (start, step) = match warm.get() {
                Some(w) => (w, 0.1),
                None => ([x[others[0]], x[others[1]]], 0.3),
            };
            let r = nelder_mead(|y| -ll_at(d, put(y)), start, step);
            if r.1.is_finite() {
                warm.set(Some(r.0));
            }
            -r.1
        };
        // Positive inside the interval, negative outside: its roots are the ends.
        let g = |v: f64| CHI2_1_95 - 2.0 * (loglik - profile(v));
        let end = |dir: f64| -> f64 {
            // Walk out in steps of doubling length until the profile drops enough.
            warm.set(None);
            let (mut near, mut g_near, mut stepped) = (x[j], CHI2_1_95, 0.25);
            let mut far = near + dir * stepped;
            let mut g_far = g(far);
            while g_far > 0.0 {
                near = far;
                g_near = g_far;
                stepped *= 2.0;
                far = near + dir * stepped;
                if far.abs() > 50.0 {
                    return if dir < 0.0 { f64::NEG_INFINITY } else { f64::INFINITY };
                }
                g_far = g(far);
            }
            // The root between them by false position (Illinois), or halving where the far
            // end lies outside the params' domain: ~8 profiles where bisection needs 30.
            let mut side = 0;
            for _ in 0..60 {
                if (far - near).abs() < 1e-5 {
                    break;
                }
                let mid = if g_far.is_finite() {
                    far - g_far * (far - near) / (g_far - g_near)
                } else {
                    0.5 * (near + far)
                };
                let g_mid = g(mid);
                if g_mid.abs() < 1e-6 {
                    return mid;
                }
                if g_mid > 0.0 {
                    near = mid;
                    g_near = g_mid;
                    if side == 1 {
                        g_far *= 0.5;
                    }
                    side = 1;
                } else {
                    far = mid;
                    g_far = g_mid;
                    if side == -1 {
                        g_near *= 0.5;
                    }
                    side = -1;
                }
            }
            0.5 * (near + far)
        };
        Interval { estimate: x[j].exp(), low: end(-1.0).exp(), high: end(1.0).exp() }
    };
    let (mu, n, decay) = (interval(0), interval(1), interval(2));
    let lr = (2.0 * (loglik - poisson_loglik)).max(0.0);
    Some(HawkesFit {
        params: HawkesParams { mu: x[0].exp(), n: x[1].exp(), decay: x[2].exp() },
        mu,
        n,
        decay,
        loglik,
        poisson_loglik,
        lr,
        lr_p: half_chi2_tail(lr),
        aic: 6.0 - 2.0 * loglik,
        poisson_aic: 2.0 - 2.0 * poisson_loglik,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incomplete_gamma_matches_closed_forms() {
        // P(1, x) = 1 - e^-x; P(1/2, x) = erf(sqrt x).
        for x in [0.01f64, 0.5, 1.0, 2.0, 5.0, 30.0] {
            assert!((gamma_p(1.0, x) - (1.0 - (-x).exp())).abs() < 1e-13, "{x}");
            assert!((gamma_p(0.5, x) - libm::erf(f64::sqrt(x))).abs() < 1e-13, "{x}");
        }
        // P(3, x) = 1 - e^-x (1 + x + x²/2).
        for x in [0.2f64, 3.0, 9.0] {
            let want = 1.0 - (-x).exp() * (1.0 + x + x * x / 2.0);
            assert!((gamma_p(3.0, x) - want).abs() < 1e-13, "{x}");
        }
    }

    #[test]
    fn garwood_interval_matches_published_values() {
        // Exact Poisson 95% limits for k = 0, 1, 5, 10 (e.g. Ulm 1990, or any table of
        // chi-square quantiles / 2): 0-3.689, 0.0253-5.572, 1.623-11.668, 4.795-18.390.
        let cases = [(0, 0.0, 3.6889), (1, 0.02532, 5.5716), (5, 1.6235, 11.6683), (10, 4.7954, 18.3904)];
        for (k, lo, hi) in cases {
            let f = poisson_rate(k, 1.0);
            assert!((f.rate.low - lo).abs() < 1e-3, "k {k}: low {}", f.rate.low);
            assert!((f.rate.high - hi).abs() < 1e-3, "k {k}: high {}", f.rate.high);
        }
        let f = poisson_rate(10, 200.0);
        assert!((f.rate.estimate - 0.05).abs() < 1e-15 && (f.rate.high - 18.3904 / 200.0).abs() < 1e-5);
    }

    #[test]
    fn jeffreys_interval_matches_published_values() {
        // The median of Beta(a, a) is 1/2, and Beta(1, 1) quantiles are the identity.
        assert!((beta_quantile(3.0, 3.0, 0.5) - 0.5).abs() < 1e-12);
        assert!((beta_quantile(1.0, 1.0, 0.3) - 0.3).abs() < 1e-12);
        // Beta(1, b): F(x) = 1 - (1 - x)^b, so q = 1 - (1 - F)^(1/b).
        let q = beta_quantile(1.0, 4.0, 0.975);
        assert!((q - (1.0 - 0.025f64.powf(0.25))).abs() < 1e-12);
        // Jeffreys intervals computed independently (numerical integration of the Beta
        // density, 4 decimals): 0 of 10 -> [0, 0.2172]; 3 of 10 -> [0.0927, 0.6058].
        let f = proportion(0, 10, (0.5, 0.5));
        assert_eq!(f.p.low, 0.0);
        assert!((f.p.high - 0.2172).abs() < 1e-4, "{f:?}");
        let f = proportion(3, 10, (0.5, 0.5));
        assert!((f.p.low - 0.0927).abs() < 1e-4 && (f.p.high - 0.6058).abs() < 1e-4, "{f:?}");
        // The Dirichlet-Jeffreys marginal of 2 of 4 among 7 branches, Beta(2.5, 5), and of
        // 0 of 4, Beta(0.5, 7) (mpmath, by a reviewer): [0.07023, 0.67929]; high 0.31027.
        let f = proportion(2, 4, (0.5, 3.0));
        assert!((f.p.low - 0.07023).abs() < 1e-5 && (f.p.high - 0.67929).abs() < 1e-5, "{f:?}");
        assert!((proportion(0, 4, (0.5, 3.0)).p.high - 0.31027).abs() < 1e-5);
    }

    #[test]
    fn clopper_pearson_has_closed_forms_at_the_ends() {
        // k = 0: the high end solves (1 - p)^n = 0.025; k = n: the low end p^n = 0.025.
        for n in [1u64, 4, 10, 50] {
            let c = clopper_pearson(0, n);
            assert_eq!(c.low, 0.0);
            assert!((c.high - (1.0 - 0.025f64.powf(1.0 / n as f64))).abs() < 1e-12, "{n}");
            let c = clopper_pearson(n, n);
            assert!((c.low - 0.025f64.powf(1.0 / n as f64)).abs() < 1e-12, "{n}");
            assert_eq!(c.high, 1.0);
        }
    }

    #[test]
    fn the_likelihood_ratio_p_value_is_half_a_chi_square_tail() {
        // P(chi2_1 > x) = 1 - erf(sqrt(x / 2)); the reviewer's 0.3718 -> 0.2710.
        let half_tail = half_chi2_tail;
        for lr in [0.3718f64, 2.0, 3.84, 10.0] {
            assert!((half_tail(lr) - 0.5 * (1.0 - libm::erf((lr / 2.0).sqrt()))).abs() < 1e-12);
        }
        assert!((half_tail(0.3718) - 0.2710).abs() < 1e-4);
        assert!((half_tail(2.705543) - 0.05).abs() < 1e-6, "the 90% point of chi2_1");
    }

    fn data(targets: Vec<f64>, end: f64) -> HawkesData {
        HawkesData {
            exciters: targets.clone(),
            targets,
            baseline: Baseline::flat(0.0, end),
            until: f64::INFINITY,
        }
    }

    #[test]
    fn the_recursion_gives_the_direct_sum() {
        let d = HawkesData {
            targets: vec![0.5, 1.0, 1.0, 2.25, 5.0, 7.0, 7.5, 8.0, 19.0],
            exciters: vec![-3.0, 0.5, 1.0, 2.25, 7.5, 12.0],
            baseline: Baseline { pieces: vec![(0.0, 5.0, 1.0), (5.0, 8.0, 3.0), (8.0, 20.0, 0.5)] },
            until: f64::INFINITY,
        };
        for h in [
            HawkesParams { mu: 0.3, n: 0.5, decay: 2.0 },
            HawkesParams { mu: 1.1, n: 0.05, decay: 0.3 },
            HawkesParams { mu: 0.01, n: 0.9, decay: 15.0 },
        ] {
            let (a, b) = (hawkes_loglik(&d, h), hawkes_loglik_direct(&d, h));
            assert!((a - b).abs() < 1e-10 * b.abs().max(1.0), "{h:?}: {a} vs {b}");
        }
    }

    #[test]
    fn with_no_excitation_the_likelihood_is_poisson() {
        // n = 0: log L = k ln mu - mu T, maximised at k / T.
        let d = data(vec![1.0, 4.0, 9.0], 10.0);
        let ll = hawkes_loglik(&d, HawkesParams { mu: 0.3, n: 0.0, decay: 1.0 });
        assert!((ll - (3.0 * 0.3f64.ln() - 3.0)).abs() < 1e-12);
    }

    #[test]
    fn overlapping_windows_multiply_and_weight_the_exposure() {
        let w = |from, to, rate_x| Window { from, to, rate_x };
        let b =
            Baseline::of_windows(&[w(10.0, 20.0, 3.0), w(15.0, 30.0, 0.5), w(50.0, 60.0, 9.0)], 0.0, 40.0);
        let want =
            [(0.0, 10.0, 1.0), (10.0, 15.0, 3.0), (15.0, 20.0, 1.5), (20.0, 30.0, 0.5), (30.0, 40.0, 1.0)];
        assert_eq!(b.pieces, want);
        // 10 + 15 + 7.5 + 5 + 10 days.
        assert_eq!(b.exposure(), 47.5);
        assert_eq!((b.at(12.0), b.at(17.0), b.at(39.9), b.at(40.0)), (3.0, 1.5, 1.0, 0.0));
        assert_eq!(Baseline::of_windows(&[], 5.0, 7.0).pieces, [(5.0, 7.0, 1.0)]);
    }

    #[test]
    fn nelder_mead_finds_a_quadratic_minimum() {
        let (x, v) =
            nelder_mead(|x: [f64; 2]| (x[0] - 1.5).powi(2) + 3.0 * (x[1] + 0.5).powi(2), [0.0, 0.0], 1.0);
        assert!((x[0] - 1.5).abs() < 1e-5 && (x[1] + 0.5).abs() < 1e-5 && v < 1e-9, "{x:?}");
    }

    /// A Hawkes process by its cluster representation, from one of brink's streams:
    /// immigrants at rate mu, each firing has Poisson(n) children at exponential delays.
    fn simulate(mu: f64, n: f64, decay: f64, end: f64, seed: u64) -> Vec<f64> {
        use crate::sim::rng::{stream, stream_key, Purpose};
        let mut s = stream(&stream_key(seed, "hawkes-test"), 0, Purpose::Arrival);
        let mut u = move || s.uniform_open0();
        let mut todo = Vec::new();
        let mut t = 0.0;
        loop {
            t += -u().ln() / mu;
            if t >= end {
                break;
            }
            todo.push(t);
        }
        let mut all = Vec::new();
        while let Some(t) = todo.pop() {
            all.push(t);
            // Poisson(n) children by inversion.
            let (mut k, mut p, x) = (0, (-n).exp(), u());
            let mut cdf = p;
            while x > cdf {
                k += 1;
                p *= n / k as f64;
                cdf += p;
            }
            for _ in 0..k {
                let c = t - decay * u().ln();
                if c < end {
                    todo.push(c);
                }
            }
        }
        all.sort_by(f64::total_cmp);
        all
    }

    #[test]
    fn the_hawkes_fit_recovers_a_branching_ratio_of_one_half() {
        let (mu, n, decay, end) = (0.2, 0.5, 3.0, 4000.0);
        let times = simulate(mu, n, decay, end, 0x9e37_79b9_7f4a_7c15);
        // Expected count mu T / (1 - n) = 1600.
        assert!((times.len() as f64 - 1600.0).abs() < 200.0, "{}", times.len());
        let fit = fit_hawkes(&[data(times, end)]).unwrap();
        assert!(fit.n.low < n && n < fit.n.high, "n {:?}", fit.n);
        assert!(fit.mu.low < mu && mu < fit.mu.high, "mu {:?}", fit.mu);
        assert!(fit.decay.low < decay && decay < fit.decay.high, "decay {:?}", fit.decay);
        assert!(fit.n.high - fit.n.low < 0.3, "n interval too wide: {:?}", fit.n);
        assert!(fit.lr > 50.0 && fit.aic < fit.poisson_aic, "{fit:?}");
    }

    #[test]
    fn a_poisson_log_gives_a_small_branching_ratio_and_no_evidence() {
        let times = simulate(0.3, 0.0, 1.0, 3000.0, 42);
        let fit = fit_hawkes(&[data(times, 3000.0)]).unwrap();
        assert!(fit.n.low < 0.01, "{fit:?}");
        assert!(fit.lr < 3.84 && fit.poisson_aic < fit.aic, "{fit:?}");
    }
}
