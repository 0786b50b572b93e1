//! `levels`: P(reached by the horizon) per level as a dot plot on a log axis, each dot with
//! its 95% interval, the ladder read bottom (lowest) to top, each level named by id and
//! label and its value written in a column on the right. On a log axis a rung at 0.03%
//! is as readable as one at 100%; a linear axis made the top rungs slivers.

use super::{
    decade_pct, err, header, level_colour, log_axis, log_floor, pct, wrap, DrawResult, Style, BLUE, GREY,
    INK, LIGHT,
};
use crate::output::results::Results;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// What the whiskers of this folder's levels.csv are.
fn whisker_meaning(r: &Results) -> &'static str {
    if r.manifest.spread.is_some() {
        // A predictive run with a spread keeps Wilson intervals in levels.csv.
        "95% Monte Carlo (Wilson) interval"
    } else if r.epistemic.is_empty() {
        "95% Wilson interval"
    } else {
        // A two-loop run: levels.csv holds stats::two_loop_interval, not Wilson.
        "95% CI of the pooled P (draw-to-draw + Monte Carlo)"
    }
}

/// One row of the dot plot: a level, its estimate and its 95% interval.
pub(crate) struct DotRow {
    pub id: String,
    pub label: String,
    pub terminal: bool,
    pub p: f64,
    pub low: f64,
    pub high: f64,
}

/// What the dot plot shows: the rows (the ladder, lowest first), each level's spread
/// across parameter draws where the run has one, what the whiskers are, and the x axis.
pub(crate) struct LevelDots {
    pub rows: Vec<DotRow>,
    pub spreads: Vec<Option<(f64, f64)>>,
    pub whisker: String,
    pub x_desc: String,
}

pub(super) fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Results, s: &Style) -> DrawResult {
    let body = header(root, s, "probability of reaching each level (log scale)", r)?;
    // The spread across parameter draws (5th-95th percentile) of each level, when the run
    // leads with it.
    let spreads: Vec<Option<(f64, f64)>> = r
        .levels
        .iter()
        .map(|l| {
            r.manifest
                .spread
                .as_ref()
                .and_then(|_| r.epistemic.iter().find(|e| e.level == l.level && e.param.is_empty()))
                .and_then(|e| Some((e.p_p5?, e.p_p95?)))
        })
        .collect();
    let rows = r
        .levels
        .iter()
        .map(|l| DotRow {
            id: l.level.clone(),
            label: l.label.clone(),
            terminal: l.terminal,
            p: l.p_reached,
            low: l.p_low,
            high: l.p_high,
        })
        .collect();
    let x_desc = if r.epistemic.is_empty() || r.manifest.spread.is_some() {
        "P(level reached within the horizon), log scale"
    } else {
        "pooled P(level reached) over draws, log scale"
    };
    let dots = LevelDots { rows, spreads, whisker: whisker_meaning(r).into(), x_desc: x_desc.into() };
    draw_dots(&body, s, &dots)
}

/// The dot plot on `body` (below its title band).
pub(crate) fn draw_dots<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    s: &Style,
    d: &LevelDots,
) -> DrawResult {
    let n = d.rows.len();
    let spreads = &d.spreads;
    let lo = log_floor(
        d.rows
            .iter()
            .flat_map(|l| [l.p, l.low, l.high])
            .chain(spreads.iter().flatten().flat_map(|&(a, b)| [a, b])),
        0,
    );
    let x0 = f64::from(lo);
    let at = |p: f64| if p > 0.0 { p.log10().max(x0) } else { x0 };

    let (legend, body) = body.split_vertically(s.px(30.0));
    legend_line(&legend, s, &d.whisker, spreads.iter().any(Option::is_some))?;

    let texts: Vec<String> = d
        .rows
        .iter()
        .zip(spreads)
        .map(|(l, sp)| match sp {
            Some((a, b)) => {
                format!("{}  [{} – {}] across draws", pct(l.p), pct(*a), pct(*b))
            }
            None => {
                let (lo, hi) = crate::output::text::pct_bounds(l.p, l.low, l.high);
                format!("{}  [{lo} – {hi}]", pct(l.p))
            }
        })
        .collect();
    let (w, h) = body.dim_in_pixel();
    let gap = s.px(10.0) as i32;
    let widest = texts
        .iter()
        .filter_map(|t| body.estimate_text_size(t, &s.font(16.0)).ok())
        .map(|(tw, _)| tw as i32)
        .max()
        .unwrap_or(0);
    let value_w = (widest + 2 * gap).clamp((w as f64 * 0.14) as i32, (w as f64 * 0.34) as i32);
    let label_w = (w as f64 * 0.30) as i32;
    let x_area = s.px(60.0);
    let mut chart = ChartBuilder::on(&body)
        .margin_left(s.px(16.0))
        .margin_right(value_w as u32)
        .margin_bottom(s.px(10.0))
        .x_label_area_size(x_area)
        .y_label_area_size(label_w as u32)
        .build_cartesian_2d(log_axis(lo, 0, 0.08), -0.5f64..(n as f64 - 0.5))
        .map_err(err)?;
    // Alternate rows shaded, so a name, its dot and its value read as one line.
    chart
        .draw_series((0..n).filter(|i| i % 2 == 1).map(|i| {
            let y = i as f64;
            Rectangle::new([(x0, y - 0.5), (0.08, y + 0.5)], RGBColor(0xf4, 0xf4, 0xf4).filled())
        }))
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .bold_line_style(LIGHT)
        .x_label_formatter(&|x| decade_pct(*x))
        .y_labels(0)
        .x_desc(d.x_desc.as_str())
        .axis_desc_style(s.font(16.0))
        .label_style(s.tick())
        .draw()
        .map_err(err)?;

    let right = Pos::new(HPos::Right, VPos::Center);
    let left = Pos::new(HPos::Left, VPos::Center);
    let row_px = (h as i32 - x_area as i32 - s.px(10.0) as i32) / n.max(1) as i32;
    let label_lines = if row_px >= s.px(62.0) as i32 { 2 } else { 1 };
    let stroke = ShapeStyle::from(&INK).stroke_width(s.px(2.0).max(1));
    for (i, l) in d.rows.iter().enumerate() {
        let y = i as f64;
        let colour = level_colour(i, n);
        if let Some((a, b)) = spreads[i] {
            let (a, b) = (at(a), at(b).max(at(a) + 0.01));
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(a, y - 0.28), (b, y + 0.28)],
                    GREY.mix(0.3).filled(),
                )))
                .map_err(err)?;
        }
        // Level names: id in bold, label below it (wrapped to two lines where the row has
        // room), right-aligned against the axis.
        let id = if l.terminal { format!("{} (terminal)", l.id) } else { l.id.clone() };
        let lines = wrap(&body, &l.label, &s.font(14.0), label_w - 2 * gap, label_lines);
        let line_h = s.px(17.0) as i32;
        let top = -(line_h * lines.len() as i32) / 2 - s.px(1.0) as i32;
        let name = EmptyElement::at((x0, y)) + Text::new(id, (-gap, top), s.bold(16.0).pos(right));
        chart.draw_series(std::iter::once(name)).map_err(err)?;
        for (k, line) in lines.into_iter().enumerate() {
            let dy = top + line_h * (k as i32 + 1) + s.px(2.0) as i32;
            let text =
                EmptyElement::at((x0, y)) + Text::new(line, (-gap, dy), s.font(14.0).color(&GREY).pos(right));
            chart.draw_series(std::iter::once(text)).map_err(err)?;
        }

        // The interval: a whisker with caps; a lower bound of 0 has no place on a log axis,
        // so the whisker runs off the left edge with an arrowhead there.
        let (a, b) = (at(l.low), at(l.high));
        let cap = 0.14;
        let mut whisker = vec![
            PathElement::new(vec![(a, y), (b, y)], stroke),
            PathElement::new(vec![(b, y - cap), (b, y + cap)], stroke),
        ];
        if l.low > 0.0 {
            whisker.push(PathElement::new(vec![(a, y - cap), (a, y + cap)], stroke));
        }
        chart.draw_series(whisker).map_err(err)?;
        if l.low <= 0.0 {
            let tip = EmptyElement::at((x0, y))
                + Polygon::new(
                    vec![
                        (0, 0),
                        (s.px(9.0) as i32, -(s.px(5.0) as i32)),
                        (s.px(9.0) as i32, s.px(5.0) as i32),
                    ],
                    INK.filled(),
                );
            chart.draw_series(std::iter::once(tip)).map_err(err)?;
        }
        // The estimate: a dot in the level's colour; hollow at the left edge when no trial
        // reached the level.
        let radius = s.px(7.0).max(3) as i32;
        let dot = if l.p > 0.0 {
            EmptyElement::at((at(l.p), y))
                + Circle::new((0, 0), radius, colour.filled())
                + Circle::new((0, 0), radius, INK.stroke_width(s.px(1.5).max(1)))
        } else {
            EmptyElement::at((x0, y))
                + Circle::new((0, 0), radius, WHITE.filled())
                + Circle::new((0, 0), radius, INK.stroke_width(s.px(1.5).max(1)))
        };
        chart.draw_series(std::iter::once(dot)).map_err(err)?;

        // The value column.
        let text = super::fit(&body, &texts[i], &s.font(16.0), value_w - gap - s.px(4.0) as i32);
        let colour_text = if l.terminal { BLUE } else { INK };
        let value = EmptyElement::at((0.08, y))
            + Text::new(text, (gap, 0), s.font(16.0).color(&colour_text).pos(left));
        chart.draw_series(std::iter::once(value)).map_err(err)?;
    }
    Ok(())
}

/// The key above the plot: what the dot, the whisker and the grey band are.
fn legend_line<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    whisker: &str,
    band: bool,
) -> DrawResult {
    let y = s.px(14.0) as i32;
    let mut x = s.px(24.0) as i32;
    let font = s.font(14.0);
    let left = Pos::new(HPos::Left, VPos::Center);
    let radius = s.px(6.0).max(3) as i32;
    area.draw(&Circle::new((x + radius, y), radius, viridis_mid().filled())).map_err(err)?;
    area.draw(&Circle::new((x + radius, y), radius, INK.stroke_width(1))).map_err(err)?;
    x += 2 * radius + s.px(6.0) as i32;
    area.draw(&Text::new("estimate", (x, y), font.clone().pos(left))).map_err(err)?;
    x += s.px(90.0) as i32;
    let len = s.px(28.0) as i32;
    let stroke = ShapeStyle::from(&INK).stroke_width(s.px(2.0).max(1));
    let cap = s.px(5.0) as i32;
    area.draw(&PathElement::new(vec![(x, y), (x + len, y)], stroke)).map_err(err)?;
    area.draw(&PathElement::new(vec![(x, y - cap), (x, y + cap)], stroke)).map_err(err)?;
    area.draw(&PathElement::new(vec![(x + len, y - cap), (x + len, y + cap)], stroke)).map_err(err)?;
    x += len + s.px(6.0) as i32;
    area.draw(&Text::new(whisker, (x, y), font.clone().pos(left))).map_err(err)?;
    if band {
        let tw = area.estimate_text_size(whisker, &font).map(|(w, _)| w as i32).unwrap_or(0);
        x += tw + s.px(24.0) as i32;
        let half = s.px(7.0) as i32;
        area.draw(&Rectangle::new([(x, y - half), (x + len, y + half)], GREY.mix(0.3).filled()))
            .map_err(err)?;
        x += len + s.px(6.0) as i32;
        area.draw(&Text::new("5th–95th percentile across parameter draws", (x, y), font.pos(left)))
            .map_err(err)?;
    }
    Ok(())
}

fn viridis_mid() -> RGBColor {
    level_colour(1, 3)
}
