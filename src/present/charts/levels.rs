//! `levels`: P(reached by the horizon) per level, horizontal bars with 95% whiskers,
//! the ladder read bottom (lowest) to top, each level named by id and label.

use super::{err, fit, header, level_colour, pct, DrawResult, Style, BLUE, GREY, INK, LIGHT};
use crate::output::results::Results;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub(super) fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Results, s: &Style) -> DrawResult {
    let body = header(root, s, "probability of reaching each level", r)?;
    let n = r.levels.len();
    let (w, _) = body.dim_in_pixel();
    let label_w = (w as f64 * 0.34) as i32;
    let mut chart = ChartBuilder::on(&body)
        .margin_left(s.px(16.0))
        .margin_right(s.px(30.0))
        .margin_bottom(s.px(10.0))
        .x_label_area_size(s.px(60.0))
        .y_label_area_size(label_w)
        .build_cartesian_2d(0.0f64..1.0f64, -0.5f64..(n as f64 - 0.5))
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(LIGHT)
        .x_labels(11)
        .x_label_formatter(&|x| format!("{:.0}%", x * 100.0))
        .y_labels(0)
        // A predictive run with a spread keeps Wilson intervals in levels.csv.
        .x_desc(if r.manifest.spread.is_some() {
            "P(level reached); grey band: 5th-95th percentile across parameter draws; whiskers: 95% Monte Carlo"
        } else if r.epistemic.is_empty() {
            "P(level reached within the horizon); whiskers: 95% Wilson interval"
        } else {
            // A two-loop run: levels.csv holds stats::two_loop_interval, not Wilson.
            "pooled P(level reached) over draws; whiskers: its 95% CI (draw-to-draw + Monte Carlo)"
        })
        .axis_desc_style(s.label())
        .label_style(s.tick())
        .draw()
        .map_err(err)?;

    let half = 0.32;
    let gap = s.px(10.0) as i32;
    let right = Pos::new(HPos::Right, VPos::Center);
    let left = Pos::new(HPos::Left, VPos::Center);
    for (i, l) in r.levels.iter().enumerate() {
        let y = i as f64;
        let colour = level_colour(i, n);
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, y - half), (l.p_reached, y + half)],
                colour.filled(),
            )))
            .map_err(err)?;
        // A predictive run leads with what not knowing the params leaves: the spread of P
        // across their draws, as a band over the bar (the summary's first interval).
        let spread = r
            .manifest
            .spread
            .as_ref()
            .and_then(|_| r.epistemic.iter().find(|e| e.level == l.level && e.param.is_empty()))
            .and_then(|e| Some((e.p_p5?, e.p_p95?)));
        if let Some((lo, hi)) = spread {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(lo, y - half - 0.06), (hi.max(lo + 0.002), y + half + 0.06)],
                    GREY.mix(0.35).filled(),
                )))
                .map_err(err)?;
        }
        // Level names: id in bold, label below it, right-aligned against the axis.
        let id = if l.terminal { format!("{} (terminal)", l.level) } else { l.level.clone() };
        let label = fit(&body, &l.label, &s.font(14.0), label_w - 2 * gap);
        let name = EmptyElement::at((0.0, y))
            + Text::new(id, (-gap, -(s.px(9.0) as i32)), s.bold(16.0).pos(right))
            + Text::new(label, (-gap, s.px(10.0) as i32), s.font(14.0).color(&GREY).pos(right));
        chart.draw_series(std::iter::once(name)).map_err(err)?;

        // Whisker with caps, in ink so it shows on any bar colour.
        let stroke = ShapeStyle::from(&INK).stroke_width(s.px(2.0).max(1));
        let cap = 0.12;
        let whisker = vec![
            PathElement::new(vec![(l.p_low, y), (l.p_high, y)], stroke),
            PathElement::new(vec![(l.p_low, y - cap), (l.p_low, y + cap)], stroke),
            PathElement::new(vec![(l.p_high, y - cap), (l.p_high, y + cap)], stroke),
        ];
        chart.draw_series(whisker).map_err(err)?;

        // The estimate and interval: right of the whisker (and band), or inside the bar near
        // 100%. With a spread, the spread is the interval shown.
        let (text, reach) = match spread {
            Some((lo, hi)) => {
                (format!("{}  [{} – {}] across draws", pct(l.p_reached), pct(lo), pct(hi)), hi.max(l.p_high))
            }
            None => (format!("{}  [{} – {}]", pct(l.p_reached), pct(l.p_low), pct(l.p_high)), l.p_high),
        };
        let colour_text = if l.terminal { BLUE } else { INK };
        let inside = reach > 0.75;
        let value = if inside {
            EmptyElement::at((l.p_low.min(spread.map_or(1.0, |s| s.0)), y))
                + Text::new(
                    text,
                    (-gap, 0),
                    s.font(16.0).color(if super::is_light(colour) { &INK } else { &WHITE }).pos(right),
                )
        } else {
            EmptyElement::at((reach, y))
                + Text::new(text, (gap, 0), s.font(16.0).color(&colour_text).pos(left))
        };
        chart.draw_series(std::iter::once(value)).map_err(err)?;
    }
    Ok(())
}
