//! The page of `brink compare`: P(top level) of each run and the best lever in its card,
//! the comparison charts, then the level and tally tables with paired differences and
//! each run's levels chart side by side.

use super::card::path_line;
use super::{figure_markup, page, responsive, text};
use crate::output::text::{odds, pct};
use crate::present::charts::{self, ChartError, ChartOptions};
use maud::{html, Markup};

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
