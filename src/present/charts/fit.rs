//! `counts`: each spontaneous step's logged firings per month beside what the fitted
//! Poisson rate (with its windows and modifiers) and the fitted self-exciting model
//! expect (`brink fit`).

use super::{err, title_band, ChartError, ChartOptions, DrawResult, Style, BLUE, GREY, INK, VERMILLION};
use crate::analysis::fit::MonthCount;
use plotters::coord::Shift;
use plotters::prelude::*;

/// One panel: a step's months.
#[derive(Debug, Clone)]
pub(crate) struct Panel {
    /// The step's id and label.
    pub title: String,
    /// Its months.
    pub months: Vec<MonthCount>,
}

/// What the counts chart shows.
#[derive(Debug, Clone)]
pub(crate) struct CountsData {
    /// Title line.
    pub title: String,
    /// Subtitle line (log, window).
    pub subtitle: String,
    /// At most [`MAX_PANELS`] panels.
    pub panels: Vec<Panel>,
}

/// Panels drawn at most (the busiest steps first); more would be unreadable.
pub(crate) const MAX_PANELS: usize = 6;

/// Renders `counts.png`/`counts.svg` as (file name, bytes).
pub(crate) fn render_counts(
    d: &CountsData,
    opts: &ChartOptions,
) -> Result<Vec<(String, Vec<u8>)>, ChartError> {
    super::draw_files("counts", opts, d)
}

impl super::Draw for CountsData {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
        let body = title_band(root, s, &self.title, &self.subtitle)?;
        let n = self.panels.len().max(1);
        let cols = if n > 3 { 2 } else { 1 };
        let rows = n.div_ceil(cols);
        let areas = body.split_evenly((rows, cols));
        for (i, p) in self.panels.iter().enumerate() {
            panel(&areas[i], s, p, i == 0)?;
        }
        Ok(())
    }
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    p: &Panel,
    legend: bool,
) -> DrawResult {
    let n = p.months.len().max(1);
    let top = p
        .months
        .iter()
        .map(|m| m.observed.max(m.poisson).max(m.hawkes.unwrap_or(0.0)))
        .fold(1.0f64, f64::max)
        * if legend { 1.35 } else { 1.15 };
    let labels: Vec<String> = p.months.iter().map(|m| m.label.clone()).collect();
    let mut chart =
        super::labelled_panel(area, s, &p.title, &labels, n.div_ceil(6).max(1), top, "firings per month")?;
    let x = |i: usize| i as f64;
    chart
        .draw_series(p.months.iter().enumerate().map(|(i, m)| {
            Rectangle::new([(x(i) - 0.35, 0.0), (x(i) + 0.35, m.observed)], GREY.mix(0.45).filled())
        }))
        .map_err(err)?
        .label("logged (partial months at the window's ends)")
        .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], GREY.mix(0.45).filled()));
    // Each month's expectation is a level over its bar, not a point joined to the next:
    // a regime's step stays a step.
    let stroke = s.px(2.5).max(1);
    let level = |i: usize, y: f64| vec![(x(i) - 0.45, y), (x(i) + 0.45, y)];
    chart
        .draw_series(
            p.months
                .iter()
                .enumerate()
                .map(|(i, m)| PathElement::new(level(i, m.poisson), BLUE.stroke_width(stroke))),
        )
        .map_err(err)?
        .label("expected, fitted Poisson rate")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(stroke)));
    if p.months.iter().any(|m| m.hawkes.is_some()) {
        chart
            .draw_series(p.months.iter().enumerate().filter_map(|(i, m)| {
                m.hawkes.map(|h| {
                    plotters::element::DashedPathElement::new(
                        level(i, h),
                        s.px(6.0),
                        s.px(4.0),
                        VERMILLION.stroke_width(stroke),
                    )
                })
            }))
            .map_err(err)?
            .label("expected, fitted self-exciting (Hawkes)")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], VERMILLION.stroke_width(stroke))
            });
    }
    if legend {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(INK)
            .label_font(s.font(13.0))
            .draw()
            .map_err(err)?;
    }
    Ok(())
}
