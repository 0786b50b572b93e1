//! `occupancy`: the share of trials at each level at the end of each day, stacked in
//! ladder order (lowest at the bottom), with a legend.

use super::{day_axis, day_label, err, header, level_colour, DrawResult, Style};
use crate::output::results::Results;
use plotters::coord::Shift;
use plotters::prelude::*;

pub(super) fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Results, s: &Style) -> DrawResult {
    let body = header(root, s, "share of trials at each level, day by day", r)?;
    let h = r.horizon() as usize;
    let n = r.levels.len();
    // share[l][d]
    let mut share = vec![vec![0.0; h]; n];
    for row in &r.daily {
        if let Some(l) = r.levels.iter().position(|x| x.level == row.level) {
            if (row.day as usize) < h {
                share[l][row.day as usize] = row.share;
            }
        }
    }
    let (bw, _) = body.dim_in_pixel();
    let legend_w = (bw as f64 * 0.30) as u32;
    let (plot_area, legend_area) = body.split_horizontally(bw - legend_w);
    let mut chart = ChartBuilder::on(&plot_area)
        .margin_left(s.px(20.0))
        .margin_right(s.px(20.0))
        .margin_bottom(s.px(10.0))
        .x_label_area_size(s.px(60.0))
        .y_label_area_size(s.px(80.0))
        .build_cartesian_2d(0.0..h as f64, 0.0..1.0)
        .map_err(err)?;
    // Each day's value is the state at the end of that day: a step over [d, d + 1).
    let mut below = vec![0.0; h];
    for (l, s_l) in share.iter().enumerate() {
        let above: Vec<f64> = below.iter().zip(s_l).map(|(b, x)| (b + x).min(1.0)).collect();
        let mut pts = Vec::with_capacity(4 * h);
        for (d, &y) in above.iter().enumerate() {
            pts.push((d as f64, y));
            pts.push((d as f64 + 1.0, y));
        }
        for d in (0..h).rev() {
            pts.push((d as f64 + 1.0, below[d]));
            pts.push((d as f64, below[d]));
        }
        chart.draw_series(std::iter::once(Polygon::new(pts, level_colour(l, n).filled()))).map_err(err)?;
        below = above;
    }
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(10)
        .x_label_formatter(&|d| day_label(r, *d))
        .y_labels(11)
        .y_label_formatter(&|y| format!("{:.0}%", y * 100.0))
        .x_desc(day_axis(r))
        .y_desc("share of trials at the end of the day")
        .axis_desc_style(s.label())
        .label_style(s.tick())
        .draw()
        .map_err(err)?;
    // Legend in ladder order, top of the stack first, with the share on the last day.
    let mut y = s.px(30.0) as i32;
    legend_area
        .draw(&Text::new("level (share on the last day)", (s.px(10.0) as i32, y), s.bold(16.0)))
        .map_err(err)?;
    y += s.px(30.0) as i32;
    for l in (0..n).rev() {
        let x = s.px(10.0) as i32;
        let box_h = s.px(18.0) as i32;
        legend_area
            .draw(&Rectangle::new([(x, y), (x + s.px(26.0) as i32, y + box_h)], level_colour(l, n).filled()))
            .map_err(err)?;
        let last = share[l].last().copied().unwrap_or(0.0);
        let text = super::fit(
            &legend_area,
            &format!("{} ({})", r.levels[l].level, super::pct(last)),
            &s.font(16.0),
            legend_w as i32 - s.px(50.0) as i32,
        );
        legend_area.draw(&Text::new(text, (x + s.px(34.0) as i32, y), s.font(16.0))).map_err(err)?;
        y += s.px(28.0) as i32;
    }
    Ok(())
}
