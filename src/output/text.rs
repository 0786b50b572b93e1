//! Numbers as brink writes them for people: the terminal summary, `brink check`, traces,
//! chain labels, charts and report pages share these, so one value reads the same
//! everywhere. (CSV and JSON files keep their own exact formats.)

/// A probability as a percentage: one decimal from 1% up, two significant figures below
/// ("0.83%", "0.042%", "0.0012%"), so a rare level and the bounds of its interval never
/// round together ("0.8% [0.7%, 0.8%]") or to 0.0%. Written for `p` in [0, 1]; a negative
/// `p` (a difference, never a probability) reads the same way by its size.
pub fn pct(p: f64) -> String {
    let x = 100.0 * p;
    if x == 0.0 || !x.is_finite() || x.abs() >= 1.0 {
        return format!("{x:.1}%");
    }
    // Decimals for two significant figures; the rounding itself may carry to the next
    // decade (0.996 -> "1.00"), which reads the same.
    let decimals = (1 - x.abs().log10().floor() as i32).clamp(2, 10) as usize;
    format!("{x:.decimals$}%")
}

/// The decimals [`pct`] gives `p`.
fn pct_decimals(p: f64) -> usize {
    let x = 100.0 * p;
    if x == 0.0 || !x.is_finite() || x.abs() >= 1.0 {
        1
    } else {
        (1 - x.abs().log10().floor() as i32).clamp(2, 10) as usize
    }
}

/// The bounds of an interval around `p`, as percentages: each as [`pct`] prints it, but a
/// bound that differs from `p` and would print like it gets the decimals that tell them
/// apart, so that "1.3% [1.3%, 1.4%]" reads "1.3% [1.28%, 1.4%]". A bound of exactly 0 or
/// 100% is exact and prints as it is.
pub fn pct_bounds(p: f64, lo: f64, hi: f64) -> (String, String) {
    let f = |x: f64, d: usize| format!("{:.d$}", 100.0 * x);
    let bound = |b: f64| {
        // A bound within rounding of the estimate (a Wilson bound of 1 computed as
        // 1.0000000000000002) is the estimate.
        if (b - p).abs() <= 1e-12 {
            return pct(p);
        }
        let mut d = pct_decimals(b);
        if b != 0.0 && b != 1.0 {
            while d < 10 && b != p && f(b, d) == f(p, d) {
                d += 1;
            }
        }
        format!("{}%", f(b, d))
    };
    (bound(lo), bound(hi))
}

/// Two numbers with `decimals` or more (up to 8), as many as tell them apart, so that a
/// bound and a value just under it do not print alike ("0.318 ... this one: 0.318").
pub fn distinct(a: f64, b: f64, decimals: usize) -> (String, String) {
    let mut d = decimals;
    while d < 8 && format!("{a:.d$}") == format!("{b:.d$}") {
        d += 1;
    }
    (format!("{a:.d$}"), format!("{b:.d$}"))
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

/// 100000 -> "100,000".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A value for a table people read: as written when that takes at most 6 significant
/// digits (`0.01016`, `38`, `0.123456`), else rounded to 4 (`0.7749999999999999` ->
/// `0.775`, `0.014802631578947368` -> `0.0148`).
pub fn short(x: f64) -> String {
    let written = exact(x);
    let digits = written.trim_start_matches('-').trim_start_matches(['0', '.']).replace('.', "");
    let digits = digits.trim_end_matches('0').len().max(1);
    if digits <= 6 && !written.contains('e') {
        written
    } else {
        sig(x, 4)
    }
}

/// "1 in N" with N rounded as people say it: whole below 20, else to two significant
/// digits, with thousands separators (`74`, `1,000`, `2,600`).
fn one_in(n: f64) -> String {
    let n = if n < 20.0 {
        n.round()
    } else {
        let step = 10f64.powi(n.log10().floor() as i32 - 1);
        (n / step).round() * step
    };
    format!("1 in {}", thousands(n as u64))
}

/// A probability in words, for a reader who does not think in percentages: `0.005` ->
/// "about 1 in 200", `0.5` -> "about 1 in 2", `0.6` -> "about 6 in 10", `0.93` -> "about
/// 93 in 100". Below 10%, and up to 50% where "1 in N" is within 5% of `p`, it says
/// "1 in N"; otherwise "K in 10" where that is within 2 points, else "K in 100". A
/// probability no trial reached (`p` = 0) says "fewer than 1 in N" from `upper`, the
/// upper end of its interval, and `p` = 1 says "in every trial".
pub fn odds(p: f64, upper: f64) -> String {
    if p.is_nan() || p <= 0.0 {
        return if upper > 0.0 { format!("fewer than {}", one_in(1.0 / upper)) } else { "never".into() };
    }
    if p >= 1.0 {
        return "in every trial".into();
    }
    if p < 0.1 {
        return format!("about {}", one_in(1.0 / p));
    }
    if p <= 0.5 {
        let n = (1.0 / p).round();
        if (1.0 / n - p).abs() <= 0.05 * p {
            return format!("about 1 in {n}");
        }
    }
    let tenths = (10.0 * p).round();
    if (tenths / 10.0 - p).abs() <= 0.02 && tenths < 10.0 {
        return format!("about {tenths} in 10");
    }
    let hundredths = (100.0 * p).round();
    if hundredths >= 100.0 {
        "more than 99 in 100".into()
    } else {
        format!("about {hundredths} in 100")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pct_shows_two_significant_figures_below_one_percent() {
        assert_eq!(pct(0.0), "0.0%");
        assert_eq!(pct(-0.0), "-0.0%");
        assert_eq!(pct(1.0), "100.0%");
        assert_eq!(pct(0.446), "44.6%");
        assert_eq!(pct(0.01), "1.0%");
        // Below 1%: two significant figures, so an interval's bounds stay apart.
        assert_eq!(pct(0.0083), "0.83%");
        assert_eq!(pct(0.0075), "0.75%");
        assert_eq!(pct(0.001), "0.10%");
        assert_eq!(pct(0.00042), "0.042%");
        assert_eq!(pct(0.000_012_3), "0.0012%");
        // The switch is at exactly 1%: the largest double below 0.01 rounds up to "1.00%".
        let below = f64::from_bits(0.01f64.to_bits() - 1);
        assert_eq!(pct(below), "1.00%");
        assert_eq!(pct(-0.0004), "-0.040%");
        assert_eq!(pct(-0.25), "-25.0%");
        assert_eq!(pct(1e-15), "0.0000000000%");
    }

    #[test]
    fn interval_bounds_never_print_like_their_estimate() {
        assert_eq!(pct_bounds(0.0133, 0.0128, 0.0139), ("1.28%".into(), "1.4%".into()));
        assert_eq!(pct_bounds(0.0133, 0.0128, 0.0133), ("1.28%".into(), "1.3%".into()));
        assert_eq!(pct_bounds(0.184, 0.169, 0.199), ("16.9%".into(), "19.9%".into()));
        assert_eq!(pct_bounds(0.007, 0.0056, 0.0088), ("0.56%".into(), "0.88%".into()));
        assert_eq!(pct_bounds(0.038, 0.005, 0.078), ("0.50%".into(), "7.8%".into()));
        // Exact ends print as they are; a bound near one gets its digits.
        assert_eq!(pct_bounds(0.00032, 0.0, 0.0014), ("0.0%".into(), "0.14%".into()));
        assert_eq!(pct_bounds(1.0, 0.99996, 1.0), ("99.996%".into(), "100.0%".into()));
        // A bound that is the estimate up to rounding prints as the estimate (it printed
        // "100.0000000000%" for a Wilson bound of 1 + 2e-16).
        assert_eq!(pct_bounds(1.0, 0.9998, 1.0 + 2e-16), ("99.98%".into(), "100.0%".into()));
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

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(100000), "100,000");
        assert_eq!(thousands(1000000), "1,000,000");
    }

    #[test]
    fn short_keeps_values_as_written_and_rounds_float_noise() {
        assert_eq!(short(0.7749999999999999), "0.775");
        assert_eq!(short(0.8333333333333334), "0.8333");
        assert_eq!(short(0.014802631578947368), "0.0148");
        assert_eq!(short(0.01016), "0.01016");
        assert_eq!(short(0.123456), "0.123456");
        assert_eq!(short(38.0), "38");
        assert_eq!(short(1.0), "1");
        assert_eq!(short(0.0), "0");
        assert_eq!(short(2500.0), "2500");
        assert_eq!(short(-0.25), "-0.25");
        assert_eq!(short(1e-7), "0.0000001");
    }

    #[test]
    fn odds_say_probabilities_in_words() {
        // Hand-written: 1/0.005 = 200; 1/0.5 = 2; 0.93 is 3 points from 9 in 10.
        assert_eq!(odds(0.005, 0.006), "about 1 in 200");
        assert_eq!(odds(0.5, 0.52), "about 1 in 2");
        assert_eq!(odds(0.93, 0.94), "about 93 in 100");
        assert_eq!(odds(0.6, 0.62), "about 6 in 10");
        assert_eq!(odds(0.91, 0.92), "about 9 in 10");
        // 1/0.162 = 6.17 -> 6, and 1/6 = 0.1667 is within 5% of 0.162.
        assert_eq!(odds(0.162, 0.18), "about 1 in 6");
        // 1/0.3 = 3.33 -> 3, but 1/3 is 11% above 0.3: 3 in 10.
        assert_eq!(odds(0.3, 0.32), "about 3 in 10");
        // 0.45: 1 in 2 is 11% off, 5 in 10 is 5 points off.
        assert_eq!(odds(0.45, 0.47), "about 45 in 100");
        assert_eq!(odds(0.0135, 0.02), "about 1 in 74");
        assert_eq!(odds(0.001, 0.0036), "about 1 in 1,000");
        assert_eq!(odds(0.000384, 0.001), "about 1 in 2,600");
        assert_eq!(odds(0.00001, 0.0001), "about 1 in 100,000");
        assert_eq!(odds(0.08, 0.09), "about 1 in 13");
        assert_eq!(odds(0.996, 0.999), "more than 99 in 100");
        assert_eq!(odds(1.0, 1.0), "in every trial");
        // No trial reached it: the Wilson upper bound of 0 in 10,000 trials is
        // 1.96^2 / (10,000 + 1.96^2) = 0.000384, about 1 in 2,604.
        assert_eq!(odds(0.0, 3.8416 / (10_000.0 + 3.8416)), "fewer than 1 in 2,600");
        assert_eq!(odds(0.0, 0.0), "never");
    }
}
