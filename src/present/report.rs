//! `report.html`: one self-contained page per run: scenario, parameters, summary tables,
//! every chart as inline SVG, and the manifest. No scripts, no network, prints well.
//!
//! The pages are maud templates: the compiler checks their markup, and every value spliced
//! in is escaped unless it is one of the two trusted kinds of markup, the style sheet
//! (`report.css`, compiled in) and the charts brink has drawn ([`InlineSvg`]). Templates add
//! no whitespace of their own, so the `"\n"` in them are exactly the page's line breaks.

use crate::output::manifest::Manifest;
use crate::output::results::{EpistemicRow, Results};
use crate::output::text::{distinct, odds, pct, pct_bounds, short, thousands};

/// "lo – hi".
fn dash((lo, hi): (String, String)) -> String {
    format!("{lo} – {hi}")
}
use crate::present::charts::{self, ChartError, ChartOptions, CHARTS};
use crate::sim::stats::{spearman_family_bound, spearman_holds_zero, spearman_zero_bound};
use maud::{html, Markup, PreEscaped, Render, DOCTYPE};

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

fn day(d: Option<f64>) -> String {
    d.map(|d| format!("{d:.1}")).unwrap_or_else(|| "–".into())
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

/// The whole page: the headline card (the answer), the levels chart (and, with parameter
/// draws, the `epistemic` and `drivers` charts), then everything else in an appendix.
pub fn html(r: &Results, opts: &ChartOptions) -> Result<String, ChartError> {
    let m = &r.manifest;
    let variant = m.variant.as_deref().unwrap_or("baseline");
    let opt = |x: Option<u64>| x.map(|v| v.to_string()).unwrap_or_default();
    let card = run_card(r, None);
    let draws = epistemic_figures(r, opts)?;
    let body = html! {
        (card)
        @if !m.scenario_description.trim().is_empty() {
            @for para in m.scenario_description.split("\n\n") {
                p { (text(para.trim())) } "\n"
            }
        }
        (figure(r, "levels", opts)?)
        @if let Some(draws) = draws { (draws) }

        details.appendix {
            "\n"
            summary { "Appendix: tables, more charts, steps, paths, parameters and manifest" } "\n"
        h2 { "Escalation levels" } "\n"
        @if let Some(sp) = &m.spread {
            p {
                @let n = uncertain_count(m);
                "This scenario has " (n) @if n == 1 { " param given as a distribution" } @else { " params given as distributions" } " (see "
                a href="#two-loop" { "parameter uncertainty" } "). P(reached) averages over them (predictive). "
                "Its first interval is the spread of P(reached) across " (sp.draws) " draws of them "
                "(5th to 95th percentile, each draw run on the same " (sp.trials_per_draw) " trials): "
                "the range that not knowing them leaves. The second is only the Monte Carlo error of P(reached)."
            }
            "\n"
            table {
                tr {
                    th { "level" } th { "label" } th.n { "P(reached)" } th.n { "90% across draws" }
                    th.n { "95% Monte Carlo" } th.n { "trials" } th.n { "day p10" } th.n { "day p50" } th.n { "day p90" }
                }
                "\n"
                @for l in &r.levels {
                    @let row = r.epistemic.iter().find(|e| e.param.is_empty() && e.level == l.level);
                    tr {
                        td { code { (text(&l.level)) } @if l.terminal { " (terminal)" } }
                        td { (text(&l.label)) }
                        td.n { (pct(l.p_reached)) }
                        td.n {
                            @if let Some((lo, hi)) = row.and_then(|e| e.p_p5.zip(e.p_p95)) {
                                (pct(lo)) " – " (pct(hi))
                            }
                        }
                        td.n { (dash(pct_bounds(l.p_reached, l.p_low, l.p_high))) }
                        td.n { (l.trials_reached) }
                        td.n { (day(l.day_p10)) }
                        td.n { (day(l.day_p50)) }
                        td.n { (day(l.day_p90)) }
                    }
                    "\n"
                }
            }
        } @else {
        table {
            tr {
                th { "level" } th { "label" } th.n { "P(reached)" } th.n { "95% interval" } th.n { (runs_word(r)) }
                th.n { "day p10" } th.n { "day p50" } th.n { "day p90" }
            }
            "\n"
            @for l in &r.levels {
                tr {
                    td { code { (text(&l.level)) } @if l.terminal { " (terminal)" } }
                    td { (text(&l.label)) }
                    td.n { (pct(l.p_reached)) }
                    td.n { (dash(pct_bounds(l.p_reached, l.p_low, l.p_high))) }
                    td.n { (l.trials_reached) }
                    td.n { (day(l.day_p10)) }
                    td.n { (day(l.day_p50)) }
                    td.n { (day(l.day_p90)) }
                }
                "\n"
            }
        }
        }
        "\n"
        @if !r.epistemic.is_empty() && m.spread.is_none() {
            p.sub {
                "A two-loop run: P(reached) is pooled over every parameter draw and trial, and its 95% interval counts the variation between draws as well as the Monte Carlo error (see "
                a href="#two-loop" { "parameter uncertainty" } ")."
            }
            "\n"
        }
        p.sub { "Days of first reaching a level are counted from day 0, among the trials that reached it." } "\n"
        (figure(r, "time_to_level", opts)?)
        (figure(r, "occupancy", opts)?)

        h2 { "Tallies" } "\n"
        @if r.tallies.is_empty() {
            p { "This scenario has no tallies." } "\n"
        } @else {
            table {
                tr {
                    th { "tally" } th { "label" } th.n { "mean" } th.n { "sd" } th.n { "p5" } th.n { "p50" }
                    th.n { "p95" } th.n { "max" } th.n { "P(> 0)" }
                }
                "\n"
                @for t in &r.tallies {
                    tr {
                        td { code { (text(&t.tally)) } }
                        td { (text(&t.label)) }
                        td.n { (format_args!("{:.3}", t.mean)) }
                        td.n { (format_args!("{:.3}", t.sd)) }
                        td.n { (opt(t.p5)) }
                        td.n { (opt(t.p50)) }
                        td.n { (opt(t.p95)) }
                        td.n { (opt(t.max)) }
                        td.n { (pct(t.p_positive)) }
                    }
                    "\n"
                }
            }
            "\n"
            (figure(r, "tallies", opts)?)
        }

        h2 { "Steps" } "\n"
        table {
            tr { th { "step" } th { "actor" } th { "label" } th.n { "mean firings" } th.n { "P(fired)" } }
            "\n"
            @for s in &r.steps {
                tr {
                    td { code { (text(&s.step)) } }
                    td { (text(&s.actor)) }
                    td { (text(&s.label)) }
                    td.n { (format_args!("{:.3}", s.mean_count)) }
                    td.n { (pct(s.p_fired)) }
                }
                "\n"
            }
        }
        "\n"

        h2 { "Escalation paths" } "\n"
        p { "A path lists the steps whose firing raised the level, in order." } "\n"
        table {
            tr { th.n { "rank" } th { "path" } th.n { (runs_word(r)) } th.n { "share" } }
            "\n"
            @for p in r.paths.iter().take(10) {
                tr {
                    td.n { (p.rank) }
                    td { (text(&p.path.replace('>', " → "))) }
                    td.n { (p.trials) }
                    td.n { (pct(p.share)) }
                }
                "\n"
            }
        }
        "\n"
        (figure(r, "paths", opts)?)

        @if r.manifest.chain.is_some() {
            h2 { "Escalation chain" } "\n"
            p {
                "Which step provokes which: arrows are triggers with their p, from the steps that fire by themselves down to the top of the ladder. "
                code { "brink graph" } " draws the full chain, with branches, delays, guards and modifiers."
            }
            "\n"
            (figure(r, "chain", opts)?)
        }

        @if !r.epistemic.is_empty() {
            (epistemic_section(r))
        }

        (params_section(m, r.two_loop().is_some()))
        (manifest_section(m, &run_manifest_rows(r)))
        }
        "\n"
    };
    Ok(page(html! { (text(&m.scenario_name)) " [" (text(variant)) "]: brink report" }, "", body))
}

/// The flag that sets the trials of each parameter draw: `--trials` in a two-loop run,
/// `--draw-trials` for a run's headline spread.
fn trials_flag(r: &Results) -> &'static str {
    if r.two_loop().is_some() {
        "--trials"
    } else {
        "--draw-trials"
    }
}

/// The most common path in `paths.csv` that ends at the top level, with its trials.
fn path_to_top(r: &Results) -> Option<(&str, u64)> {
    r.paths_to_top().first().map(|p| (p.path.as_str(), p.trials))
}

/// The headline's line on the most likely path to the top level of `r`.
fn path_line(r: &Results) -> Markup {
    let Some(top) = r.levels.last() else { return html! {} };
    html! {
        dt { "Most likely path" } "\n"
        dd {
            @if top.trials_reached == 0 {
                "none: no trial reached " code { (text(&top.level)) }
            } @else if let Some((path, n)) = path_to_top(r) {
                (text(&path.replace('>', " → "))) ": " (n) " of the " (top.trials_reached)
                " " @if r.two_loop().is_some() { "trial runs" } @else { "trials" } " that reached "
                code { (text(&top.level)) } " (" (pct(n as f64 / top.trials_reached as f64)) ")"
                @if let Some((k, per)) = r.two_loop() {
                    "; each of the " (thousands(k)) " parameter draws runs the same " (thousands(per)) " trials"
                }
            } @else {
                "no path among the " (r.paths.len()) " most common ends at " code { (text(&top.level)) }
            }
        }
        "\n"
    }
}

/// The strongest driver of P(top level) across parameter draws: the param with the
/// largest absolute rank correlation (ties by name, as `Draws::drivers` orders them).
/// A level's label without a leading repetition of its id ("War: US and Iran ..." for
/// `war` reads "US and Iran ...").
fn label_rest<'a>(label: &'a str, id: &str) -> &'a str {
    match label.split_once(':') {
        Some((head, rest)) if head.trim().eq_ignore_ascii_case(id) => rest.trim_start(),
        _ => label,
    }
}

/// `x` rounded up to two significant figures (52,632 -> 53,000), for advice.
fn two_figures(x: f64) -> u64 {
    if x.is_nan() || x < 1.0 {
        return 1;
    }
    let scale = 10f64.powi(x.log10().floor() as i32 - 1);
    ((x / scale).ceil() * scale) as u64
}

/// How many params have a correlation with the top level (the family the strongest driver
/// is picked from).
fn drivers_of_top(r: &Results) -> usize {
    let Some(top) = r.levels.last() else { return 0 };
    r.epistemic
        .iter()
        .filter(|e| e.level == top.level && !e.param.is_empty() && e.rank_correlation.is_some())
        .count()
}

/// The mean number of trials per parameter draw that reached the top level: where it is a
/// handful, each draw's P is mostly Monte Carlo noise.
fn top_hits_per_draw(r: &Results) -> Option<f64> {
    if r.draws_top.is_empty() {
        return None;
    }
    let per_draw = r.trials_per_draw() as f64;
    Some(r.draws_top.iter().sum::<f64>() / r.draws_top.len() as f64 * per_draw)
}

fn strongest_driver(r: &Results) -> Option<(&str, f64)> {
    let top = r.levels.last()?;
    r.epistemic
        .iter()
        .filter(|e| e.level == top.level && !e.param.is_empty())
        .filter_map(|e| e.rank_correlation.map(|x| (e.param.as_str(), x)))
        .min_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then_with(|| a.0.cmp(b.0)))
}

/// What the card of `brink serve`'s page says beyond a run's: the paired difference of
/// P(top level) from the baseline (None when the page shows the baseline itself).
pub struct Served {
    /// The baseline's P(top level) on the same trials, and the paired difference from it.
    pub versus: Option<(f64, crate::analysis::compare::Estimate)>,
}

/// The headline card of `brink serve`'s page: the card a run's report opens with (one
/// template, [`run_card`]), which names its interval as the Monte Carlo one and adds the
/// paired difference from the baseline. Escaped like every page.
pub fn served_card(r: &Results, served: &Served) -> String {
    run_card(r, Some(served)).into_string()
}

/// The rules of the style sheet that style the headline card (`.headline ...`), for a
/// page that shows the card without the rest of the report's style.
pub fn headline_css() -> String {
    CSS.lines().filter(|l| l.starts_with(".headline")).flat_map(|l| [l, "\n"]).collect()
}

/// The card a run's page opens with: the top level's P in numbers and words, its
/// interval (the spread across parameter draws where params are uncertain, the Monte
/// Carlo interval otherwise), the most likely path to it and the strongest driver. On
/// `brink serve`'s page (`served`), the interval is the Monte Carlo one, said to be so,
/// and the card adds the paired difference from the baseline.
fn run_card(r: &Results, served: Option<&Served>) -> Markup {
    let m = &r.manifest;
    let variant = m.variant.as_deref().unwrap_or("baseline");
    let top = r.levels.last().expect("a results folder has levels");
    let spread_row = r.epistemic.iter().find(|e| e.param.is_empty() && e.level == top.level);
    let across = spread_row.and_then(|e| e.p_p5.zip(e.p_p95));
    let draws = m.spread.map(|sp| sp.draws).unwrap_or(r.draws_top.len() as u64);
    let drawn = uncertain_count(m);
    let pts = |x: f64| format!("{:+.2}", 100.0 * x);
    html! {
        section.headline id="headline" {
            "\n"
            h1 { (text(&m.scenario_title)) } "\n"
            p.sub {
                "Scenario " code { (text(&m.scenario_name)) } ", variant " code { (text(variant)) }
                @if served.is_some() && !m.sets.is_empty() { ", set " code { (text(&m.sets.join(", "))) } }
                ": " (r.trials_text()) ", seed " (m.seed) ", " (m.horizon_days) " days"
                @if let Some(s) = &m.start { " from " (text(s)) }
                @if r.two_loop().is_some() { " (a two-loop run: every draw runs the same trials)" }
                "."
            }
            "\n"
            p.question {
                "Chance of reaching " code { (text(&top.level)) } " within " (m.horizon_days) " days"
                @if !top.label.is_empty() && !top.label.eq_ignore_ascii_case(&top.level) { " (" (text(label_rest(&top.label, &top.level))) ")" }
            } "\n"
            p.answer {
                span.big { (pct(top.p_reached)) } " "
                span.words { (odds(top.p_reached, top.p_high)) }
            }
            "\n"
            dl {
                "\n"
                dt { "Interval" } "\n"
                dd {
                    @if let Some((lo, hi)) = across {
                        b { (pct(lo)) " – " (pct(hi)) } " across " (draws) " draws of the uncertain params "
                        "(the middle 90% of P across the draws: what not knowing them leaves open); "
                        @if m.spread.is_some() { "Monte Carlo 95% interval: " } @else { "the pooled P's 95% interval: " }
                        (dash(pct_bounds(top.p_reached, top.p_low, top.p_high)))
                        @if let Some(n) = top_hits_per_draw(r) {
                            @let per_draw = r.trials_per_draw();
                            @if n < 20.0 {
                                ". " b { "Not resolved at this precision:" } " each draw saw about " (format_args!("{n:.1}")) " of its " (thousands(per_draw))
                                " trials reach " code { (text(&top.level)) } ", so most of that spread is the Monte Carlo noise of so few events, not parameter uncertainty ("
                                code { (trials_flag(r)) } " of about " (thousands(two_figures((20.0 / n) * per_draw as f64))) " would give some 20 per draw)"
                            }
                        }
                    } @else {
                        b { (dash(pct_bounds(top.p_reached, top.p_low, top.p_high))) } " (95% Monte Carlo interval, " (thousands(top.trials_reached)) " of " (thousands(m.trials)) " trials)"
                        @if served.is_some() {
                            ": the error of simulating " (thousands(m.trials)) " trials"
                            @if drawn > 0 {
                                ". The " (drawn) @if drawn == 1 { " param" } @else { " params" } " still given as distributions are drawn afresh in each trial and so averaged over: what not knowing them leaves open is wider than this interval and is not shown here (" code { "brink run" } " leads with it; a slider fixes its param at a point)."
                            } @else {
                                ". Every param is fixed at a point, so it is the interval that applies."
                            }
                        }
                    }
                }
                "\n"
                @if let Some(s) = served {
                    dt { "Against the baseline" } "\n"
                    dd {
                        @if let Some((base, d)) = s.versus {
                            b { (pts(d.value)) " points" } " (" (pct(base)) " → " (pct(top.p_reached)) ")"
                            @if let (Some(lo), Some(hi)) = (d.low, d.high) {
                                "; paired 95% interval of the difference " (pts(lo)) " to " (pts(hi)) " points"
                                @if lo <= 0.0 && hi >= 0.0 { ", not distinguishable from no change at this precision" }
                            }
                            " (the baseline run on the same " (thousands(m.trials)) " trials and seed)."
                        } @else {
                            "this is the baseline: pick a variant or move a slider to see the difference."
                        }
                    }
                    "\n"
                }
                (path_line(r))
                dt { "Strongest driver" } "\n"
                dd {
                    @if let Some((param, rho)) = strongest_driver(r) {
                        code { (text(param)) } ": rank correlation " (format_args!("{rho:+.2}")) " with P(" (text(&top.level)) ") across the draws"
                        @if spearman_holds_zero(Some(rho), draws as usize) {
                            ", but its 95% interval at " (draws) " draws holds 0: no param is distinguishable from no effect"
                        } @else if let Some(b) = spearman_family_bound(draws as usize, drivers_of_top(r)).filter(|b| rho.abs() < *b) {
                            ", but with " (drivers_of_top(r)) " params drawn, about one in twenty crosses the 95% bound by chance; the strongest must reach |r| "
                            (distinct(b, rho.abs(), 3).0) " to stand out (this one: " (distinct(b, rho.abs(), 3).1) "), so no param is shown to drive it"
                        }
                        @if let Some(n) = top_hits_per_draw(r).filter(|n| *n < 10.0) {
                            ". Each draw saw about " (format_args!("{n:.1}")) " trials reach " code { (text(&top.level)) } ", so P per draw is mostly Monte Carlo noise and the ranking is weak (more " code { (trials_flag(r)) } " would sharpen it)"
                        }
                    } @else if r.epistemic.is_empty() && served.is_some() && drawn > 0 {
                        "not measured here: the page makes no parameter draws (" code { "brink run" } " ranks the uncertain params)"
                    } @else if r.epistemic.is_empty() {
                        "not measured: no param is drawn from a distribution (" code { "brink sensitivity" } " ranks params by their effect)"
                    } @else {
                        "none: P(" (text(&top.level)) ") does not vary with any param across the draws"
                    }
                }
                "\n"
            }
            "\n"
        }
        "\n"
    }
}

/// The `epistemic` and `drivers` charts of a run with parameter draws.
fn epistemic_figures(r: &Results, opts: &ChartOptions) -> Result<Option<Markup>, ChartError> {
    let Some((spread, drivers)) = charts::explore::epistemic_svgs(r, opts)? else { return Ok(None) };
    let top = r.levels.last().map_or("", |l| l.level.as_str());
    let c1 = format!("P({top}) across the parameter draws: each bar counts the draws whose P fell in it");
    let c2 = format!("What drives P({top}): each param's rank correlation with it across the draws");
    Ok(Some(html! {
        (figure_markup(Some("epistemic"), responsive(&spread, &c1), &c1))
        (figure_markup(Some("drivers"), responsive(&drivers, &c2), &c2))
    }))
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

/// What the backtest page shows: the run's identity, the comparison rows and the fan.
pub(crate) struct BacktestView<'a> {
    /// Scenario, variant, params and provenance (timing fields unused).
    pub manifest: &'a Manifest,
    /// The observed file, as named on the command line.
    pub observed_file: &'a str,
    /// One row per observed value, in the file's order.
    pub rows: &'a [crate::analysis::backtest::Row],
    /// The fan chart as SVG, if a monthly quantity exists.
    pub fan_svg: Option<String>,
    /// The quantity the fan shows.
    pub fan_quantity: Option<&'a str>,
}

/// The backtest page: coverage first, then every observed value beside its simulated
/// interval, the fan chart, and the params with their sources.
pub(crate) fn backtest_html(v: &BacktestView<'_>) -> String {
    let m = v.manifest;
    let n = v.rows.len();
    let in50 = v.rows.iter().filter(|r| r.in_50).count();
    let in90 = v.rows.iter().filter(|r| r.in_90).count();
    let share = |k: usize| if n == 0 { 0.0 } else { 100.0 * k as f64 / n as f64 };
    let f = |x: f64| if x.fract() == 0.0 { format!("{x:.0}") } else { format!("{x:.2}") };
    let body = html! {
        section.headline id="headline" {
            "\n"
            h1 { (text(&m.scenario_title)) ": backtest" } "\n"
            p.sub {
                "Scenario " code { (text(&m.scenario_name)) } ", variant "
                code { (text(m.variant.as_deref().unwrap_or("baseline"))) } ": "
                (m.trials) " trials, seed " (m.seed) ", against " code { (text(v.observed_file)) } "."
            }
            "\n"
            p.question { "Does the scenario reproduce its record? Share of the observed values inside the simulated 90% intervals:" } "\n"
            p.answer {
                span.big { (format_args!("{:.0}", share(in90))) "%" } " "
                span.words { (in90) " of " (n) "; a scenario that describes the record well covers about 90%" }
            }
            "\n"
            p {
                "Inside the 50% intervals: " b { (in50) " (" (format_args!("{:.0}", share(in50))) "%)" }
                ", against about 50% for a good description. Much less means the record surprises the model, much more that its intervals are too wide to say much."
            }
            "\n"
        }
        "\n"
        @if let Some(svg) = &v.fan_svg {
            @let caption = format!(
                "Observed {} per month (dots) over the simulated median (line) and its 50% and 90% intervals (bands).",
                v.fan_quantity.unwrap_or("values")
            );
            (figure_markup(Some("fan"), responsive(svg, &caption), &caption))
        }
        details.appendix {
            "\n"
            summary { "Appendix: every observed value, parameters and manifest" } "\n"
        h2 { "Observed values and simulated intervals" } "\n"
        p.sub { "Rows outside the 90% interval are shaded." } "\n"
        table {
            tr {
                th { "quantity" } th { "month" } th.n { "observed" } th.n { "median" } th.n { "50% interval" }
                th.n { "90% interval" } th.n { "percentile" } th { "source" }
            }
            "\n"
            @for r in v.rows {
                tr class=[(!r.in_90).then_some("out")] {
                    td { code { (text(&r.quantity)) } }
                    td.nw { (text(r.month.as_deref().unwrap_or("total"))) }
                    td.n { (f(r.observed)) }
                    td.n { (f(r.sim.median)) }
                    td.n { (f(r.sim.p25)) " – " (f(r.sim.p75)) }
                    td.n { (f(r.sim.p5)) " – " (f(r.sim.p95)) }
                    td.n { (format_args!("{:.0}", 100.0 * r.percentile)) "%" }
                    td { (text(&r.source)) }
                }
                "\n"
            }
        }
        "\n"
        p.sub { "Intervals are central, from nearest-rank percentiles of the simulated trials; the percentile is the observed value's mid-rank among them." }
        "\n"
        (params_section(m, false))
        (manifest_section(m, &[]))
        }
        "\n"
    };
    page(html! { (text(&m.scenario_name)) ": backtest" }, BACKTEST_CSS, body)
}

/// What the score page shows.
pub(crate) struct ScorePage<'a> {
    /// Scenario, variant, params and provenance (timing fields unused).
    pub manifest: &'a Manifest,
    /// The event log, as named on the command line.
    pub events_file: &'a str,
    /// One line on the origins and windows.
    pub design: String,
    /// One line on how brink's params were set (as given, or refitted).
    pub params_line: String,
    /// The forecasters, brink's first, the climatology last.
    pub forecasters: &'a [&'a str],
    /// Means and skills.
    pub summaries: &'a [crate::analysis::score::Summary],
    /// PIT checks.
    pub pits: &'a [crate::analysis::score::PitRow],
    /// Target names, for the per-target table.
    pub model: &'a crate::sim::model::Model,
    /// The charts as (name, caption, SVG).
    pub charts: Vec<(&'static str, String, String)>,
    /// What the manifest table adds for a score run: the log and its SHA-256, the design.
    pub manifest_rows: Vec<(&'static str, String)>,
}

/// The score page: the answer first (does brink beat the climatology, and by how much),
/// then the charts, the per-target table, what the scores mean, params and manifest.
pub(crate) fn score_html(v: &ScorePage<'_>) -> String {
    use crate::analysis::score::Group;
    let m = v.manifest;
    let clim = v.forecasters.len() - 1;
    let find = |g: &Group, rule, f: usize| {
        v.summaries.iter().find(|s| &s.group == g && s.rule == rule && s.forecaster == f)
    };
    let skill = |s: &crate::analysis::score::Summary| {
        s.versus.iter().find(|x| x.baseline == clim).and_then(|x| x.skill)
    };
    let shown = |k: Option<crate::analysis::score::Est>| match k {
        Some(k) => format!("{:+.3} [{:+.3}, {:+.3}]", k.value, k.low, k.high),
        None => "–".to_owned(),
    };
    let all: Vec<&crate::analysis::score::Summary> =
        v.summaries.iter().filter(|s| matches!(s.group, Group::All(_)) && s.forecaster == 0).collect();
    let one: Vec<&crate::analysis::score::Summary> =
        v.summaries.iter().filter(|s| matches!(s.group, Group::One(_)) && s.forecaster == 0).collect();
    // The answer: on how many of the pooled targets and scores brink's skill against the
    // climatology is clearly above 0, clearly below, or neither.
    let skills: Vec<crate::analysis::score::Est> = all.iter().filter_map(|s| skill(s)).collect();
    let better = skills.iter().filter(|k| k.low > 0.0).count();
    let worse = skills.iter().filter(|k| k.high < 0.0).count();
    let body = html! {
        section.headline id="headline" {
            "\n"
            h1 { (text(&m.scenario_title)) ": forecasts scored" } "\n"
            p.sub {
                "Scenario " code { (text(&m.scenario_name)) } ", variant "
                code { (text(m.variant.as_deref().unwrap_or("baseline"))) } ", against "
                code { (text(v.events_file)) } ". " (text(&v.design)) " " (text(&v.params_line))
            }
            "\n"
            p.question { "Does brink forecast better than the climatology?" } "\n"
            p.answer {
                span.big { (better) " of " (skills.len()) } " "
                span.words { "pooled scores better, " (worse) " worse, " (skills.len() - better - worse) " not distinguishable (95% paired bootstrap of the skill)" }
            }
            "\n"
        }
        "\n"
        h2 { "Does brink beat the baselines?" } "\n"
        p { "Mean score per forecast (lower is better). Skill is 1 − brink's mean / the climatology's: above 0 when brink forecasts better; the interval is the 2.5th–97.5th percentile of a paired bootstrap over origins." }
        "\n"
        table {
            tr {
                th { "targets" } th { "score" }
                @for f in v.forecasters { th.n { (text(f)) } }
                th.n { "brink's skill vs climatology [95%]" }
            }
            "\n"
            @for s in &all {
                tr {
                    td { (text(&crate::output::score::group_name(&s.group, v.model))) }
                    td { (s.rule.name()) }
                    @for f in 0..v.forecasters.len() {
                        td.n { (find(&s.group, s.rule, f).map_or("–".to_owned(), |x| format!("{:.4}", x.mean))) }
                    }
                    td.n { (shown(skill(s))) }
                }
                "\n"
            }
        }
        "\n"
        @for p in v.pits.iter().filter(|p| p.step.is_none()) {
            p {
                "PIT of the counts of the steps the log records in the scored windows, "
                (text(v.forecasters[p.forecaster])) ": " (p.bins.iter().sum::<u64>()) " values"
                @if let Some((c, pv)) = p.chi2 {
                    ", chi-square " (format_args!("{c:.1}")) " on " (p.bins.len() - 1) " degrees of freedom, p = "
                    (format_args!("{pv:.4}"))
                }
                "; " (p.extreme) " beyond the 5th/95th percentiles (binomial p = " (format_args!("{:.4}", p.extreme_p)) ")."
            }
            "\n"
        }
        @for (name, caption, svg) in &v.charts {
            (figure_markup(Some(name), responsive(svg, caption), caption))
        }
        details.appendix {
            "\n"
            summary { "Appendix: per target, how to read the scores, parameters and manifest" } "\n"
        h2 { "Per target" } "\n"
        table {
            tr { th { "target" } th { "score" } th.n { "origins" } th.n { "brink" } th.n { "climatology" } th.n { "skill [95%]" } }
            "\n"
            @for s in &one {
                tr {
                    td { code { (text(&crate::output::score::group_name(&s.group, v.model))) } }
                    td { (s.rule.name()) }
                    td.n { (s.origins) }
                    td.n { (format_args!("{:.4}", s.mean)) }
                    td.n { (find(&s.group, s.rule, clim).map_or("–".to_owned(), |x| format!("{:.4}", x.mean))) }
                    td.n { (shown(skill(s))) }
                }
                "\n"
            }
        }
        "\n"
        h2 { "How to read the scores" } "\n"
        ul {
            li { b { "CRPS" } " (counts): the mean absolute error of the forecast distribution, in firings; 0 for a sure and right forecast." }
            li { b { "Log score" } " (all targets): −ln of the probability the forecast gave to what happened, in nats; probabilities below half a trial are floored." }
            li { b { "Brier" } " (yes/no targets): the squared difference between the forecast probability and the outcome (0 or 1)." }
            li { b { "PIT" } ": where the observed count falls in the forecast distribution (randomized within its probability step). Uniform for a calibrated forecaster; a U shape means too narrow, a hump too wide, a slope a bias." }
            li { b { "climatology" } ": a Poisson at each step's rate over the 365 days before the origin (fewer if day 0 is closer); for tallies, the sums of the look-back's windows." }
        }
        "\n"
        (params_section(m, false))
        (manifest_section(m, &v.manifest_rows))
        }
        "\n"
    };
    page(html! { (text(&m.scenario_name)) ": forecasts scored" }, BACKTEST_CSS, body)
}

/// The command that reproduces this run's results (not the command as typed, whose
/// --out and --threads would make reports differ between identical runs).
/// The rows a run's manifest section adds: what a two-loop run's trial count counts, the
/// command that reproduces the run, and its files.
fn run_manifest_rows(r: &Results) -> Vec<(&'static str, String)> {
    let m = &r.manifest;
    let mut rows = Vec::new();
    if let Some((k, n)) = r.two_loop() {
        rows.push((
            "two-loop run",
            format!("{k} parameter draws × {n} trials each; the trials row counts every draw's run"),
        ));
    }
    rows.push(("reproduce with", reproduce(r)));
    rows.push(("files", m.files.join(", ")));
    rows
}

/// "trials", or "runs" for a two-loop run's counts (each draw runs every trial).
fn runs_word(r: &Results) -> &'static str {
    if r.two_loop().is_some() {
        "runs"
    } else {
        "trials"
    }
}

fn reproduce(r: &Results) -> String {
    let m = &r.manifest;
    let mut c = match (r.two_loop(), m.spread) {
        (Some((k, n)), _) => {
            format!("brink run {} --seed {} --epistemic {k} --trials {n}", m.scenario_file, m.seed)
        }
        (None, Some(sp)) => format!(
            "brink run {} --seed {} --trials {} --draws {} --draw-trials {}",
            m.scenario_file, m.seed, m.trials, sp.draws, sp.trials_per_draw
        ),
        (None, None) => format!("brink run {} --seed {} --trials {}", m.scenario_file, m.seed, m.trials),
    };
    if let Some(v) = &m.variant {
        c.push_str(&format!(" --variant {v}"));
    }
    if let Some(pf) = &m.params_file {
        c.push_str(&format!(" --params {}", pf.file));
    }
    for s in &m.sets {
        c.push_str(&format!(" --set {s}"));
    }
    c
}

/// The named chart of a run with its caption.
fn figure(r: &Results, name: &str, opts: &ChartOptions) -> Result<Markup, ChartError> {
    let own = if name == "chain" { charts::chain::CAPTION } else { name };
    let caption = CHARTS.iter().find(|(n, _)| *n == name).map_or(own, |(_, c)| c);
    Ok(figure_markup(Some(name), responsive(&charts::svg(name, r, opts)?, caption), caption))
}

/// A chart and its caption, as a `<figure>` (with `id` when the page links to it).
fn figure_markup(id: Option<&str>, svg: InlineSvg, caption: &str) -> Markup {
    html! {
        figure id=[id] { "\n" (svg) "\n" figcaption { (text(caption)) } "\n" }
        "\n"
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

/// Two-loop results: P(level) pooled and across parameter draws, and what drives it. For
/// a predictive run's spread (`manifest.spread`), the draws and what drives them.
fn epistemic_section(r: &Results) -> Markup {
    if let Some(sp) = &r.manifest.spread {
        return spread_section(r, sp);
    }
    let p = |x: Option<f64>| x.map(pct).unwrap_or_default();
    // levels.csv of a two-loop run holds the pooled P's interval (two_loop_interval).
    let ci = |level: &str| {
        r.levels
            .iter()
            .find(|l| l.level == level)
            .map(|l| dash(pct_bounds(l.p_reached, l.p_low, l.p_high)))
            .unwrap_or_default()
    };
    html! {
        h2 id="two-loop" { "Parameter uncertainty (two-loop run)" } "\n"
        p { "Each draw fixes every uncertain param and runs the same trials; the tables above pool all draws. Below: how P(level) varies from draw to draw, and each param's Spearman rank correlation with it." }
        "\n"
        table {
            tr {
                th { "level" } th.n { "pooled" } th.n { "pooled: 95% CI" } th.n { "median across draws" }
                th.n { "across draws: 5% – 95%" }
            }
            "\n"
            @for row in r.epistemic.iter().filter(|e| e.param.is_empty()) {
                tr {
                    td { code { (text(&row.level)) } }
                    td.n { (p(row.p_pooled)) }
                    td.n { (ci(&row.level)) }
                    td.n { (p(row.p_median)) }
                    td.n { (p(row.p_p5)) " – " (p(row.p_p95)) }
                }
                "\n"
            }
        }
        "\n"
        p.sub { "Pooled: the average over all draws and trials, the predictive probability. Its 95% CI is the precision of that average (it narrows as draws and trials grow), not a range for P; because the draws share their trials, it counts their spread as well as the Monte Carlo error. Across draws: the spread of P(level) from draw to draw (5th to 95th percentile of the per-draw estimates), which parameter uncertainty makes, plus each draw's own Monte Carlo noise; not a confidence interval." }
        "\n"
        (drivers_table(r))
    }
}

/// A predictive run's spread: P(level) across the draws of the uncertain params (the
/// headline table leads with its 5th-95th percentile), and what drives it.
fn spread_section(r: &Results, sp: &crate::output::manifest::SpreadRecord) -> Markup {
    let p = |x: Option<f64>| x.map(pct).unwrap_or_default();
    html! {
        h2 id="two-loop" { "Parameter uncertainty" } "\n"
        p {
            "The uncertain params were drawn " (sp.draws) " times; each draw fixed them all and ran the run's first "
            (sp.trials_per_draw) " trials (the same trials for every draw). Below: how P(level) varies from draw to draw, and each param's Spearman rank correlation with it. "
            code { "params.csv" } " holds every draw."
        }
        "\n"
        table {
            tr { th { "level" } th.n { "median across draws" } th.n { "across draws: 5% – 95%" } th.n { "mean of the draws" } }
            "\n"
            @for row in r.epistemic.iter().filter(|e| e.param.is_empty()) {
                tr {
                    td { code { (text(&row.level)) } }
                    td.n { (p(row.p_median)) }
                    td.n { (p(row.p_p5)) " – " (p(row.p_p95)) }
                    td.n { (p(row.p_pooled)) }
                }
                "\n"
            }
        }
        "\n"
        p.sub { "Across draws: the spread of P(level) from draw to draw (5th to 95th percentile of the per-draw estimates), which parameter uncertainty makes, plus each draw's own Monte Carlo noise; not a confidence interval, and it does not narrow with more trials. Mean of the draws: the predictive P again, from these draws' trials only (the headline P(reached) comes from all the run's trials)." }
        "\n"
        (drivers_table(r))
    }
}

/// Each param's rank correlation with P(top level) across the draws, strongest first,
/// with the `epistemic` and `drivers` charts.
fn drivers_table(r: &Results) -> Markup {
    let k = r.manifest.spread.map_or(r.draws_top.len(), |sp| sp.draws as usize);
    let drivers = r.levels.last().map(|top| {
        let mut drivers: Vec<&EpistemicRow> =
            r.epistemic.iter().filter(|e| e.level == top.level && !e.param.is_empty()).collect();
        drivers.sort_by(|a, b| {
            let key = |e: &EpistemicRow| e.rank_correlation.map_or(0.0, f64::abs);
            key(b).total_cmp(&key(a)).then_with(|| a.param.cmp(&b.param))
        });
        (top, drivers)
    });
    html! {
        @if let Some((top, drivers)) = &drivers {
            table {
                tr { th { "param" } th.n { "rank correlation with P(" (text(&top.level)) ")" } th { "at " (k) " draws" } }
                "\n"
                @for d in drivers {
                    tr {
                        td { code { (text(&d.param)) } }
                        td.n { (d.rank_correlation.map(|x| format!("{x:+.2}")).unwrap_or_else(|| "–".into())) }
                        td {
                            @if spearman_holds_zero(d.rank_correlation, k) {
                                "95% interval holds 0: not distinguishable from no effect"
                            }
                        }
                    }
                    "\n"
                }
            }
            "\n"
            p.sub {
                "A correlation is told from 0 when its 95% interval excludes 0: Fisher's z = atanh(r) with the variance 1.06 / (K − 3) of a Spearman coefficient (Fieller, Hartley and Pearson 1957), so at K = " (k) " draws "
                @if let Some(b) = spearman_zero_bound(k) { "|r| must reach " (format_args!("{b:.2}")) "." } @else { "no interval exists (K ≤ 3)." }
                @if let Some(f) = spearman_family_bound(k, drivers_of_top(r)).filter(|_| drivers_of_top(r) > 1) {
                    " With " (drivers_of_top(r)) " params, about one in twenty crosses that bound by chance alone: for the strongest to stand out from chance across all of them (Bonferroni), |r| must reach " (format_args!("{f:.3}")) "."
                }
            }
            "\n"
        }
    }
}

/// The comparison page: runs, level and tally tables with paired differences, the
/// comparison charts, and each run's levels chart side by side.
pub(crate) fn compare_html(
    v: &charts::compare::CompareView<'_>,
    opts: &ChartOptions,
) -> Result<String, ChartError> {
    let cmp = v.cmp;
    let scenario = v.runs.first().map_or("", |r| r.manifest.scenario_name.as_str());
    let first = &cmp.names[0];
    let how = html! {
        @if cmp.paired {
            "Paired comparison: every run used the same seed and trial indices, so trial " i { "i" }
            " of each run shares its random numbers wherever the steps are the same (common random numbers). Differences are estimated trial by trial."
        } @else {
            "Unpaired comparison"
            @if let Some(w) = &cmp.unpaired_because { " (" (text(w)) ")" }
            " of independent runs: Newcombe intervals for differences of proportions, Welch intervals for differences of means."
        }
    };
    // Runs of other trial counts or seeds are described one by one, in the table.
    let same = cmp.same_trials();
    let iv = |e: &crate::analysis::compare::Estimate, scale: f64, signed: bool| match (e.low, e.high) {
        (Some(a), Some(b)) if signed => {
            format!("{:+.2} [{:+.2}, {:+.2}]", e.value * scale, a * scale, b * scale)
        }
        (Some(a), Some(b)) => format!("{:.2} [{:.2}, {:.2}]", e.value * scale, a * scale, b * scale),
        _ => format!("{:.2}", e.value * scale),
    };
    let sub = html! {
        @if same {
            p.sub { (cmp.trials[0]) " trials per run. " (how) } "\n"
        } @else {
            p.sub { (how) " Each run's trials and seed are in the appendix." } "\n"
        }
    };
    let mut charts_main = Vec::new();
    for (name, caption) in charts::compare::COMPARE_CHARTS {
        charts_main.push(figure_markup(
            Some(name),
            responsive(&charts::compare::compare_svg(name, v, opts)?, caption),
            caption,
        ));
    }
    let body = html! {
        (compare_card(v, sub))
        @for f in &charts_main { (f) }
        details.appendix {
            "\n"
            summary { "Appendix: runs, tables and each run's levels" } "\n"
        h2 { "Runs" } "\n"
        table {
            tr {
                th { "run" } th { "scenario" } th { "variant" }
                @if !same { th.n { "trials" } }
                th.n { "seed" } th { "own report" }
            }
            "\n"
            @for (name, r) in cmp.names.iter().zip(v.runs) {
                tr {
                    td { code { (text(name)) } }
                    td { (text(&r.manifest.scenario_title)) }
                    td { (text(r.manifest.variant.as_deref().unwrap_or("baseline"))) }
                    @if !same { td.n { (r.manifest.trials) } }
                    td.n { (r.manifest.seed) }
                    td { a href={ (text(name)) "/report.html" } { (text(name)) "/report.html" } }
                }
                "\n"
            }
        }
        "\n"

        h2 { "Escalation levels" } "\n"
        table {
            tr {
                th { "level" } "\n"
                @for name in &cmp.names { th.n { "P " (text(name)) } }
                @for name in cmp.names.iter().skip(1) {
                    th.n { (text(name)) " − " (text(first)) }
                    th.n { "ratio" }
                    @if cmp.paired { th.n { "variance reduction" } }
                }
            }
            "\n"
            @for l in &cmp.levels {
                tr {
                    td { code { (text(&l.id)) } }
                    @for e in &l.p { td.n { (pct(e.value)) } }
                    @for p in &l.vs_first {
                        td.n { (iv(&p.difference, 100.0, true)) " pts" }
                        td.n { (p.ratio.map(|r| iv(&r, 1.0, false)).unwrap_or_else(|| "–".into())) }
                        @if cmp.paired {
                            td.n { (p.variance_reduction.map(|x| format!("{x:.1}x")).unwrap_or_else(|| "–".into())) }
                        }
                    }
                }
                "\n"
            }
        }
        "\n"
        @if !cmp.tallies.is_empty() {
            h2 { "Tallies" } "\n"
            table {
                tr {
                    th { "tally" } "\n"
                    @for name in &cmp.names { th.n { "mean " (text(name)) } }
                    @for name in cmp.names.iter().skip(1) { th.n { (text(name)) " − " (text(first)) } }
                }
                "\n"
                @for t in &cmp.tallies {
                    tr {
                        td { code { (text(&t.id)) } }
                        @for e in &t.mean { td.n { (format_args!("{:.3}", e.value)) } }
                        @for p in &t.vs_first { td.n { (iv(&p.difference, 1.0, true)) } }
                    }
                    "\n"
                }
            }
            "\n"
        }

        h2 { "Each run's levels, side by side" } "\n"
        div.pair {
            "\n"
            @for (name, r) in cmp.names.iter().zip(v.runs) {
                (figure_markup(None, responsive(&charts::svg("levels", r, opts)?, name), name))
            }
        }
        "\n"
        }
        "\n"
    };
    Ok(page(html! { (text(scenario)) ": comparison" }, "", body))
}

/// The card a comparison page opens with: P(top level) of each run in numbers and words
/// with its interval, the best lever (the run that lowers P(top) most against the first)
/// with its paired difference, and the reference run's most likely path to the top.
fn compare_card(v: &charts::compare::CompareView<'_>, sub: Markup) -> Markup {
    let cmp = v.cmp;
    let scenario = v.runs.first().map_or("", |r| r.manifest.scenario_name.as_str());
    let first = &cmp.names[0];
    let top = cmp.levels.last();
    // The lever: the run whose P(top) falls most below the reference's (ties: the first).
    let lever = top.and_then(|l| {
        l.vs_first
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.difference.value.total_cmp(&b.1.difference.value))
            .map(|(k, p)| (&cmp.names[k + 1], p.difference))
    });
    let pts = |x: f64| format!("{:+.2}", 100.0 * x);
    html! {
        section.headline id="headline" {
            "\n"
            h1 { (text(scenario)) ": " (text(&cmp.names.join(" vs "))) } "\n"
            (sub)
            @if let Some(l) = top {
                @let horizon = v.runs.first().map(|r| r.manifest.horizon_days);
                p.question {
                    "Chance of reaching " code { (text(&l.id)) }
                    @if let Some(h) = horizon { " within " (h) " days" }
                    ": " (text(&l.label))
                }
                "\n"
                dl {
                    "\n"
                    @for (name, e) in cmp.names.iter().zip(&l.p) {
                        dt { code { (text(name)) } } "\n"
                        dd {
                            span.big { (pct(e.value)) } " "
                            span.words { (odds(e.value, e.high.unwrap_or(e.value))) }
                            @if let (Some(lo), Some(hi)) = (e.low, e.high) { " (Monte Carlo 95% interval " (pct(lo)) " – " (pct(hi)) ")" }
                        }
                        "\n"
                    }
                    @if let Some((name, d)) = lever {
                        dt { "Best lever" } "\n"
                        dd {
                            @if d.value < 0.0 {
                                code { (text(name)) } " lowers P(" (text(&l.id)) ") by " b { (format_args!("{:.2}", -100.0 * d.value)) " points" }
                            } @else {
                                "none lowers P(" (text(&l.id)) "); the smallest change is " code { (text(name)) } "'s, " b { (pts(d.value)) " points" }
                            }
                            @if let (Some(lo), Some(hi)) = (d.low, d.high) {
                                " (" @if cmp.paired { "paired " } "95% interval of the difference " (pts(lo)) " to " (pts(hi)) " points"
                                @if lo <= 0.0 && hi >= 0.0 { ": not distinguishable from no change at this precision" }
                                ")"
                            }
                            " against " code { (text(first)) }
                            @if let Some(rr) = l.vs_first.iter().zip(&cmp.names[1..]).find(|(_, n)| *n == name).and_then(|(p, _)| p.ratio) {
                                " (relative risk ×" (format_args!("{:.2}", rr.value))
                                @if let (Some(a), Some(b)) = (rr.low, rr.high) { ", " (format_args!("{a:.2}")) " to " (format_args!("{b:.2}")) }
                                ")"
                            }
                            "."
                        }
                        "\n"
                    }
                    @if let Some(r) = v.runs.first().filter(|r| r.levels.last().is_some_and(|t| t.level == l.id)) {
                        (path_line(r))
                    }
                }
                "\n"
                p.sub {
                    "Intervals are Monte Carlo ones: each run is simulated with its params as the scenario gives them (distributions drawn afresh in each trial), so they measure the error of simulating, not what not knowing the params leaves open ("
                    code { "brink run" } " leads with that). The most likely path is " code { (text(first)) } "'s."
                }
                "\n"
            }
        }
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
