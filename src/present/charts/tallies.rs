//! `tallies`: one histogram panel per tally, integer bins (grouped when the range is
//! wide), the mean and 95th percentile marked. When zero dominates, its bar is cut and
//! labelled with its true height so the rest of the distribution stays visible.

use super::{err, fit, header, pct, DrawResult, Style, BLUE, GREY, INK, LIGHT, VERMILLION};
use crate::output::results::{Results, TallyRow};
use plotters::coord::Shift;
use plotters::prelude::*;

pub(super) fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Results, s: &Style) -> DrawResult {
    let body = header(root, s, "distribution of tallies per trial", r)?;
    let n = r.tallies.len();
    if n == 0 {
        let text =
            Text::new("this scenario has no tallies", (s.px(24.0) as i32, s.px(20.0) as i32), s.label());
        body.draw(&text).map_err(err)?;
        return Ok(());
    }
    let cols = match n {
        1 => 1,
        2..=4 => 2,
        5..=9 => 3,
        _ => 4,
    };
    let rows = n.div_ceil(cols);
    let (legend, grid) = body.split_vertically(s.px(28.0));
    legend_line(&legend, s)?;
    let panels = grid.split_evenly((rows, cols));
    for (t, panel) in r.tallies.iter().zip(panels.iter()) {
        panel_chart(panel, r, t, s)?;
    }
    Ok(())
}

fn legend_line<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
    let x = s.px(24.0) as i32;
    let y = s.px(12.0) as i32;
    let len = s.px(24.0) as i32;
    let up = s.px(8.0) as i32;
    let stroke = s.px(2.0).max(1);
    area.draw(&PathElement::new(vec![(x, y), (x + len, y)], VERMILLION.stroke_width(stroke))).map_err(err)?;
    area.draw(&Text::new("mean", (x + len + s.px(6.0) as i32, y - up), s.font(14.0))).map_err(err)?;
    let x2 = x + s.px(110.0) as i32;
    area.draw(&PathElement::new(vec![(x2, y), (x2 + len, y)], INK.stroke_width(stroke))).map_err(err)?;
    area.draw(&Text::new("95th percentile", (x2 + len + s.px(6.0) as i32, y - up), s.font(14.0)))
        .map_err(err)?;
    let x3 = x2 + s.px(230.0) as i32;
    let text = "bars: share of trials with that total";
    area.draw(&Text::new(text, (x3, y - up), s.font(14.0).color(&GREY))).map_err(err)?;
    Ok(())
}

/// Integer bins up to a cap: (bin width, shares per bin, share hidden above the cap, cap).
fn bins(dist: &[(u64, f64)], p95: u64) -> (u64, Vec<f64>, f64, u64) {
    // Show values up to the 99.5th percentile (at least p95 + 1), in at most 41 bins.
    let mut cum = 0.0;
    let mut cap = 0;
    for &(v, share) in dist {
        cum += share;
        cap = v;
        if cum >= 0.995 {
            break;
        }
    }
    let cap = cap.max(p95.saturating_add(1)).max(1);
    let width = cap.div_ceil(40).max(1);
    let mut bins = vec![0.0; (cap / width + 1) as usize];
    let mut hidden = 0.0;
    for &(v, share) in dist {
        if v <= cap {
            bins[(v / width) as usize] += share;
        } else {
            hidden += share;
        }
    }
    (width, bins, hidden, cap)
}

fn panel_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &Results,
    t: &TallyRow,
    s: &Style,
) -> DrawResult {
    let dist: Vec<(u64, f64)> =
        r.tally_distribution.iter().filter(|d| d.tally == t.tally).map(|d| (d.value, d.share)).collect();
    let (width, bins, hidden, cap) = bins(&dist, t.p95.unwrap_or(0));
    let zero = bins[0];
    let rest_max = bins[1..].iter().copied().fold(0.0f64, f64::max);
    let cut = zero > 2.5 * rest_max && rest_max > 0.0;
    let ymax = if cut { rest_max * 1.3 } else { zero.max(rest_max) * 1.15 }.max(1e-6);
    let (pw, _) = area.dim_in_pixel();
    let text_w = pw as i32 - s.px(24.0) as i32;
    let (head, plot) = area.split_vertically(s.px(44.0));
    let title = fit(area, &t.label, &s.bold(15.0), text_w);
    head.draw(&Text::new(title, (s.px(12.0) as i32, s.px(6.0) as i32), s.bold(15.0))).map_err(err)?;
    let mut note = format!("mean {:.2} · p95 {}", t.mean, t.p95.unwrap_or(0));
    if cut {
        note = format!("zero: {} (bar cut) · {note}", pct(zero));
    }
    if hidden > 0.0 {
        note.push_str(&format!(" · {} above {cap}", pct(hidden)));
    }
    let note = fit(area, &note, &s.font(13.0), text_w);
    head.draw(&Text::new(note, (s.px(12.0) as i32, s.px(25.0) as i32), s.font(13.0).color(&GREY)))
        .map_err(err)?;
    let wf = width as f64;
    let xmax = bins.len() as f64 * wf;
    let mut chart = ChartBuilder::on(&plot)
        .margin(s.px(8.0))
        .margin_top(s.px(2.0))
        .margin_right(s.px(16.0))
        .x_label_area_size(s.px(44.0))
        .y_label_area_size(s.px(52.0))
        .build_cartesian_2d(-0.5 * wf..xmax - 0.5 * wf, 0.0..ymax)
        .map_err(err)?;
    let unit = if width > 1 { format!(" (bins of {width})") } else { String::new() };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(LIGHT)
        .x_labels(6)
        .y_labels(5)
        .x_label_formatter(&|x| {
            if *x >= 0.0 && x.fract().abs() < 1e-9 {
                format!("{x:.0}")
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|y| pct(*y))
        .x_desc(format!("{} per trial{unit}", t.tally))
        .axis_desc_style(s.font(13.0))
        .label_style(s.font(12.0))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(bins.iter().enumerate().map(|(i, &share)| {
            let x = i as f64 * wf;
            Rectangle::new([(x - 0.45 * wf, 0.0), (x + 0.45 * wf, share.min(ymax))], BLUE.filled())
        }))
        .map_err(err)?;
    let stroke = s.px(2.0).max(1);
    let mean_line = PathElement::new(vec![(t.mean, 0.0), (t.mean, ymax)], VERMILLION.stroke_width(stroke));
    chart.draw_series(std::iter::once(mean_line)).map_err(err)?;
    if let Some(p95) = t.p95 {
        let x = p95 as f64;
        let line = PathElement::new(vec![(x, 0.0), (x, ymax)], INK.stroke_width(stroke));
        chart.draw_series(std::iter::once(line)).map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::bins;

    #[test]
    fn bins_cap_at_the_995th_percentile() {
        // 99.8% zeros, 0.2% at 300: shows 0 and 1, hides 0.2% above 1.
        let (w, b, hidden, cap) = bins(&[(0, 0.998), (300, 0.002)], 0);
        assert_eq!((w, cap), (1, 1));
        assert_eq!(b, vec![0.998, 0.0]);
        assert!((hidden - 0.002).abs() < 1e-12);
        // 0..=99 evenly: cap 99 (cum 0.995 reached at 99 for 1% each... at 99), bins of 3.
        let d: Vec<(u64, f64)> = (0..100).map(|v| (v, 0.01)).collect();
        let (w, b, _, cap) = bins(&d, 94);
        assert_eq!(cap, 99);
        assert_eq!(w, 3);
        assert_eq!(b.len(), 34);
    }

    #[test]
    fn a_saturated_p95_does_not_overflow() {
        // Found by the CLI fuzz test: tally totals saturate at u64::MAX when a scenario
        // adds 1e300 per firing, and p95 + 1 overflowed.
        let (w, b, hidden, cap) = bins(&[(0, 0.5), (u64::MAX, 0.5)], u64::MAX);
        assert_eq!(cap, u64::MAX);
        assert_eq!(hidden, 0.0);
        assert!(w > 0 && b.len() <= 41);
    }
}
