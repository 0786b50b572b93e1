//! Comparison charts: `compare_levels` (paired differences in P(reached) per level, with
//! 95% intervals) and `compare_time_to_level` (cumulative probability curves of every
//! run, one panel per level).

use super::{err, thousands, viridis, ChartError, ChartOptions, DrawResult, Style, GREY, INK, LIGHT};
use crate::output::compare::Comparison;
use crate::output::results::Results;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Okabe-Ito colours for runs (the first, the reference, in black).
const RUNS: [RGBColor; 8] = [
    RGBColor(0x00, 0x00, 0x00),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0xF0, 0xE4, 0x42),
];

fn run_colour(i: usize) -> RGBColor {
    RUNS[i % RUNS.len()]
}

/// What comparison charts are drawn from: the comparison and each run's own results.
pub(crate) struct CompareView<'a> {
    /// The comparison.
    pub cmp: &'a Comparison,
    /// Each run's results folder, in the comparison's order.
    pub runs: &'a [Results],
}

/// The comparison charts: (file stem, caption).
pub(crate) const COMPARE_CHARTS: [(&str, &str); 2] = [
    ("compare_levels", "Difference in the probability of reaching each level, with 95% intervals"),
    ("compare_time_to_level", "Cumulative probability of reaching each level, per run"),
];

/// Renders the comparison charts as (file name, bytes).
pub(crate) fn render_compare(
    v: &CompareView<'_>,
    opts: &ChartOptions,
) -> Result<Vec<(String, Vec<u8>)>, ChartError> {
    let mut out = Vec::new();
    for (name, _) in COMPARE_CHARTS {
        out.extend(super::draw_files(name, opts, &CompareChart { name, v })?);
    }
    Ok(out)
}

/// One comparison chart as SVG text.
pub(crate) fn compare_svg(
    name: &str,
    v: &CompareView<'_>,
    opts: &ChartOptions,
) -> Result<String, ChartError> {
    super::draw_svg(name, opts, &CompareChart { name, v })
}

/// One comparison chart, by name.
struct CompareChart<'a> {
    name: &'a str,
    v: &'a CompareView<'a>,
}

impl super::Draw for CompareChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
        match self.name {
            "compare_levels" => differences(root, self.v, s),
            "compare_time_to_level" => curves(root, self.v, s),
            other => Err(format!("unknown chart {other}")),
        }
    }
}

fn header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Style,
    title: &str,
    v: &CompareView<'_>,
) -> Result<DrawingArea<DB, Shift>, String> {
    let scenario = v.runs.first().map(|r| r.manifest.scenario_name.clone()).unwrap_or_default();
    let m = v.runs.first().map(|r| &r.manifest);
    let how = if v.cmp.paired { "paired trials (common random numbers)" } else { "independent runs" };
    let sub = if v.cmp.same_trials() {
        format!(
            "{} · {} trials each, seed {} · {how}",
            v.cmp.names.join(" vs "),
            thousands(v.cmp.trials[0]),
            m.map(|m| m.seed).unwrap_or(0)
        )
    } else {
        // Each run's own trials and seed, in the order of the names.
        let runs: Vec<String> =
            v.cmp.runs.iter().map(|r| format!("{} trials, seed {}", thousands(r.trials), r.seed)).collect();
        let why = v.cmp.unpaired_because.as_deref().map(|w| format!(" ({w})")).unwrap_or_default();
        format!("{} · {} · {how}{why}", v.cmp.names.join(" vs "), runs.join(" vs "))
    };
    super::title_band(root, s, &format!("{scenario}: {title}"), &sub)
}

/// Horizontal bars of P(run) - P(first) per level, grouped by level, with whiskers.
fn differences<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    v: &CompareView<'_>,
    s: &Style,
) -> DrawResult {
    let body = header(root, s, "change in P(reached) against the first run", v)?;
    let cmp = v.cmp;
    let levels: Vec<_> = cmp.levels.iter().filter(|l| !l.p.iter().all(|e| e.value >= 1.0)).collect();
    let pairs = cmp.names.len() - 1;
    if levels.is_empty() || pairs == 0 {
        body.draw(&Text::new("nothing to compare", (s.px(24.0) as i32, s.px(20.0) as i32), s.label()))
            .map_err(err)?;
        return Ok(());
    }
    let mut lo = 0.0f64;
    let mut hi = 0.0f64;
    for l in &levels {
        for p in &l.vs_first {
            lo = lo.min(p.difference.low.unwrap_or(p.difference.value));
            hi = hi.max(p.difference.high.unwrap_or(p.difference.value));
        }
    }
    let pad = ((hi - lo) * 0.22).max(0.004);
    let (lo, hi) = (lo - pad, hi + pad);
    let n = levels.len();
    let (legend_area, body) = body.split_vertically(s.px(30.0) as i32);
    run_legend(&legend_area, v, s, 1)?;
    let (w, _) = body.dim_in_pixel();
    let mut chart = ChartBuilder::on(&body)
        .margin_left(s.px(16.0))
        .margin_right(s.px(30.0))
        .margin_bottom(s.px(10.0))
        .x_label_area_size(s.px(60.0))
        .y_label_area_size((w as f64 * 0.22) as i32)
        .build_cartesian_2d(lo * 100.0..hi * 100.0, -0.5f64..(n as f64 - 0.5))
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(LIGHT)
        .y_labels(0)
        .x_label_formatter(&|x| format!("{x:+.1}"))
        .x_desc(format!("difference in P(reached), percentage points ({} minus {})", "run", cmp.names[0]))
        .axis_desc_style(s.label())
        .label_style(s.tick())
        .draw()
        .map_err(err)?;
    let zero = PathElement::new(vec![(0.0, -0.5), (0.0, n as f64 - 0.5)], INK.stroke_width(s.px(2.0).max(1)));
    chart.draw_series(std::iter::once(zero)).map_err(err)?;
    let band = 0.7 / pairs as f64;
    let right = Pos::new(HPos::Right, VPos::Center);
    for (i, l) in levels.iter().enumerate() {
        let y0 = i as f64;
        let name = EmptyElement::at((lo * 100.0, y0))
            + Text::new(l.id.clone(), (-(s.px(10.0) as i32), 0), s.bold(16.0).pos(right));
        chart.draw_series(std::iter::once(name)).map_err(err)?;
        for (j, p) in l.vs_first.iter().enumerate() {
            // The first compared run on top within each level's group.
            let y = y0 + 0.35 - band * (j as f64 + 0.5);
            let c = run_colour(j + 1);
            let d = p.difference.value * 100.0;
            let bar = Rectangle::new([(0.0, y - band * 0.4), (d, y + band * 0.4)], c.mix(0.85).filled());
            chart.draw_series(std::iter::once(bar)).map_err(err)?;
            if let (Some(a), Some(b)) = (p.difference.low, p.difference.high) {
                let st = ShapeStyle::from(&INK).stroke_width(s.px(2.0).max(1));
                let cap = band * 0.25;
                let whisker = vec![
                    PathElement::new(vec![(a * 100.0, y), (b * 100.0, y)], st),
                    PathElement::new(vec![(a * 100.0, y - cap), (a * 100.0, y + cap)], st),
                    PathElement::new(vec![(b * 100.0, y - cap), (b * 100.0, y + cap)], st),
                ];
                chart.draw_series(whisker).map_err(err)?;
            }
            // The value beside the outer end of its whisker.
            let (a, b) = (
                p.difference.low.unwrap_or(p.difference.value),
                p.difference.high.unwrap_or(p.difference.value),
            );
            let text = format!("{:+.1} [{:+.1}, {:+.1}]", d, a * 100.0, b * 100.0);
            let label = if d >= 0.0 {
                EmptyElement::at((b * 100.0, y))
                    + Text::new(
                        text,
                        (s.px(8.0) as i32, 0),
                        s.font(13.0).pos(Pos::new(HPos::Left, VPos::Center)),
                    )
            } else {
                EmptyElement::at((a * 100.0, y))
                    + Text::new(
                        text,
                        (-(s.px(8.0) as i32), 0),
                        s.font(13.0).pos(Pos::new(HPos::Right, VPos::Center)),
                    )
            };
            chart.draw_series(std::iter::once(label)).map_err(err)?;
        }
    }
    Ok(())
}

/// A one-line legend of run colours (boxes), from run `from` on.
fn run_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    v: &CompareView<'_>,
    s: &Style,
    from: usize,
) -> DrawResult {
    let mut x = s.px(24.0) as i32;
    let y = s.px(8.0) as i32;
    for (i, name) in v.cmp.names.iter().enumerate().skip(from) {
        area.draw(&Rectangle::new(
            [(x, y), (x + s.px(22.0) as i32, y + s.px(14.0) as i32)],
            run_colour(i).filled(),
        ))
        .map_err(err)?;
        let text = format!("{name} minus {}", v.cmp.names[0]);
        area.draw(&Text::new(text.clone(), (x + s.px(30.0) as i32, y), s.font(15.0))).map_err(err)?;
        x += s.px(50.0) as i32
            + area.estimate_text_size(&text, &s.font(15.0)).map(|(w, _)| w as i32).unwrap_or(80);
    }
    Ok(())
}

/// Small multiples: one panel per level (but the first), a curve per run.
fn curves<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, v: &CompareView<'_>, s: &Style) -> DrawResult {
    let body = header(root, s, "cumulative probability of reaching each level, per run", v)?;
    let levels: Vec<&str> = v.cmp.levels.iter().skip(1).map(|l| l.id.as_str()).collect();
    if levels.is_empty() || v.runs.is_empty() {
        body.draw(&Text::new("no levels to show", (s.px(24.0) as i32, s.px(20.0) as i32), s.label()))
            .map_err(err)?;
        return Ok(());
    }
    let (legend_area, grid) = body.split_vertically(s.px(30.0) as i32);
    let mut x = s.px(24.0) as i32;
    for (i, name) in v.cmp.names.iter().enumerate() {
        let y = s.px(8.0) as i32;
        legend_area
            .draw(&PathElement::new(
                vec![(x, y + 7), (x + s.px(26.0) as i32, y + 7)],
                run_colour(i).stroke_width(s.px(3.0).max(1)),
            ))
            .map_err(err)?;
        legend_area.draw(&Text::new(name.clone(), (x + s.px(32.0) as i32, y), s.font(15.0))).map_err(err)?;
        x += s.px(50.0) as i32
            + legend_area.estimate_text_size(name, &s.font(15.0)).map(|(w, _)| w as i32).unwrap_or(80);
    }
    let n = levels.len();
    let cols = if n <= 2 {
        n
    } else if n <= 4 {
        2
    } else {
        3
    };
    let rows = n.div_ceil(cols);
    let panels = grid.split_evenly((rows, cols));
    let horizon = v.runs[0].horizon() as f64;
    for (level, panel) in levels.iter().zip(panels.iter()) {
        let series: Vec<Vec<(f64, f64)>> = v
            .runs
            .iter()
            .map(|r| {
                let mut pts = vec![(0.0, 0.0)];
                pts.extend(
                    r.daily.iter().filter(|d| d.level == *level).map(|d| (d.day as f64 + 1.0, d.p_reached)),
                );
                pts
            })
            .collect();
        let top = series.iter().flatten().map(|p| p.1).fold(0.0f64, f64::max);
        let ymax = super::time_to_level::nice_ceiling(top.max(0.005) * 1.1);
        let mut chart = ChartBuilder::on(panel)
            .margin(s.px(8.0))
            .margin_right(s.px(16.0))
            .caption(*level, s.bold(15.0))
            .x_label_area_size(s.px(36.0))
            .y_label_area_size(s.px(56.0))
            .build_cartesian_2d(0.0..horizon, 0.0..ymax)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(LIGHT)
            .x_labels(5)
            .y_labels(5)
            .x_label_formatter(&|d| super::day_label(&v.runs[0], *d))
            .y_label_formatter(&|y| format!("{:.1}%", y * 100.0))
            .label_style(s.font(12.0))
            .draw()
            .map_err(err)?;
        for (i, pts) in series.iter().enumerate() {
            chart
                .draw_series(LineSeries::new(
                    pts.iter().copied(),
                    run_colour(i).stroke_width(s.px(2.5).max(1)),
                ))
                .map_err(err)?;
        }
    }
    let _ = (GREY, viridis(0.0));
    Ok(())
}
