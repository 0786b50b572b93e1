//! Distributions of delays (real days) and tally amounts (integers), and their samplers.
//!
//! Every sampler is written here on top of [`Stream`]'s uniform draws and `libm`'s
//! transcendental functions, not `rand_distr` or the platform's `ln`/`exp`: their last
//! bits differ between systems and between crate versions, and results must be the same
//! bits everywhere. Golden vectors in the tests pin each sampler.

use crate::sim::rng::Stream;

/// A delay, in days. Parameters are validated (finite, non-negative, ordered).
#[derive(Debug, Clone, Copy, PartialEq)]
#[allow(missing_docs)] // each variant's doc names its fields
pub enum Delay {
    /// Always `d`.
    Fixed(f64),
    /// Uniform on `[a, b]`.
    Uniform(f64, f64),
    /// Exponential with this mean.
    Exponential(f64),
    /// Triangular with `min`, `mode`, `max`.
    Triangular(f64, f64, f64),
    /// `median * exp(sigma * Z)`, Z standard normal.
    Lognormal { median: f64, sigma: f64 },
}

impl Delay {
    /// Draws one delay.
    pub fn sample(&self, s: &mut Stream) -> f64 {
        match *self {
            Delay::Fixed(d) => d,
            Delay::Uniform(a, b) => a + (b - a) * s.uniform(),
            Delay::Exponential(mean) => mean * crate::sim::ziggurat::exp1(s),
            Delay::Triangular(a, c, b) => triangular(s.uniform(), a, c, b),
            Delay::Lognormal { median, sigma } => median * libm::exp(sigma * normal(s)),
        }
    }

    /// P(delay <= x).
    pub fn cdf(&self, x: f64) -> f64 {
        match *self {
            Delay::Fixed(d) => f64::from(u8::from(x >= d)),
            Delay::Uniform(a, b) if b > a => ((x - a) / (b - a)).clamp(0.0, 1.0),
            Delay::Uniform(a, _) => f64::from(u8::from(x >= a)),
            Delay::Exponential(m) if m > 0.0 => {
                if x <= 0.0 {
                    0.0
                } else {
                    -libm::expm1(-x / m)
                }
            }
            Delay::Exponential(_) => f64::from(u8::from(x >= 0.0)),
            Delay::Triangular(a, c, b) => {
                if x <= a {
                    0.0
                } else if x >= b {
                    1.0
                } else if x <= c {
                    (x - a).powi(2) / ((b - a) * (c - a))
                } else {
                    1.0 - (b - x).powi(2) / ((b - a) * (b - c))
                }
            }
            Delay::Lognormal { median, sigma } => {
                if x <= 0.0 || median <= 0.0 {
                    f64::from(u8::from(x >= 0.0 && median <= 0.0))
                } else if sigma <= 0.0 {
                    f64::from(u8::from(x >= median))
                } else {
                    0.5 * libm::erfc(-libm::log(x / median) / (sigma * std::f64::consts::SQRT_2))
                }
            }
        }
    }

    /// Draws a delay given that it exceeds `elapsed` (a reaction that has not happened
    /// after `elapsed` days), by inverting the distribution function above F(elapsed);
    /// `elapsed` itself if no delay can exceed it. One uniform from `s`.
    pub fn sample_beyond(&self, elapsed: f64, s: &mut Stream) -> f64 {
        let u = s.uniform();
        let f0 = self.cdf(elapsed);
        if f0 >= 1.0 {
            return elapsed;
        }
        let q = f0 + u * (1.0 - f0);
        match *self {
            Delay::Fixed(d) => d,
            Delay::Uniform(a, b) => a + (b - a) * q,
            // Memoryless: the rest of the wait is a fresh exponential.
            Delay::Exponential(m) => elapsed - m * libm::log1p(-u),
            Delay::Triangular(a, c, b) => triangular(q, a, c, b),
            Delay::Lognormal { .. } => {
                // No closed-form inverse: bisection on the distribution function.
                let (mut lo, mut hi) = (elapsed.max(0.0), elapsed.max(1.0));
                while self.cdf(hi) < q && hi < 1e300 {
                    hi *= 2.0;
                }
                for _ in 0..200 {
                    let mid = 0.5 * (lo + hi);
                    if self.cdf(mid) < q {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                hi
            }
        }
    }

    /// The mean, for summaries and tests.
    pub fn mean(&self) -> f64 {
        match *self {
            Delay::Fixed(d) => d,
            Delay::Uniform(a, b) => (a + b) / 2.0,
            Delay::Exponential(m) => m,
            Delay::Triangular(a, c, b) => (a + b + c) / 3.0,
            Delay::Lognormal { median, sigma } => median * (sigma * sigma / 2.0).exp(),
        }
    }

    /// The variance, for tests.
    pub fn variance(&self) -> f64 {
        match *self {
            Delay::Fixed(_) => 0.0,
            Delay::Uniform(a, b) => (b - a).powi(2) / 12.0,
            Delay::Exponential(m) => m * m,
            Delay::Triangular(a, c, b) => (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0,
            Delay::Lognormal { median, sigma } => {
                let s2 = sigma * sigma;
                (s2.exp() - 1.0) * median * median * s2.exp()
            }
        }
    }

    /// Whether the delay can be exactly zero (an atom at 0): what makes a trigger cycle loop
    /// forever at one instant.
    pub(crate) fn can_be_zero(&self) -> bool {
        match *self {
            Delay::Fixed(d) => d == 0.0,
            Delay::Uniform(a, b) => a == 0.0 && b == 0.0,
            Delay::Exponential(m) => m == 0.0,
            Delay::Triangular(_, _, b) => b == 0.0,
            Delay::Lognormal { median, .. } => median == 0.0,
        }
    }

    /// Short text for `brink check`, like the file's syntax.
    pub fn describe(&self) -> String {
        match *self {
            Delay::Fixed(d) => format!("{d} d"),
            Delay::Uniform(a, b) => format!("uniform {a}-{b} d"),
            Delay::Exponential(m) => format!("exponential, mean {m} d"),
            Delay::Triangular(a, c, b) => format!("triangular {a}/{c}/{b} d"),
            Delay::Lognormal { median, sigma } => {
                format!("lognormal, median {median} d, sigma {sigma}")
            }
        }
    }
}

/// An amount added to a tally. Parameters are validated.
#[derive(Debug, Clone, Copy, PartialEq)]
#[allow(missing_docs)] // each variant's doc names its fields
pub enum Amount {
    /// Always `n`.
    Fixed(u64),
    /// Poisson with this mean.
    Poisson(f64),
    /// `1 + Poisson(mean - 1)`: at least one, with mean `mean` (>= 1).
    PoissonAtLeastOne(f64),
    /// Uniform integer in `[a, b]`.
    UniformInt(u64, u64),
    /// Binomial with `n` trials of probability `p`.
    Binomial(u64, f64),
    /// Negative binomial by mean and dispersion `k`: variance `mean + mean^2 / k`
    /// (a gamma-Poisson mixture).
    NegativeBinomial { mean: f64, dispersion: f64 },
}

/// An amount ready to draw from: [`Amount`] with what its draws need that depends on its
/// parameters only computed once ([`PoissonLaw`], [`BinomialLaw`]). A model keeps one per
/// tally amount, recomputed when a param changes the amount.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AmountLaw {
    /// Always `n`.
    Fixed(u64),
    /// Poisson.
    Poisson(PoissonLaw),
    /// `1 +` the Poisson law of `mean - 1`.
    PoissonAtLeastOne(PoissonLaw),
    /// Uniform integer in `[a, b]`.
    UniformInt(u64, u64),
    /// Binomial.
    Binomial(BinomialLaw),
    /// Gamma-Poisson mixture: the Poisson mean is drawn anew each time.
    NegativeBinomial {
        /// The mean.
        mean: f64,
        /// The gamma's shape `k`.
        dispersion: f64,
    },
}

impl AmountLaw {
    /// Draws one amount.
    #[inline]
    pub fn sample(&self, s: &mut Stream) -> u64 {
        match *self {
            AmountLaw::Fixed(n) => n,
            AmountLaw::Poisson(law) => law.sample(s),
            AmountLaw::PoissonAtLeastOne(law) => law.sample(s).saturating_add(1),
            AmountLaw::UniformInt(a, b) => a + s.below(b - a + 1),
            AmountLaw::Binomial(law) => law.sample(s),
            AmountLaw::NegativeBinomial { mean, dispersion } => {
                if mean == 0.0 {
                    return 0;
                }
                let lambda = gamma(s, dispersion) * (mean / dispersion);
                poisson(s, lambda)
            }
        }
    }
}

impl Amount {
    /// Draws one amount (preparing its law first: a model keeps the law instead).
    pub fn sample(&self, s: &mut Stream) -> u64 {
        self.law().sample(s)
    }

    /// The amount ready to draw from.
    pub fn law(&self) -> AmountLaw {
        match *self {
            Amount::Fixed(n) => AmountLaw::Fixed(n),
            Amount::Poisson(mean) => AmountLaw::Poisson(PoissonLaw::new(mean)),
            Amount::PoissonAtLeastOne(mean) => AmountLaw::PoissonAtLeastOne(PoissonLaw::new(mean - 1.0)),
            Amount::UniformInt(a, b) => AmountLaw::UniformInt(a, b),
            Amount::Binomial(n, p) => AmountLaw::Binomial(BinomialLaw::new(n, p)),
            Amount::NegativeBinomial { mean, dispersion } => AmountLaw::NegativeBinomial { mean, dispersion },
        }
    }

    /// The mean.
    pub fn mean(&self) -> f64 {
        match *self {
            Amount::Fixed(n) => n as f64,
            Amount::Poisson(m) | Amount::PoissonAtLeastOne(m) => m,
            Amount::UniformInt(a, b) => (a as f64 + b as f64) / 2.0,
            Amount::Binomial(n, p) => n as f64 * p,
            Amount::NegativeBinomial { mean, .. } => mean,
        }
    }

    /// The variance.
    pub fn variance(&self) -> f64 {
        match *self {
            Amount::Fixed(_) => 0.0,
            Amount::Poisson(m) => m,
            Amount::PoissonAtLeastOne(m) => m - 1.0,
            Amount::UniformInt(a, b) => {
                let w = (b - a + 1) as f64;
                (w * w - 1.0) / 12.0
            }
            Amount::Binomial(n, p) => n as f64 * p * (1.0 - p),
            Amount::NegativeBinomial { mean, dispersion } => mean + mean * mean / dispersion,
        }
    }

    /// Short text for `brink check`.
    pub fn describe(&self) -> String {
        match *self {
            Amount::Fixed(n) => format!("{n}"),
            Amount::Poisson(m) => format!("poisson({m})"),
            Amount::PoissonAtLeastOne(m) => format!("poisson_at_least_one({m})"),
            Amount::UniformInt(a, b) => format!("{a}-{b}"),
            Amount::Binomial(n, p) => format!("binomial({n}, {p})"),
            Amount::NegativeBinomial { mean, dispersion } => {
                format!("negative_binomial(mean {mean}, k {dispersion})")
            }
        }
    }
}

/// Inverse CDF of the triangular distribution.
fn triangular(u: f64, a: f64, c: f64, b: f64) -> f64 {
    if b == a {
        return a;
    }
    let fc = (c - a) / (b - a);
    if u < fc {
        a + libm::sqrt(u * (b - a) * (c - a))
    } else {
        b - libm::sqrt((1.0 - u) * (b - a) * (b - c))
    }
}

/// Standard normal, by the ziggurat ([`crate::sim::ziggurat`]).
pub fn normal(s: &mut Stream) -> f64 {
    crate::sim::ziggurat::normal(s)
}

/// Gamma with this shape and scale 1 (Marsaglia & Tsang 2000; shape < 1 boosted).
pub fn gamma(s: &mut Stream, shape: f64) -> f64 {
    if shape < 1.0 {
        let u = s.uniform_open0();
        return gamma(s, shape + 1.0) * libm::pow(u, 1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / libm::sqrt(9.0 * d);
    loop {
        let (x, v) = loop {
            let x = normal(s);
            let v = 1.0 + c * x;
            if v > 0.0 {
                break (x, v * v * v);
            }
        };
        let u = s.uniform_open0();
        if u < 1.0 - 0.0331 * x * x * x * x {
            return d * v;
        }
        if libm::log(u) < 0.5 * x * x + d * (1.0 - v + libm::log(v)) {
            return d * v;
        }
    }
}

/// Poisson: inversion by sequential search for small means, PTRS (Hörmann 1993) above 10.
pub fn poisson(s: &mut Stream, mean: f64) -> u64 {
    PoissonLaw::new(mean).sample(s)
}

/// A Poisson law ready to draw from: what a draw needs that depends on the mean only
/// (e^-mean to start the inversion; PTRS's constants), computed once, not at every draw.
/// A model keeps one per amount and per excitation ([`AmountLaw`]); [`poisson`] makes one
/// per draw, for a mean that changes from draw to draw. Either way the same bits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PoissonLaw {
    /// Always 0: NaN (0 x inf in a gamma mixture) and non-positive means.
    Zero,
    /// An infinite mean: saturates rather than looping.
    Saturated,
    /// Inversion by sequential search (mean < 10), from P(0) = e^-mean.
    Inversion {
        /// The mean.
        mean: f64,
        /// e^-mean.
        p0: f64,
    },
    /// PTRS (mean >= 10).
    Ptrs(Ptrs),
}

/// PTRS's constants for one mean (Hörmann 1993, "The transformed rejection method for
/// generating Poisson random variables").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ptrs {
    mean: f64,
    loglam: f64,
    b: f64,
    a: f64,
    vr: f64,
    log_inv_alpha: f64,
}

impl PoissonLaw {
    /// The law of Poisson(mean).
    pub fn new(mean: f64) -> PoissonLaw {
        if mean.is_nan() || mean <= 0.0 {
            return PoissonLaw::Zero;
        }
        if mean.is_infinite() {
            return PoissonLaw::Saturated;
        }
        if mean < 10.0 {
            return PoissonLaw::Inversion { mean, p0: libm::exp(-mean) };
        }
        let slam = libm::sqrt(mean);
        let loglam = libm::log(mean);
        let b = 0.931 + 2.53 * slam;
        let a = -0.059 + 0.02483 * b;
        let inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
        let vr = 0.9277 - 3.6224 / (b - 2.0);
        PoissonLaw::Ptrs(Ptrs { mean, loglam, b, a, vr, log_inv_alpha: libm::log(inv_alpha) })
    }

    /// Draws one count.
    #[inline]
    pub fn sample(&self, s: &mut Stream) -> u64 {
        match *self {
            PoissonLaw::Zero => 0,
            PoissonLaw::Saturated => u64::MAX,
            PoissonLaw::Inversion { mean, p0 } => {
                let mut k = 0u64;
                let mut p = p0;
                let mut cdf = p;
                let u = s.uniform();
                while u > cdf {
                    k += 1;
                    p *= mean / k as f64;
                    cdf += p;
                    if p == 0.0 {
                        break; // u within rounding of 1: the tail is exhausted
                    }
                }
                k
            }
            PoissonLaw::Ptrs(Ptrs { mean, loglam, b, a, vr, log_inv_alpha }) => loop {
                let u = s.uniform() - 0.5;
                let v = s.uniform_open0();
                let us = 0.5 - u.abs();
                let k = libm::floor((2.0 * a / us + b) * u + mean + 0.43);
                if us >= 0.07 && v <= vr {
                    return k as u64;
                }
                if k < 0.0 || (us < 0.013 && v > us) {
                    continue;
                }
                if libm::log(v) + log_inv_alpha - libm::log(a / (us * us) + b)
                    <= -mean + k * loglam - libm::lgamma(k + 1.0)
                {
                    return k as u64;
                }
            },
        }
    }
}

/// Binomial: inversion for small `n * min(p, 1-p)`, BTRS (Hörmann 1993) otherwise.
pub fn binomial(s: &mut Stream, n: u64, p: f64) -> u64 {
    BinomialLaw::new(n, p).sample(s)
}

/// A binomial law ready to draw from: [`PoissonLaw`]'s idea for Binomial(n, p), whose
/// inversion starts from q^n and whose BTRS needs two log-gammas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinomialLaw {
    n: u64,
    /// Draw the failures of Binomial(n, 1 - p) instead (p > 0.5).
    flip: bool,
    kind: BinomialKind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum BinomialKind {
    /// Always 0 (n = 0 or p <= 0).
    Zero,
    /// Always n (p >= 1).
    All,
    /// Sequential search on the pmf from q^n (n p < 10).
    Inversion { nf: f64, r: f64, qn: f64 },
    /// BTRS.
    Btrs(Btrs),
}

/// BTRS's constants for one (n, p) (Hörmann 1993, "The generation of binomial random
/// variates").
#[derive(Debug, Clone, Copy, PartialEq)]
struct Btrs {
    nf: f64,
    b: f64,
    a: f64,
    c: f64,
    vr: f64,
    alpha: f64,
    lpq: f64,
    m: f64,
    h: f64,
}

impl BinomialLaw {
    /// The law of Binomial(n, p).
    pub fn new(n: u64, p: f64) -> BinomialLaw {
        let plain = |kind| BinomialLaw { n, flip: false, kind };
        if n == 0 || p <= 0.0 {
            return plain(BinomialKind::Zero);
        }
        if p >= 1.0 {
            return plain(BinomialKind::All);
        }
        if p > 0.5 {
            return BinomialLaw { flip: true, ..BinomialLaw::new(n, 1.0 - p) };
        }
        let nf = n as f64;
        let q = 1.0 - p;
        if nf * p < 10.0 {
            return plain(BinomialKind::Inversion { nf, r: p / q, qn: libm::pow(q, nf) });
        }
        let spq = libm::sqrt(nf * p * q);
        let b = 1.15 + 2.53 * spq;
        let a = -0.0873 + 0.0248 * b + 0.01 * p;
        let c = nf * p + 0.5;
        let vr = 0.92 - 4.2 / b;
        let alpha = (2.83 + 5.1 / b) * spq;
        let lpq = libm::log(p / q);
        let m = libm::floor((nf + 1.0) * p);
        let h = libm::lgamma(m + 1.0) + libm::lgamma(nf - m + 1.0);
        plain(BinomialKind::Btrs(Btrs { nf, b, a, c, vr, alpha, lpq, m, h }))
    }

    /// Draws one count.
    #[inline]
    pub fn sample(&self, s: &mut Stream) -> u64 {
        let n = self.n;
        let k = match self.kind {
            BinomialKind::Zero => 0,
            BinomialKind::All => n,
            BinomialKind::Inversion { nf, r, qn } => {
                let u = s.uniform();
                let mut pk = qn;
                let mut cdf = pk;
                let mut k = 0u64;
                while u > cdf && k < n {
                    pk *= r * (nf - k as f64) / (k as f64 + 1.0);
                    k += 1;
                    cdf += pk;
                    if pk == 0.0 {
                        break;
                    }
                }
                k
            }
            BinomialKind::Btrs(Btrs { nf, b, a, c, vr, alpha, lpq, m, h }) => loop {
                let u = s.uniform() - 0.5;
                let v = s.uniform_open0();
                let us = 0.5 - u.abs();
                let k = libm::floor((2.0 * a / us + b) * u + c);
                if k < 0.0 || k > nf {
                    continue;
                }
                if us >= 0.07 && v <= vr {
                    break k as u64;
                }
                let lv = libm::log(v * alpha / (a / (us * us) + b));
                if lv <= h - libm::lgamma(k + 1.0) - libm::lgamma(nf - k + 1.0) + (k - m) * lpq {
                    break k as u64;
                }
            },
        };
        if self.flip {
            n - k
        } else {
            k
        }
    }
}
