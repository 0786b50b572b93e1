//! The headline card a run's page opens with: the answer (P of the top level in numbers
//! and words), its interval, the most likely path to the top and the strongest driver.
//! Its own file because three pages show it: a run's report, `brink serve`'s what-if page
//! (through [`served_card`] and [`headline_css`], with the paired difference from the
//! baseline) and, its path line, the comparison page's card.

use super::epistemic::drivers_of_top;
use super::{dash, scenario_and_variant, text, uncertain_count, CSS};
use crate::output::results::Results;
use crate::output::text::{distinct, odds, pct, pct_bounds, thousands};
use crate::sim::stats::{spearman_family_bound, spearman_holds_zero};
use maud::{html, Markup};

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
pub(super) fn run_card(r: &Results, served: Option<&Served>) -> Markup {
    let m = &r.manifest;
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
                (scenario_and_variant(m))
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
pub(super) fn path_line(r: &Results) -> Markup {
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

/// The mean number of trials per parameter draw that reached the top level: where it is a
/// handful, each draw's P is mostly Monte Carlo noise.
fn top_hits_per_draw(r: &Results) -> Option<f64> {
    if r.draws_top.is_empty() {
        return None;
    }
    let per_draw = r.trials_per_draw() as f64;
    Some(r.draws_top.iter().sum::<f64>() / r.draws_top.len() as f64 * per_draw)
}

/// The strongest driver of P(top level) across parameter draws: the param with the
/// largest absolute rank correlation (ties by name, as `Draws::drivers` orders them).
fn strongest_driver(r: &Results) -> Option<(&str, f64)> {
    let top = r.levels.last()?;
    r.epistemic
        .iter()
        .filter(|e| e.level == top.level && !e.param.is_empty())
        .filter_map(|e| e.rank_correlation.map(|x| (e.param.as_str(), x)))
        .min_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then_with(|| a.0.cmp(b.0)))
}
