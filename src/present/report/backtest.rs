//! The page of `brink backtest`: how much of the observed record falls inside the
//! simulated intervals, every observed value beside its interval, and the fan chart.

use super::{
    figure_markup, manifest_section, page, params_section, responsive, scenario_and_variant, text,
    BACKTEST_CSS,
};
use crate::output::manifest::Manifest;
use maud::html;

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
                (scenario_and_variant(m)) ": "
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
