//! The page of `brink score`: whether brink's forecasts of a logged past beat the
//! climatology, by how much, target by target, and how calibrated they are (PIT).

use super::{
    figure_markup, manifest_section, page, params_section, responsive, scenario_and_variant, text,
    BACKTEST_CSS,
};
use crate::output::manifest::Manifest;
use maud::html;

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
                (scenario_and_variant(m)) ", against "
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
