//! Parameters known only as distributions (docs/scenario-language.md, params as distributions).
//!
//! A param may be a number or a distribution such as `{ beta = [4, 1] }`. In the default
//! *predictive* mode every trial draws its own param values, from a stream keyed by the
//! param's name, before it starts: outputs then integrate over parameter uncertainty.
//!
//! The compiled model is built once with every uncertain param at its mean. To let a
//! trial re-use it with other values, the compiler finds which numeric fields of the
//! model each uncertain param feeds (by compiling with two values and comparing), and
//! the engine overwrites exactly those fields per trial ([`Model::patch`](crate::sim::model::Model::patch)), then
//! recomputes what derives from them (the `"rest"` branch and branch tables).

use crate::sim::dist::{gamma, normal};
use crate::sim::rng::Stream;

/// A distribution of a param's value.
#[derive(Debug, Clone, Copy, PartialEq)]
#[allow(missing_docs)] // each variant's doc names its fields
pub enum ParamDist {
    /// Beta(a, b) on [0, 1].
    Beta { a: f64, b: f64 },
    /// Gamma with this mean and shape k (variance mean^2 / k).
    Gamma { mean: f64, shape: f64 },
    /// Uniform on [lo, hi].
    Uniform { lo: f64, hi: f64 },
    /// Triangular on [min, max] with this mode.
    Triangular { min: f64, mode: f64, max: f64 },
    /// PERT: min + (max - min) Beta(1 + 4 (mode - min)/(max - min), 1 + 4 (max - mode)/(max - min)).
    Pert { min: f64, mode: f64, max: f64 },
    /// median x exp(sigma Z).
    Lognormal { median: f64, sigma: f64 },
}

impl ParamDist {
    /// Reads a distribution table such as `{ beta = [4, 1] }`.
    pub fn from_value(v: &toml::Value) -> Result<ParamDist, String> {
        let t = v.as_table().ok_or("a param distribution is a table such as { beta = [4, 1] }")?;
        if t.len() != 1 {
            return Err("a param distribution has exactly one key: beta, gamma, uniform, triangular, pert or lognormal".into());
        }
        let (k, x) = t.iter().next().ok_or("empty table")?;
        let num = |v: &toml::Value| -> Result<f64, String> {
            v.as_float()
                .or_else(|| v.as_integer().map(|i| i as f64))
                .ok_or_else(|| format!("`{k}` takes numbers"))
        };
        let list = |n: usize| -> Result<Vec<f64>, String> {
            let a = x.as_array().ok_or_else(|| format!("`{k}` takes a list of {n} numbers"))?;
            if a.len() != n {
                return Err(format!("`{k}` takes {n} numbers, got {}", a.len()));
            }
            a.iter().map(num).collect()
        };
        let field = |name: &str| -> Result<f64, String> {
            let t = x.as_table().ok_or_else(|| format!("`{k}` takes a table"))?;
            if let Some(extra) =
                t.keys().find(|key| !["mean", "shape", "median", "sigma"].contains(&key.as_str()))
            {
                return Err(format!("unknown key `{extra}` in `{k}`"));
            }
            t.get(name).ok_or_else(|| format!("`{k}` needs `{name}`")).and_then(num)
        };
        let d = match k.as_str() {
            "beta" => {
                let v = list(2)?;
                ParamDist::Beta { a: v[0], b: v[1] }
            }
            "gamma" => ParamDist::Gamma { mean: field("mean")?, shape: field("shape")? },
            "uniform" => {
                let v = list(2)?;
                ParamDist::Uniform { lo: v[0], hi: v[1] }
            }
            "triangular" => {
                let v = list(3)?;
                ParamDist::Triangular { min: v[0], mode: v[1], max: v[2] }
            }
            "pert" => {
                let v = list(3)?;
                ParamDist::Pert { min: v[0], mode: v[1], max: v[2] }
            }
            "lognormal" => ParamDist::Lognormal { median: field("median")?, sigma: field("sigma")? },
            other => {
                return Err(format!(
                    "unknown param distribution `{other}`: use beta, gamma, uniform, triangular, pert or lognormal"
                ))
            }
        };
        d.check()?;
        Ok(d)
    }

    /// Whether the parameters make a distribution.
    fn check(&self) -> Result<(), String> {
        let finite = |xs: &[f64]| xs.iter().all(|x| x.is_finite());
        let ok = match *self {
            ParamDist::Beta { a, b } => finite(&[a, b]) && a > 0.0 && b > 0.0,
            ParamDist::Gamma { mean, shape } => finite(&[mean, shape]) && mean > 0.0 && shape > 0.0,
            ParamDist::Uniform { lo, hi } => finite(&[lo, hi]) && lo <= hi,
            ParamDist::Triangular { min, mode, max } | ParamDist::Pert { min, mode, max } => {
                finite(&[min, mode, max]) && min <= mode && mode <= max && min < max
            }
            ParamDist::Lognormal { median, sigma } => {
                finite(&[median, sigma]) && median > 0.0 && sigma >= 0.0
            }
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "invalid {}: beta needs a, b > 0; gamma mean, shape > 0; uniform lo <= hi; triangular and pert min <= mode <= max with min < max; lognormal median > 0, sigma >= 0",
                self.describe()
            ))
        }
    }

    /// The mean (the value the model is compiled and displayed with).
    pub fn mean(&self) -> f64 {
        match *self {
            ParamDist::Beta { a, b } => a / (a + b),
            ParamDist::Gamma { mean, .. } => mean,
            ParamDist::Uniform { lo, hi } => (lo + hi) / 2.0,
            ParamDist::Triangular { min, mode, max } => (min + mode + max) / 3.0,
            ParamDist::Pert { min, mode, max } => (min + 4.0 * mode + max) / 6.0,
            ParamDist::Lognormal { median, sigma } => median * libm::exp(sigma * sigma / 2.0),
        }
    }

    /// The variance.
    pub fn variance(&self) -> f64 {
        match *self {
            ParamDist::Beta { a, b } => a * b / ((a + b).powi(2) * (a + b + 1.0)),
            ParamDist::Gamma { mean, shape } => mean * mean / shape,
            ParamDist::Uniform { lo, hi } => (hi - lo).powi(2) / 12.0,
            ParamDist::Triangular { min, mode, max } => {
                (min * min + mode * mode + max * max - min * mode - min * max - mode * max) / 18.0
            }
            ParamDist::Pert { min, mode, max } => {
                let (a, b) = pert_shape(min, mode, max);
                a * b / ((a + b).powi(2) * (a + b + 1.0)) * (max - min).powi(2)
            }
            ParamDist::Lognormal { median, sigma } => {
                let s2 = sigma * sigma;
                (libm::exp(s2) - 1.0) * median * median * libm::exp(s2)
            }
        }
    }

    /// The smallest and largest values it can take (infinite for gamma and lognormal).
    pub fn support(&self) -> (f64, f64) {
        match *self {
            ParamDist::Beta { .. } => (0.0, 1.0),
            ParamDist::Gamma { .. } | ParamDist::Lognormal { .. } => (0.0, f64::INFINITY),
            ParamDist::Uniform { lo, hi } => (lo, hi),
            ParamDist::Triangular { min, max, .. } | ParamDist::Pert { min, max, .. } => (min, max),
        }
    }

    /// Draws one value.
    pub fn sample(&self, s: &mut Stream) -> f64 {
        match *self {
            ParamDist::Beta { a, b } => beta(s, a, b),
            ParamDist::Gamma { mean, shape } => gamma(s, shape) * mean / shape,
            ParamDist::Uniform { lo, hi } => lo + (hi - lo) * s.uniform(),
            ParamDist::Triangular { min, mode, max } => {
                let u = s.uniform();
                let fc = (mode - min) / (max - min);
                if u < fc {
                    min + libm::sqrt(u * (max - min) * (mode - min))
                } else {
                    max - libm::sqrt((1.0 - u) * (max - min) * (max - mode))
                }
            }
            ParamDist::Pert { min, mode, max } => {
                let (a, b) = pert_shape(min, mode, max);
                min + (max - min) * beta(s, a, b)
            }
            ParamDist::Lognormal { median, sigma } => median * libm::exp(sigma * normal(s)),
        }
    }

    /// The file's syntax, for reports.
    pub fn describe(&self) -> String {
        match *self {
            ParamDist::Beta { a, b } => format!("beta({a}, {b})"),
            ParamDist::Gamma { mean, shape } => format!("gamma(mean {mean}, shape {shape})"),
            ParamDist::Uniform { lo, hi } => format!("uniform({lo}, {hi})"),
            ParamDist::Triangular { min, mode, max } => format!("triangular({min}, {mode}, {max})"),
            ParamDist::Pert { min, mode, max } => format!("pert({min}, {mode}, {max})"),
            ParamDist::Lognormal { median, sigma } => format!("lognormal(median {median}, sigma {sigma})"),
        }
    }
}

fn pert_shape(min: f64, mode: f64, max: f64) -> (f64, f64) {
    (1.0 + 4.0 * (mode - min) / (max - min), 1.0 + 4.0 * (max - mode) / (max - min))
}

/// Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b).
fn beta(s: &mut Stream, a: f64, b: f64) -> f64 {
    let x = gamma(s, a);
    let y = gamma(s, b);
    if x + y == 0.0 {
        return a / (a + b);
    }
    x / (x + y)
}

/// A param that each trial draws, and the model fields it feeds.
#[derive(Debug, Clone, PartialEq)]
pub struct Uncertain {
    /// Index into [`Model::params`](crate::sim::model::Model::params).
    pub param: usize,
    /// Its distribution.
    pub dist: ParamDist,
    /// Indices of the numeric fields (in [`Model::visit_numbers`](crate::sim::model::Model::visit_numbers) order) it sets.
    pub fields: Vec<usize>,
}

/// Where a param came from, for the report's provenance table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Provenance {
    /// Its distribution, if uncertain.
    pub dist: Option<ParamDist>,
    /// `source = "..."`.
    pub source: Option<String>,
    /// `note = "..."`.
    pub note: Option<String>,
}
