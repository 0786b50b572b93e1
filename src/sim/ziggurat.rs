//! Standard normal and unit exponential variates by the ziggurat method (Marsaglia and
//! Tsang 2000, "The Ziggurat Method for Generating Random Variables", with 256 layers and
//! the layer and the uniform taken from one 64-bit word, as rand_distr does).
//!
//! Why: Box-Muller (`log`, `sqrt` and `cos` for every normal) and `-ln U` for every
//! exponential were most of the cost of a trial's param draws (gamma and beta variates
//! draw normals) and a share of every waiting time. A ziggurat draw is one word, one
//! table look-up, a multiply and a compare in 98.8% (normal) and 98.9% (exponential) of
//! draws; only the rest evaluate the density. It is exact: each layer has the same area,
//! the wedges are accepted against the density itself and the tails are sampled
//! exactly (Marsaglia 1964 for the normal's).
//!
//! The tables are computed once, with `libm`, so that they (and every draw) are the same
//! bits on every platform; `tests/reference/ziggurat.py` rebuilds them independently.

use crate::sim::rng::Stream;
use std::sync::OnceLock;

/// Layers of both ziggurats.
const LAYERS: usize = 256;

/// The normal ziggurat's rightmost layer edge R and the common area V of its layers
/// (Marsaglia and Tsang 2000, table for 256 layers).
const NORMAL_R: f64 = 3.654_152_885_361_009;
const NORMAL_V: f64 = 0.004_928_673_233_99;

/// The exponential ziggurat's R and V (same source).
const EXP_R: f64 = 7.697_117_470_131_05;
const EXP_V: f64 = 0.003_949_659_822_581_557;

/// A ziggurat's layer edges x[0..=256] (x[0] = V / f(R), the width of the base strip
/// taken as a rectangle; x[1] = R; x[256] = 0) and the density at each, f[i] = f(x[i]).
struct Table {
    x: [f64; LAYERS + 1],
    f: [f64; LAYERS + 1],
}

impl Table {
    /// Builds the table of the density `f` (decreasing on [0, inf), f(0) = 1) whose
    /// inverse is `f_inv`, by the equal-area recurrence x[i+1] = f_inv(V / x[i] + f(x[i])).
    fn build(r: f64, v: f64, f: impl Fn(f64) -> f64, f_inv: impl Fn(f64) -> f64) -> Table {
        let mut t = Table { x: [0.0; LAYERS + 1], f: [0.0; LAYERS + 1] };
        t.x[0] = v / f(r);
        t.x[1] = r;
        for i in 1..LAYERS - 1 {
            t.x[i + 1] = f_inv(v / t.x[i] + f(t.x[i]));
        }
        t.x[LAYERS] = 0.0;
        for i in 0..=LAYERS {
            t.f[i] = f(t.x[i]);
        }
        t.f[LAYERS] = 1.0;
        t
    }
}

fn normal_density(x: f64) -> f64 {
    libm::exp(-0.5 * x * x)
}

fn normal_table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| Table::build(NORMAL_R, NORMAL_V, normal_density, |y| libm::sqrt(-2.0 * libm::log(y))))
}

fn exp_table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| Table::build(EXP_R, EXP_V, |x| libm::exp(-x), |y| -libm::log(y)))
}

/// A float in [1, 2) from the top 52 of a word's bits (the low 8 choose the layer).
#[inline(always)]
fn one_to_two(bits: u64) -> f64 {
    f64::from_bits(0x3ff0_0000_0000_0000 | (bits >> 12))
}

/// A standard normal variate.
#[inline]
pub fn normal(s: &mut Stream) -> f64 {
    let t = normal_table();
    loop {
        let bits = s.next_u64();
        let i = (bits & 0xff) as usize;
        // Uniform on [-1, 1): the sign is the variate's.
        let u = 2.0 * one_to_two(bits) - 3.0;
        let x = u * t.x[i];
        if x.abs() < t.x[i + 1] {
            return x;
        }
        if i == 0 {
            // The tail beyond R (Marsaglia 1964): exact, and rare (about 1 draw in 3,900).
            let (mut a, mut b) = (1.0f64, 0.0f64);
            while -2.0 * b < a * a {
                a = libm::log(s.uniform_open0()) / NORMAL_R;
                b = libm::log(s.uniform_open0());
            }
            return if u < 0.0 { a - NORMAL_R } else { NORMAL_R - a };
        }
        // The wedge between this layer's rectangle and the curve: accept under the curve.
        if t.f[i + 1] + (t.f[i] - t.f[i + 1]) * s.uniform() < normal_density(x) {
            return x;
        }
    }
}

/// A unit exponential variate (mean 1).
#[inline]
pub fn exp1(s: &mut Stream) -> f64 {
    let t = exp_table();
    loop {
        let bits = s.next_u64();
        let i = (bits & 0xff) as usize;
        let x = (one_to_two(bits) - 1.0) * t.x[i];
        if x < t.x[i + 1] {
            return x;
        }
        if i == 0 {
            // Memoryless tail: R plus a fresh exponential.
            return EXP_R - libm::log(s.uniform_open0());
        }
        if t.f[i + 1] + (t.f[i] - t.f[i + 1]) * s.uniform() < libm::exp(-x) {
            return x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The equal-area recurrence closes: the top layer's edge lands at 0 within rounding
    /// (its area then equals the others'), which checks R and V as a pair. And each layer
    /// holds the same area V: x[i] (f[i+1] - f[i]) for the layers above the base.
    #[test]
    fn the_tables_have_equal_layers_that_close_at_zero() {
        for (name, t, v) in [("normal", normal_table(), NORMAL_V), ("exponential", exp_table(), EXP_V)] {
            // The layer below the top, x[255], leaves a top layer of area V: x[255] (1 - f[255]).
            let top = t.x[LAYERS - 1] * (1.0 - t.f[LAYERS - 1]);
            assert!((top - v).abs() < 1e-9 * v.max(1.0) + 1e-12, "{name}: top layer {top} vs {v}");
            for i in 1..LAYERS - 1 {
                let area = t.x[i] * (t.f[i + 1] - t.f[i]);
                assert!((area - v).abs() < 1e-12, "{name}: layer {i} has area {area}");
            }
            assert!(t.x.windows(2).all(|w| w[0] > w[1]), "{name}: edges decrease");
        }
        // The published edges (Marsaglia and Tsang's table): x[0] = V / f(R).
        assert!((normal_table().x[0] - 3.910_757_959_537_09).abs() < 1e-12);
        assert!((exp_table().x[0] - 8.697_117_470_131_05).abs() < 1e-12);
    }
}
