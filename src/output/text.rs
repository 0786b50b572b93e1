//! Numbers as brink writes them for people: the terminal summary, `brink check`, traces,
//! chain labels, charts and report pages share these, so one value reads the same
//! everywhere. (CSV and JSON files keep their own exact formats.)

/// A probability as a percentage with one decimal, or three below 0.1%, so that a rare
/// level does not read as 0.0%. Written for `p` in [0, 1]; a negative `p` (never a
/// probability) keeps three decimals while it is within 0.1% of zero.
pub fn pct(p: f64) -> String {
    let x = 100.0 * p;
    if x != 0.0 && x.abs() < 0.1 {
        format!("{x:.3}%")
    } else {
        format!("{x:.1}%")
    }
}

/// A scenario number as written in a scenario file: up to 6 decimals, no trailing zeros.
pub fn num(x: f64) -> String {
    let t = format!("{x:.6}");
    t.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A number as the shortest text that reads back to the same f64 (for files that other
/// tools and brink read back, such as `params.toml`); empty for NaN.
pub fn exact(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else if x.is_infinite() {
        if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else {
        format!("{x}")
    }
}

/// A number rounded to `digits` significant digits (at most 12 decimals), for the tables
/// people read.
pub fn sig(x: f64, digits: i32) -> String {
    if !x.is_finite() || x == 0.0 {
        return exact(x);
    }
    let digits = (digits - 1 - x.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let t = format!("{x:.digits$}");
    let t = if t.contains('.') { t.trim_end_matches('0').trim_end_matches('.').to_owned() } else { t };
    exact(t.parse().unwrap_or(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pct_shows_rare_levels_with_three_decimals() {
        assert_eq!(pct(0.0), "0.0%");
        assert_eq!(pct(-0.0), "-0.0%");
        assert_eq!(pct(1.0), "100.0%");
        assert_eq!(pct(0.446), "44.6%");
        assert_eq!(pct(0.00042), "0.042%");
        // The switch is at exactly 0.1%: 100 * p rounds below 0.1 for every double below
        // 0.001 and not for 0.001 itself, so a test on p or on 100 * p agrees.
        assert_eq!(pct(0.001), "0.1%");
        let below = f64::from_bits(0.001f64.to_bits() - 1);
        assert_eq!(pct(below), "0.100%");
        assert_eq!(pct(-0.0004), "-0.040%");
        assert_eq!(pct(-0.25), "-25.0%");
    }

    #[test]
    fn num_drops_trailing_zeros() {
        assert_eq!(num(0.0), "0");
        assert_eq!(num(2.0), "2");
        assert_eq!(num(0.25), "0.25");
        assert_eq!(num(1.0 / 3.0), "0.333333");
        assert_eq!(num(30.4375), "30.4375");
        assert_eq!(num(1e-7), "0");
    }

    #[test]
    fn exact_numbers_read_back_and_sig_rounds_for_people() {
        assert_eq!(exact(0.1), "0.1");
        assert_eq!(exact(f64::NAN), "");
        assert_eq!(sig(0.123456789, 6), "0.123457");
        assert_eq!(sig(1234.56789, 6), "1234.57");
        assert_eq!(sig(40.5, 6), "40.5");
        assert_eq!(sig(3.0, 6), "3");
        assert_eq!(sig(0.000123456, 3), "0.000123");
    }
}
