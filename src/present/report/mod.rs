//! `report.html`: one self-contained page per run: scenario, parameters, summary tables,
//! every chart as inline SVG, and the manifest. No scripts, no network, prints well. The
//! comparison, backtest and score pages are built the same way.
//!
//! The pages are maud templates: the compiler checks their markup, and every value spliced
//! in is escaped unless it is one of the two trusted kinds of markup, the style sheet
//! (`report.css`, compiled in) and the charts brink has drawn ([`InlineSvg`]). Templates add
//! no whitespace of their own, so the `"\n"` in them are exactly the page's line breaks.
//!
//! One file per page: `run.rs` (a run's page), `card.rs` (the headline card a run's page
//! opens with, also on `brink serve`'s page and, its path line, on the comparison page),
//! `epistemic.rs` (a run's parameter draws: their charts, tables and drivers),
//! `backtest.rs`, `score.rs` and `compare.rs`. This file holds what every page shares: the
//! escaping (`Text`, `InlineSvg`), the page around a body, figures, and the params and
//! manifest sections, so that the two trusted kinds of markup are spliced in here only.

mod backtest;
mod card;
mod compare;
mod epistemic;
mod run;
mod score;

pub(crate) use backtest::{backtest_html, BacktestView};
pub use card::{headline_css, served_card, Served};
pub(crate) use compare::compare_html;
pub use run::html;
pub(crate) use score::{score_html, ScorePage};

use crate::output::manifest::Manifest;
use crate::output::text::short;
use maud::{html, Markup, PreEscaped, Render, DOCTYPE};

/// "lo – hi".
fn dash((lo, hi): (String, String)) -> String {
    format!("{lo} – {hi}")
}

/// The style sheet every page shares.
const CSS: &str = include_str!("report.css");

/// What the backtest page adds to the style sheet: shaded misses, unbroken months.
const BACKTEST_CSS: &str = "tr.out td { background: #fff4e5; }\ntd.nw { white-space: nowrap; }\n";

/// Escapes text for HTML, quotes and apostrophes included, so it is safe in text and in
/// attribute values alike.
fn esc_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

/// Text from a scenario, a manifest or the command line, escaped by [`esc_into`].
///
/// maud escapes a plain `(value)` too, but leaves `'` as it is; brink's pages have always
/// written `&#39;`, and `Text` keeps their bytes.
struct Text<'a>(&'a str);

impl Render for Text<'_> {
    fn render_to(&self, buffer: &mut String) {
        esc_into(buffer, self.0);
    }
}

/// Shorthand for [`Text`] in templates.
fn text(s: &str) -> Text<'_> {
    Text(s)
}

/// A chart brink drew itself, made responsive by [`responsive`]: the only markup from
/// outside a template that a page includes unescaped (besides the style sheet).
struct InlineSvg(String);

impl Render for InlineSvg {
    fn render_to(&self, buffer: &mut String) {
        PreEscaped(&self.0).render_to(buffer);
    }
}

/// The page around `body`: head with `title` and the style sheet (plus `extra_css`).
fn page(title: impl Render, extra_css: &'static str, body: Markup) -> String {
    html! {
        (DOCTYPE) "\n"
        html lang="en" {
            "\n"
            head {
                "\n"
                meta charset="utf-8";
                "\n"
                title { (title) }
                "\n"
                style {
                    "\n" (PreEscaped(CSS))
                    @if !extra_css.is_empty() { "\n" (PreEscaped(extra_css)) }
                }
                "\n"
            }
            "\n"
            body { "\n" (body) }
            "\n"
        }
        "\n"
    }
    .into_string()
}

/// A chart and its caption, as a `<figure>` (with `id` when the page links to it).
fn figure_markup(id: Option<&str>, svg: InlineSvg, caption: &str) -> Markup {
    html! {
        figure id=[id] { "\n" (svg) "\n" figcaption { (text(caption)) } "\n" }
        "\n"
    }
}

/// An inline SVG sized by the page (viewBox kept, fixed size dropped), labelled for
/// screen readers.
fn responsive(svg: &str, label: &str) -> InlineSvg {
    match svg.find('>') {
        Some(end) if svg.starts_with("<svg") => {
            let mut out = strip_attr(&strip_attr(&svg[..end], "width"), "height");
            out.push_str(" role=\"img\" aria-label=\"");
            esc_into(&mut out, label);
            out.push_str("\">");
            out.push_str(&svg[end + 1..]);
            InlineSvg(out)
        }
        _ => InlineSvg(svg.to_owned()),
    }
}

/// Removes ` name="..."` from an opening tag.
fn strip_attr(tag: &str, name: &str) -> String {
    let key = format!(" {name}=\"");
    match tag.find(&key) {
        Some(i) => {
            let rest = &tag[i + key.len()..];
            match rest.find('"') {
                Some(j) => format!("{}{}", &tag[..i], &rest[j + 1..]),
                None => tag.to_owned(),
            }
        }
        None => tag.to_owned(),
    }
}

/// How many params the trials draw (those with a distribution).
fn uncertain_count(m: &Manifest) -> usize {
    m.provenance.iter().filter(|p| p.distribution.is_some()).count()
}

/// The params table: each param's value, its distribution when trials draw it, and
/// where it comes from, so a reader can judge every number behind the results.
/// `two_loop`: the params are fixed per parameter draw, not drawn in every trial.
fn params_section(m: &Manifest, two_loop: bool) -> Markup {
    html! {
        h2 { "Parameters" } "\n"
        p {
            "Variant: " code { (text(m.variant.as_deref().unwrap_or("baseline"))) }
            @if let Some(pf) = &m.params_file {
                "; params from " code { (text(&pf.file)) } ": " code { (text(&pf.params.join(" "))) }
            }
            @if !m.sets.is_empty() {
                "; set on the command line: " code { (text(&m.sets.join(" "))) }
            }
        }
        "\n"
        @if m.provenance.iter().any(|p| p.distribution.is_some()) {
            p {
                @if two_loop {
                    "In this two-loop run each parameter draw fixes the params given as distributions for all its trials; the value shown is their mean."
                } @else {
                    "Params given as distributions are drawn anew in every trial (predictive mode); the value shown is their mean."
                    @if m.spread.is_some() { " For the spread of P(reached), each draw fixes them for all its trials." }
                }
            }
            "\n"
        }
        @let rows: Vec<ParamRow> = m.params.iter().map(|(k, v)| ParamRow::of(m, k, *v)).collect();
        @let (dists, sources, notes) = (
            rows.iter().any(|r| r.dist.is_some()),
            rows.iter().any(|r| r.set_by.is_some() || r.source.is_some()),
            rows.iter().any(|r| r.note.is_some()),
        );
        table.params {
            tr {
                th { "param" } th.n { "value" }
                @if dists { th { "distribution" } }
                @if sources { th { "source" } }
                @if notes { th { "note" } }
            }
            "\n"
            @for r in &rows {
                tr {
                    td { code { (text(r.name)) } }
                    td.n { (short(r.value)) }
                    @if dists { td { (cell(r.dist)) } }
                    @if sources {
                        td {
                            @match (&r.set_by, r.source) {
                                (Some(by), Some(src)) => { i { (text(by)) } "; " (text(src)) }
                                (Some(by), None) => { i { (text(by)) } }
                                (None, src) => { (cell(src)) }
                            }
                        }
                    }
                    @if notes { td { (cell(r.note)) } }
                }
                "\n"
            }
        }
        "\n"
    }
}

/// One row of the params table.
struct ParamRow<'a> {
    name: &'a str,
    value: f64,
    dist: Option<&'a String>,
    /// Who set it when not the scenario file: `--set` or `--params FILE`.
    set_by: Option<String>,
    source: Option<&'a String>,
    note: Option<&'a String>,
}

impl<'a> ParamRow<'a> {
    /// The row of param `name`: the manifest's provenance, and who set it. A `--params`
    /// file's `source` and `note` replace the scenario's (empty when it gives none, as
    /// `brink fit` writes them), so the row names the file instead of leaving both blank;
    /// a `--set` value keeps the file's source and note, which describe the file's value.
    fn of(m: &'a Manifest, name: &'a str, value: f64) -> ParamRow<'a> {
        let p = m.provenance.iter().find(|p| p.param == name);
        let by_set = m.sets.iter().any(|s| s.split_once('=').is_some_and(|(k, _)| k.trim() == name));
        let by_file = m.params_file.as_ref().filter(|pf| pf.params.iter().any(|k| k == name));
        let set_by = if by_set && p.is_some_and(|p| p.source.is_some() || p.note.is_some()) {
            Some("--set (the source and note describe the file's own value)".to_owned())
        } else if by_set {
            Some("--set".to_owned())
        } else {
            by_file.map(|pf| format!("--params {}", pf.file))
        };
        ParamRow {
            name,
            value,
            dist: p.and_then(|p| p.distribution.as_ref()),
            set_by,
            source: p.and_then(|p| p.source.as_ref()),
            note: p.and_then(|p| p.note.as_ref()),
        }
    }
}

/// A table cell that may be empty: "–" then.
fn cell(x: Option<&String>) -> Text<'_> {
    text(x.map_or("–", String::as_str))
}

/// The run's identity (version, scenario and its hash, seed, trials, streams), then
/// `extra` rows, so that a reader can reproduce what the page shows.
fn manifest_section(m: &Manifest, extra: &[(&str, String)]) -> Markup {
    let rows = [
        ("brink version", m.brink_version.clone()),
        ("scenario file", m.scenario_file.clone()),
        ("scenario SHA-256", m.scenario_sha256.clone()),
        ("seed", m.seed.to_string()),
        ("trials", m.trials.to_string()),
        ("random streams", m.streams.clone()),
    ];
    html! {
        h2 { "Manifest" } "\n"
        table.manifest {
            "\n"
            @for (k, v) in rows.iter().chain(extra) {
                tr { td { (text(k)) } td { code { (text(v)) } } } "\n"
            }
        }
        "\n"
    }
}

/// "Scenario `name`, variant `variant`": how a page's subtitle names what it ran.
fn scenario_and_variant(m: &Manifest) -> Markup {
    html! {
        "Scenario " code { (text(&m.scenario_name)) } ", variant "
        code { (text(m.variant.as_deref().unwrap_or("baseline"))) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            html! { (text("a<b & \"c\" 'd'")) }.into_string(),
            "a&lt;b &amp; &quot;c&quot; &#39;d&#39;"
        );
    }

    #[test]
    fn strips_size_but_keeps_viewbox() {
        let t = strip_attr(
            &strip_attr("<svg width=\"1200\" height=\"800\" viewBox=\"0 0 1200 800\"", "width"),
            "height",
        );
        assert_eq!(t, "<svg viewBox=\"0 0 1200 800\"");
    }
}
