//! `tallies`: one exceedance curve per tally, P(total >= x) on a log axis with its 95%
//! Wilson band, so the tails are visible: a 0.04% chance of 300 airliner deaths is a
//! plateau three decades down, where a histogram showed nothing. The curve ends in a dot
//! at the largest total any trial had.

use super::{
    decade_pct, err, header, log_axis, log_floor, pct, wrap, DrawResult, Style, BLUE, GREY, INK, LIGHT,
};
use crate::output::results::{Results, TallyRow};
use crate::output::text::thousands;
use crate::sim::stats::{wilson, Z95};
use plotters::coord::Shift;
use plotters::prelude::*;

pub(super) fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Results, s: &Style) -> DrawResult {
    let body = header(root, s, "how likely each total is, or more (exceedance, log scale)", r)?;
    let n = r.tallies.len();
    if n == 0 {
        let text =
            Text::new("this scenario has no tallies", (s.px(24.0) as i32, s.px(20.0) as i32), s.label());
        body.draw(&text).map_err(err)?;
        return Ok(());
    }
    let curves: Vec<Exceedance> = r
        .tallies
        .iter()
        .map(|t| {
            exceedance(
                r.tally_distribution.iter().filter(|d| d.tally == t.tally).map(|d| (d.value, d.trials)),
            )
        })
        .collect();
    // A two-loop folder pools every parameter draw's run of the same trials: they are not
    // independent, so a Wilson band on the pooled count would be far too narrow, and none
    // is drawn (as in time_to_level).
    let banded = r.two_loop().is_none();
    // One floor for every panel, so their heights compare: the decade below the smallest
    // lower bound of any band (or value, unbanded).
    let low = |st: &(u64, u64), c: &Exceedance| {
        if banded {
            wilson(st.1, c.trials, Z95).0
        } else {
            st.1 as f64 / c.trials.max(1) as f64
        }
    };
    let lo = log_floor(curves.iter().flat_map(|c| c.steps.iter().map(move |st| low(st, c))), 0).min(-1);
    let cols = match n {
        1 => 1,
        2..=4 => 2,
        5..=9 => 3,
        _ => 4,
    };
    let rows = n.div_ceil(cols);
    let (legend, grid) = body.split_vertically(s.px(28.0));
    legend_line(&legend, s, banded)?;
    let panels = grid.split_evenly((rows, cols));
    // The trials that are independent of one another: a two-loop run's trials per draw.
    let independent = r.two_loop().map_or(r.manifest.trials, |(_, n)| n);
    // Every title gets the lines the longest needs (up to 3), so the plots line up.
    let title_lines = r
        .tallies
        .iter()
        .zip(panels.iter())
        .map(|(t, p)| {
            wrap(p, &t.label, &s.bold(15.0), p.dim_in_pixel().0 as i32 - s.px(24.0) as i32, 3).len()
        })
        .max()
        .unwrap_or(1);
    for ((t, c), panel) in r.tallies.iter().zip(&curves).zip(panels.iter()) {
        panel_chart(panel, t, c, lo, (independent, title_lines), banded, s)?;
    }
    Ok(())
}

/// A tally's exceedance curve: for each total v > 0 that occurred, in increasing order,
/// the number of trials whose total was at least v; and the number of trials.
#[derive(Debug, PartialEq)]
struct Exceedance {
    steps: Vec<(u64, u64)>,
    trials: u64,
}

/// The exceedance curve of a distribution given as (total, trials) rows in increasing
/// order of the total (as `tally_distribution.csv` holds it).
fn exceedance(dist: impl Iterator<Item = (u64, u64)>) -> Exceedance {
    let rows: Vec<(u64, u64)> = dist.collect();
    let trials = rows.iter().map(|r| r.1).sum();
    let mut above = trials;
    let mut steps = Vec::new();
    for (v, k) in rows {
        if v > 0 {
            steps.push((v, above));
        }
        above -= k;
    }
    Exceedance { steps, trials }
}

fn legend_line<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: &Style, banded: bool) -> DrawResult {
    let x = s.px(24.0) as i32;
    let y = s.px(12.0) as i32;
    let len = s.px(24.0) as i32;
    let half = s.px(6.0) as i32;
    let stroke = s.px(2.0).max(1);
    let font = s.font(14.0);
    let mid = plotters::style::text_anchor::Pos::new(
        plotters::style::text_anchor::HPos::Left,
        plotters::style::text_anchor::VPos::Center,
    );
    if banded {
        area.draw(&Rectangle::new([(x, y - half), (x + len, y + half)], BLUE.mix(0.2).filled()))
            .map_err(err)?;
    }
    area.draw(&PathElement::new(vec![(x, y), (x + len, y)], BLUE.stroke_width(stroke))).map_err(err)?;
    let text = if banded {
        "share of trials with a total of at least x, and its 95% Wilson band (log scale)"
    } else {
        "pooled share of trials with a total of at least x over all parameter draws (log scale; no Monte Carlo band: the draws share their trials)"
    };
    area.draw(&Text::new(text, (x + len + s.px(6.0) as i32, y), font.clone().pos(mid))).map_err(err)?;
    let tw = area.estimate_text_size(text, &font).map(|(w, _)| w as i32).unwrap_or(0);
    let x2 = x + len + s.px(30.0) as i32 + tw;
    let radius = s.px(4.0).max(2) as i32;
    area.draw(&Circle::new((x2, y), radius, INK.filled())).map_err(err)?;
    area.draw(&Text::new("largest total seen", (x2 + s.px(10.0) as i32, y), font.pos(mid))).map_err(err)?;
    Ok(())
}

fn panel_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    t: &TallyRow,
    c: &Exceedance,
    lo: i32,
    shape: (u64, usize),
    banded: bool,
    s: &Style,
) -> DrawResult {
    let (pw, _) = area.dim_in_pixel();
    let text_w = pw as i32 - s.px(24.0) as i32;
    // The title wraps to two lines rather than being cut.
    let (independent, title_lines) = shape;
    let title = wrap(area, &t.label, &s.bold(15.0), text_w, title_lines);
    let line = s.px(18.0) as i32;
    let head_h = line * title_lines as i32 + s.px(26.0) as i32;
    let (head, plot) = area.split_vertically(head_h);
    for (i, l) in title.iter().enumerate() {
        let at = (s.px(12.0) as i32, s.px(4.0) as i32 + line * i as i32);
        head.draw(&Text::new(l.as_str(), at, s.bold(15.0))).map_err(err)?;
    }
    let max = c.steps.last().map(|st| st.0);
    let p_any = c.steps.first().map_or(0.0, |st| st.1 as f64 / c.trials.max(1) as f64);
    let note = match max {
        Some(m) => format!("P(any) {} · mean {:.2} · largest {}", pct(p_any), t.mean, thousands(m)),
        // Below the Wilson bound for none of the independent trials (a two-loop run's
        // draws share theirs: its trials per draw).
        None if banded => {
            let (_, hi) = wilson(0, independent, Z95);
            format!("0 in all {} trials (P(any) below {})", thousands(independent), pct(hi))
        }
        None => {
            let (_, hi) = wilson(0, independent, Z95);
            format!("0 in every draw's {} trials (P(any) below {})", thousands(independent), pct(hi))
        }
    };
    let note = super::fit(area, &note, &s.font(13.0), text_w);
    let note_y = s.px(4.0) as i32 + line * title.len() as i32 + s.px(2.0) as i32;
    head.draw(&Text::new(note, (s.px(12.0) as i32, note_y), s.font(13.0).color(&GREY))).map_err(err)?;

    let xmax = max.map_or(1.0, |m| (m as f64 * 1.06).max(1.0));
    // A short panel labels every other decade (or fewer), and drops the light gridlines,
    // so the tick labels never touch.
    let (_, plot_h) = plot.dim_in_pixel();
    let per_decade = (plot_h as f64 - f64::from(s.px(52.0))) / f64::from(-lo);
    let every = (f64::from(s.px(17.0)) / per_decade.max(1.0)).ceil().max(1.0) as i32;
    let mut axis = log_axis(lo, 0, 0.05);
    if per_decade < f64::from(s.px(30.0)) {
        axis.light.clear();
    }
    let mut chart = s.panel(&plot).build_cartesian_2d(0.0..xmax, axis).map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(0xf0, 0xf0, 0xf0))
        .bold_line_style(LIGHT)
        .x_labels(6)
        .x_label_formatter(&|x| {
            if *x >= 0.0 && x.fract().abs() < 1e-9 {
                thousands(*x as u64)
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|y| if (y.round() as i32) % every == 0 { decade_pct(*y) } else { String::new() })
        .x_desc(format!("x: {} per trial", t.tally))
        .axis_desc_style(s.font(13.0))
        .label_style(s.font(12.0))
        .draw()
        .map_err(err)?;
    let Some(max) = max else { return Ok(()) };
    let n = c.trials.max(1);
    let y = |k: u64| (k as f64 / n as f64).log10();
    let bound = |k: u64, upper: bool| {
        let (a, b) = wilson(k, n, Z95);
        (if upper { b } else { a }).max(1e-300).log10().max(f64::from(lo))
    };
    // The staircase: P(total >= x) is 1 at x = 0, then k_j / n on (v_{j-1}, v_j].
    let mut curve = vec![(0.0, 0.0)];
    let mut upper = vec![(0.0, 0.0)];
    let mut lower = vec![(0.0, 0.0)];
    let mut prev = 0.0;
    for &(v, k) in &c.steps {
        let v = v as f64;
        curve.extend([(prev, y(k)), (v, y(k))]);
        upper.extend([(prev, bound(k, true)), (v, bound(k, true))]);
        lower.extend([(prev, bound(k, false)), (v, bound(k, false))]);
        prev = v;
    }
    let band: Vec<(f64, f64)> = upper.iter().copied().chain(lower.iter().rev().copied()).collect();
    if banded {
        chart.draw_series(std::iter::once(Polygon::new(band, BLUE.mix(0.2).filled()))).map_err(err)?;
    }
    chart.draw_series(LineSeries::new(curve, BLUE.stroke_width(s.px(2.0).max(1)))).map_err(err)?;
    let last = c.steps.last().map_or(0, |st| st.1);
    let dot = Circle::new((max as f64, y(last)), s.px(4.0).max(2) as i32, INK.filled());
    chart.draw_series(std::iter::once(dot)).map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{exceedance, Exceedance};
    use crate::sim::stats::{wilson, Z95};

    #[test]
    fn the_exceedance_curve_counts_trials_at_or_above_each_total() {
        // 7 trials at 0, 2 at 2, 1 at 5: P(T >= 1) = P(T >= 2) = 3/10, P(T >= 5) = 1/10.
        let c = exceedance([(0, 7), (2, 2), (5, 1)].into_iter());
        assert_eq!(c, Exceedance { steps: vec![(2, 3), (5, 1)], trials: 10 });
        // No zero row (every trial had a positive total): the first step is every trial.
        let c = exceedance([(1, 4), (3, 6)].into_iter());
        assert_eq!(c, Exceedance { steps: vec![(1, 10), (3, 6)], trials: 10 });
        // Never positive: no steps.
        assert_eq!(exceedance([(0, 5)].into_iter()).steps, vec![]);
    }

    #[test]
    fn the_band_is_the_wilson_interval_of_each_step() {
        // Hand values from the Wilson formula (z = 1.959964): 3 of 10 -> [0.10779, 0.60322];
        // 43 of 100,000 (the baghdad-2020 airliner tail) -> [0.00031927, 0.00057911].
        let (a, b) = wilson(3, 10, Z95);
        assert!((a - 0.107_791_3).abs() < 1e-6 && (b - 0.603_221_9).abs() < 1e-6, "{a} {b}");
        let (a, b) = wilson(43, 100_000, Z95);
        assert!((a - 0.000_319_27).abs() < 1e-8 && (b - 0.000_579_11).abs() < 1e-8, "{a} {b}");
    }
}
