//! `fan`: a monthly observed quantity (points) over its simulated fan: median line, 50%
//! and 90% bands (`brink backtest`).

use super::{err, ChartError, ChartOptions, DrawResult, Style, BLUE, GREY, INK, LIGHT, VERMILLION};
use crate::analysis::backtest::Summary;
use plotters::coord::Shift;
use plotters::prelude::*;

/// What the fan chart shows.
#[derive(Debug, Clone)]
pub(crate) struct FanData {
    /// Title line.
    pub title: String,
    /// Subtitle line (scenario, trials, seed, coverage).
    pub subtitle: String,
    /// Y axis description.
    pub y_desc: String,
    /// Per month: (`YYYY-MM`, simulated summary, observed value if any).
    pub months: Vec<(String, Summary, Option<f64>)>,
}

/// Renders `fan.png`/`fan.svg` as (file name, bytes).
pub(crate) fn render_fan(d: &FanData, opts: &ChartOptions) -> Result<Vec<(String, Vec<u8>)>, ChartError> {
    super::draw_files("fan", opts, d)
}

impl super::Draw for FanData {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
        draw(root, s, self)
    }
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, s: &Style, d: &FanData) -> DrawResult {
    let (_, full_h) = root.dim_in_pixel();
    let (head, body) = root.split_vertically(s.px(90.0).min(full_h / 3));
    head.draw(&Text::new(d.title.clone(), (s.px(20.0) as i32, s.px(14.0) as i32), s.title())).map_err(err)?;
    head.draw(&Text::new(
        d.subtitle.clone(),
        (s.px(20.0) as i32, s.px(52.0) as i32),
        s.subtitle().color(&GREY),
    ))
    .map_err(err)?;
    let n = d.months.len().max(1);
    let top = d.months.iter().map(|(_, m, o)| m.p95.max(o.unwrap_or(0.0))).fold(1.0f64, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(&body)
        .margin_left(s.px(20.0))
        .margin_right(s.px(30.0))
        .margin_bottom(s.px(10.0))
        .x_label_area_size(s.px(60.0))
        .y_label_area_size(s.px(70.0))
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), 0.0..top)
        .map_err(err)?;
    let labels: Vec<String> = d.months.iter().map(|m| m.0.clone()).collect();
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(LIGHT)
        .x_labels(n.min(12))
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_labels(8)
        .y_label_formatter(&|y| format!("{y:.0}"))
        .x_desc("month")
        .y_desc(d.y_desc.clone())
        .axis_desc_style(s.label())
        .label_style(s.tick())
        .draw()
        .map_err(err)?;
    let x = |i: usize| i as f64;
    let band = |lo: fn(&Summary) -> f64, hi: fn(&Summary) -> f64| -> Vec<(f64, f64)> {
        let mut pts: Vec<(f64, f64)> = d.months.iter().enumerate().map(|(i, m)| (x(i), hi(&m.1))).collect();
        pts.extend(d.months.iter().enumerate().rev().map(|(i, m)| (x(i), lo(&m.1))));
        pts
    };
    chart
        .draw_series(std::iter::once(Polygon::new(band(|m| m.p5, |m| m.p95), BLUE.mix(0.15).filled())))
        .map_err(err)?
        .label("simulated 90% interval")
        .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], BLUE.mix(0.15).filled()));
    chart
        .draw_series(std::iter::once(Polygon::new(band(|m| m.p25, |m| m.p75), BLUE.mix(0.35).filled())))
        .map_err(err)?
        .label("simulated 50% interval")
        .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], BLUE.mix(0.35).filled()));
    let stroke = s.px(3.0).max(1);
    chart
        .draw_series(LineSeries::new(
            d.months.iter().enumerate().map(|(i, m)| (x(i), m.1.median)),
            BLUE.stroke_width(stroke),
        ))
        .map_err(err)?
        .label("simulated median")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(stroke)));
    let r = s.px(6.0).max(2) as i32;
    chart
        .draw_series(
            d.months
                .iter()
                .enumerate()
                .filter_map(|(i, m)| m.2.map(|o| Circle::new((x(i), o), r, VERMILLION.filled()))),
        )
        .map_err(err)?
        .label("observed")
        .legend(move |(x, y)| Circle::new((x + 10, y), r, VERMILLION.filled()));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(INK)
        .label_font(s.font(15.0))
        .draw()
        .map_err(err)?;
    Ok(())
}
