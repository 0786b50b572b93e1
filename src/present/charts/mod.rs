//! Charts: PNG and SVG pictures of a results folder, for people.
//!
//! Every chart is drawn from [`Results`] (the files of a results folder), so `brink run`
//! and `brink plot` produce the same bytes. Text uses DejaVu Sans embedded in the binary
//! (plotters' `ab_glyph` rasteriser), never system fonts, so charts render the same on a
//! machine with no fonts or fontconfig. Colours: a viridis ramp for the ordered ladder
//! (colour-blind safe, readable in grey) and Okabe-Ito accents.

pub mod backtest;
pub mod chain;
pub mod compare;
pub mod explore;
pub mod fit;
mod levels;
mod occupancy;
mod paths;
pub mod score;
pub mod split;
mod tallies;
pub(crate) mod time_to_level;

use crate::output::guard::RUN_CHARTS;
use crate::output::results::Results;
use crate::output::text::{pct, thousands};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::sync::Once;

/// Which files to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Formats {
    /// PNG and SVG.
    Both,
    /// PNG only.
    Png,
    /// SVG only.
    Svg,
    /// No charts.
    None,
}

/// Size and formats of the charts.
#[derive(Debug, Clone, Copy)]
pub struct ChartOptions {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Formats to write.
    pub formats: Formats,
}

impl Default for ChartOptions {
    fn default() -> Self {
        ChartOptions { width: 1200, height: 800, formats: Formats::Both }
    }
}

/// The charts, in the order the report shows them: (file stem, title for people).
/// The stems are [`RUN_CHARTS`], which the `--force` guard knows a run folder by.
pub const CHARTS: [(&str, &str); 5] = [
    (RUN_CHARTS[0], "Probability of reaching each level (log scale, 95% intervals)"),
    (RUN_CHARTS[1], "Cumulative probability over time"),
    (RUN_CHARTS[2], "Share of trials at each level, day by day"),
    (RUN_CHARTS[3], "How likely each tally total is, or more (log scale)"),
    (RUN_CHARTS[4], "Most frequent escalation paths"),
];

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("drawing chart {chart}: {message}")]
pub struct ChartError {
    chart: String,
    message: String,
}

impl ChartError {
    fn new(chart: &str, message: String) -> ChartError {
        ChartError { chart: chart.into(), message }
    }
}

type DrawResult = Result<(), String>;

fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid font shipped by the dejavu crate; registration only fails
        // on malformed font data, which would make every chart fail loudly below.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
    });
}

/// The chart files that [`render_all`] writes for these options.
pub(crate) fn file_names(opts: &ChartOptions) -> Vec<String> {
    let mut out = Vec::new();
    for (name, _) in CHARTS {
        if matches!(opts.formats, Formats::Both | Formats::Png) {
            out.push(format!("{name}.png"));
        }
        if matches!(opts.formats, Formats::Both | Formats::Svg) {
            out.push(format!("{name}.svg"));
        }
    }
    out
}

/// Renders every chart; returns (file name, bytes) pairs in [`CHARTS`] order.
pub(crate) fn render_all(r: &Results, opts: &ChartOptions) -> Result<Vec<(String, Vec<u8>)>, ChartError> {
    let mut out = Vec::new();
    for (name, _) in CHARTS {
        out.extend(draw_files(name, opts, &RunChart { name, r })?);
    }
    Ok(out)
}

/// Renders one chart as SVG text (used inline by the report).
pub fn svg(name: &str, r: &Results, opts: &ChartOptions) -> Result<String, ChartError> {
    draw_svg(name, opts, &RunChart { name, r })
}

/// Renders one chart as PNG bytes.
pub fn png(name: &str, r: &Results, opts: &ChartOptions) -> Result<Vec<u8>, ChartError> {
    draw_png(name, opts, &RunChart { name, r })
}

/// A chart that draws itself on any backend: every chart of every command is one, so
/// backends, fonts, the white ground and errors are handled once, below.
trait Draw {
    /// Draws on `root`, already filled white, with the style sized for it.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: &Style) -> DrawResult;
}

/// Fills the area white and draws the chart with the style for its size.
fn draw_on<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &impl Draw, bitmap: bool) -> DrawResult {
    root.fill(&WHITE).map_err(err)?;
    chart.draw(root, &Style::for_area(root, bitmap))?;
    root.present().map_err(err)
}

/// The chart as SVG text.
fn draw_svg(name: &str, opts: &ChartOptions, chart: &impl Draw) -> Result<String, ChartError> {
    fonts();
    ABBREVIATED.with(|a| a.borrow_mut().clear());
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, (opts.width, opts.height)).into_drawing_area();
        draw_on(&root, chart, false).map_err(|m| ChartError::new(name, m))?;
    }
    Ok(with_tooltips(s))
}

/// The chart as PNG bytes.
fn draw_png(name: &str, opts: &ChartOptions, chart: &impl Draw) -> Result<Vec<u8>, ChartError> {
    fonts();
    ABBREVIATED.with(|a| a.borrow_mut().clear());
    let (w, h) = (opts.width, opts.height);
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw_on(&root, chart, true).map_err(|m| ChartError::new(name, m))?;
    }
    encode_png(&rgb, w, h).map_err(|m| ChartError::new(name, m))
}

/// The chart's files as `opts.formats` asks: `NAME.png`, then `NAME.svg`.
fn draw_files(
    name: &str,
    opts: &ChartOptions,
    chart: &impl Draw,
) -> Result<Vec<(String, Vec<u8>)>, ChartError> {
    let mut out = Vec::new();
    if matches!(opts.formats, Formats::Both | Formats::Png) {
        out.push((format!("{name}.png"), draw_png(name, opts, chart)?));
    }
    if matches!(opts.formats, Formats::Both | Formats::Svg) {
        out.push((format!("{name}.svg"), draw_svg(name, opts, chart)?.into_bytes()));
    }
    Ok(out)
}

fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut enc = ::png::Encoder::new(&mut out, w, h);
        enc.set_color(::png::ColorType::Rgb);
        enc.set_depth(::png::BitDepth::Eight);
        enc.set_compression(::png::Compression::Default);
        let mut writer = enc.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// One chart of a results folder, by name.
struct RunChart<'a> {
    name: &'a str,
    r: &'a Results,
}

impl Draw for RunChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, style: &Style) -> DrawResult {
        let r = self.r;
        match self.name {
            "levels" => levels::draw(root, r, style),
            "time_to_level" => time_to_level::draw(root, r, style),
            "occupancy" => occupancy::draw(root, r, style),
            "tallies" => tallies::draw(root, r, style),
            "paths" => paths::draw(root, r, style),
            "chain" => chain::draw(root, r, style),
            other => Err(format!("unknown chart {other}")),
        }
    }
}

/// Maps any drawing error to text.
fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Font sizes and margins scaled to the picture, so 800x500 and 1200x800 both read well.
#[derive(Debug, Clone, Copy)]
struct Style {
    scale: f64,
    /// Drawing pixels (PNG): font sizes are then even (see [`Style::font_px`]).
    bitmap: bool,
}

impl Style {
    fn for_area<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, bitmap: bool) -> Style {
        let (w, h) = root.dim_in_pixel();
        Style { scale: (w as f64 / 1200.0).min(h as f64 / 800.0).clamp(0.5, 3.0), bitmap }
    }
    /// A font size in pixels. On a bitmap it is an even whole number: plotters 0.3.7
    /// places each glyph at `(size / 2 + top) as i32`, which truncates toward zero, so at
    /// an odd size glyphs above and below that line round in opposite directions and a
    /// decimal point sits a pixel high ("16·1%"). An even size has nothing to round.
    fn font_px(&self, base: f64) -> f64 {
        let px = (base * self.scale).max(9.0);
        if self.bitmap {
            // Ties go down (13 -> 12), so text never grows past what the layout measured
            // for its neighbours.
            ((px / 2.0 - 0.01).round() * 2.0).max(10.0)
        } else {
            px
        }
    }
    fn px(&self, base: f64) -> u32 {
        (base * self.scale).round() as u32
    }
    /// The builder of one small-multiples panel: the margins and label areas that every
    /// panel of `tallies` and `time_to_level` shares, so that their panels line up.
    fn panel<'a, 'b, DB: DrawingBackend>(
        &self,
        area: &'a DrawingArea<DB, Shift>,
    ) -> ChartBuilder<'a, 'b, DB> {
        let mut b = ChartBuilder::on(area);
        b.margin(self.px(8.0))
            .margin_top(self.px(4.0))
            .margin_right(self.px(18.0))
            .x_label_area_size(self.px(40.0))
            .y_label_area_size(self.px(62.0));
        b
    }
    fn font(&self, base: f64) -> TextStyle<'static> {
        ("sans-serif", self.font_px(base)).into_font().color(&INK)
    }
    fn bold(&self, base: f64) -> TextStyle<'static> {
        ("sans-serif", self.font_px(base), FontStyle::Bold).into_font().color(&INK)
    }
    fn title(&self) -> TextStyle<'static> {
        self.bold(26.0)
    }
    fn subtitle(&self) -> TextStyle<'static> {
        self.font(17.0).color(&GREY)
    }
    fn label(&self) -> TextStyle<'static> {
        self.font(18.0)
    }
    fn tick(&self) -> TextStyle<'static> {
        self.font(15.0)
    }
}

const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
const GREY: RGBColor = RGBColor(0x66, 0x66, 0x66);
const LIGHT: RGBColor = RGBColor(0xdd, 0xdd, 0xdd);
/// Okabe-Ito vermillion and blue, for marks (means, percentiles, whiskers).
const VERMILLION: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
const BLUE: RGBColor = RGBColor(0x00, 0x72, 0xB2);

/// Viridis control points (t = 0, 0.25, 0.5, 0.75, 1).
const VIRIDIS: [(u8, u8, u8); 5] =
    [(0x44, 0x01, 0x54), (0x3b, 0x52, 0x8b), (0x21, 0x91, 0x8c), (0x5e, 0xc9, 0x62), (0xfd, 0xe7, 0x25)];

fn viridis(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0) * 4.0;
    let i = (t.floor() as usize).min(3);
    let f = t - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Whether dark text reads better than white on this colour (relative luminance).
fn is_light(c: RGBColor) -> bool {
    0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64 > 140.0
}

/// Colour of level `i` of `n`: light for the lowest rung, dark for the highest.
fn level_colour(i: usize, n: usize) -> RGBColor {
    if n <= 1 {
        return viridis(0.5);
    }
    viridis(0.88 - 0.88 * i as f64 / (n - 1) as f64)
}

/// Title and subtitle at the top; returns the area below them. The title names the
/// scenario (by its short name) and variant; the subtitle its title and the run.
fn header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Style,
    title: &str,
    r: &Results,
) -> Result<DrawingArea<DB, Shift>, String> {
    let m = &r.manifest;
    let name = match &m.variant {
        Some(v) => format!("{} [{v}]", m.scenario_name),
        None => format!("{} [baseline]", m.scenario_name),
    };
    let mut sub = format!("{}, seed {}, {} days", r.trials_text(), m.seed, m.horizon_days);
    if let Some(start) = &m.start {
        sub.push_str(&format!(" from {start}"));
    }
    if let Some(pf) = &m.params_file {
        sub.push_str(&format!(", params from {}", pf.file));
    }
    if !m.sets.is_empty() {
        sub.push_str(&format!(", set {}", m.sets.join(", ")));
    }
    title_band(root, s, &format!("{name}: {title}"), &format!("{} · {sub}", m.scenario_title))
}

/// A panel of per-period bars: an x axis of `labels` (every `every`-th shown), a y axis
/// up to `top` with `y_desc`, on `area` under `title`. The fit's counts and the score's fan
/// draw their panels on it.
fn labelled_panel<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    s: &Style,
    title: &str,
    labels: &[String],
    every: usize,
    top: f64,
    y_desc: &str,
) -> Result<
    ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    String,
> {
    let n = labels.len().max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(title, s.font(15.0))
        .margin(s.px(8.0))
        .x_label_area_size(s.px(34.0))
        .y_label_area_size(s.px(48.0))
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), 0.0..top)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(LIGHT)
        .x_labels(n.min(60))
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) % every == 0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_labels(5)
        .y_label_formatter(&|y| if top < 6.0 { format!("{y:.1}") } else { format!("{y:.0}") })
        .y_desc(y_desc)
        .axis_desc_style(s.font(13.0))
        .label_style(s.font(12.0))
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// The band every chart opens with: a bold title and a grey subtitle, each shortened to
/// fit; returns the area below it.
fn title_band<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Style,
    title: &str,
    subtitle: &str,
) -> Result<DrawingArea<DB, Shift>, String> {
    let (w, _) = root.dim_in_pixel();
    let (head, body) = root.split_vertically(s.px(66.0) as i32);
    let margin = s.px(20.0) as i32;
    let title = fit(&head, title, &s.title(), w as i32 - 2 * margin);
    head.draw(&Text::new(title, (margin, s.px(10.0) as i32), s.title())).map_err(err)?;
    let sub = fit(&head, subtitle, &s.subtitle(), w as i32 - 2 * margin);
    head.draw(&Text::new(sub, (margin, s.px(42.0) as i32), s.subtitle())).map_err(err)?;
    Ok(body)
}

/// Shortens text with an ellipsis until it fits `width` pixels in `font`.
fn fit<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    font: &TextStyle,
    width: i32,
) -> String {
    let fits = |t: &str| area.estimate_text_size(t, font).map(|(w, _)| w as i32 <= width).unwrap_or(true);
    if fits(text) {
        return text.to_owned();
    }
    // The longest prefix that fits with an ellipsis, by bisection (widths grow with the
    // prefix): measuring text is the slowest part of drawing a chart.
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return "…".into();
    }
    let cut = |n: usize| chars[..n].iter().collect::<String>() + "…";
    let (mut lo, mut hi) = (0, chars.len() - 1); // cut(lo) fits (or lo = 0); cut(hi + 1) does not
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if fits(&cut(mid)) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let short = if lo == 0 { "…".to_owned() } else { cut(lo) };
    ABBREVIATED.with(|a| a.borrow_mut().push((short.clone(), text.to_owned())));
    short
}

thread_local! {
    /// The texts [`fit`] shortened while the current chart was drawn, (shown, full): the
    /// SVG gives each a tooltip with the full text ([`with_tooltips`]).
    static ABBREVIATED: std::cell::RefCell<Vec<(String, String)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Escapes text as plotters' SVG backend does.
fn svg_escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Gives every text element that shows a shortened text a `<title>` with the full text,
/// which browsers show as a tooltip: nothing said on a chart is lost to its width.
fn with_tooltips(svg: String) -> String {
    let list = ABBREVIATED.with(|a| std::mem::take(&mut *a.borrow_mut()));
    let mut svg = svg;
    for (short, full) in list {
        let shown = format!(">\n{}\n</text>", svg_escape(&short));
        if let Some(i) = svg.find(&shown) {
            let titled = format!(">\n<title>{}</title>{}\n</text>", svg_escape(&full), svg_escape(&short));
            svg.replace_range(i..i + shown.len(), &titled);
        }
    }
    svg
}

/// A log10 axis of probabilities, as a plain range of exponents `lo..hi` (so every chart
/// maps `log10(p)` itself): a labelled tick and a gridline at each decade, light gridlines
/// at 2 and 5 times each. Label it with [`decade_pct`] and say "log scale" beside it.
/// `pad` widens the range beyond the top decade (in decades), so a mark at 100% is not cut
/// by the plot's edge.
fn log_axis(lo: i32, hi: i32, pad: f64) -> Decades {
    let light = (lo..hi).flat_map(|e| [2.0f64, 5.0].map(|m| f64::from(e) + m.log10())).collect();
    Decades { range: (f64::from(lo)..f64::from(hi) + pad).into(), lo, hi, light }
}

/// The coordinate of [`log_axis`]: linear in the exponent, with its key points at the
/// decades (bold) and at 2 and 5 times each (light).
struct Decades {
    range: plotters::coord::types::RangedCoordf64,
    lo: i32,
    hi: i32,
    /// The light gridlines (a chart short of room clears them).
    light: Vec<f64>,
}

impl Ranged for Decades {
    type ValueType = f64;
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.range.map(value, limit)
    }
    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, hint: H) -> Vec<f64> {
        let decades = (self.lo..=self.hi).map(f64::from);
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else if self.hi - self.lo <= 2 {
            // Two decades or fewer: label 2 and 5 times each decade too.
            decades.chain(self.light.iter().copied()).collect()
        } else {
            decades.collect()
        }
    }
    fn range(&self) -> std::ops::Range<f64> {
        self.range.range()
    }
}

/// A linear axis over `range` whose ticks and gridlines are exactly `keys` (inside the
/// range): for a chart with room beyond its last tick (text beside a bar at +1 of a
/// correlation axis) or with ticks of its own choosing (a ratio axis in log10 units).
struct Keyed {
    range: plotters::coord::types::RangedCoordf64,
    keys: Vec<f64>,
}

impl Keyed {
    fn new(lo: f64, hi: f64, keys: Vec<f64>) -> Keyed {
        Keyed { range: (lo..hi).into(), keys }
    }
}

impl Ranged for Keyed {
    type ValueType = f64;
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.range.map(value, limit)
    }
    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.keys.clone()
        }
    }
    fn range(&self) -> std::ops::Range<f64> {
        self.range.range()
    }
}

/// The decade at or below the smallest positive value, for the lower end of a log axis:
/// `floor(log10(min))`, kept within `[-9, hi - 1]` so the axis spans at least one decade.
/// Values that are zero, negative or not finite are ignored (they have no place on a log
/// axis; charts mark them at the floor).
fn log_floor(values: impl IntoIterator<Item = f64>, hi: i32) -> i32 {
    let min = values.into_iter().filter(|v| v.is_finite() && *v > 0.0).fold(f64::INFINITY, f64::min);
    if !min.is_finite() {
        return hi - 1;
    }
    // A hair of slack so that 0.001 (log10 = -2.9999999999999996) sits on its decade.
    ((min.log10() + 1e-9).floor() as i32).clamp(-9, hi - 1)
}

/// Tick text for the point `10^e` of a probability axis (a decade, or 2 or 5 times one),
/// as a percentage with no more decimals than it needs: -4 -> "0.01%", -2 -> "1%",
/// log10(0.2) -> "20%", 0 -> "100%"; empty for any other point.
fn decade_pct(e: f64) -> String {
    let r = e.floor();
    let m = 10f64.powf(e - r);
    let Some(m) = [1.0, 2.0, 5.0, 10.0].into_iter().find(|x| (m - x).abs() < 1e-6) else {
        return String::new();
    };
    let (m, k) = if m == 10.0 { (1, r as i32 + 3) } else { (m as u64, r as i32 + 2) }; // m x 10^k percent
    if k >= 0 {
        format!("{}%", m * 10u64.pow(k as u32))
    } else {
        format!("{:.*}%", (-k) as usize, m as f64 * 10f64.powi(k))
    }
}

/// Splits text into at most `max_lines` lines of at most `width` pixels in `font`,
/// breaking at spaces; a word longer than a line, or text beyond the last line, is
/// shortened with an ellipsis ([`fit`]). Never returns an empty list.
fn wrap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    font: &TextStyle,
    width: i32,
    max_lines: usize,
) -> Vec<String> {
    let fits = |t: &str| area.estimate_text_size(t, font).map(|(w, _)| w as i32 <= width).unwrap_or(true);
    let mut lines: Vec<String> = Vec::new();
    let mut words = text.split_whitespace().peekable();
    while words.peek().is_some() {
        if lines.len() + 1 == max_lines.max(1) {
            let rest: Vec<&str> = words.collect();
            let before = ABBREVIATED.with(|a| a.borrow().len());
            lines.push(fit(area, &rest.join(" "), font, width));
            // The tooltip of a shortened last line holds the whole text, not its rest.
            ABBREVIATED.with(|a| {
                let mut a = a.borrow_mut();
                if a.len() > before {
                    if let Some(last) = a.last_mut() {
                        last.1 = text.to_owned();
                    }
                }
            });
            break;
        }
        let mut line = String::new();
        while let Some(w) = words.peek() {
            let candidate = if line.is_empty() { (*w).to_owned() } else { format!("{line} {w}") };
            if line.is_empty() || fits(&candidate) {
                line = candidate;
                words.next();
            } else {
                break;
            }
        }
        lines.push(fit(area, &line, font, width));
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// Axis label text for day `d`: a short date when the scenario has a start date.
fn day_label(r: &Results, d: f64) -> String {
    match r.start() {
        Some(start) => {
            let date = start.plus_days(d.round() as i64);
            const M: [&str; 12] =
                ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
            format!("{} {}", M[(date.month - 1) as usize], date.day)
        }
        None => format!("{}", d.round()),
    }
}

/// Description of the time axis.
fn day_axis(r: &Results) -> String {
    match &r.manifest.start {
        Some(s) => format!("date (day 0 = {s})"),
        None => "day".into(),
    }
}

/// The texts of an SVG chart as (x, y, text), for tests.
#[cfg(test)]
pub(crate) fn svg_texts(svg: &str) -> Vec<(f64, f64, String)> {
    let doc = roxmltree::Document::parse(svg).expect("the chart is valid SVG");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| {
            let num = |a: &str| n.attribute(a).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
            // The shown text, without a tooltip's <title>.
            let text: String = n.children().filter(|c| c.is_text()).filter_map(|c| c.text()).collect();
            (num("x"), num("y"), text.trim().to_owned())
        })
        .collect()
}

/// The panels of `m` small multiples on `grid`: one column for one, two up to four, three
/// up to nine, then four, filled row by row.
pub(super) fn small_multiples<DB: DrawingBackend>(
    grid: &DrawingArea<DB, Shift>,
    m: usize,
) -> Vec<DrawingArea<DB, Shift>> {
    let cols = match m {
        0 | 1 => 1,
        2..=4 => 2,
        5..=9 => 3,
        _ => 4,
    };
    grid.split_evenly((m.max(1).div_ceil(cols), cols))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_colours_go_from_light_to_dark() {
        let lum = |c: RGBColor| 0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64;
        let n = 7;
        for i in 1..n {
            assert!(lum(level_colour(i, n)) < lum(level_colour(i - 1, n)));
        }
    }

    #[test]
    fn shortened_text_gets_its_full_text_as_a_tooltip() {
        ABBREVIATED.with(|a| a.borrow_mut().push(("US & Iran…".into(), "US & Iran <at war>".into())));
        let svg = "<text x=\"1\">\nUS &amp; Iran…\n</text>\n".to_owned();
        assert_eq!(
            with_tooltips(svg),
            "<text x=\"1\">\n<title>US &amp; Iran &lt;at war&gt;</title>US &amp; Iran…\n</text>\n"
        );
        assert!(ABBREVIATED.with(|a| a.borrow().is_empty()));
    }

    #[test]
    fn decade_ticks_read_as_percentages() {
        let got: Vec<String> = (-6..=0).map(|e| decade_pct(e as f64)).collect();
        assert_eq!(got, ["0.0001%", "0.001%", "0.01%", "0.1%", "1%", "10%", "100%"]);
        assert_eq!(decade_pct(-2.0 + 2f64.log10()), "2%");
        assert_eq!(decade_pct(-1.0 + 5f64.log10()), "50%");
        assert_eq!(decade_pct(-5.0 + 2f64.log10()), "0.002%");
        assert_eq!(decade_pct(-2.0 + 3f64.log10()), "");
        assert_eq!(decade_pct(-1.0 + 10f64.log10()), "100%");
    }

    #[test]
    fn the_log_floor_is_the_decade_below_the_smallest_positive_value() {
        // P(war) 0.032% with its Wilson interval 0.0227% - 0.0452%: the floor is 0.01%.
        assert_eq!(log_floor([1.0, 0.18919, 0.000227, 0.00032, 0.0], 0), -4);
        // Exactly on a decade: 0.1% is the floor itself, not the decade below it.
        assert_eq!(log_floor([0.001, 0.5], 0), -3);
        // Nothing positive, or everything near 1: one decade.
        assert_eq!(log_floor([0.0, f64::NAN], 0), -1);
        assert_eq!(log_floor([0.9, 1.0], 0), -1);
        // Never below 1e-9.
        assert_eq!(log_floor([1e-15], 0), -9);
    }
}
