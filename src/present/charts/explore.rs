//! Charts of param exploration: `sweep` (P(level) against one param, with 95% bands, or a
//! heatmap of P(top level) over two params) and `tornado` (one-at-a-time sensitivity).

use super::{
    draw_files, err, fit, level_colour, thousands, viridis, ChartError, ChartOptions, Draw, DrawResult,
    Style, GREY, INK, LIGHT,
};
use crate::analysis::explore::{Axis, SensitivityRow};
use crate::output::explore::trim;
use crate::output::text::sig;
use crate::sim::stats::{spearman_family_bound, spearman_holds_zero, spearman_zero_bound};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// What the sweep and sensitivity charts show, besides their data.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    /// Scenario name.
    pub scenario: String,
    /// Variant, if any.
    pub variant: Option<String>,
    /// Trials per point.
    pub trials: u64,
    /// Seed.
    pub seed: u64,
}

/// A sweep's results: per grid point, per level, (p, low, high).
#[derive(Debug, Clone)]
pub(crate) struct SweepData {
    /// The axes.
    pub axes: Vec<Axis>,
    /// Level ids, ladder order.
    pub levels: Vec<String>,
    /// `p[point][level]` = (estimate, low, high).
    pub p: Vec<Vec<(f64, f64, f64)>>,
}

/// Renders `sweep.png`/`sweep.svg` as (file name, bytes).
pub(crate) fn render_sweep(
    ctx: &Context,
    d: &SweepData,
    opts: &ChartOptions,
) -> Result<Vec<(String, Vec<u8>)>, ChartError> {
    draw_files("sweep", opts, &Sweep { ctx, d })
}

/// Renders `tornado.png`/`tornado.svg`.
pub(crate) fn render_tornado(
    ctx: &Context,
    level: &str,
    base: f64,
    rows: &[SensitivityRow],
    opts: &ChartOptions,
) -> Result<Vec<(String, Vec<u8>)>, ChartError> {
    draw_files("tornado", opts, &Tornado { ctx, level, base, rows })
}

struct Sweep<'a> {
    ctx: &'a Context,
    d: &'a SweepData,
}

impl Draw for Sweep<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
        if self.d.axes.len() == 1 {
            sweep_lines(root, s, self.ctx, self.d)
        } else {
            heatmap(root, s, self.ctx, self.d)
        }
    }
}

struct Tornado<'a> {
    ctx: &'a Context,
    level: &'a str,
    base: f64,
    rows: &'a [SensitivityRow],
}

impl Draw for Tornado<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
        tornado(root, s, self.ctx, self.level, self.base, self.rows)
    }
}

fn header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Style,
    ctx: &Context,
    title: &str,
    each: &str,
) -> Result<DrawingArea<DB, Shift>, String> {
    let variant = ctx.variant.as_deref().unwrap_or("baseline");
    let sub = format!(
        "{} trials per {each}, seed {}; every {each} on the same trials (common random numbers)",
        thousands(ctx.trials),
        ctx.seed
    );
    super::title_band(root, s, &format!("{} [{variant}]: {title}", ctx.scenario), &sub)
}

/// One axis: small multiples, one panel per level but the first (the ladder's bottom is
/// where every trial starts), each on its own y scale with its 95% Monte Carlo (Wilson)
/// band, so a top rung that moves from 0.2% to 0.7% is a rising curve, not a flat line
/// under one at 90%.
fn sweep_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Style,
    ctx: &Context,
    d: &SweepData,
) -> DrawResult {
    let axis = &d.axes[0];
    let body = header(
        root,
        s,
        ctx,
        &format!("P(reach level) against {}, one panel per level", axis.param),
        "point",
    )?;
    let n = d.levels.len();
    let (legend, grid) = body.split_vertically(s.px(28.0));
    let key = format!(
        "line and dots: P(reach the level within the horizon) at each value of {}; band: its 95% Monte Carlo (Wilson) interval; each panel has its own scale",
        axis.param
    );
    let (lw, _) = legend.dim_in_pixel();
    let key = fit(&legend, &key, &s.font(14.0), lw as i32 - s.px(40.0) as i32);
    legend
        .draw(&Text::new(key, (s.px(24.0) as i32, s.px(4.0) as i32), s.font(14.0).color(&GREY)))
        .map_err(err)?;
    if n < 2 || d.p.is_empty() {
        let text = "this scenario has one level: nothing to reach";
        grid.draw(&Text::new(text, (s.px(24.0) as i32, s.px(20.0) as i32), s.label())).map_err(err)?;
        return Ok(());
    }
    let (mut x0, mut x1) =
        axis.values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    // A little room either side, so the end points are whole dots; a range around a
    // single value, so it sits in the middle.
    let pad = if x1 > x0 { (x1 - x0) * 0.03 } else { (x0.abs() * 0.1).max(0.5) };
    (x0, x1) = (x0 - pad, x1 + pad);
    let panels = super::small_multiples(&grid, n - 1);
    for (l, panel) in (1..n).zip(panels.iter()) {
        let id = &d.levels[l];
        let pts: Vec<(f64, f64, f64, f64)> =
            axis.values.iter().zip(&d.p).map(|(&x, row)| (x, row[l].0, row[l].1, row[l].2)).collect();
        let (pw, _) = panel.dim_in_pixel();
        let text_w = pw as i32 - s.px(24.0) as i32;
        let (head, plot) = panel.split_vertically(s.px(42.0));
        let title = fit(panel, &format!("P(reach {id})"), &s.bold(15.0), text_w);
        head.draw(&Text::new(title, (s.px(12.0) as i32, s.px(4.0) as i32), s.bold(15.0))).map_err(err)?;
        let (first, last) = (pts[0], pts[pts.len() - 1]);
        let note = format!(
            "{} at {} = {} · {} at {}",
            super::pct(first.1),
            axis.param,
            trim(first.0),
            super::pct(last.1),
            trim(last.0)
        );
        let note = fit(panel, &note, &s.font(13.0), text_w);
        head.draw(&Text::new(note, (s.px(12.0) as i32, s.px(23.0) as i32), s.font(13.0).color(&GREY)))
            .map_err(err)?;
        let top = pts.iter().map(|p| p.3).fold(0.0f64, f64::max);
        let ymax = super::time_to_level::nice_ceiling(top.max(1e-5) * 1.08);
        let decimals = super::time_to_level::axis_decimals(ymax);
        let mut chart = s.panel(&plot).build_cartesian_2d(x0..x1, 0.0..ymax).map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(LIGHT)
            .x_labels(6)
            .x_label_formatter(&|x| trim(*x))
            .y_labels(5)
            .y_label_formatter(&|y| format!("{:.*}%", decimals, y * 100.0))
            .x_desc(format!("{} (param value)", axis.param))
            .axis_desc_style(s.font(13.0))
            .label_style(s.font(12.0))
            .draw()
            .map_err(err)?;
        let c = level_colour(l, n);
        // The lightest rungs are too pale for a line on white: darken them.
        let c = if super::is_light(c) {
            RGBColor((c.0 as f64 * 0.6) as u8, (c.1 as f64 * 0.6) as u8, (c.2 as f64 * 0.6) as u8)
        } else {
            c
        };
        let band: Vec<(f64, f64)> =
            pts.iter().map(|p| (p.0, p.3)).chain(pts.iter().rev().map(|p| (p.0, p.2))).collect();
        chart.draw_series(std::iter::once(Polygon::new(band, c.mix(0.25).filled()))).map_err(err)?;
        chart
            .draw_series(LineSeries::new(pts.iter().map(|p| (p.0, p.1)), c.stroke_width(s.px(2.5).max(1))))
            .map_err(err)?;
        chart
            .draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), s.px(3.5).max(2), c.filled())))
            .map_err(err)?;
    }
    Ok(())
}

fn heatmap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Style,
    ctx: &Context,
    d: &SweepData,
) -> DrawResult {
    let (a, b) = (&d.axes[0], &d.axes[1]);
    let top = d.levels.len() - 1;
    let title = format!("P({}) over {} and {}", d.levels[top], a.param, b.param);
    let body = header(root, s, ctx, &title, "point")?;
    let (bw, _) = body.dim_in_pixel();
    let (plot, scale) = body.split_horizontally(bw - s.px(140.0));
    let (na, nb) = (a.values.len(), b.values.len());
    let pmax = d.p.iter().map(|row| row[top].0).fold(0.0f64, f64::max).max(1e-9);
    // Cell sizes in pixels, and every how many cells a tick label fits: the widest label
    // plus a gap across, a line of text down. Cells are labelled with their value only
    // when the text fits inside them.
    let (pw, ph) = plot.dim_in_pixel();
    let cell_w = (pw as f64 - f64::from(s.px(130.0))) / na.max(1) as f64;
    let cell_h = (ph as f64 - f64::from(s.px(96.0))) / nb.max(1) as f64;
    let text_w = |t: &str| plot.estimate_text_size(t, &s.tick()).map(|(w, _)| w as f64).unwrap_or(0.0);
    let widest_a = a.values.iter().map(|v| text_w(&trim(*v))).fold(0.0, f64::max);
    let every_a = ((widest_a + f64::from(s.px(12.0))) / cell_w.max(1.0)).ceil().max(1.0) as usize;
    let every_b = (f64::from(s.px(22.0)) / cell_h.max(1.0)).ceil().max(1.0) as usize;
    // The y labels' area fits the widest value beside the axis name.
    let widest_b = b.values.iter().map(|v| text_w(&trim(*v))).fold(0.0, f64::max);
    let y_area = (widest_b as u32 + s.px(44.0)).max(s.px(90.0));
    let cell_text = d.p.iter().all(|row| {
        plot.estimate_text_size(&super::pct(row[top].0), &s.font(13.0))
            .map(|(w, h)| (w as f64) < cell_w - 4.0 && (h as f64) < cell_h - 2.0)
            .unwrap_or(false)
    });
    let mut chart = ChartBuilder::on(&plot)
        .margin(s.px(20.0))
        .x_label_area_size(s.px(56.0))
        .y_label_area_size(y_area)
        .build_cartesian_2d(-0.5..na as f64 - 0.5, -0.5..nb as f64 - 0.5)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(na)
        .y_labels(nb)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() > 1e-6 || i < 0.0 || (i as usize) % every_a != 0 {
                String::new()
            } else {
                a.values.get(i as usize).map(|v| trim(*v)).unwrap_or_default()
            }
        })
        .y_label_formatter(&|y| {
            let i = y.round();
            if (y - i).abs() > 1e-6 || i < 0.0 || (i as usize) % every_b != 0 {
                String::new()
            } else {
                b.values.get(i as usize).map(|v| trim(*v)).unwrap_or_default()
            }
        })
        .x_desc(a.param.clone())
        .y_desc(b.param.clone())
        .axis_desc_style(s.label())
        .label_style(s.tick())
        .draw()
        .map_err(err)?;
    let centre = Pos::new(HPos::Center, VPos::Center);
    for (k, row) in d.p.iter().enumerate() {
        let (i, j) = (k / nb, k % nb);
        let p = row[top].0;
        let c = viridis(p / pmax);
        let cell =
            Rectangle::new([(i as f64 - 0.5, j as f64 - 0.5), (i as f64 + 0.5, j as f64 + 0.5)], c.filled());
        chart.draw_series(std::iter::once(cell)).map_err(err)?;
        if cell_text {
            let ink = if super::is_light(c) { INK } else { WHITE };
            let t = EmptyElement::at((i as f64, j as f64))
                + Text::new(super::pct(p), (0, 0), s.font(13.0).color(&ink).pos(centre));
            chart.draw_series(std::iter::once(t)).map_err(err)?;
        }
    }
    // Colour scale.
    let (_, sh) = scale.dim_in_pixel();
    let (x, y0, y1) = (s.px(20.0) as i32, s.px(40.0) as i32, sh as i32 - s.px(80.0) as i32);
    let steps = 50;
    for k in 0..steps {
        let t = k as f64 / steps as f64;
        let ya = y1 - ((y1 - y0) as f64 * (t + 1.0 / steps as f64)) as i32;
        let yb = y1 - ((y1 - y0) as f64 * t) as i32;
        scale
            .draw(&Rectangle::new([(x, ya), (x + s.px(24.0) as i32, yb)], viridis(t).filled()))
            .map_err(err)?;
    }
    scale.draw(&Text::new(super::pct(pmax), (x + s.px(30.0) as i32, y0 - 6), s.font(13.0))).map_err(err)?;
    scale.draw(&Text::new("0%", (x + s.px(30.0) as i32, y1 - 6), s.font(13.0))).map_err(err)?;
    scale
        .draw(&Text::new(
            format!("P({})", d.levels[top]),
            (x - 4, y0 - s.px(28.0) as i32),
            s.font(13.0).color(&GREY),
        ))
        .map_err(err)?;
    Ok(())
}

fn tornado<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Style,
    ctx: &Context,
    level: &str,
    base: f64,
    rows: &[SensitivityRow],
) -> DrawResult {
    let body =
        header(root, s, ctx, &format!("sensitivity of P({level}) to each param, one at a time"), "point")?;
    if rows.is_empty() {
        body.draw(&Text::new("no params to vary", (s.px(24.0) as i32, s.px(20.0) as i32), s.label()))
            .map_err(err)?;
        return Ok(());
    }
    let shown: Vec<&SensitivityRow> = rows.iter().take(20).collect();
    let n = shown.len();
    let mut lo = base;
    let mut hi = base;
    for r in &shown {
        for e in [r.low, r.high] {
            lo = lo.min(e.low.unwrap_or(e.value));
            hi = hi.max(e.high.unwrap_or(e.value));
        }
        for d in [r.low_vs_base, r.high_vs_base] {
            lo = lo.min(base + d.low.unwrap_or(d.value));
            hi = hi.max(base + d.high.unwrap_or(d.value));
        }
    }
    // Relative to the data, so a rare level's swings are not squeezed into an axis padded
    // for a common one; the floor keeps a flat tornado (every swing 0) readable.
    let pad = ((hi - lo) * 0.15).max(hi.abs() * 0.05).max(1e-6);
    // Room on the right for the swing labels.
    let (lo, hi) = ((lo - pad).max(0.0), (hi + pad * 2.5).min(1.0));
    let (w, _) = body.dim_in_pixel();
    let names: Vec<String> = shown
        .iter()
        .map(|r| format!("{} ({} – {})", r.setting.param, sig(r.setting.low, 6), sig(r.setting.high, 6)))
        .collect();
    let max_label = (w as f64 * 0.45) as i32;
    let names: Vec<String> = names.iter().map(|t| fit(&body, t, &s.font(15.0), max_label)).collect();
    let widest = names
        .iter()
        .map(|t| body.estimate_text_size(t, &s.font(15.0)).map(|(w, _)| w as i32).unwrap_or(0))
        .max()
        .unwrap_or(0);
    let (legend, body) = body.split_vertically(s.px(30.0) as i32);
    let low_c = RGBColor(0x56, 0xB4, 0xE9);
    let high_c = RGBColor(0xD5, 0x5E, 0x00);
    let mut x = s.px(24.0) as i32;
    for (c, t) in [(low_c, "param x (1 - spread)"), (high_c, "param x (1 + spread)")] {
        legend
            .draw(&Rectangle::new([(x, 8), (x + s.px(22.0) as i32, 8 + s.px(14.0) as i32)], c.filled()))
            .map_err(err)?;
        legend.draw(&Text::new(t, (x + s.px(30.0) as i32, 8), s.font(15.0))).map_err(err)?;
        x += s.px(240.0) as i32;
    }
    let faded = if rows.len() > n {
        format!(
            "faded: both ends within Monte Carlo noise of the base run · the {n} largest swings of {}",
            rows.len()
        )
    } else {
        "faded: both ends within Monte Carlo noise of the base run".to_owned()
    };
    legend.draw(&Text::new(faded.as_str(), (x, 8), s.font(15.0).color(&GREY))).map_err(err)?;
    let decimals = super::time_to_level::axis_decimals(hi - lo);
    let mut chart = ChartBuilder::on(&body)
        .margin_left(s.px(16.0))
        .margin_right(s.px(30.0))
        .margin_bottom(s.px(10.0))
        .x_label_area_size(s.px(56.0))
        .y_label_area_size(widest + s.px(20.0) as i32)
        .build_cartesian_2d(lo..hi, -0.5..n as f64 - 0.5)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(LIGHT)
        .y_labels(0)
        .x_label_formatter(&|x| format!("{:.*}%", decimals, x * 100.0))
        .x_desc(format!("P({level} reached) · line: params at values or means · whiskers: paired 95% Monte Carlo interval"))
        .axis_desc_style(s.label())
        .label_style(s.tick())
        .draw()
        .map_err(err)?;
    let right = Pos::new(HPos::Right, VPos::Center);
    let left = Pos::new(HPos::Left, VPos::Center);
    let stroke = ShapeStyle::from(&INK).stroke_width(s.px(1.5).max(1));
    for (i, r) in shown.iter().enumerate() {
        // Largest swing at the top; the low setting's bar above the high one's, each with
        // its paired 95% Monte Carlo interval (of the difference from the base run, drawn
        // from P(base)) as a whisker.
        let y = (n - 1 - i) as f64;
        let noise = within_noise(r);
        for (e, d, c, dy) in [(r.low, r.low_vs_base, low_c, 0.17), (r.high, r.high_vs_base, high_c, -0.17)] {
            let fill = if noise { c.mix(0.35).filled() } else { c.filled() };
            let bar = Rectangle::new([(base, y + dy - 0.15), (e.value, y + dy + 0.15)], fill);
            chart.draw_series(std::iter::once(bar)).map_err(err)?;
            if let (Some(a), Some(b)) = (d.low, d.high) {
                let (a, b) = ((base + a).clamp(lo, hi), (base + b).clamp(lo, hi));
                let cap = 0.08;
                let whisker = vec![
                    PathElement::new(vec![(a, y + dy), (b, y + dy)], stroke),
                    PathElement::new(vec![(a, y + dy - cap), (a, y + dy + cap)], stroke),
                    PathElement::new(vec![(b, y + dy - cap), (b, y + dy + cap)], stroke),
                ];
                chart.draw_series(whisker).map_err(err)?;
            }
        }
        let label = EmptyElement::at((lo, y))
            + Text::new(names[i].clone(), (-(s.px(10.0) as i32), 0), s.font(15.0).pos(right));
        chart.draw_series(std::iter::once(label)).map_err(err)?;
        let ends = [r.low_vs_base, r.high_vs_base]
            .iter()
            .flat_map(|d| [d.low, d.high])
            .flatten()
            .fold(0.0f64, f64::max);
        let b = r.low.value.max(r.high.value).max(base + ends).min(hi);
        // Points with two significant figures, as percentages are written.
        let pts = |x: f64| super::pct(x).trim_end_matches('%').to_owned();
        let spread = half_width(r).map(|h| format!(" (ends ± {})", pts(h))).unwrap_or_default();
        let text = if noise {
            format!("swing {} pts{spread}: within Monte Carlo noise", pts(r.swing()))
        } else {
            format!("swing {} pts{spread}", pts(r.swing()))
        };
        // Cut to the room right of the bar, never past the chart's edge.
        let (bx, _) = chart.backend_coord(&(b, y));
        let right_edge = body.get_base_pixel().0 + w as i32 - s.px(4.0) as i32;
        let text = fit(&body, &text, &s.font(13.0), right_edge - bx - s.px(8.0) as i32);
        let swing = EmptyElement::at((b, y))
            + Text::new(text, (s.px(8.0) as i32, 0), s.font(13.0).color(&GREY).pos(left));
        chart.draw_series(std::iter::once(swing)).map_err(err)?;
    }
    let line =
        PathElement::new(vec![(base, -0.5), (base, n as f64 - 0.5)], INK.stroke_width(s.px(2.0).max(1)));
    chart.draw_series(std::iter::once(line)).map_err(err)?;
    Ok(())
}

/// Whether both ends of a row are within Monte Carlo noise of the base run: each paired
/// 95% interval of (P at the setting - P(base)) holds 0.
fn within_noise(r: &SensitivityRow) -> bool {
    [r.low_vs_base, r.high_vs_base].iter().all(|d| match (d.low, d.high) {
        (Some(a), Some(b)) => a <= 0.0 && 0.0 <= b,
        _ => false,
    })
}

/// The larger half-width of the row's two paired intervals: the Monte Carlo spread stated
/// beside its swing.
fn half_width(r: &SensitivityRow) -> Option<f64> {
    let h = |d: &crate::analysis::compare::Estimate| Some((d.high? - d.low?) / 2.0);
    match (h(&r.low_vs_base), h(&r.high_vs_base)) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Renders `epistemic.png/svg` (the distribution of P(level) across parameter draws)
/// and `drivers.png/svg` (Spearman rank correlation of each param with P(level)).
pub(crate) fn render_epistemic(
    ctx: &Context,
    level: &str,
    p: &[f64],
    drivers: &[(String, f64)],
    opts: &ChartOptions,
) -> Result<Vec<(String, Vec<u8>)>, ChartError> {
    let mut out = draw_files("epistemic", opts, &Spread { ctx, level, p })?;
    out.extend(draw_files("drivers", opts, &Drivers { ctx, level, drivers, draws: p.len() })?);
    Ok(out)
}

/// The `epistemic` and `drivers` charts as SVG text, drawn from a results folder (the
/// per-draw P of `params.csv`, the rank correlations of `epistemic.csv`) for the report:
/// the same drawings as [`render_epistemic`]. None when the folder has no draws.
pub(crate) fn epistemic_svgs(
    r: &crate::output::results::Results,
    opts: &ChartOptions,
) -> Result<Option<(String, String)>, ChartError> {
    let Some(top) = r.levels.last() else { return Ok(None) };
    if r.draws_top.is_empty() {
        return Ok(None);
    }
    let m = &r.manifest;
    // Trials of each draw: the spread's, or a two-loop run's pooled trials over its draws.
    let trials = r.trials_per_draw();
    let ctx = Context { scenario: m.scenario_name.clone(), variant: m.variant.clone(), trials, seed: m.seed };
    let mut drivers: Vec<(String, f64)> = r
        .epistemic
        .iter()
        .filter(|e| e.level == top.level && !e.param.is_empty())
        .map(|e| (e.param.clone(), e.rank_correlation.unwrap_or(0.0)))
        .collect();
    // As `Draws::drivers` orders them.
    drivers.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then_with(|| a.0.cmp(&b.0)));
    let level = top.level.as_str();
    let spread = super::draw_svg("epistemic", opts, &Spread { ctx: &ctx, level, p: &r.draws_top })?;
    let draws = r.draws_top.len();
    let drivers = super::draw_svg("drivers", opts, &Drivers { ctx: &ctx, level, drivers: &drivers, draws })?;
    Ok(Some((spread, drivers)))
}

struct Spread<'a> {
    ctx: &'a Context,
    level: &'a str,
    p: &'a [f64],
}

impl Draw for Spread<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
        let body = header(
            root,
            s,
            self.ctx,
            &format!("uncertainty of P({}) across parameter draws", self.level),
            "draw",
        )?;
        let p = self.p;
        if p.is_empty() {
            return Ok(());
        }
        let hi = p.iter().cloned().fold(0.0f64, f64::max).max(1e-6) * 1.05;
        // A draw's P is a count of its N trials over N: bins are whole numbers of 1/N wide,
        // so that no bin is empty only because no count can fall in it.
        let n = self.ctx.trials.max(1) as f64;
        let per_bin = (hi / 30.0 * n).ceil().max(1.0);
        let w = per_bin / n;
        let bins = ((hi / w).ceil() as usize).max(1);
        let mut counts = vec![0usize; bins];
        for &x in p {
            counts[(((x * n).round() / per_bin) as usize).min(bins - 1)] += 1;
        }
        let top = *counts.iter().max().unwrap_or(&1) as f64 * 1.15;
        let mut chart = ChartBuilder::on(&body)
            .margin(s.px(20.0))
            .x_label_area_size(s.px(56.0))
            .y_label_area_size(s.px(70.0))
            .build_cartesian_2d(0.0..(bins as f64 * w).max(hi), 0.0..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(LIGHT)
            .x_label_formatter(&|x| format!("{:.2}%", x * 100.0))
            .x_desc(format!("P({}) for one draw of the uncertain params", self.level))
            .y_desc("parameter draws")
            .y_label_formatter(&|y| format!("{y:.0}"))
            .axis_desc_style(s.label())
            .label_style(s.tick())
            .draw()
            .map_err(err)?;
        let bar = RGBColor(0x00, 0x72, 0xB2);
        chart
            .draw_series(counts.iter().enumerate().map(|(i, &c)| {
                Rectangle::new([(i as f64 * w, 0.0), ((i as f64 + 0.92) * w, c as f64)], bar.filled())
            }))
            .map_err(err)?;
        let q = |x: f64| crate::sim::stats::percentile(p, x);
        let marks = [(q(0.05), "5th"), (q(0.5), "median"), (q(0.95), "95th")];
        // Each label starts right of its line; one that would run into the label before
        // it drops a line, so "5th" and "median" at nearly the same P stay readable.
        let font = s.font(13.0);
        let mut row_ends: Vec<i32> = Vec::new();
        for (x, name) in marks {
            let line = PathElement::new(vec![(x, 0.0), (x, top)], INK.stroke_width(s.px(2.0).max(1)));
            chart.draw_series(std::iter::once(line)).map_err(err)?;
            let label = format!("{name} {}", super::pct(x));
            let left = chart.backend_coord(&(x, top)).0 + s.px(4.0) as i32;
            let width = root.estimate_text_size(&label, &font).map_or(0, |(w, _)| w as i32);
            let row =
                row_ends.iter().position(|&end| end + s.px(6.0) as i32 <= left).unwrap_or(row_ends.len());
            let end = left + width;
            match row_ends.get_mut(row) {
                Some(e) => *e = end,
                None => row_ends.push(end),
            }
            let dy = s.px(4.0) as i32 + row as i32 * s.px(16.0) as i32;
            let t = EmptyElement::at((x, top)) + Text::new(label, (s.px(4.0) as i32, dy), font.clone());
            chart.draw_series(std::iter::once(t)).map_err(err)?;
        }
        Ok(())
    }
}

/// The value printed beside a driver's bar; `noise` when its 95% interval holds 0.
fn driver_label(rho: f64, noise: bool) -> String {
    if noise {
        format!("{rho:+.2} (holds 0)")
    } else {
        format!("{rho:+.2}")
    }
}

struct Drivers<'a> {
    ctx: &'a Context,
    level: &'a str,
    drivers: &'a [(String, f64)],
    /// K, the parameter draws each correlation is over: its 95% interval's width.
    draws: usize,
}

impl Draw for Drivers<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult {
        let title = format!("which uncertain params drive P({}): rank correlation", self.level);
        let body = header(root, s, self.ctx, &title, "draw")?;
        let d = self.drivers;
        if d.is_empty() {
            return Ok(());
        }
        let n = d.len();
        // Correlations whose 95% interval holds 0 at this K are grey, inside a grey band
        // of +/- the bound, and the key says so.
        let bound = spearman_zero_bound(self.draws);
        // With many params, some pass that bound by chance: the strongest must pass the
        // family-wise (Bonferroni) bound to be called a driver, as the report's card says.
        let family = spearman_family_bound(self.draws, n).filter(|_| n > 1);
        let (key_area, body) = body.split_vertically(s.px(if family.is_some() { 50.0 } else { 30.0 }) as i32);
        let key = match bound {
            Some(b) => format!(
                "grey: 95% interval holds 0 at K = {} draws (|r| < {b:.2}; Fisher z, Spearman variance 1.06 / (K − 3)), not distinguishable from no effect",
                self.draws
            ),
            None => format!("grey: {} draws are too few for an interval; no correlation is distinguishable from 0", self.draws),
        };
        let (kw, _) = key_area.dim_in_pixel();
        let key = fit(&key_area, &key, &s.font(14.0), kw as i32 - s.px(40.0) as i32);
        key_area
            .draw(&Text::new(key, (s.px(24.0) as i32, s.px(6.0) as i32), s.font(14.0).color(&GREY)))
            .map_err(err)?;
        if let Some(fb) = family {
            let strongest = d.iter().map(|(_, r)| r.abs()).fold(0.0, f64::max);
            let verdict = if strongest >= fb {
                "the strongest passes it"
            } else {
                "none passes it, so no param is shown to drive it"
            };
            let line = format!(
                "dashed: |r| = {fb:.3}, the bound the strongest of {n} params must pass to stand out (family-wise, Bonferroni): {verdict}"
            );
            let line = fit(&key_area, &line, &s.font(14.0), kw as i32 - s.px(40.0) as i32);
            key_area
                .draw(&Text::new(line, (s.px(24.0) as i32, s.px(26.0) as i32), s.font(14.0).color(&GREY)))
                .map_err(err)?;
        }
        let (w, _) = body.dim_in_pixel();
        let widest = d
            .iter()
            .map(|(k, _)| body.estimate_text_size(k, &s.font(15.0)).map(|(w, _)| w as i32).unwrap_or(0))
            .max()
            .unwrap_or(0)
            .min((w as f64 * 0.4) as i32);
        let mut chart = ChartBuilder::on(&body)
            .margin(s.px(20.0))
            .x_label_area_size(s.px(56.0))
            .y_label_area_size(widest + s.px(20.0) as i32)
            // Room beyond +/-1 for the value beside a bar at either end.
            .build_cartesian_2d(
                super::Keyed::new(-1.3, 1.3, (-5..=5).map(|i| f64::from(i) / 5.0).collect()),
                -0.5..n as f64 - 0.5,
            )
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(LIGHT)
            .y_labels(0)
            .x_label_formatter(&|x: &f64| format!("{x:.1}"))
            .x_desc(format!("Spearman rank correlation of the param's draws with P({})", self.level))
            .axis_desc_style(s.label())
            .label_style(s.tick())
            .draw()
            .map_err(err)?;
        let b = bound.unwrap_or(1.0);
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(-b, -0.5), (b, n as f64 - 0.5)],
                RGBColor(0xee, 0xee, 0xee).filled(),
            )))
            .map_err(err)?;
        if let Some(fb) = family {
            // Row by row, and not across a row whose value label it would cross.
            let style = INK.mix(0.35).stroke_width(s.px(1.5).max(1));
            for x in [-fb, fb] {
                let (line_px, _) = chart.backend_coord(&(x, 0.0));
                for (i, (_, rho)) in d.iter().enumerate() {
                    let y = (n - 1 - i) as f64;
                    let text = driver_label(*rho, spearman_holds_zero(Some(*rho), self.draws));
                    let tw = body.estimate_text_size(&text, &s.font(13.0)).map_or(0, |(w, _)| w as i32);
                    let (end_px, _) = chart.backend_coord(&(*rho, y));
                    let gap = s.px(6.0) as i32;
                    let (a, b) =
                        if *rho >= 0.0 { (end_px, end_px + gap + tw) } else { (end_px - gap - tw, end_px) };
                    if (a - 3..=b + 3).contains(&line_px) {
                        continue;
                    }
                    let pts = vec![(x, y - 0.5), (x, y + 0.5)];
                    chart
                        .draw_series(DashedLineSeries::new(pts, s.px(6.0), s.px(5.0), style))
                        .map_err(err)?;
                }
            }
        }
        let right = Pos::new(HPos::Right, VPos::Center);
        for (i, (name, rho)) in d.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let noise = spearman_holds_zero(Some(*rho), self.draws);
            let c = if noise {
                RGBColor(0xaa, 0xaa, 0xaa)
            } else if *rho >= 0.0 {
                RGBColor(0xD5, 0x5E, 0x00)
            } else {
                RGBColor(0x56, 0xB4, 0xE9)
            };
            chart
                .draw_series(std::iter::once(Rectangle::new([(0.0, y - 0.32), (*rho, y + 0.32)], c.filled())))
                .map_err(err)?;
            let label = EmptyElement::at((-1.3, y))
                + Text::new(
                    fit(&body, name, &s.font(15.0), widest),
                    (-(s.px(10.0) as i32), 0),
                    s.font(15.0).pos(right),
                );
            chart.draw_series(std::iter::once(label)).map_err(err)?;
            let text = driver_label(*rho, noise);
            let at = if *rho >= 0.0 {
                Text::new(
                    text,
                    (s.px(6.0) as i32, 0),
                    s.font(13.0).color(&GREY).pos(Pos::new(HPos::Left, VPos::Center)),
                )
            } else {
                Text::new(text, (-(s.px(6.0) as i32), 0), s.font(13.0).color(&GREY).pos(right))
            };
            let v = EmptyElement::at((*rho, y)) + at;
            chart.draw_series(std::iter::once(v)).map_err(err)?;
        }
        let zero =
            PathElement::new(vec![(0.0, -0.5), (0.0, n as f64 - 0.5)], INK.stroke_width(s.px(2.0).max(1)));
        chart.draw_series(std::iter::once(zero)).map_err(err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{half_width, within_noise, Context, Drivers, Sweep, SweepData};
    use crate::analysis::explore::Axis;
    use crate::present::charts::{draw_svg, svg_texts, ChartOptions};

    fn ctx() -> Context {
        Context { scenario: "t".into(), variant: None, trials: 1000, seed: 1 }
    }

    #[test]
    fn the_sweep_draws_one_panel_per_level_each_on_its_own_scale() {
        // Four levels: the bottom one is where every trial starts, so three panels. The top
        // level moves from 0.2% to 0.7%, the middle ones near 50% and 90%.
        let levels: Vec<String> = ["calm", "tense", "crisis", "war"].map(String::from).to_vec();
        let values = vec![0.1, 0.2, 0.3];
        let p = values
            .iter()
            .enumerate()
            .map(|(i, _)| {
                let war = 0.002 + 0.0025 * i as f64;
                vec![(1.0, 1.0, 1.0), (0.9, 0.88, 0.92), (0.5, 0.48, 0.52), (war, war * 0.7, war * 1.3)]
            })
            .collect();
        let d = SweepData { axes: vec![Axis { param: "p_strike".into(), values }], levels, p };
        let svg = draw_svg("sweep", &ChartOptions::default(), &Sweep { ctx: &ctx(), d: &d }).unwrap();
        let texts = svg_texts(&svg);
        let titles: Vec<&str> =
            texts.iter().map(|t| t.2.as_str()).filter(|t| t.starts_with("P(reach ")).collect();
        assert_eq!(titles, ["P(reach tense)", "P(reach crisis)", "P(reach war)"]);
        // The war panel has its own scale: ticks at half a percent (its top is 0.91% x 1.08
        // rounded up to 1%), where a shared axis would tick at 50% steps.
        assert!(texts.iter().any(|t| t.2 == "0.5%"), "no per-panel scale for war: {texts:?}");
        assert!(texts.iter().any(|t| t.2 == "0.20% at p_strike = 0.1 · 0.70% at 0.3"), "{texts:?}");
        // The param's name and values label every x axis.
        assert_eq!(texts.iter().filter(|t| t.2 == "p_strike (param value)").count(), 3);
    }

    #[test]
    fn drivers_within_noise_at_k_draws_are_grey_and_marked() {
        // K = 100: the bound is tanh(1.96 sqrt(1.06 / 97)) = 0.2021; 0.30 is told from 0,
        // 0.19 is not.
        let drivers = vec![("strong".to_owned(), 0.30), ("weak".to_owned(), -0.19)];
        let chart = Drivers { ctx: &ctx(), level: "war", drivers: &drivers, draws: 100 };
        let svg = draw_svg("drivers", &ChartOptions::default(), &chart).unwrap();
        let texts: Vec<String> = svg_texts(&svg).into_iter().map(|t| t.2).collect();
        assert!(texts.iter().any(|t| t == "+0.30"), "{texts:?}");
        assert!(texts.iter().any(|t| t == "-0.19 (holds 0)"), "{texts:?}");
        assert!(texts.iter().any(|t| t.contains("K = 100 draws (|r| < 0.20")), "{texts:?}");
        assert!(svg.contains("fill=\"#AAAAAA\""), "the weak driver's bar is grey");
        // With 200 draws the bound is 0.143: the same -0.19 is told from 0, nothing is grey.
        let chart = Drivers { ctx: &ctx(), level: "war", drivers: &drivers, draws: 200 };
        let svg = draw_svg("drivers", &ChartOptions::default(), &chart).unwrap();
        assert!(svg_texts(&svg).iter().any(|t| t.2 == "-0.19"));
        assert!(!svg.contains("fill=\"#AAAAAA\""));
    }
    use crate::analysis::compare::Estimate;
    use crate::analysis::explore::{SensitivityRow, Setting};

    fn row(low: (f64, f64, f64), high: (f64, f64, f64)) -> SensitivityRow {
        let e = |(value, a, b): (f64, f64, f64)| Estimate { value, low: Some(a), high: Some(b) };
        let p = Estimate { value: 0.1, low: None, high: None };
        SensitivityRow {
            setting: Setting { param: "x".into(), base: 1.0, low: 0.5, high: 1.5 },
            low: p,
            high: p,
            low_vs_base: e(low),
            high_vs_base: e(high),
            low_reached: 0,
            high_reached: 0,
            trials: 1000,
        }
    }

    #[test]
    fn a_row_is_noise_only_when_both_paired_intervals_hold_zero() {
        // Hand values: -0.0001 [-0.0004, 0.0002] and +0.0002 [-0.0001, 0.0005] both hold 0.
        let r = row((-0.0001, -0.0004, 0.0002), (0.0002, -0.0001, 0.0005));
        assert!(within_noise(&r));
        // Half-widths 0.0003 and 0.0003: the larger is stated.
        assert!((half_width(&r).unwrap() - 0.0003).abs() < 1e-12);
        // One end clear of 0 (+0.002 [0.001, 0.003]): not noise; half-width max(0.0003, 0.001).
        let r = row((-0.0001, -0.0004, 0.0002), (0.002, 0.001, 0.003));
        assert!(!within_noise(&r));
        assert!((half_width(&r).unwrap() - 0.001).abs() < 1e-12);
    }
}
