//! `time_to_level`: cumulative probability of having reached each level (but the first)
//! by the end of each day, with the scenario's rate windows shaded and labelled.

use super::{day_axis, day_label, err, header, level_colour, DrawResult, Style, GREY, LIGHT};
use crate::output::results::Results;
use plotters::coord::Shift;
use plotters::prelude::*;

pub(super) fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Results, s: &Style) -> DrawResult {
    let body = header(root, s, "cumulative probability of reaching each level", r)?;
    let h = r.horizon() as f64;
    let n = r.levels.len();
    let curves: Vec<(usize, Vec<(f64, f64)>)> = (1..n)
        .map(|i| {
            let id = &r.levels[i].level;
            // p_reached of day d is at the end of day d, i.e. at time d + 1.
            let mut pts = vec![(0.0, 0.0)];
            pts.extend(r.daily.iter().filter(|d| &d.level == id).map(|d| (d.day as f64 + 1.0, d.p_reached)));
            (i, pts)
        })
        .collect();
    let top = curves.iter().flat_map(|(_, c)| c.iter().map(|p| p.1)).fold(0.0f64, f64::max);
    let ymax = nice_ceiling(top.max(0.01) * 1.08);
    let (bw, _) = body.dim_in_pixel();
    let legend_w = (bw as f64 * 0.30) as u32;
    let (plot_area, legend_area) = body.split_horizontally(bw - legend_w);
    let mut chart = ChartBuilder::on(&plot_area)
        .margin_left(s.px(20.0))
        .margin_right(s.px(20.0))
        .margin_bottom(s.px(10.0))
        .x_label_area_size(s.px(60.0))
        .y_label_area_size(s.px(80.0))
        .build_cartesian_2d(0.0..h, 0.0..ymax)
        .map_err(err)?;

    // Windows that change a rate (not whole-horizon multipliers of 1), merged by span.
    let mut spans: Vec<(f64, f64, Vec<String>)> = Vec::new();
    for w in &r.manifest.windows {
        if w.rate_x == 1.0 || (w.from_day <= 0.0 && w.to_day >= h) {
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
    for (a, b, _) in &spans {
        let (a, b) = (a.max(0.0), b.min(h));
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(a, 0.0), (b, ymax)],
                RGBColor(0xee, 0xee, 0xee).filled(),
            )))
            .map_err(err)?;
    }
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(LIGHT)
        .x_labels(10)
        .x_label_formatter(&|d| day_label(r, *d))
        .y_labels(8)
        .y_label_formatter(&|y| format!("{:.0}%", y * 100.0))
        .x_desc(day_axis(r))
        .y_desc("P(level reached by then)")
        .axis_desc_style(s.label())
        .label_style(s.tick())
        .draw()
        .map_err(err)?;
    for (a, b, texts) in &spans {
        let (a, b) = (a.max(0.0), b.min(h));
        let label = format!("{}–{}: rates {}", day_label(r, a), day_label(r, b - 1.0), texts.join(", "));
        let font = s.font(14.0).color(&GREY);
        let text = EmptyElement::at((a, ymax)) + Text::new(label, (s.px(4.0) as i32, s.px(4.0) as i32), font);
        chart.draw_series(std::iter::once(text)).map_err(err)?;
    }
    let stroke = s.px(3.0).max(1);
    for (i, pts) in &curves {
        let colour = level_colour(*i, n);
        chart.draw_series(LineSeries::new(pts.iter().copied(), colour.stroke_width(stroke))).map_err(err)?;
    }
    // Legend: highest level first, with the final probability.
    let mut y = s.px(30.0) as i32;
    legend_area
        .draw(&Text::new("level (P by the horizon)", (s.px(10.0) as i32, y), s.bold(16.0)))
        .map_err(err)?;
    y += s.px(30.0) as i32;
    for (i, pts) in curves.iter().rev() {
        let l = &r.levels[*i];
        let colour = level_colour(*i, n);
        let x = s.px(10.0) as i32;
        legend_area
            .draw(&PathElement::new(
                vec![(x, y + s.px(9.0) as i32), (x + s.px(30.0) as i32, y + s.px(9.0) as i32)],
                colour.stroke_width(stroke),
            ))
            .map_err(err)?;
        let last = pts.last().map_or(0.0, |p| p.1);
        let text = super::fit(
            &legend_area,
            &format!("{} ({})", l.level, super::pct(last)),
            &s.font(16.0),
            legend_w as i32 - s.px(50.0) as i32,
        );
        legend_area.draw(&Text::new(text, (x + s.px(38.0) as i32, y), s.font(16.0))).map_err(err)?;
        y += s.px(28.0) as i32;
    }
    Ok(())
}

fn trim(x: f64) -> String {
    let t = format!("{x:.2}");
    t.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The smallest of 1, 2, 2.5, 5 x 10^k above `x` (and at most 1).
pub(super) fn nice_ceiling(x: f64) -> f64 {
    let mut k = 10f64.powf(x.log10().floor());
    loop {
        for m in [1.0, 2.0, 2.5, 5.0] {
            if m * k >= x {
                return (m * k).min(1.0);
            }
        }
        k *= 10.0;
    }
}
