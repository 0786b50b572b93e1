//! Comparison charts: `compare_levels` (a forest plot: per level, each run's relative risk
//! against the first on a log axis beside its difference in points, with 95% intervals)
//! and `compare_time_to_level` (cumulative probability curves of every run, one panel per
//! level).

use super::{err, pct, thousands, viridis, ChartError, ChartOptions, DrawResult, Style, GREY, INK, LIGHT};
use crate::output::compare::Comparison;
use crate::output::results::Results;
use crate::sim::stats::{wilson_p, Z95};
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
    ("compare_levels", "Relative risk (log scale) and difference of reaching each level against the first run, with 95% intervals"),
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

/// What a run's relative risk against the first is, where it is not a finite ratio with
/// an interval: the forest plot says so in words instead of drawing a point.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Risk {
    /// P(run) / P(first) with its 95% interval (bounds None where undefined).
    Ratio(crate::analysis::compare::Estimate),
    /// The first run never reached the level and this one did: infinitely more likely.
    Infinite,
    /// This run never reached the level and the first did: the ratio is 0.
    Zero,
    /// Neither reached it: 0 / 0.
    Undefined,
}

/// The relative risk of run `j + 1` against the first on `level`.
fn risk(level: &crate::output::compare::LevelRow, j: usize) -> Risk {
    let (a, b) = (level.p[0].value, level.p[j + 1].value);
    match (level.vs_first[j].ratio, a > 0.0, b > 0.0) {
        (Some(r), _, _) if r.value.is_finite() && r.value > 0.0 => Risk::Ratio(r),
        (_, false, true) => Risk::Infinite,
        (_, true, false) => Risk::Zero,
        (_, false, false) => Risk::Undefined,
        // Both positive, yet no finite ratio (not written by brink): treat as the point alone.
        (_, true, true) => {
            Risk::Ratio(crate::analysis::compare::Estimate { value: b / a, low: None, high: None })
        }
    }
}

/// Ticks of a ratio axis over `[lo, hi]` (ratios, lo > 0): the coarsest of the 1-2-5,
/// then finer, series that puts at least four ticks in the range, as log10 values.
fn ratio_ticks(lo: f64, hi: f64) -> Vec<f64> {
    const SERIES: [&[f64]; 5] = [
        &[1.0],
        &[1.0, 2.0, 5.0],
        &[1.0, 1.5, 2.0, 3.0, 5.0, 7.0],
        &[1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0],
        &[1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.8, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
    ];
    let (a, b) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let mut best = Vec::new();
    for series in SERIES {
        best = (a..=b)
            .flat_map(|e| series.iter().map(move |m| m * 10f64.powi(e)))
            .filter(|x| *x >= lo * (1.0 - 1e-9) && *x <= hi * (1.0 + 1e-9))
            .map(f64::log10)
            .collect();
        if best.len() >= 4 {
            break;
        }
    }
    best
}

/// A ratio as a tick reads: 0.5, 1, 2, 1.25, 0.01.
fn ratio_tick(x: f64) -> String {
    let t = ratio_text(x);
    if t.contains('.') {
        t.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        t
    }
}

/// A ratio to three significant digits (at least none after the point): 0.736, 1.47, 23.4, 250.
fn ratio_text(x: f64) -> String {
    let d = if x >= 100.0 { 0 } else { (2.0 - x.log10().floor()).clamp(0.0, 8.0) as usize };
    format!("{x:.d$}")
}

/// Decimals of a difference in percentage points, so that its interval's half-width
/// shows two significant digits (1 to 4).
fn points_decimals(half: f64) -> usize {
    if half <= 0.0 || !half.is_finite() {
        return 1;
    }
    (1.0 - half.log10().floor()).clamp(1.0, 4.0) as usize
}

/// A forest plot: for each level (a header row with the first run's P and its interval),
/// one row per run after the first, with its relative risk against the first on a log
/// axis and its difference in percentage points, each with its 95% interval (paired when
/// the runs share their trials).
fn differences<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    v: &CompareView<'_>,
    s: &Style,
) -> DrawResult {
    let cmp = v.cmp;
    let body =
        header(root, s, &format!("each run against {}: relative risk and difference", cmp.names[0]), v)?;
    let levels: Vec<_> = cmp.levels.iter().filter(|l| !l.p.iter().all(|e| e.value >= 1.0)).collect();
    let pairs = cmp.names.len() - 1;
    if levels.is_empty() || pairs == 0 {
        body.draw(&Text::new("nothing to compare", (s.px(24.0) as i32, s.px(20.0) as i32), s.label()))
            .map_err(err)?;
        return Ok(());
    }
    let how = if cmp.paired { "paired" } else { "unpaired" };
    let (legend_area, body) = body.split_vertically(s.px(30.0) as i32);
    run_legend(&legend_area, v, s, 1)?;
    let (lw, _) = legend_area.dim_in_pixel();
    let key =
        format!("dots: estimate; whiskers: {how} 95% interval; grey rows: {}'s P(reach level)", cmp.names[0]);
    let key = super::fit(&legend_area, &key, &s.font(13.0), lw as i32 / 2);
    legend_area
        .draw(&Text::new(
            key,
            (lw as i32 - s.px(16.0) as i32, s.px(8.0) as i32),
            s.font(13.0).color(&GREY).pos(Pos::new(HPos::Right, VPos::Top)),
        ))
        .map_err(err)?;

    // Rows from the top: per level, its header, then one per compared run.
    let per = pairs + 1;
    let rows = levels.len() * per;
    let y_of = |li: usize, j: Option<usize>| (rows - 1 - (li * per + j.map_or(0, |j| j + 1))) as f64;

    // The ratio axis: every finite ratio and bound, and 1, in log10 units, padded.
    let mut finite: Vec<f64> = vec![1.0];
    for l in &levels {
        for j in 0..pairs {
            if let Risk::Ratio(r) = risk(l, j) {
                finite.extend(
                    [Some(r.value), r.low, r.high]
                        .into_iter()
                        .flatten()
                        .filter(|x| *x > 0.0 && x.is_finite()),
                );
            }
        }
    }
    let (rmin, rmax) = finite.iter().fold((f64::INFINITY, 0.0f64), |(a, b), &x| (a.min(x), b.max(x)));
    let (a, b) = (rmin.log10(), rmax.log10());
    let span = (b - a).max(0.1);
    let (ra, rb) = (a - span * 0.08, b + span * 0.08);
    let ticks = ratio_ticks(10f64.powf(ra), 10f64.powf(rb));

    // The difference axis, in percentage points, holding 0.
    let (mut dlo, mut dhi) = (0.0f64, 0.0f64);
    for l in &levels {
        for p in &l.vs_first {
            dlo = dlo.min(p.difference.low.unwrap_or(p.difference.value));
            dhi = dhi.max(p.difference.high.unwrap_or(p.difference.value));
        }
    }
    let pad = ((dhi - dlo) * 0.08).max(1e-6);
    let (dlo, dhi) = ((dlo - pad) * 100.0, (dhi + pad) * 100.0);
    let tick_dec = super::time_to_level::axis_decimals((dhi - dlo) / 100.0);

    // Row labels: the run names, right-aligned beside the ratio panel.
    let (w, _) = body.dim_in_pixel();
    let name_font = s.font(15.0);
    let label_w = cmp.names[1..]
        .iter()
        .map(|n| body.estimate_text_size(n, &name_font).map(|(w, _)| w as i32).unwrap_or(0))
        .max()
        .unwrap_or(0)
        .min((w as f64 * 0.2) as i32)
        + s.px(30.0) as i32;
    let left_w = label_w + ((w as i32 - label_w) / 2);
    let (left, right) = body.split_horizontally(left_w);
    let (top_m, x_area) = (s.px(6.0), s.px(60.0));
    let mut rr = ChartBuilder::on(&left)
        .margin_top(top_m)
        .margin_left(s.px(8.0))
        .margin_right(s.px(18.0))
        .margin_bottom(s.px(6.0))
        .x_label_area_size(x_area)
        .y_label_area_size(label_w)
        .build_cartesian_2d(super::Keyed::new(ra, rb, ticks), -0.5..rows as f64 - 0.5)
        .map_err(err)?;
    let mut df = ChartBuilder::on(&right)
        .margin_top(top_m)
        .margin_left(s.px(18.0))
        .margin_right(s.px(24.0))
        .margin_bottom(s.px(6.0))
        .x_label_area_size(x_area)
        .y_label_area_size(0)
        .build_cartesian_2d(dlo..dhi, -0.5..rows as f64 - 0.5)
        .map_err(err)?;

    // Header rows: a grey band across both panels, drawn under the gridlines' ink.
    let band = RGBColor(0xf2, 0xf2, 0xf2);
    for li in 0..levels.len() {
        let y = y_of(li, None);
        rr.draw_series(std::iter::once(Rectangle::new([(ra, y - 0.5), (rb, y + 0.5)], band.filled())))
            .map_err(err)?;
        df.draw_series(std::iter::once(Rectangle::new([(dlo, y - 0.5), (dhi, y + 0.5)], band.filled())))
            .map_err(err)?;
    }
    rr.configure_mesh()
        .disable_y_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(LIGHT)
        .y_labels(0)
        .x_label_formatter(&|e| ratio_tick(10f64.powf(*e)))
        .x_desc(format!("relative risk: P(run) / P({}), log scale", cmp.names[0]))
        .axis_desc_style(s.font(15.0))
        .label_style(s.tick())
        .draw()
        .map_err(err)?;
    df.configure_mesh()
        .disable_y_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(LIGHT)
        .y_labels(0)
        .x_labels(6)
        .x_label_formatter(&|x| if x.abs() < 1e-12 { "0".into() } else { format!("{x:+.tick_dec$}") })
        .x_desc(format!("difference: P(run) − P({}), percentage points", cmp.names[0]))
        .axis_desc_style(s.font(15.0))
        .label_style(s.tick())
        .draw()
        .map_err(err)?;
    let ink = INK.stroke_width(s.px(1.5).max(1));
    rr.draw_series(std::iter::once(PathElement::new(vec![(0.0, -0.5), (0.0, rows as f64 - 0.5)], ink)))
        .map_err(err)?;
    df.draw_series(std::iter::once(PathElement::new(vec![(0.0, -0.5), (0.0, rows as f64 - 0.5)], ink)))
        .map_err(err)?;

    let left_mid = Pos::new(HPos::Left, VPos::Center);
    let right_mid = Pos::new(HPos::Right, VPos::Center);
    let (rr_px, _) = rr.plotting_area().get_pixel_range();
    let (df_px, _) = df.plotting_area().get_pixel_range();
    let gap = s.px(8.0) as i32;
    let value_font = s.font(13.0);
    let text_w = |t: &str| body.estimate_text_size(t, &value_font).map(|(w, _)| w as i32).unwrap_or(0);
    let marker = s.px(5.0).max(3) as i32;
    let row_px = {
        let (_, py) = rr.plotting_area().get_pixel_range();
        (py.end - py.start) / rows.max(1) as i32
    };
    let line_px = body.estimate_text_size("×0.5 [1]", &value_font).map(|(_, h)| h as i32).unwrap_or(12);
    // Where a value's text goes, as (x, anchor, text): right of the whisker if it fits in
    // the panel, else left of it, else above the marker when the row has room for a line
    // over it, else on the roomier side, shortened to fit (with a tooltip).
    let place = |t: &str, a_px: i32, b_px: i32, mid: (i32, i32), px: &std::ops::Range<i32>| {
        let tw = text_w(t);
        let (room_r, room_l) = (px.end - b_px - gap, a_px - px.start - gap);
        let (ox, oy) = root.get_base_pixel();
        let y = mid.1 - oy;
        if tw <= room_r {
            (b_px + gap - ox, y, left_mid, t.to_owned())
        } else if tw <= room_l {
            (a_px - gap - ox, y, right_mid, t.to_owned())
        } else if row_px >= 2 * line_px + 2 * marker && tw <= px.end - px.start {
            let x = (mid.0 - tw / 2).clamp(px.start, px.end - tw);
            (x - ox, y - marker - 2, Pos::new(HPos::Left, VPos::Bottom), t.to_owned())
        } else if room_r >= room_l {
            (b_px + gap - ox, y, left_mid, super::fit(&body, t, &value_font, room_r.max(0)))
        } else {
            (a_px - gap - ox, y, right_mid, super::fit(&body, t, &value_font, room_l.max(0)))
        }
    };
    let cap = 0.18;
    for (li, l) in levels.iter().enumerate() {
        // The level's header: its id, and the first run's P with its interval.
        let y = y_of(li, None);
        let base = l.p[0];
        let (top_px_x, top_px_y) = rr.backend_coord(&(ra, y));
        let head_x = top_px_x - label_w + s.px(6.0) as i32;
        let (ox, oy) = root.get_base_pixel();
        let (hx, hy) = (head_x - ox, top_px_y - oy);
        let id_font = s.bold(15.0);
        let id_w = body.estimate_text_size(&l.id, &id_font).map(|(w, _)| w as i32).unwrap_or(0);
        root.draw(&Text::new(l.id.clone(), (hx, hy), id_font.pos(left_mid))).map_err(err)?;
        let reached = match (base.low, base.high) {
            (Some(lo), Some(hi)) => {
                format!("{} P(reach {}) {} [{}, {}]", cmp.names[0], l.id, pct(base.value), pct(lo), pct(hi))
            }
            _ => format!("{} P(reach {}) {}", cmp.names[0], l.id, pct(base.value)),
        };
        let room = rr_px.end - (head_x + id_w + s.px(12.0) as i32);
        let reached = super::fit(&body, &reached, &s.font(14.0), room);
        // On the band's grey, over the gridlines and the line at 1 that cross the row.
        let (tw, th) = body.estimate_text_size(&reached, &s.font(14.0)).map_err(err)?;
        let tx = hx + id_w + s.px(12.0) as i32;
        root.draw(&Rectangle::new(
            [(tx - 3, hy - th as i32 / 2 - 2), (tx + tw as i32 + 3, hy + th as i32 / 2 + 2)],
            band.filled(),
        ))
        .map_err(err)?;
        root.draw(&Text::new(
            reached,
            (hx + id_w + s.px(12.0) as i32, hy),
            s.font(14.0).color(&GREY).pos(left_mid),
        ))
        .map_err(err)?;
        for j in 0..pairs {
            let y = y_of(li, Some(j));
            let c = run_colour(j + 1);
            let whisker = ShapeStyle::from(&c).stroke_width(s.px(2.0).max(1));
            let name = super::fit(&body, &cmp.names[j + 1], &name_font, label_w - s.px(16.0) as i32);
            let label = EmptyElement::at((ra, y))
                + Text::new(name, (-(s.px(10.0) as i32), 0), name_font.clone().pos(right_mid));
            rr.draw_series(std::iter::once(label)).map_err(err)?;
            // Relative risk.
            match risk(l, j) {
                Risk::Ratio(r) => {
                    let x = r.value.log10();
                    let (lo, hi) = (r.low.map(f64::log10), r.high.map(f64::log10));
                    if let (Some(lo), Some(hi)) = (lo, hi) {
                        rr.draw_series([
                            PathElement::new(vec![(lo, y), (hi, y)], whisker),
                            PathElement::new(vec![(lo, y - cap), (lo, y + cap)], whisker),
                            PathElement::new(vec![(hi, y - cap), (hi, y + cap)], whisker),
                        ])
                        .map_err(err)?;
                    }
                    let (px, py) = rr.backend_coord(&(x, y));
                    root.draw(&Rectangle::new(
                        [(px - marker - ox, py - marker - oy), (px + marker - ox, py + marker - oy)],
                        c.filled(),
                    ))
                    .map_err(err)?;
                    let t = match (r.low, r.high) {
                        // No discordant trials: the delta-method interval has no width.
                        (Some(a), Some(b)) if a == b => {
                            format!("×{}: the same trials reached it (no interval)", ratio_text(r.value))
                        }
                        (Some(a), Some(b)) => {
                            format!("×{} [{}, {}]", ratio_text(r.value), ratio_text(a), ratio_text(b))
                        }
                        _ => format!("×{}", ratio_text(r.value)),
                    };
                    let a_px = rr.backend_coord(&(lo.unwrap_or(x), y)).0;
                    let b_px = rr.backend_coord(&(hi.unwrap_or(x), y)).0;
                    let (tx, ty, pos, t) =
                        place(&t, a_px.min(px - marker), b_px.max(px + marker), (px, py), &rr_px);
                    backed(root, &t, (tx, ty), &value_font.clone().pos(pos))?;
                }
                other => {
                    // No finite ratio: an arrow to the edge it lies beyond, and words.
                    let (_, py) = rr.backend_coord(&(0.0, y));
                    let head = s.px(16.0) as i32;
                    let (text, at, pos, arrow_at) = match other {
                        Risk::Infinite => (
                            format!("∞: {} never reached it", cmp.names[0]),
                            rr_px.end - gap - head,
                            right_mid,
                            Some((rr_px.end - 2, rr_px.end - 2 - head)),
                        ),
                        Risk::Zero => (
                            format!("0: {} never reached it", cmp.names[j + 1]),
                            rr_px.start + gap + head,
                            left_mid,
                            Some((rr_px.start + 2, rr_px.start + 2 + head)),
                        ),
                        _ => (
                            "undefined (0 / 0): neither run reached it".to_owned(),
                            rr_px.start + gap,
                            left_mid,
                            None,
                        ),
                    };
                    if let Some((tip, from)) = arrow_at {
                        root.draw(&PathElement::new(
                            vec![(tip - ox, py - oy), (from - ox, py - oy)],
                            whisker,
                        ))
                        .map_err(err)?;
                        super::chain::arrow(
                            root,
                            (tip - ox, py - oy),
                            (from - ox, py - oy),
                            s.px(10.0) as f64,
                            c,
                        )?;
                    }
                    let room = rr_px.end - rr_px.start - 2 * gap - head;
                    let text = super::fit(&body, &text, &value_font, room);
                    root.draw(&Text::new(text, (at - ox, py - oy), value_font.clone().pos(pos)))
                        .map_err(err)?;
                }
            }
            // Difference in points.
            let d = l.vs_first[j].difference;
            let x = d.value * 100.0;
            let (lo, hi) = (d.low.map(|a| a * 100.0), d.high.map(|b| b * 100.0));
            if let (Some(lo), Some(hi)) = (lo, hi) {
                df.draw_series([
                    PathElement::new(vec![(lo, y), (hi, y)], whisker),
                    PathElement::new(vec![(lo, y - cap), (lo, y + cap)], whisker),
                    PathElement::new(vec![(hi, y - cap), (hi, y + cap)], whisker),
                ])
                .map_err(err)?;
            }
            let (px, py) = df.backend_coord(&(x, y));
            root.draw(&Rectangle::new(
                [(px - marker - ox, py - marker - oy), (px + marker - ox, py + marker - oy)],
                c.filled(),
            ))
            .map_err(err)?;
            let dec = points_decimals(match (lo, hi) {
                (Some(a), Some(b)) => (b - a) / 2.0,
                _ => x.abs(),
            });
            let t = match (lo, hi) {
                (Some(a), Some(b)) => format!("{x:+.dec$} [{a:+.dec$}, {b:+.dec$}] pts"),
                _ => format!("{x:+.dec$} pts"),
            };
            let a_px = df.backend_coord(&(lo.unwrap_or(x), y)).0;
            let b_px = df.backend_coord(&(hi.unwrap_or(x), y)).0;
            let (tx, ty, pos, t) = place(&t, a_px.min(px - marker), b_px.max(px + marker), (px, py), &df_px);
            backed(root, &t, (tx, ty), &value_font.clone().pos(pos))?;
        }
    }
    Ok(())
}

/// Text on a white backing, so the gridlines and reference lines it crosses do not
/// strike it through.
fn backed<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    (x, y): (i32, i32),
    font: &TextStyle<'_>,
) -> DrawResult {
    let (w, h) = area.estimate_text_size(text, font).map_err(err)?;
    let (w, h) = (w as i32, h as i32);
    let x0 = match font.pos.h_pos {
        HPos::Left => x,
        HPos::Right => x - w,
        HPos::Center => x - w / 2,
    };
    let y0 = match font.pos.v_pos {
        VPos::Top => y,
        VPos::Bottom => y - h,
        VPos::Center => y - h / 2,
    };
    area.draw(&Rectangle::new([(x0 - 2, y0 - 1), (x0 + w + 2, y0 + h + 1)], WHITE.mix(0.85).filled()))
        .map_err(err)?;
    area.draw(&Text::new(text, (x, y), font.clone())).map_err(err)
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
        let text = name.clone();
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
        // Each run's curve with its 95% Monte Carlo (Wilson) band on its own trials.
        let series: Vec<Vec<(f64, f64, f64, f64)>> = v
            .runs
            .iter()
            .map(|r| {
                let trials = r.manifest.trials as f64;
                let mut pts = vec![(0.0, 0.0, 0.0, 0.0)];
                pts.extend(r.daily.iter().filter(|d| d.level == *level).map(|d| {
                    let (lo, hi) = wilson_p(d.p_reached, trials, Z95);
                    (d.day as f64 + 1.0, d.p_reached, lo, hi)
                }));
                pts
            })
            .collect();
        let top = series.iter().flatten().map(|p| p.3).fold(0.0f64, f64::max);
        // Each level on its own scale, down to rare rungs (a floor of 1e-5, as time_to_level).
        let ymax = super::time_to_level::nice_ceiling(top.max(1e-5) * 1.1);
        let decimals = super::time_to_level::axis_decimals(ymax);
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
            .y_label_formatter(&|y| super::time_to_level::pct_tick(*y, decimals))
            .label_style(s.font(12.0))
            .draw()
            .map_err(err)?;
        for (i, pts) in series.iter().enumerate() {
            let band: Vec<(f64, f64)> =
                pts.iter().map(|p| (p.0, p.3)).chain(pts.iter().rev().map(|p| (p.0, p.2))).collect();
            chart
                .draw_series(std::iter::once(Polygon::new(band, run_colour(i).mix(0.18).filled())))
                .map_err(err)?;
        }
        for (i, pts) in series.iter().enumerate() {
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|p| (p.0, p.1)),
                    run_colour(i).stroke_width(s.px(2.5).max(1)),
                ))
                .map_err(err)?;
        }
    }
    let _ = (GREY, viridis(0.0));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{compare_svg, ratio_tick, ratio_ticks, risk, CompareView, Risk};
    use crate::analysis::compare::{paired_proportion, PairedLevel};
    use crate::output::compare::{Comparison, LevelRow, PairStats, RunInfo};
    use crate::present::charts::{svg_texts, ChartOptions};

    /// A paired comparison of a baseline with `v1` and `v2` on levels from 2x2 counts:
    /// per level, per variant, (both, baseline only, variant only) of 10,000 trials.
    /// (both, baseline only, variant only) of v1 and of v2.
    type Counts = [(u64, u64, u64); 2];

    fn comparison(levels: &[(&str, Counts)]) -> Comparison {
        let n = 10_000;
        let rows = levels
            .iter()
            .map(|(id, counts)| {
                let stats: Vec<_> = counts
                    .iter()
                    .map(|&(both, a_only, b_only)| paired_proportion(PairedLevel { both, a_only, b_only }, n))
                    .collect();
                LevelRow {
                    id: id.to_string(),
                    label: String::new(),
                    p: std::iter::once(stats[0].a).chain(stats.iter().map(|s| s.b)).collect(),
                    vs_first: stats
                        .iter()
                        .map(|s| PairStats {
                            difference: s.difference,
                            ratio: s.ratio,
                            correlation: s.correlation,
                            variance_reduction: s.variance_reduction,
                        })
                        .collect(),
                }
            })
            .collect();
        let info = |v: Option<&str>| RunInfo {
            scenario: "t".into(),
            variant: v.map(String::from),
            trials: n,
            seed: 1,
        };
        Comparison {
            names: vec!["baseline".into(), "v1".into(), "v2".into()],
            paired: true,
            unpaired_because: None,
            trials: vec![n; 3],
            runs: vec![info(None), info(Some("v1")), info(Some("v2"))],
            levels: rows,
            tallies: Vec::new(),
            steps: Vec::new(),
        }
    }

    #[test]
    fn the_forest_plot_draws_relative_risk_on_a_log_axis_beside_the_baseline() {
        // war: baseline 20 of 10,000 (0.20%); v1 50 (RR 2.5), v2 10 (RR 0.5).
        // iran: baseline 0; v1 3 (RR infinite), v2 0 (0 / 0).
        let cmp = comparison(&[("war", [(15, 5, 35), (10, 10, 0)]), ("iran", [(0, 0, 3), (0, 0, 0)])]);
        assert_eq!(risk(&cmp.levels[1], 0), Risk::Infinite);
        assert_eq!(risk(&cmp.levels[1], 1), Risk::Undefined);
        let v = CompareView { cmp: &cmp, runs: &[] };
        let svg = compare_svg("compare_levels", &v, &ChartOptions::default()).unwrap();
        let texts = svg_texts(&svg);
        let x_of =
            |t: &str| texts.iter().find(|x| x.2 == t).map(|x| x.0).unwrap_or_else(|| panic!("no tick {t}"));
        // Log: 0.5 -> 1 and 1 -> 2 are the same distance apart (to a pixel of rounding).
        let (a, b, c) = (x_of("0.5"), x_of("1"), x_of("2"));
        assert!(b > a && c > b && ((b - a) - (c - b)).abs() <= 1.0, "{a} {b} {c}");
        assert!(texts.iter().any(|t| t.2 == "relative risk: P(run) / P(baseline), log scale"));
        // The baseline's P with its Wilson interval heads the level's rows.
        assert!(
            texts.iter().any(|t| t.2.starts_with("baseline P(reach war) 0.20% [")),
            "{:?}",
            texts.iter().map(|t| &t.2).collect::<Vec<_>>()
        );
        // Each variant's ratio and difference, in words where no ratio exists.
        assert!(texts.iter().any(|t| t.2.starts_with("×2.50 [")));
        assert!(texts.iter().any(|t| t.2.starts_with("×0.500 [")));
        assert!(texts.iter().any(|t| t.2 == "∞: baseline never reached it"));
        assert!(texts.iter().any(|t| t.2 == "undefined (0 / 0): neither run reached it"));
        assert!(texts.iter().any(|t| t.2.starts_with("+0.30 [") && t.2.ends_with("pts")));
    }

    #[test]
    fn ratio_ticks_are_the_coarsest_series_with_four_in_range() {
        let ticks = |lo: f64, hi: f64| -> Vec<String> {
            ratio_ticks(lo, hi).into_iter().map(|e| ratio_tick(10f64.powf(e))).collect()
        };
        assert_eq!(ticks(0.3, 6.0), ["0.5", "1", "2", "5"]);
        assert_eq!(ticks(0.9, 1.6), ["0.9", "1", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6"]);
        assert_eq!(ticks(0.001, 20.0), ["0.001", "0.01", "0.1", "1", "10"]);
    }
}
