//! `paths`: the most frequent escalation paths as horizontal bars with their shares, and
//! below them the paths to the top level as shares of the trials that reached it (a top
//! rung at 0.04% has no bar among the common paths). Each path's text sits on its own line
//! above its bar, so long chains stay readable.

use super::{err, fit, header, pct, thousands, DrawResult, Style, BLUE, GREY};
use crate::output::results::{PathRow, Results};
use plotters::coord::Shift;
use plotters::prelude::*;

pub(super) fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Results, s: &Style) -> DrawResult {
    let body = header(root, s, "most frequent escalation paths", r)?;
    if r.paths.is_empty() {
        let at = (s.px(24.0) as i32, s.px(20.0) as i32);
        body.draw(&Text::new("no trials", at, s.label())).map_err(err)?;
        return Ok(());
    }
    let Some(top) = r.levels.last().filter(|t| t.trials_reached > 0) else {
        return section(&body, s, None, &r.paths.iter().take(10).collect::<Vec<_>>(), 1.0, r, true);
    };
    // The top rung is what a reader asks about, and its paths are rare: they get a panel
    // of their own, as shares of the trials that reached it, below the most common ones.
    let (_, h) = body.dim_in_pixel();
    let (upper, lower) = body.split_vertically((h as f64 * 0.56) as i32);
    let common: Vec<&PathRow> = r.paths.iter().take(6).collect();
    section(&upper, s, None, &common, 1.0, r, false)?;
    let to_top: Vec<&PathRow> = r.paths_to_top().into_iter().take(4).collect();
    let reached = top.trials_reached as f64 / r.manifest.trials.max(1) as f64;
    let trials = if r.two_loop().is_some() { "runs of a trial" } else { "trials" };
    let title = format!(
        "paths to {}: share of the {} {trials} that reached it ({} of all); numbered by rank among all paths",
        top.level,
        thousands(top.trials_reached),
        pct(reached)
    );
    if to_top.is_empty() {
        let note = format!("{title}: none of the {} paths listed in paths.csv ends there", r.paths.len());
        let note = fit(&lower, &note, &s.bold(16.0), lower.dim_in_pixel().0 as i32 - s.px(48.0) as i32);
        lower.draw(&Text::new(note, (s.px(24.0) as i32, s.px(8.0) as i32), s.bold(16.0))).map_err(err)?;
        return Ok(());
    }
    section(&lower, s, Some(&title), &to_top, reached, r, true)
}

/// Bars for `rows` on `area`, under `title` if any: each path's text on its own line above
/// its bar, the bar's length its share of the trials divided by `of` (1 for all trials, the
/// top level's P for the trials that reached it). `foot` adds the note on what a path is.
fn section<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    title: Option<&str>,
    top: &[&PathRow],
    of: f64,
    r: &Results,
    foot: bool,
) -> DrawResult {
    let (w, h) = area.dim_in_pixel();
    let left = s.px(24.0) as i32;
    let right = s.px(24.0) as i32;
    let bottom = if foot { s.px(40.0) as i32 } else { s.px(4.0) as i32 };
    let usable = (w as i32 - left - right).max(10);
    let head = match title {
        Some(t) => {
            let t = fit(area, t, &s.bold(16.0), usable);
            area.draw(&Text::new(t, (left, s.px(8.0) as i32), s.bold(16.0))).map_err(err)?;
            s.px(36.0) as i32
        }
        None => 0,
    };
    // Rows share the height as if there were at least 4, so that two or three paths get
    // spaced rows rather than a few thin bars over an empty panel.
    let rows = 4.max(top.len()) as i32;
    let row_h = ((h as i32 - head - bottom - s.px(6.0) as i32) / rows).max(8);
    let bar_h = ((row_h as f64 * 0.36) as i32).min(s.px(30.0) as i32);
    let share = |p: &PathRow| p.share / of.max(1e-300);
    let max_share = top.iter().map(|p| share(p)).fold(0.0f64, f64::max).max(1e-9);
    let bar_max = usable as f64 * 0.8;
    for (i, p) in top.iter().enumerate() {
        let y = head + s.px(6.0) as i32 + i as i32 * row_h;
        let text = if p.path == "(none)" {
            "(no escalation: the level never rose)".to_owned()
        } else {
            p.path.split('>').collect::<Vec<_>>().join(" → ")
        };
        let text = fit(area, &format!("{}. {text}", p.rank), &s.font(16.0), usable);
        area.draw(&Text::new(text, (left, y), s.font(16.0))).map_err(err)?;
        let bar_y = y + (s.px(24.0) as i32).min((row_h as f64 * 0.45) as i32);
        let len = ((share(p) / max_share) * bar_max).round() as i32;
        area.draw(&Rectangle::new([(left, bar_y), (left + len.max(1), bar_y + bar_h)], BLUE.filled()))
            .map_err(err)?;
        let label = format!(
            "{} ({} {})",
            pct(share(p)),
            thousands(p.trials),
            if r.two_loop().is_some() { "runs" } else { "trials" }
        );
        area.draw(&Text::new(label, (left + len + s.px(8.0) as i32, bar_y), s.font(15.0))).map_err(err)?;
    }
    if foot {
        let text = format!(
            "A path lists the steps whose firing raised the level, in order; paths.csv lists the {} most common.",
            r.paths.len()
        );
        let text = fit(area, &text, &s.font(14.0), usable);
        let y = h as i32 - bottom + s.px(12.0) as i32;
        area.draw(&Text::new(text, (left, y), s.font(14.0).color(&GREY))).map_err(err)?;
    }
    Ok(())
}
