//! A run's page (the `report.html` of a run's results folder, as `brink run`, `plot` and
//! `merge` write it, and of each run of a comparison): the headline card, the levels
//! chart, then the appendix with every table and chart, the parameters and the manifest. The card is `card.rs`'s, the parameter draws'
//! sections `epistemic.rs`'s; this file lays out the page and the tables only a run has.

use super::card::run_card;
use super::epistemic::{epistemic_figures, epistemic_section};
use super::{dash, figure_markup, manifest_section, page, params_section, responsive, text, uncertain_count};
use crate::output::results::{LevelRow, Results};
use crate::output::text::{pct, pct_bounds};
use crate::present::charts::{self, ChartError, ChartOptions, CHARTS};
use maud::{html, Markup};

fn day(d: Option<f64>) -> String {
    d.map(|d| format!("{d:.1}")).unwrap_or_else(|| "–".into())
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
                        (level_cells(l))
                        td.n {
                            @if let Some((lo, hi)) = row.and_then(|e| e.p_p5.zip(e.p_p95)) {
                                (pct(lo)) " – " (pct(hi))
                            }
                        }
                        (reached_cells(l))
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
                tr { (level_cells(l)) (reached_cells(l)) }
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

/// The named chart of a run with its caption.
fn figure(r: &Results, name: &str, opts: &ChartOptions) -> Result<Markup, ChartError> {
    let own = if name == "chain" { charts::chain::CAPTION } else { name };
    let caption = CHARTS.iter().find(|(n, _)| *n == name).map_or(own, |(_, c)| c);
    Ok(figure_markup(Some(name), responsive(&charts::svg(name, r, opts)?, caption), caption))
}

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

/// The command that reproduces this run's results (not the command as typed, whose
/// --out and --threads would make reports differ between identical runs).
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

/// A level's first cells in the levels table: its id (marked if terminal), its label, and
/// P(reached).
fn level_cells(l: &LevelRow) -> Markup {
    html! {
        td { code { (text(&l.level)) } @if l.terminal { " (terminal)" } }
        td { (text(&l.label)) }
        td.n { (pct(l.p_reached)) }
    }
}

/// A level's last cells in the levels table: the Monte Carlo interval of P(reached), the
/// trials that reached it, and the days by which 10%, 50% and 90% of those had.
fn reached_cells(l: &LevelRow) -> Markup {
    html! {
        td.n { (dash(pct_bounds(l.p_reached, l.p_low, l.p_high))) }
        td.n { (l.trials_reached) }
        td.n { (day(l.day_p10)) }
        td.n { (day(l.day_p50)) }
        td.n { (day(l.day_p90)) }
    }
}
