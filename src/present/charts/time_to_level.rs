//! `time_to_level`: cumulative probability of having reached each level (but the first)
//! by the end of each day, as small multiples: one panel per level, each on its own y
//! scale with its 95% Monte Carlo (Wilson) band, so a top rung at 0.5% is a curve, not a
//! flat line under one at 100%. The scenario's rate windows are shaded in every panel.

use super::{
    day_axis, day_label, err, header, is_light, level_colour, pct, thousands, DrawResult, Style, GREY, INK,
    LIGHT,
};
use crate::output::results::Results;
use crate::sim::stats::{wilson_p, Z95};
use plotters::coord::Shift;
use plotters::prelude::*;

pub(super) fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Results, s: &Style) -> DrawResult {
    let body = header(root, s, "cumulative probability of reaching each level", r)?;
    let h = r.horizon() as f64;
    let n = r.levels.len();
    // A two-loop folder's daily.csv pools the trials of every parameter draw, which are
    // not independent: a Wilson band on them would be too narrow, so none is drawn.
    let banded = r.epistemic.is_empty() || r.manifest.spread.is_some();
    let trials = r.manifest.trials as f64;
    let curves: Vec<(usize, Vec<Point>)> = (1..n)
        .map(|i| {
            let id = &r.levels[i].level;
            // p_reached of day d is at the end of day d, i.e. at time d + 1.
            let mut pts = vec![(0.0, 0.0, 0.0, 0.0)];
            pts.extend(r.daily.iter().filter(|d| &d.level == id).map(|d| {
                let (lo, hi) =
                    if banded { wilson_p(d.p_reached, trials, Z95) } else { (d.p_reached, d.p_reached) };
                (d.day as f64 + 1.0, d.p_reached, lo, hi)
            }));
            (i, pts)
        })
        .collect();

    // Windows that change a rate (not whole-horizon multipliers of 1), merged by span.
    let mut spans: Vec<(f64, f64, Vec<String>)> = Vec::new();
    for w in &r.manifest.windows {
        // A window wholly before day 0 or after the horizon changes nothing drawn here.
        if w.rate_x == 1.0 || (w.from_day <= 0.0 && w.to_day >= h) || w.to_day <= 0.0 || w.from_day >= h {
            continue;
        }
        let text = format!("×{}", trim(w.rate_x));
        match spans.iter_mut().find(|sp| sp.0 == w.from_day && sp.1 == w.to_day) {
            Some(sp) => {
                if !sp.2.contains(&text) {
                    sp.2.push(text)
                }
            }
            None => spans.push((w.from_day, w.to_day, vec![text])),
        }
    }
    let (legend, grid) = body.split_vertically(s.px(28.0));
    let mut key = if banded {
        "line: P(level reached by the end of the day); band: its 95% Monte Carlo (Wilson) interval; each panel has its own scale".to_owned()
    } else {
        "line: pooled P(level reached by the end of the day) over parameter draws (no Monte Carlo band: the draws share their trials); each panel has its own scale".to_owned()
    };
    if !spans.is_empty() {
        let list: Vec<String> = spans
            .iter()
            .map(|(a, b, t)| {
                format!("{}–{} {}", day_label(r, a.max(0.0)), day_label(r, b.min(h) - 1.0), t.join(", "))
            })
            .collect();
        key.push_str(&format!("; grey: rate windows ({})", list.join("; ")));
    }
    let (lw, _) = legend.dim_in_pixel();
    let key = super::fit(&legend, &key, &s.font(14.0), lw as i32 - s.px(40.0) as i32);
    legend
        .draw(&Text::new(key, (s.px(24.0) as i32, s.px(4.0) as i32), s.font(14.0).color(&GREY)))
        .map_err(err)?;

    let panels = super::small_multiples(&grid, curves.len());
    for ((i, pts), panel) in curves.iter().zip(panels.iter()) {
        let l = &r.levels[*i];
        let (pw, _) = panel.dim_in_pixel();
        let text_w = pw as i32 - s.px(24.0) as i32;
        let (head, plot) = panel.split_vertically(s.px(42.0));
        let id = if l.terminal { format!("{} (terminal)", l.level) } else { l.level.clone() };
        let last = pts.last().map_or(0.0, |p| p.1);
        // A level no trial reached says so, and how rare it may still be, rather than "0.0%".
        let headline = if l.trials_reached > 0 {
            format!("{id}: {} by the horizon", pct(last))
        } else if banded {
            let hi = crate::sim::stats::wilson(0, r.manifest.trials, Z95).1;
            format!("{id}: 0 of {} trials, P < {}", thousands(r.manifest.trials), pct(hi))
        } else {
            format!("{id}: 0 trials in every draw")
        };
        let title = super::fit(panel, &headline, &s.bold(15.0), text_w);
        head.draw(&Text::new(title, (s.px(12.0) as i32, s.px(4.0) as i32), s.bold(15.0))).map_err(err)?;
        let label = super::fit(panel, &l.label, &s.font(13.0), text_w);
        head.draw(&Text::new(label, (s.px(12.0) as i32, s.px(23.0) as i32), s.font(13.0).color(&GREY)))
            .map_err(err)?;
        let top = pts.iter().map(|p| p.3).fold(0.0f64, f64::max);
        let ymax = nice_ceiling(top.max(1e-5) * 1.08);
        let mut chart = s.panel(&plot).build_cartesian_2d(0.0..h, 0.0..ymax).map_err(err)?;
        for (a, b, _) in &spans {
            let (a, b) = (a.max(0.0), b.min(h));
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(a, 0.0), (b, ymax)],
                    RGBColor(0xee, 0xee, 0xee).filled(),
                )))
                .map_err(err)?;
        }
        let decimals = axis_decimals(ymax);
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(LIGHT)
            .x_labels(5)
            .x_label_formatter(&|d| day_label(r, *d))
            .y_labels(5)
            .y_label_formatter(&|y| pct_tick(*y, decimals))
            .x_desc(day_axis(r))
            .axis_desc_style(s.font(13.0))
            .label_style(s.font(12.0))
            .draw()
            .map_err(err)?;
        let colour = level_colour(*i, n);
        // The lightest rungs are too pale for a line on white: darken them.
        let line = if is_light(colour) {
            RGBColor(
                (colour.0 as f64 * 0.6) as u8,
                (colour.1 as f64 * 0.6) as u8,
                (colour.2 as f64 * 0.6) as u8,
            )
        } else {
            colour
        };
        if banded {
            let band: Vec<(f64, f64)> =
                pts.iter().map(|p| (p.0, p.3)).chain(pts.iter().rev().map(|p| (p.0, p.2))).collect();
            chart.draw_series(std::iter::once(Polygon::new(band, line.mix(0.25).filled()))).map_err(err)?;
        }
        chart
            .draw_series(LineSeries::new(pts.iter().map(|p| (p.0, p.1)), line.stroke_width(s.px(2.5).max(1))))
            .map_err(err)?;
    }
    if curves.is_empty() {
        let text = Text::new(
            "this scenario has one level: nothing to reach",
            (s.px(24.0) as i32, s.px(20.0) as i32),
            s.label().color(&INK),
        );
        grid.draw(&text).map_err(err)?;
    }
    Ok(())
}

/// A point of a curve: (time in days, P, 95% low, 95% high).
type Point = (f64, f64, f64, f64);

/// Decimals of a percentage axis up to `ymax` (a probability), so that ticks a fifth of
/// `ymax` (or a tenth, as plotters may choose) apart differ in their text: 1 (100%) -> 0,
/// 0.05 (5%) -> 1, 0.005 (0.5%) -> 2.
pub(super) fn axis_decimals(ymax: f64) -> usize {
    let step = ymax * 100.0 / 10.0;
    if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil().clamp(0.0, 8.0) as usize
    }
}

fn trim(x: f64) -> String {
    let t = format!("{x:.2}");
    t.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A probability axis tick with `decimals`, trailing zeros dropped: "0.004%" and "0%", not
/// "0.0040%" and "0.0000%", so the ticks of one axis do not read three ways.
pub(super) fn pct_tick(y: f64, decimals: usize) -> String {
    let t = format!("{:.*}", decimals, y * 100.0);
    let t = if t.contains('.') { t.trim_end_matches('0').trim_end_matches('.') } else { &t };
    format!("{t}%")
}

/// The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k at or above `x` (and at most 1),
/// so a panel's top is never much above its data (0.075% gets 0.08%, not 0.1% or 0.2%).
pub(super) fn nice_ceiling(x: f64) -> f64 {
    let mut k = 10f64.powf(x.log10().floor());
    loop {
        for m in [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0] {
            if m * k >= x {
                return (m * k).min(1.0);
            }
        }
        k *= 10.0;
    }
}

#[cfg(test)]
mod tests {
    use super::{axis_decimals, nice_ceiling};
    use crate::sim::stats::{wilson_p, Z95};

    #[test]
    fn panel_axes_have_enough_decimals() {
        assert_eq!(axis_decimals(1.0), 0);
        assert_eq!(axis_decimals(0.25), 0);
        assert_eq!(axis_decimals(0.05), 1);
        assert_eq!(axis_decimals(0.005), 2);
        assert_eq!(axis_decimals(0.0005), 3);
        assert_eq!(nice_ceiling(0.00045), 0.0005);
        assert_eq!(nice_ceiling(0.93), 1.0);
    }

    #[test]
    fn the_daily_band_is_wilson_on_the_run_trials() {
        // P(war) 0.032% of 100,000 trials (baghdad-2020): 32 trials, Wilson by hand
        // [0.00022669, 0.00045170], as levels.csv writes for the horizon.
        let (a, b) = wilson_p(0.00032, 100_000.0, Z95);
        assert!((a - 0.000_226_69).abs() < 1e-8 && (b - 0.000_451_70).abs() < 1e-8, "{a} {b}");
    }
}
