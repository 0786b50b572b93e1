//! Samplers: moments against their formulas, goodness of fit against the pmf, golden
//! vectors that pin the exact bits.

use crate::util::tol;
use brink::sim::dist::{Amount, Delay};
use brink::sim::rng::{stream, stream_key, Purpose, Stream};

fn s(name: &str) -> Stream {
    stream(&stream_key(12345, name), 0, Purpose::Tally)
}

/// Sample mean and variance, plus the tolerance on each from their own sampling error
/// (for the variance: sqrt((m4 - var^2) / n), estimated from the sample).
fn check_moments(name: &str, xs: &[f64], mean: f64, var: f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    let m4 = xs.iter().map(|x| (x - m).powi(4)).sum::<f64>() / n;
    let tol_m = tol(var, xs.len() as u64).max(1e-12);
    let tol_v = 3.29 * ((m4 - v * v).max(0.0) / n).sqrt() + 1e-12;
    assert!((m - mean).abs() <= tol_m, "{name}: mean {m}, expected {mean} ± {tol_m}");
    assert!((v - var).abs() <= tol_v, "{name}: variance {v}, expected {var} ± {tol_v}");
}

const N: usize = 200_000;

#[test]
fn delay_moments_match_formulas() {
    let cases = [
        ("fixed", Delay::Fixed(2.5), 2.5, 0.0),
        ("uniform", Delay::Uniform(1.0, 4.0), 2.5, 9.0 / 12.0),
        ("exponential", Delay::Exponential(3.0), 3.0, 9.0),
        // (a + b + c) / 3 and (a² + b² + c² - ab - ac - bc) / 18 for (1, 2, 6):
        ("triangular", Delay::Triangular(1.0, 2.0, 6.0), 3.0, (1.0 + 4.0 + 36.0 - 2.0 - 6.0 - 12.0) / 18.0),
        ("triangular-left", Delay::Triangular(0.0, 0.0, 3.0), 1.0, 9.0 / 18.0),
        // median e^{σ²/2} and (e^{σ²} - 1) median² e^{σ²}, for median 2, σ 0.5:
        (
            "lognormal",
            Delay::Lognormal { median: 2.0, sigma: 0.5 },
            2.0 * (0.125f64).exp(),
            ((0.25f64).exp() - 1.0) * 4.0 * (0.25f64).exp(),
        ),
    ];
    for (name, d, mean, var) in cases {
        assert_eq!(d.mean(), mean, "{name}: mean formula");
        let mut st = s(name);
        let xs: Vec<f64> = (0..N).map(|_| d.sample(&mut st)).collect();
        assert!(xs.iter().all(|&x| x >= 0.0 && x.is_finite()), "{name}: out of support");
        check_moments(name, &xs, mean, var);
    }
}

#[test]
fn amount_moments_match_formulas() {
    let cases = [
        ("fixed", Amount::Fixed(3), 3.0, 0.0),
        ("poisson-small", Amount::Poisson(2.5), 2.5, 2.5),
        ("poisson-large", Amount::Poisson(57.3), 57.3, 57.3),
        ("poisson-zero", Amount::Poisson(0.0), 0.0, 0.0),
        // 1 + Poisson(mean - 1): mean `mean`, variance mean - 1.
        ("poisson_at_least_one", Amount::PoissonAtLeastOne(1.5), 1.5, 0.5),
        ("poisson_at_least_one-large", Amount::PoissonAtLeastOne(30.0), 30.0, 29.0),
        // ((b - a + 1)² - 1) / 12 for [2, 7]: (36 - 1) / 12.
        ("uniform_int", Amount::UniformInt(2, 7), 4.5, 35.0 / 12.0),
        ("binomial-small", Amount::Binomial(20, 0.3), 6.0, 4.2),
        ("binomial-large", Amount::Binomial(1500, 0.055), 82.5, 1500.0 * 0.055 * 0.945),
        ("binomial-high-p", Amount::Binomial(200, 0.9), 180.0, 18.0),
        ("binomial-edge", Amount::Binomial(10, 1.0), 10.0, 0.0),
        // mean m, variance m + m² / k for m = 4, k = 2: 4 + 8.
        ("negative_binomial", Amount::NegativeBinomial { mean: 4.0, dispersion: 2.0 }, 4.0, 12.0),
        ("negative_binomial-k<1", Amount::NegativeBinomial { mean: 3.0, dispersion: 0.5 }, 3.0, 21.0),
    ];
    for (name, a, mean, var) in cases {
        assert!((a.mean() - mean).abs() < 1e-12, "{name}: mean formula");
        assert!((a.variance() - var).abs() < 1e-9, "{name}: variance formula");
        let mut st = s(name);
        let xs: Vec<f64> = (0..N).map(|_| a.sample(&mut st) as f64).collect();
        check_moments(name, &xs, mean, var);
    }
}

fn ln_factorial(k: u64) -> f64 {
    (1..=k).map(|i| (i as f64).ln()).sum()
}

/// Pearson chi-square of counts against a pmf, pooling cells with expectation < 5.
fn chi_square(counts: &[u64], pmf: impl Fn(u64) -> f64, n: u64) -> (f64, usize) {
    let mut stat = 0.0;
    let mut cells = 0;
    let (mut obs_pool, mut exp_pool) = (0.0, 0.0);
    let mut exp_total = 0.0;
    for (k, &c) in counts.iter().enumerate() {
        let e = pmf(k as u64) * n as f64;
        exp_total += e;
        obs_pool += c as f64;
        exp_pool += e;
        if exp_pool >= 5.0 {
            stat += (obs_pool - exp_pool).powi(2) / exp_pool;
            cells += 1;
            obs_pool = 0.0;
            exp_pool = 0.0;
        }
    }
    // The tail beyond the last observed value, plus leftovers.
    let tail_exp = (n as f64 - exp_total).max(0.0) + exp_pool;
    if tail_exp > 0.0 {
        stat += (obs_pool - tail_exp).powi(2) / tail_exp;
        cells += 1;
    }
    (stat, cells - 1)
}

/// Upper 99.9% point of chi-square with `df` degrees of freedom (Wilson-Hilferty).
fn chi2_999(df: usize) -> f64 {
    let d = df as f64;
    let z = 3.09;
    d * (1.0 - 2.0 / (9.0 * d) + z * (2.0 / (9.0 * d)).sqrt()).powi(3)
}

fn histogram(a: Amount, name: &str, n: u64) -> Vec<u64> {
    let mut st = s(name);
    let mut counts = Vec::new();
    for _ in 0..n {
        let x = a.sample(&mut st) as usize;
        if x >= counts.len() {
            counts.resize(x + 1, 0);
        }
        counts[x] += 1;
    }
    counts
}

#[test]
fn poisson_and_binomial_fit_their_pmf() {
    let n = 200_000;
    for mean in [0.7, 4.0, 9.99, 10.0, 35.0] {
        let counts = histogram(Amount::Poisson(mean), &format!("poisson{mean}"), n);
        let pmf = |k: u64| (-mean + k as f64 * f64::ln(mean) - ln_factorial(k)).exp();
        let (stat, df) = chi_square(&counts, pmf, n);
        assert!(stat < chi2_999(df), "poisson({mean}): chi2 {stat} on {df} df");
    }
    for (trials, p) in [(12u64, 0.25), (100, 0.3), (1000, 0.02), (400, 0.7)] {
        let counts = histogram(Amount::Binomial(trials, p), &format!("binom{trials}-{p}"), n);
        let pmf = |k: u64| {
            if k > trials {
                return 0.0;
            }
            (ln_factorial(trials) - ln_factorial(k) - ln_factorial(trials - k)
                + k as f64 * p.ln()
                + (trials - k) as f64 * (1.0 - p).ln())
            .exp()
        };
        let (stat, df) = chi_square(&counts, pmf, n);
        assert!(stat < chi2_999(df), "binomial({trials}, {p}): chi2 {stat} on {df} df");
    }
}

#[test]
fn negative_binomial_fits_its_pmf() {
    // P(k) = Γ(k + r) / (k! Γ(r)) (r / (r + m))^r (m / (r + m))^k with r = 2, m = 3.
    let (r, m) = (2.0f64, 3.0f64);
    let n = 200_000;
    let counts = histogram(Amount::NegativeBinomial { mean: m, dispersion: r }, "nb", n);
    let pmf = |k: u64| {
        let k = k as f64;
        // Γ(k + 2) / (k! Γ(2)) = k + 1
        (k + 1.0) * (r / (r + m)).powf(r) * (m / (r + m)).powf(k)
    };
    let (stat, df) = chi_square(&counts, pmf, n);
    assert!(stat < chi2_999(df), "negative binomial: chi2 {stat} on {df} df");
}

#[test]
fn uniform_int_covers_its_range_evenly() {
    let n = 60_000;
    let counts = histogram(Amount::UniformInt(3, 8), "ui", n);
    assert_eq!(counts[..3].iter().sum::<u64>(), 0);
    assert_eq!(counts.len(), 9);
    let (stat, df) = chi_square(&counts, |k| if (3..=8).contains(&k) { 1.0 / 6.0 } else { 0.0 }, n);
    assert!(stat < chi2_999(df), "uniform_int: chi2 {stat} on {df} df");
}

/// Golden vectors: the exact first draws of each sampler on a fixed stream. They pin
/// the bits, so that a change of a sampler, of `libm` or of the generator cannot slip
/// through unnoticed: if one changes, every scenario's results change, which must be a
/// deliberate, documented decision. The uniform values agree with
/// tests/reference/streams.py's ChaCha8; the exponential and lognormal ones (ziggurat
/// samplers) with tests/reference/ziggurat.py to the last bit or two (its tables come
/// from Python's math, brink's from libm).
#[test]
fn golden_vectors() {
    let draw_d = |d: Delay| {
        let mut st = stream(&stream_key(1, "golden"), 3, Purpose::Delay);
        (0..3).map(|_| d.sample(&mut st)).collect::<Vec<f64>>()
    };
    let draw_a = |a: Amount| {
        let mut st = stream(&stream_key(1, "golden"), 3, Purpose::Tally);
        (0..6).map(|_| a.sample(&mut st)).collect::<Vec<u64>>()
    };
    let got_d = [
        draw_d(Delay::Uniform(1.0, 4.0)),
        draw_d(Delay::Exponential(2.0)),
        draw_d(Delay::Triangular(0.0, 1.0, 5.0)),
        draw_d(Delay::Lognormal { median: 3.0, sigma: 0.7 }),
    ];
    let got_a = [
        draw_a(Amount::Poisson(3.5)),
        draw_a(Amount::Poisson(40.0)),
        draw_a(Amount::PoissonAtLeastOne(2.0)),
        draw_a(Amount::UniformInt(1, 6)),
        draw_a(Amount::Binomial(30, 0.2)),
        draw_a(Amount::Binomial(1500, 0.055)),
        draw_a(Amount::NegativeBinomial { mean: 5.0, dispersion: 1.5 }),
    ];
    assert_eq!(got_d, GOLDEN_DELAYS);
    assert_eq!(got_a, GOLDEN_AMOUNTS);
}

const GOLDEN_DELAYS: [[f64; 3]; 4] = [
    [1.3616646323723747, 2.510850418534261, 1.8123548978128428],
    [0.7355993441785169, 1.4182099978229932, 1.815423122300186],
    [0.7763854630834421, 1.8491804436879824, 1.1810602673978061],
    [0.943419898340974, 3.0211545754221305, 1.4351515576330618],
];
const GOLDEN_AMOUNTS: [[u64; 6]; 7] = [
    [4, 3, 6, 2, 2, 3],
    [43, 32, 36, 36, 28, 51],
    [2, 2, 3, 1, 1, 2],
    [4, 3, 6, 2, 1, 3],
    [7, 5, 9, 4, 4, 6],
    [87, 71, 78, 77, 66, 90],
    [11, 1, 1, 3, 1, 2],
];

/// Every delay's `cdf` against the share of 40,000 draws at or below three points, and
/// `sample_beyond(e)` against the draws that exceed e (rejection, the definition of the
/// conditional law): both above e, with the same mean within the sampling error.
#[test]
fn delay_cdfs_and_draws_beyond_a_time() {
    let n = 40_000u64;
    let cases = [
        ("uniform", Delay::Uniform(1.0, 5.0), 2.0),
        ("exponential", Delay::Exponential(3.0), 2.0),
        ("triangular", Delay::Triangular(1.0, 2.0, 7.0), 2.5),
        ("lognormal", Delay::Lognormal { median: 3.0, sigma: 0.6 }, 3.5),
    ];
    for (name, d, e) in cases {
        let mut st = s(name);
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut st)).collect();
        for x in [e * 0.7, e, e * 1.6] {
            let share = xs.iter().filter(|&&v| v <= x).count() as f64 / n as f64;
            let f = d.cdf(x);
            assert!(
                (share - f).abs() < 4.0 * (f * (1.0 - f) / n as f64).sqrt() + 1e-9,
                "{name}: F({x}) {f}, share {share}"
            );
        }
        let above: Vec<f64> = xs.iter().copied().filter(|&v| v > e).collect();
        let mut st = s(&format!("{name}-beyond"));
        let ys: Vec<f64> = (0..n).map(|_| d.sample_beyond(e, &mut st)).collect();
        assert!(ys.iter().all(|&y| y >= e), "{name}: a draw at or below {e}");
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let var = |v: &[f64]| {
            let m = mean(v);
            v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64
        };
        let se = (var(&above) / above.len() as f64 + var(&ys) / n as f64).sqrt();
        assert!((mean(&above) - mean(&ys)).abs() < 4.0 * se, "{name}: {} vs {}", mean(&above), mean(&ys));
    }
    // A fixed delay: all or nothing; past it, no draw can exceed the time elapsed.
    assert_eq!((Delay::Fixed(2.0).cdf(1.9), Delay::Fixed(2.0).cdf(2.0)), (0.0, 1.0));
    assert_eq!(Delay::Fixed(2.0).sample_beyond(3.0, &mut s("fixed")), 3.0);
}

/// The ziggurat samplers against their distribution functions, on 2,000,000 draws each:
/// the Kolmogorov-Smirnov distance must be below its 99.9% critical value, 1.95 / sqrt(n)
/// = 0.0014; the tails the ziggurat samples separately (beyond R = 3.654 for |Z|, 7.697
/// for E) must hold their share within 3.29 Poisson standard deviations: P(|Z| > 3.654) =
/// erfc(3.654 / sqrt 2) = 2.58e-4, P(E > 7.697) = e^-7.697 = 4.54e-4; and so must the
/// outermost layer's wedge. A ziggurat that skipped the density test in its wedges fails:
/// the exponential on KS (0.0024), the normal on the wedge (818 draws against 608).
#[test]
fn ziggurat_normal_and_exponential_fit_their_distributions() {
    use brink::sim::ziggurat::{exp1, normal};
    let normal_cdf = |x: f64| 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2);
    let exp_cdf = |x: f64| -libm::expm1(-x);
    type Case<'a> = (&'a str, fn(&mut Stream) -> f64, &'a dyn Fn(f64) -> f64, f64);
    let cases: [Case; 2] = [
        ("normal", normal, &normal_cdf, 3.654_152_885_361_009),
        ("exponential", exp1, &exp_cdf, 7.697_117_470_131_05),
    ];
    for (name, draw, cdf, r) in cases {
        let mut st = s(name);
        let n = 2_000_000;
        let mut xs: Vec<f64> = (0..n).map(|_| draw(&mut st)).collect();
        let beyond = xs.iter().filter(|x| x.abs() > r).count() as f64;
        xs.sort_by(f64::total_cmp);
        let d = xs
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = cdf(x);
                (f - i as f64 / n as f64).abs().max(((i + 1) as f64 / n as f64 - f).abs())
            })
            .fold(0.0, f64::max);
        let critical = 1.95 / (n as f64).sqrt();
        assert!(d < critical, "{name}: KS distance {d} >= {critical}");
        let p = if name == "normal" { libm::erfc(r / std::f64::consts::SQRT_2) } else { (-r).exp() };
        let expected = p * n as f64;
        assert!(
            (beyond - expected).abs() < 3.29 * expected.sqrt(),
            "{name}: {beyond} draws beyond {r}, expected {expected:.0}"
        );
        // The outermost layer's wedge, between its next edge x2 and R, where the density
        // test decides most often: x2 = f^-1(V / R + f(R)).
        let (x2, p_wedge) = if name == "normal" {
            let v = 0.004_928_673_233_99;
            let x2 = (-2.0 * (v / r + (-0.5 * r * r).exp()).ln()).sqrt();
            (x2, 2.0 * (normal_cdf(r) - normal_cdf(x2)))
        } else {
            let v = 0.003_949_659_822_581_557;
            let x2 = -(v / r + (-r).exp()).ln();
            (x2, exp_cdf(r) - exp_cdf(x2))
        };
        let inside = xs.iter().filter(|x| (x2..r).contains(&x.abs())).count() as f64;
        let expected = p_wedge * n as f64;
        assert!(
            (inside - expected).abs() < 3.29 * expected.sqrt(),
            "{name}: {inside} draws in [{x2}, {r}), expected {expected:.0}"
        );
    }
}
