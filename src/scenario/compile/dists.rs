//! Distributions in a scenario: which kind fits where (delays vs tally amounts), their
//! parameters' ranges, and their resolution into [`Delay`] and [`Amount`].

use super::*;

impl Ctx {
    fn pair(&mut self, d: &Spanned<Dist>, v: &[Spanned<NumRef>], n: usize) -> bool {
        if v.len() != n {
            let name = d.get_ref().name();
            self.err(d.span(), format!("`{name}` takes {n} numbers, got {}", v.len()));
            return false;
        }
        true
    }

    pub(super) fn delay(&mut self, d: &Spanned<Dist>, what: &str) -> Option<Delay> {
        let nn = Range01::NonNeg;
        match d.get_ref() {
            Dist::Fixed(x) => Some(Delay::Fixed(self.num(x, what, nn)?)),
            Dist::Exponential(m) => Some(Delay::Exponential(self.num(m, &format!("{what} mean"), nn)?)),
            Dist::Uniform(v) => {
                if !self.pair(d, v, 2) {
                    return None;
                }
                let a = self.num(&v[0], what, nn);
                let b = self.num(&v[1], what, nn);
                let (a, b) = (a?, b?);
                if a > b {
                    self.err(d.span(), format!("{what}: uniform [a, b] needs a <= b, got [{a}, {b}]"));
                    return None;
                }
                Some(Delay::Uniform(a, b))
            }
            Dist::Triangular(v) => {
                if !self.pair(d, v, 3) {
                    return None;
                }
                let a = self.num(&v[0], what, nn);
                let c = self.num(&v[1], what, nn);
                let b = self.num(&v[2], what, nn);
                let (a, c, b) = (a?, c?, b?);
                if !(a <= c && c <= b) {
                    self.err(d.span(), format!("{what}: triangular [min, mode, max] needs min <= mode <= max, got [{a}, {c}, {b}]"));
                    return None;
                }
                Some(Delay::Triangular(a, c, b))
            }
            Dist::Lognormal { median, sigma } => {
                let m = self.num(median, &format!("{what} median"), nn);
                let s = self.num(sigma, &format!("{what} sigma"), nn);
                Some(Delay::Lognormal { median: m?, sigma: s? })
            }
            other => {
                self.err(
                    d.span(),
                    format!("{what}: `{}` is a distribution of counts, not of delays", other.name()),
                )
                .hint("a delay (days) takes fixed, uniform, exponential, triangular or lognormal");
                None
            }
        }
    }

    pub(super) fn amount(&mut self, d: &Spanned<Dist>, what: &str) -> Option<Amount> {
        let nn = Range01::NonNeg;
        match d.get_ref() {
            Dist::Fixed(x) => Some(Amount::Fixed(self.whole(x, what)?)),
            Dist::Poisson(m) => Some(Amount::Poisson(self.num(m, &format!("{what} mean"), nn)?)),
            Dist::PoissonAtLeastOne(m) => {
                let m = self.num(m, &format!("{what} mean"), nn)?;
                if m < 1.0 {
                    self.err(d.span(), format!("{what}: poisson_at_least_one needs mean >= 1 (it is 1 + Poisson(mean - 1)), got {m}"))
                        .hint("use { poisson = mean } for means below 1");
                    return None;
                }
                Some(Amount::PoissonAtLeastOne(m))
            }
            Dist::UniformInt(v) => {
                if !self.pair(d, v, 2) {
                    return None;
                }
                let a = self.whole(&v[0], what);
                let b = self.whole(&v[1], what);
                let (a, b) = (a?, b?);
                if a > b {
                    self.err(d.span(), format!("{what}: uniform_int [a, b] needs a <= b, got [{a}, {b}]"));
                    return None;
                }
                Some(Amount::UniformInt(a, b))
            }
            Dist::Binomial { n, p } => {
                let n = self.whole(n, &format!("{what} n"));
                let p = self.num(p, &format!("{what} p"), Range01::Prob);
                Some(Amount::Binomial(n?, p?))
            }
            Dist::NegativeBinomial { mean, dispersion } => {
                let m = self.num(mean, &format!("{what} mean"), nn);
                let k = self.num(dispersion, &format!("{what} dispersion"), Range01::Positive);
                Some(Amount::NegativeBinomial { mean: m?, dispersion: k? })
            }
            other => {
                self.err(d.span(), format!("{what}: `{}` is a distribution of delays, not of counts", other.name()))
                    .hint("a tally amount takes fixed, poisson, poisson_at_least_one, uniform_int, binomial or negative_binomial");
                None
            }
        }
    }
}
