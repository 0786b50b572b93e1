//! What a run with parameter draws adds to its page: the `epistemic` and `drivers`
//! charts, P(level) across the draws (a predictive run's spread or a two-loop run's
//! draws) and each param's rank correlation with P(top level), with when it can be told
//! from no effect. The headline card names the strongest driver from the same rows.

use super::{dash, figure_markup, responsive, text};
use crate::output::results::{EpistemicRow, Results};
use crate::output::text::{pct, pct_bounds};
use crate::present::charts::{self, ChartError, ChartOptions};
use crate::sim::stats::{spearman_family_bound, spearman_holds_zero, spearman_zero_bound};
use maud::{html, Markup};

/// The `epistemic` and `drivers` charts of a run with parameter draws.
pub(super) fn epistemic_figures(r: &Results, opts: &ChartOptions) -> Result<Option<Markup>, ChartError> {
    let Some((spread, drivers)) = charts::explore::epistemic_svgs(r, opts)? else { return Ok(None) };
    let top = r.levels.last().map_or("", |l| l.level.as_str());
    let c1 = format!("P({top}) across the parameter draws: each bar counts the draws whose P fell in it");
    let c2 = format!("What drives P({top}): each param's rank correlation with it across the draws");
    Ok(Some(html! {
        (figure_markup(Some("epistemic"), responsive(&spread, &c1), &c1))
        (figure_markup(Some("drivers"), responsive(&drivers, &c2), &c2))
    }))
}

/// Two-loop results: P(level) pooled and across parameter draws, and what drives it. For
/// a predictive run's spread (`manifest.spread`), the draws and what drives them.
pub(super) fn epistemic_section(r: &Results) -> Markup {
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

/// How many params have a correlation with the top level (the family the strongest driver
/// is picked from).
pub(super) fn drivers_of_top(r: &Results) -> usize {
    let Some(top) = r.levels.last() else { return 0 };
    r.epistemic
        .iter()
        .filter(|e| e.level == top.level && !e.param.is_empty() && e.rank_correlation.is_some())
        .count()
}
