//! `paths`: the 10 most frequent escalation paths as horizontal bars with their shares.
//! Each path's text sits on its own line above its bar, so long chains stay readable.

use super::{err, fit, header, pct, DrawResult, Style, BLUE, GREY, LIGHT};
use crate::output::results::Results;
use plotters::coord::Shift;
use plotters::prelude::*;

pub(super) fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Results, s: &Style) -> DrawResult {
    let body = header(root, s, "most frequent escalation paths", r)?;
    let top: Vec<_> = r.paths.iter().take(10).collect();
    let (w, h) = body.dim_in_pixel();
    let left = s.px(24.0) as i32;
    let right = s.px(24.0) as i32;
    let bottom = s.px(56.0) as i32;
    let usable = (w as i32 - left - right).max(10);
    if top.is_empty() {
        body.draw(&Text::new("no trials", (left, s.px(20.0) as i32), s.label())).map_err(err)?;
        return Ok(());
    }
    // Rows share the height as if there were at least 5, so that a scenario with two or
    // three paths gets spaced rows rather than a few thin bars over an empty chart.
    let rows = 5.max(top.len()) as i32;
    let row_h = ((h as i32 - bottom - s.px(10.0) as i32) / rows).max(8);
    let bar_h = ((row_h as f64 * 0.42) as i32).min(s.px(44.0) as i32);
    let max_share = top.iter().map(|p| p.share).fold(0.0f64, f64::max).max(1e-9);
    let bar_max = usable as f64 * 0.85;
    for (i, p) in top.iter().enumerate() {
        let y = s.px(6.0) as i32 + i as i32 * row_h;
        let text = if p.path == "(none)" {
            "(no escalation: the level never rose)".to_owned()
        } else {
            p.path.split('>').collect::<Vec<_>>().join(" → ")
        };
        let text = fit(&body, &format!("{}. {text}", p.rank), &s.font(16.0), usable);
        body.draw(&Text::new(text, (left, y), s.font(16.0))).map_err(err)?;
        let bar_y = y + (s.px(30.0) as i32).min((row_h as f64 * 0.42) as i32);
        let len = ((p.share / max_share) * bar_max).round() as i32;
        body.draw(&Rectangle::new([(left, bar_y), (left + len.max(1), bar_y + bar_h)], BLUE.filled()))
            .map_err(err)?;
        let label = format!("{} ({} trials)", pct(p.share), super::thousands(p.trials));
        body.draw(&Text::new(label, (left + len + s.px(8.0) as i32, bar_y), s.font(15.0))).map_err(err)?;
    }
    let shown: f64 = top.iter().map(|p| p.share).sum();
    let foot = format!(
        "A path lists the steps whose firing raised the level, in order. Shown: {} of all trials; {} distinct paths in paths.csv.",
        pct(shown),
        r.paths.len()
    );
    let foot = fit(&body, &foot, &s.font(14.0), usable);
    // Right under the last row, so that a short list does not float above a distant note.
    let after_rows = s.px(6.0) as i32 + top.len() as i32 * row_h + s.px(10.0) as i32;
    let at_bottom = h as i32 - bottom + s.px(16.0) as i32;
    let foot_y = if top.len() < 10 { after_rows.min(at_bottom) } else { at_bottom };
    body.draw(&Text::new(foot, (left, foot_y), s.font(14.0).color(&GREY))).map_err(err)?;
    let _ = LIGHT;
    Ok(())
}
