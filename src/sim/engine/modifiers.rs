//! The active modifiers of a trial (docs/scenario-language.md, "Modifiers (`modify`)"): for
//! each step, the multipliers in force on its rate and on its triggers' probabilities,
//! kept so that a modifier starting or ending costs O(1) however many are active.

/// The active modifiers' multipliers of one kind (`rate_x` or `p_x`) on one step, kept
/// as counts per distinct value, so that a modifier starting or ending costs O(1)
/// however many are active (a self-modifying step used to walk them all at every firing).
///
/// The product is the one the engine computed before, bit for bit, whenever at most one
/// active value is not a power of two: the left fold `1 * x * x * ... * x` of k equal
/// values is `powers[k]`, built by that very fold, and a power of two scales a product
/// without rounding, so where it stands in the fold does not matter. Distinct values
/// combine in increasing order (a product of several values may then differ in its last
/// bit from the order in which they started). Powers keep their binary exponent apart, so
/// that a product overflows or underflows only as a whole, never on the way.
#[derive(Debug, Default)]
pub(super) struct Multipliers {
    /// One group per distinct value seen, in increasing order; a group whose count is 0
    /// is re-used for the next new value, so groups do not pile up across trials.
    groups: Vec<Group>,
}

#[derive(Debug, Clone)]
struct Group {
    x: f64,
    count: u32,
    /// `powers[k]` is x^k as the left fold from 1, as (mantissa, exponent) from `frexp`.
    /// Kept across trials: it depends on x only.
    powers: Vec<(f64, i64)>,
}

/// 1 as (mantissa, exponent).
const ONE: (f64, i64) = (0.5, 1);

/// The product of two (mantissa, exponent) numbers, renormalised. The exponent is an
/// i64: 2^32 factors of 1e308 stay far from its range.
#[inline]
fn times((m1, e1): (f64, i64), (m2, e2): (f64, i64)) -> (f64, i64) {
    let (m, e) = libm::frexp(m1 * m2);
    (m, e1 + e2 + e as i64)
}

/// `x` as (mantissa, exponent).
#[inline]
fn split(x: f64) -> (f64, i64) {
    let (m, e) = libm::frexp(x);
    (m, e as i64)
}

impl Multipliers {
    /// Forgets every active modifier (a new trial); the groups and their powers stay.
    pub(super) fn clear(&mut self) {
        for g in &mut self.groups {
            g.count = 0;
        }
    }

    /// A modifier with multiplier `x` starts; returns the new product. `work` counts the
    /// groups and powers visited.
    pub(super) fn start(&mut self, x: f64, work: &mut u64) -> f64 {
        let i = match self.find(x, work) {
            Some(i) => i,
            None => self.add_group(x),
        };
        let g = &mut self.groups[i];
        g.count += 1;
        if g.powers.len() <= g.count as usize {
            let last = g.powers[g.powers.len() - 1];
            g.powers.push(times(last, split(x)));
            *work += 1;
        }
        self.product(work)
    }

    /// A modifier with multiplier `x`, started earlier, ends; returns the new product.
    pub(super) fn end(&mut self, x: f64, work: &mut u64) -> f64 {
        if let Some(i) = self.find(x, work) {
            let g = &mut self.groups[i];
            g.count = g.count.saturating_sub(1);
        }
        self.product(work)
    }

    fn find(&self, x: f64, work: &mut u64) -> Option<usize> {
        *work += self.groups.len() as u64;
        self.groups.iter().position(|g| g.x.to_bits() == x.to_bits())
    }

    /// A group for the new value `x`: a free one re-used, or a new one; in value order.
    fn add_group(&mut self, x: f64) -> usize {
        match self.groups.iter().position(|g| g.count == 0) {
            Some(i) => {
                let g = &mut self.groups[i];
                g.x = x;
                g.powers.clear();
                g.powers.push(ONE);
            }
            None => self.groups.push(Group { x, count: 0, powers: vec![ONE] }),
        }
        self.groups.sort_unstable_by(|a, b| a.x.total_cmp(&b.x));
        self.groups.iter().position(|g| g.x.to_bits() == x.to_bits()).expect("the group just added")
    }

    /// The product of the active multipliers.
    fn product(&self, work: &mut u64) -> f64 {
        *work += self.groups.len() as u64;
        let mut acc = ONE;
        for g in self.groups.iter().filter(|g| g.count > 0) {
            acc = times(acc, g.powers[g.count as usize]);
        }
        // Beyond +-4000 every mantissa over- or underflows alike.
        libm::ldexp(acc.0, acc.1.clamp(-4000, 4000) as i32)
    }
}

impl Clone for Multipliers {
    fn clone(&self) -> Self {
        Multipliers { groups: self.groups.clone() }
    }

    /// Reuses the groups' buffer: continuing a paused trial allocates nothing (and a step
    /// no modifier ever touched costs one comparison).
    fn clone_from(&mut self, o: &Self) {
        if !(self.groups.is_empty() && o.groups.is_empty()) {
            self.groups.clone_from(&o.groups);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The left fold over the active multipliers in the order they started: what the
    /// engine computed before modifiers were grouped.
    fn left_fold(active: &[f64]) -> f64 {
        active.iter().fold(1.0, |acc, &x| acc * x)
    }

    /// Random starts and ends (in any order) of multipliers among one value that is not a
    /// power of two and powers of two: the grouped product equals the left fold bit for
    /// bit, and the work stays a few groups per change.
    #[test]
    fn grouped_products_equal_the_left_fold() {
        let mut seed = 99u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for (case, odd) in [1.000001, 1.3, 0.7, 3.0, 1.1e-3, 17.25, 0.0].into_iter().enumerate() {
            let values = [odd, 2.0, 0.5, 0.25, 4.0];
            let mut m = Multipliers::default();
            let mut active: Vec<f64> = Vec::new();
            let mut work = 0;
            for change in 0..20_000 {
                // At most 40 active, so that the left fold stays within the normal range.
                let product = if active.is_empty() || (active.len() < 40 && next() % 2 == 0) {
                    let x = values[(next() % 5) as usize];
                    let x = if next() % 2 == 0 { odd } else { x };
                    active.push(x);
                    m.start(x, &mut work)
                } else {
                    let x = active.remove((next() % active.len() as u64) as usize);
                    m.end(x, &mut work)
                };
                let want = left_fold(&active);
                assert_eq!(
                    product.to_bits(),
                    want.to_bits(),
                    "case {case}, change {change}: {product} vs {want}"
                );
            }
            assert!(work < 20_000 * 20, "{work}");
            // A new trial forgets the active modifiers.
            m.clear();
            assert_eq!(m.start(odd, &mut work).to_bits(), odd.to_bits());
        }
    }

    /// A thousand doublings and a thousand halvings cancel, in whatever order they start,
    /// instead of overflowing to infinity on the way (infinity x 0.5^k stays infinite).
    #[test]
    fn products_do_not_overflow_on_the_way() {
        let mut m = Multipliers::default();
        let mut work = 0;
        for _ in 0..3000 {
            m.start(2.0, &mut work);
        }
        assert_eq!(m.product(&mut work), f64::INFINITY);
        for _ in 0..3000 {
            m.start(0.5, &mut work);
        }
        assert_eq!(m.product(&mut work), 1.0);
        m.start(3.0, &mut work);
        m.start(0.0, &mut work);
        assert_eq!(m.product(&mut work), 0.0);
    }
}
