//! The charts of `brink score` (docs/score.md): `pit` (the PIT histogram of each
//! forecaster's step counts), `reliability` (binary forecasts binned by probability against
//! how often the event happened) and `fan` (each busy step's forecast intervals by origin,
//! with what the log recorded).

use super::{
    err, title_band, ChartError, ChartOptions, DrawResult, Style, BLUE, GREY, INK, LIGHT, VERMILLION,
};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Colours of the forecasters, brink's first; the climatology is always grey.
fn colour(i: usize, last: bool) -> RGBColor {
    if last {
        GREY
    } else if i == 0 {
        BLUE
    } else {
        VERMILLION
    }
}

/// One forecaster's PIT histogram.
#[derive(Debug, Clone)]
pub(crate) struct PitSeries {
    /// Forecaster and its check, for the legend.
    pub name: String,
    /// Counts per bin.
    pub bins: Vec<u64>,
}

/// What the PIT chart shows.
#[derive(Debug, Clone)]
pub(crate) struct PitData {
    /// Title line.
    pub title: String,
    /// Subtitle line.
    pub subtitle: String,
    /// One histogram per forecaster, brink's first, the climatology last.
    pub series: Vec<PitSeries>,
}

/// One bin of a reliability diagram.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReliabilityBin {
    /// Mean forecast probability in the bin.
    pub forecast: f64,
    /// Share of the bin's forecasts whose event happened.
    pub observed: f64,
    /// Forecasts in the bin.
    pub n: u64,
}

/// What the reliability diagram shows.
#[derive(Debug, Clone)]
pub(crate) struct ReliabilityData {
    /// Title line.
    pub title: String,
    /// Subtitle line.
    pub subtitle: String,
    /// Per forecaster: its name and non-empty bins.
    pub series: Vec<(String, Vec<ReliabilityBin>)>,
}

/// One origin of a fan panel.
#[derive(Debug, Clone)]
pub(crate) struct FanPoint {
    /// The origin as people read it.
    pub label: String,
    /// brink's 5th, 50th and 95th percentiles.
    pub p05: f64,
    /// Median.
    pub median: f64,
    /// 95th percentile.
    pub p95: f64,
    /// The climatology's mean, if any.
    pub climatology: Option<f64>,
    /// What the log recorded.
    pub observed: f64,
}

/// One step's panel.
#[derive(Debug, Clone)]
pub(crate) struct FanPanel {
    /// Title (step and its total).
    pub title: String,
    /// Its origins.
    pub points: Vec<FanPoint>,
}

/// What the fan chart shows.
#[derive(Debug, Clone)]
pub(crate) struct ScoreFanData {
    /// Title line.
    pub title: String,
    /// Subtitle line.
    pub subtitle: String,
    /// y axis description.
    pub y_desc: String,
    /// At most [`MAX_FAN_PANELS`] panels.
    pub panels: Vec<FanPanel>,
}

/// Steps drawn in the fan chart at most (the busiest first).
pub(crate) const MAX_FAN_PANELS: usize = 4;

/// Renders `pit.png`/`.svg`.
pub(crate) fn render_pit(d: &PitData, opts: &ChartOptions) -> Result<Vec<(String, Vec<u8>)>, ChartError> {
    super::draw_files("pit", opts, d)
}

/// Renders `reliability.png`/`.svg`.
pub(crate) fn render_reliability(
    d: &ReliabilityData,
    opts: &ChartOptions,
) -> Result<Vec<(String, Vec<u8>)>, ChartError> {
    super::draw_files("reliability", opts, d)
}

/// Renders `fan.png`/`.svg`.
pub(crate) fn render_fan(
    d: &ScoreFanData,
    opts: &ChartOptions,
) -> Result<Vec<(String, Vec<u8>)>, ChartError> {
    super::draw_files("fan", opts, d)
}

fn legend<'a, DB: DrawingBackend + 'a, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    s: &Style,
    pos: SeriesLabelPosition,
) -> DrawResult
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .configure_series_labels()
        .position(pos)
        .background_style(WHITE.mix(0.9))
        .border_style(INK)
        .label_font(s.font(16.0))
        .draw()
        .map_err(err)
}

impl super::Draw for PitData {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
        let body = title_band(root, s, &self.title, &self.subtitle)?;
        let bins = self.series.first().map_or(10, |x| x.bins.len()).max(1);
        let k = self.series.len().max(1);
        // Each histogram as a density: 1 everywhere for a calibrated forecaster.
        let density = |x: &PitSeries, b: usize| {
            let n = x.bins.iter().sum::<u64>().max(1) as f64;
            x.bins[b] as f64 / n * bins as f64
        };
        let top = self
            .series
            .iter()
            .flat_map(|x| (0..bins).map(move |b| (x, b)))
            .map(|(x, b)| density(x, b))
            .fold(1.5f64, f64::max)
            * 1.3;
        let mut chart = ChartBuilder::on(&body)
            .margin(s.px(16.0))
            .x_label_area_size(s.px(48.0))
            .y_label_area_size(s.px(60.0))
            .build_cartesian_2d(0.0..1.0, 0.0..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(LIGHT)
            .x_labels(11)
            .x_label_formatter(&|x| format!("{x:.1}"))
            .y_labels(6)
            .y_label_formatter(&|y| format!("{y:.1}"))
            .x_desc("PIT of the observed count (randomized)")
            .y_desc("density (1 = calibrated)")
            .axis_desc_style(s.font(15.0))
            .label_style(s.font(13.0))
            .draw()
            .map_err(err)?;
        let w = 1.0 / bins as f64;
        for (i, x) in self.series.iter().enumerate() {
            let c = colour(i, i + 1 == k && k > 1);
            let (lo, hi) = (w * i as f64 / k as f64, w * (i + 1) as f64 / k as f64);
            chart
                .draw_series((0..bins).map(|b| {
                    let x0 = b as f64 * w;
                    Rectangle::new(
                        [(x0 + lo + w * 0.04, 0.0), (x0 + hi - w * 0.04, density(x, b))],
                        c.mix(0.8).filled(),
                    )
                }))
                .map_err(err)?
                .label(x.name.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], c.mix(0.8).filled()));
        }
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, 1.0), (1.0, 1.0)],
                INK.stroke_width(s.px(2.0)),
            )))
            .map_err(err)?
            .label("uniform: what a calibrated forecaster gives")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], INK));
        legend(&mut chart, s, SeriesLabelPosition::UpperRight)
    }
}

impl super::Draw for ReliabilityData {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
        let body = title_band(root, s, &self.title, &self.subtitle)?;
        let mut chart = ChartBuilder::on(&body)
            .margin(s.px(16.0))
            .x_label_area_size(s.px(48.0))
            .y_label_area_size(s.px(60.0))
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(LIGHT)
            .x_labels(11)
            .y_labels(11)
            .x_label_formatter(&|x| format!("{:.0}%", 100.0 * x))
            .y_label_formatter(&|y| format!("{:.0}%", 100.0 * y))
            .x_desc("forecast probability (mean in each tenth)")
            .y_desc("how often it happened")
            .axis_desc_style(s.font(15.0))
            .label_style(s.font(13.0))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(plotters::element::DashedPathElement::new(
                vec![(0.0, 0.0), (1.0, 1.0)],
                s.px(6.0),
                s.px(4.0),
                INK.stroke_width(s.px(1.5)),
            )))
            .map_err(err)?
            .label("perfect reliability")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], INK));
        let k = self.series.len();
        let max_n = self.series.iter().flat_map(|x| &x.1).map(|b| b.n).max().unwrap_or(1).max(1) as f64;
        for (i, (name, bins)) in self.series.iter().enumerate() {
            let c = colour(i, i + 1 == k && k > 1);
            let stroke = s.px(2.5).max(1);
            chart
                .draw_series(LineSeries::new(
                    bins.iter().map(|b| (b.forecast, b.observed)),
                    c.stroke_width(stroke),
                ))
                .map_err(err)?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(stroke)));
            // Dot area grows with the forecasts in the bin.
            chart
                .draw_series(bins.iter().map(|b| {
                    let r = (s.px(3.0) as f64 + s.px(9.0) as f64 * (b.n as f64 / max_n).sqrt()) as i32;
                    Circle::new((b.forecast, b.observed), r, c.filled())
                }))
                .map_err(err)?;
        }
        legend(&mut chart, s, SeriesLabelPosition::UpperLeft)
    }
}

impl super::Draw for ScoreFanData {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
        let body = title_band(root, s, &self.title, &self.subtitle)?;
        let n = self.panels.len().max(1);
        let areas = body.split_evenly((n.div_ceil(2), if n > 1 { 2 } else { 1 }));
        for (i, p) in self.panels.iter().enumerate() {
            self.panel(&areas[i], s, p, i == 0)?;
        }
        Ok(())
    }
}

impl ScoreFanData {
    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        s: &Style,
        p: &FanPanel,
        key: bool,
    ) -> DrawResult {
        let n = p.points.len().max(1);
        let top = p.points.iter().map(|x| x.p95.max(x.observed)).fold(1.0f64, f64::max)
            * if key { 1.45 } else { 1.15 };
        let labels: Vec<String> = p.points.iter().map(|x| x.label.clone()).collect();
        let mut chart =
            super::labelled_panel(area, s, &p.title, &labels, n.div_ceil(5).max(1), top, &self.y_desc)?;
        let x = |i: usize| i as f64;
        chart
            .draw_series(p.points.iter().enumerate().map(|(i, q)| {
                Rectangle::new(
                    [(x(i) - 0.3, q.p05), (x(i) + 0.3, q.p95.max(q.p05 + top * 0.004))],
                    BLUE.mix(0.25).filled(),
                )
            }))
            .map_err(err)?
            .label("brink, 90% interval")
            .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], BLUE.mix(0.25).filled()));
        let stroke = s.px(2.5).max(1);
        chart
            .draw_series(p.points.iter().enumerate().map(|(i, q)| {
                PathElement::new(
                    vec![(x(i) - 0.3, q.median), (x(i) + 0.3, q.median)],
                    BLUE.stroke_width(stroke),
                )
            }))
            .map_err(err)?
            .label("brink, median")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(stroke)));
        if p.points.iter().any(|q| q.climatology.is_some()) {
            chart
                .draw_series(p.points.iter().enumerate().filter_map(|(i, q)| {
                    q.climatology.map(|c| {
                        plotters::element::DashedPathElement::new(
                            vec![(x(i) - 0.3, c), (x(i) + 0.3, c)],
                            s.px(5.0),
                            s.px(3.0),
                            GREY.stroke_width(stroke),
                        )
                    })
                }))
                .map_err(err)?
                .label("climatology, mean")
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], GREY.stroke_width(stroke)));
        }
        chart
            .draw_series(
                p.points
                    .iter()
                    .enumerate()
                    .map(|(i, q)| Circle::new((x(i), q.observed), s.px(5.0) as i32, VERMILLION.filled())),
            )
            .map_err(err)?
            .label("logged")
            .legend(move |(x, y)| Circle::new((x + 10, y), 5, VERMILLION.filled()));
        if key {
            legend(&mut chart, s, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    }
}
