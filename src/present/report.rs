//! `report.html`: one self-contained page per run: scenario, parameters, summary tables,
//! every chart as inline SVG, and the manifest. No scripts, no network, prints well.

use crate::output::results::Results;
use crate::present::charts::{self, ChartError, ChartOptions, CHARTS};
use std::fmt::Write as _;

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
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
    out
}

fn pct(p: f64) -> String {
    let x = 100.0 * p;
    if x != 0.0 && x < 0.1 {
        format!("{x:.3}%")
    } else {
        format!("{x:.1}%")
    }
}

fn day(d: Option<f64>) -> String {
    d.map(|d| format!("{d:.1}")).unwrap_or_else(|| "–".into())
}

const CSS: &str = r#"
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #222; margin: 0 auto;
       max-width: 1100px; padding: 1.5em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border-bottom: 1px solid #e2e2e2; padding: 0.25em 0.7em; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th { background: #f4f4f4; }
figure { margin: 1.2em 0; page-break-inside: avoid; break-inside: avoid; }
figure svg { width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
code { font-size: 0.9em; background: #f4f4f4; padding: 0 0.2em; }
.manifest td:first-child { color: #555; white-space: nowrap; }
@media print { body { max-width: none; padding: 0; } h2 { page-break-after: avoid; } }
"#;

/// The whole page.
pub fn html(r: &Results, opts: &ChartOptions) -> Result<String, ChartError> {
    let m = &r.manifest;
    let mut h = String::new();
    let variant = m.variant.clone().unwrap_or_else(|| "baseline".into());
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{} [{}]: brink report</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(&m.scenario_name),
        esc(&variant)
    );
    let _ = writeln!(h, "<h1>{}</h1>", esc(&m.scenario_title));
    let mut sub = format!(
        "Scenario <code>{}</code>, variant <code>{}</code>: {} trials, seed {}, {} days",
        esc(&m.scenario_name),
        esc(&variant),
        m.trials,
        m.seed,
        m.horizon_days
    );
    if let Some(s) = &m.start {
        let _ = write!(sub, " from {}", esc(s));
    }
    let _ = writeln!(h, "<p class=\"sub\">{sub}.</p>");
    if !m.scenario_description.trim().is_empty() {
        for para in m.scenario_description.split("\n\n") {
            let _ = writeln!(h, "<p>{}</p>", esc(para.trim()));
        }
    }

    // Levels first: the answer to "how likely".
    let _ = writeln!(h, "<h2>Escalation levels</h2>");
    let _ = writeln!(
        h,
        "<table><tr><th>level</th><th>label</th><th class=\"n\">P(reached)</th><th class=\"n\">95% interval</th><th class=\"n\">trials</th><th class=\"n\">day p10</th><th class=\"n\">day p50</th><th class=\"n\">day p90</th></tr>"
    );
    for l in &r.levels {
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{} – {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&l.level),
            if l.terminal { " (terminal)" } else { "" },
            esc(&l.label),
            pct(l.p_reached),
            pct(l.p_low),
            pct(l.p_high),
            l.trials_reached,
            day(l.day_p10),
            day(l.day_p50),
            day(l.day_p90)
        );
    }
    let _ = writeln!(h, "</table>");
    if !r.epistemic.is_empty() {
        let _ = writeln!(h, "<p class=\"sub\">A two-loop run: P(reached) is pooled over every parameter draw and trial, and its 95% interval counts the variation between draws as well as the Monte Carlo error (see <a href=\"#two-loop\">parameter uncertainty</a>).</p>");
    }
    let _ = writeln!(h, "<p class=\"sub\">Days of first reaching a level are counted from day 0, among the trials that reached it.</p>");
    for name in ["levels", "time_to_level", "occupancy"] {
        figure(&mut h, name, r, opts)?;
    }

    let _ = writeln!(h, "<h2>Tallies</h2>");
    if r.tallies.is_empty() {
        let _ = writeln!(h, "<p>This scenario has no tallies.</p>");
    } else {
        let _ = writeln!(
            h,
            "<table><tr><th>tally</th><th>label</th><th class=\"n\">mean</th><th class=\"n\">sd</th><th class=\"n\">p5</th><th class=\"n\">p50</th><th class=\"n\">p95</th><th class=\"n\">max</th><th class=\"n\">P(&gt; 0)</th></tr>"
        );
        let opt = |x: Option<u64>| x.map(|v| v.to_string()).unwrap_or_default();
        for t in &r.tallies {
            let _ = writeln!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td class=\"n\">{:.3}</td><td class=\"n\">{:.3}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&t.tally),
                esc(&t.label),
                t.mean,
                t.sd,
                opt(t.p5),
                opt(t.p50),
                opt(t.p95),
                opt(t.max),
                pct(t.p_positive)
            );
        }
        let _ = writeln!(h, "</table>");
        figure(&mut h, "tallies", r, opts)?;
    }

    let _ = writeln!(h, "<h2>Steps</h2>");
    let _ = writeln!(
        h,
        "<table><tr><th>step</th><th>actor</th><th>label</th><th class=\"n\">mean firings</th><th class=\"n\">P(fired)</th></tr>"
    );
    for s in &r.steps {
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"n\">{:.3}</td><td class=\"n\">{}</td></tr>",
            esc(&s.step),
            esc(&s.actor),
            esc(&s.label),
            s.mean_count,
            pct(s.p_fired)
        );
    }
    let _ = writeln!(h, "</table>");

    let _ = writeln!(h, "<h2>Escalation paths</h2>");
    let _ = writeln!(h, "<p>A path lists the steps whose firing raised the level, in order.</p>");
    let _ = writeln!(h, "<table><tr><th class=\"n\">rank</th><th>path</th><th class=\"n\">trials</th><th class=\"n\">share</th></tr>");
    for p in r.paths.iter().take(10) {
        let _ = writeln!(
            h,
            "<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            p.rank,
            esc(&p.path.replace('>', " → ")),
            p.trials,
            pct(p.share)
        );
    }
    let _ = writeln!(h, "</table>");
    figure(&mut h, "paths", r, opts)?;

    if r.manifest.chain.is_some() {
        let _ = writeln!(h, "<h2>Escalation chain</h2>");
        let _ = writeln!(h, "<p>Which step provokes which: arrows are triggers with their p, from the steps that fire by themselves down to the top of the ladder. <code>brink graph</code> draws the full chain, with branches, delays, guards and modifiers.</p>");
        figure(&mut h, "chain", r, opts)?;
    }

    if !r.epistemic.is_empty() {
        epistemic_section(&mut h, r);
    }

    params_section(&mut h, m);

    manifest_section(&mut h, m, &[("reproduce with", reproduce(m)), ("files", m.files.join(", "))]);
    let _ = writeln!(h, "</body>\n</html>");
    Ok(h)
}

/// The params table: each param's value, its distribution when trials draw it, and
/// where it comes from, so a reader can judge every number behind the results.
fn params_section(h: &mut String, m: &crate::output::manifest::Manifest) {
    let variant = m.variant.as_deref().unwrap_or("baseline");
    let _ = writeln!(h, "<h2>Parameters</h2>");
    let _ = writeln!(
        h,
        "<p>Variant: <code>{}</code>{}</p>",
        esc(variant),
        if m.sets.is_empty() {
            String::new()
        } else {
            format!("; set on the command line: <code>{}</code>", esc(&m.sets.join(" ")))
        }
    );
    if m.provenance.iter().any(|p| p.distribution.is_some()) {
        let _ = writeln!(
            h,
            "<p>Params given as distributions are drawn anew in every trial (predictive mode); the value shown is their mean.</p>"
        );
    }
    let _ = writeln!(
        h,
        "<table><tr><th>param</th><th class=\"n\">value</th><th>distribution</th><th>source</th><th>note</th></tr>"
    );
    for (k, v) in &m.params {
        let p = m.provenance.iter().find(|p| &p.param == k);
        let cell = |x: Option<&String>| x.map(|s| esc(s)).unwrap_or_default();
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td class=\"n\">{v}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(k),
            cell(p.and_then(|p| p.distribution.as_ref())),
            cell(p.and_then(|p| p.source.as_ref())),
            cell(p.and_then(|p| p.note.as_ref()))
        );
    }
    let _ = writeln!(h, "</table>");
}

/// The run's identity (version, scenario and its hash, seed, trials, streams), then
/// `extra` rows, so that a reader can reproduce what the page shows.
fn manifest_section(h: &mut String, m: &crate::output::manifest::Manifest, extra: &[(&str, String)]) {
    let _ = writeln!(h, "<h2>Manifest</h2>\n<table class=\"manifest\">");
    let rows = [
        ("brink version", m.brink_version.clone()),
        ("scenario file", m.scenario_file.clone()),
        ("scenario SHA-256", m.scenario_sha256.clone()),
        ("seed", m.seed.to_string()),
        ("trials", m.trials.to_string()),
        ("random streams", m.streams.clone()),
    ];
    for (k, v) in rows.iter().chain(extra) {
        let _ = writeln!(h, "<tr><td>{k}</td><td><code>{}</code></td></tr>", esc(v));
    }
    let _ = writeln!(h, "</table>");
}

/// What the backtest page shows: the run's identity, the comparison rows and the fan.
pub struct BacktestView<'a> {
    /// Scenario, variant, params and provenance (timing fields unused).
    pub manifest: &'a crate::output::manifest::Manifest,
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
pub fn backtest_html(v: &BacktestView<'_>) -> String {
    let m = v.manifest;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}: backtest</title>\n<style>{CSS}\ntr.out td {{ background: #fff4e5; }}\ntd.nw {{ white-space: nowrap; }}\n</style>\n</head>\n<body>\n",
        esc(&m.scenario_name)
    );
    let _ = writeln!(h, "<h1>{}: backtest</h1>", esc(&m.scenario_title));
    let _ = writeln!(
        h,
        "<p class=\"sub\">Scenario <code>{}</code>, variant <code>{}</code>: {} trials, seed {}, against <code>{}</code>.</p>",
        esc(&m.scenario_name),
        esc(m.variant.as_deref().unwrap_or("baseline")),
        m.trials,
        m.seed,
        esc(v.observed_file)
    );
    let n = v.rows.len();
    let in50 = v.rows.iter().filter(|r| r.in_50).count();
    let in90 = v.rows.iter().filter(|r| r.in_90).count();
    let share = |k: usize| if n == 0 { 0.0 } else { 100.0 * k as f64 / n as f64 };
    let _ = writeln!(h, "<h2>Coverage</h2>");
    let _ = writeln!(
        h,
        "<p>Of {n} observed values, <b>{in50} ({:.0}%)</b> fall inside the simulated 50% intervals and <b>{in90} ({:.0}%)</b> inside the 90% intervals. A scenario that describes the record well covers about 50% and 90%; much less means the record surprises the model, much more that its intervals are too wide to say much. Rows outside the 90% interval are shaded.</p>",
        share(in50),
        share(in90)
    );
    if let Some(svg) = &v.fan_svg {
        let caption = format!(
            "Observed {} per month (dots) over the simulated median (line) and its 50% and 90% intervals (bands).",
            v.fan_quantity.unwrap_or("values")
        );
        let _ = writeln!(
            h,
            "<figure id=\"fan\">\n{}\n<figcaption>{}</figcaption>\n</figure>",
            responsive(svg, &caption),
            esc(&caption)
        );
    }
    let _ = writeln!(h, "<h2>Observed values and simulated intervals</h2>");
    let _ = writeln!(
        h,
        "<table><tr><th>quantity</th><th>month</th><th class=\"n\">observed</th><th class=\"n\">median</th><th class=\"n\">50% interval</th><th class=\"n\">90% interval</th><th class=\"n\">percentile</th><th>source</th></tr>"
    );
    let f = |x: f64| if x.fract() == 0.0 { format!("{x:.0}") } else { format!("{x:.2}") };
    for r in v.rows {
        let s = &r.sim;
        let _ = writeln!(
            h,
            "<tr{}><td><code>{}</code></td><td class=\"nw\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{} – {}</td><td class=\"n\">{} – {}</td><td class=\"n\">{:.0}%</td><td>{}</td></tr>",
            if r.in_90 { "" } else { " class=\"out\"" },
            esc(&r.quantity),
            esc(r.month.as_deref().unwrap_or("total")),
            f(r.observed),
            f(s.median),
            f(s.p25),
            f(s.p75),
            f(s.p5),
            f(s.p95),
            100.0 * r.percentile,
            esc(&r.source)
        );
    }
    let _ = writeln!(h, "</table>");
    let _ = writeln!(
        h,
        "<p class=\"sub\">Intervals are central, from nearest-rank percentiles of the simulated trials; the percentile is the observed value's mid-rank among them.</p>"
    );
    params_section(&mut h, m);
    manifest_section(&mut h, m, &[]);
    let _ = writeln!(h, "</body>\n</html>");
    h
}

/// The command that reproduces this run's results (not the command as typed, whose
/// --out and --threads would make reports differ between identical runs).
fn reproduce(m: &crate::output::manifest::Manifest) -> String {
    let mut c = format!("brink run {} --seed {} --trials {}", m.scenario_file, m.seed, m.trials);
    if let Some(v) = &m.variant {
        c.push_str(&format!(" --variant {v}"));
    }
    for s in &m.sets {
        c.push_str(&format!(" --set {s}"));
    }
    c
}

fn figure(h: &mut String, name: &str, r: &Results, opts: &ChartOptions) -> Result<(), ChartError> {
    let own = if name == "chain" { charts::chain::CAPTION } else { name };
    let caption = CHARTS.iter().find(|(n, _)| *n == name).map_or(own, |(_, c)| c);
    // Let the page size the picture: keep the viewBox, drop the fixed width and height.
    let svg = responsive(&charts::svg(name, r, opts)?, caption);
    let _ =
        writeln!(h, "<figure id=\"{name}\">\n{svg}\n<figcaption>{}</figcaption>\n</figure>", esc(caption));
    Ok(())
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

/// Two-loop results: P(level) pooled and across parameter draws, and what drives it.
fn epistemic_section(h: &mut String, r: &Results) {
    let _ = writeln!(h, "<h2 id=\"two-loop\">Parameter uncertainty (two-loop run)</h2>");
    let _ = writeln!(
        h,
        "<p>Each draw fixes every uncertain param and runs the same trials; the tables above pool all draws. Below: how P(level) varies from draw to draw, and each param's Spearman rank correlation with it.</p>"
    );
    let _ = writeln!(h, "<table><tr><th>level</th><th class=\"n\">pooled</th><th class=\"n\">pooled: 95% CI</th><th class=\"n\">median across draws</th><th class=\"n\">across draws: 5% – 95%</th></tr>");
    let p = |x: Option<f64>| x.map(pct).unwrap_or_default();
    for row in r.epistemic.iter().filter(|e| e.param.is_empty()) {
        // levels.csv of a two-loop run holds the pooled P's interval (two_loop_interval).
        let ci = r
            .levels
            .iter()
            .find(|l| l.level == row.level)
            .map(|l| format!("{} – {}", pct(l.p_low), pct(l.p_high)))
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{ci}</td><td class=\"n\">{}</td><td class=\"n\">{} – {}</td></tr>",
            esc(&row.level),
            p(row.p_pooled),
            p(row.p_median),
            p(row.p_p5),
            p(row.p_p95)
        );
    }
    let _ = writeln!(h, "</table>");
    let _ = writeln!(
        h,
        "<p class=\"sub\">Pooled: the average over all draws and trials, the predictive probability. Its 95% CI is the precision of that average (it narrows as draws and trials grow), not a range for P; because the draws share their trials, it counts their spread as well as the Monte Carlo error. Across draws: the spread of P(level) from draw to draw (5th to 95th percentile of the per-draw estimates), which parameter uncertainty makes, plus each draw's own Monte Carlo noise; not a confidence interval.</p>"
    );
    if let Some(top) = r.levels.last() {
        let mut drivers: Vec<&crate::output::results::EpistemicRow> =
            r.epistemic.iter().filter(|e| e.level == top.level && !e.param.is_empty()).collect();
        drivers.sort_by(|a, b| {
            let key = |e: &crate::output::results::EpistemicRow| e.rank_correlation.map_or(0.0, f64::abs);
            key(b).total_cmp(&key(a)).then_with(|| a.param.cmp(&b.param))
        });
        let _ = writeln!(
            h,
            "<table><tr><th>param</th><th class=\"n\">rank correlation with P({})</th></tr>",
            esc(&top.level)
        );
        for d in drivers {
            let rho = d.rank_correlation.map(|x| format!("{x:+.2}")).unwrap_or_else(|| "–".into());
            let _ = writeln!(h, "<tr><td><code>{}</code></td><td class=\"n\">{rho}</td></tr>", esc(&d.param));
        }
        let _ = writeln!(h, "</table>");
    }
}

/// The comparison page: runs, level and tally tables with paired differences, the
/// comparison charts, and each run's levels chart side by side.
pub fn compare_html(v: &charts::compare::CompareView<'_>, opts: &ChartOptions) -> Result<String, ChartError> {
    let cmp = v.cmp;
    let mut h = String::new();
    let scenario = v.runs.first().map(|r| r.manifest.scenario_name.clone()).unwrap_or_default();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}: comparison</title>\n<style>{CSS}\n.grid {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 1em; }}\n</style>\n</head>\n<body>\n",
        esc(&scenario)
    );
    let _ = writeln!(h, "<h1>{}: {}</h1>", esc(&scenario), esc(&cmp.names.join(" vs ")));
    let how = if cmp.paired {
        "Paired comparison: every run used the same seed and trial indices, so trial <i>i</i> of each run shares its random numbers wherever the steps are the same (common random numbers). Differences are estimated trial by trial.".to_string()
    } else {
        let why = cmp.unpaired_because.as_deref().map(|w| format!(" ({})", esc(w))).unwrap_or_default();
        format!("Unpaired comparison{why} of independent runs: Newcombe intervals for differences of proportions, Welch intervals for differences of means.")
    };
    // Runs of other trial counts or seeds are described one by one, in the table.
    let same = cmp.same_trials();
    if same {
        let _ = writeln!(h, "<p class=\"sub\">{} trials per run. {how}</p>", cmp.trials[0]);
    } else {
        let _ = writeln!(h, "<p class=\"sub\">{how} Each run's trials and seed are in the table below.</p>");
    }
    let trials_head = if same { "" } else { "<th class=\"n\">trials</th>" };
    let _ = writeln!(h, "<h2>Runs</h2>\n<table><tr><th>run</th><th>scenario</th><th>variant</th>{trials_head}<th class=\"n\">seed</th><th>own report</th></tr>");
    for (name, r) in cmp.names.iter().zip(v.runs) {
        let m = &r.manifest;
        let trials = if same { String::new() } else { format!("<td class=\"n\">{}</td>", m.trials) };
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td>{trials}<td class=\"n\">{}</td><td><a href=\"{}/report.html\">{}/report.html</a></td></tr>",
            esc(name),
            esc(&m.scenario_title),
            esc(m.variant.as_deref().unwrap_or("baseline")),
            m.seed,
            esc(name),
            esc(name)
        );
    }
    let _ = writeln!(h, "</table>");

    let _ = writeln!(h, "<h2>Escalation levels</h2>\n<table><tr><th>level</th>");
    for name in &cmp.names {
        let _ = write!(h, "<th class=\"n\">P {}</th>", esc(name));
    }
    for name in cmp.names.iter().skip(1) {
        let _ = write!(
            h,
            "<th class=\"n\">{} − {}</th><th class=\"n\">ratio</th>",
            esc(name),
            esc(&cmp.names[0])
        );
        if cmp.paired {
            let _ = write!(h, "<th class=\"n\">variance reduction</th>");
        }
    }
    let _ = writeln!(h, "</tr>");
    let iv = |e: &crate::analysis::compare::Estimate, scale: f64, signed: bool| match (e.low, e.high) {
        (Some(a), Some(b)) if signed => {
            format!("{:+.2} [{:+.2}, {:+.2}]", e.value * scale, a * scale, b * scale)
        }
        (Some(a), Some(b)) => format!("{:.2} [{:.2}, {:.2}]", e.value * scale, a * scale, b * scale),
        _ => format!("{:.2}", e.value * scale),
    };
    for l in &cmp.levels {
        let _ = write!(h, "<tr><td><code>{}</code></td>", esc(&l.id));
        for e in &l.p {
            let _ = write!(h, "<td class=\"n\">{}</td>", pct(e.value));
        }
        for p in &l.vs_first {
            let _ = write!(h, "<td class=\"n\">{} pts</td>", iv(&p.difference, 100.0, true));
            let _ = write!(
                h,
                "<td class=\"n\">{}</td>",
                p.ratio.map(|r| iv(&r, 1.0, false)).unwrap_or_else(|| "–".into())
            );
            if cmp.paired {
                let _ = write!(
                    h,
                    "<td class=\"n\">{}</td>",
                    p.variance_reduction.map(|x| format!("{x:.1}x")).unwrap_or_else(|| "–".into())
                );
            }
        }
        let _ = writeln!(h, "</tr>");
    }
    let _ = writeln!(h, "</table>");
    for (name, caption) in charts::compare::COMPARE_CHARTS {
        let svg = charts::compare::compare_svg(name, v, opts)?;
        let _ = writeln!(
            h,
            "<figure id=\"{name}\">\n{}\n<figcaption>{}</figcaption>\n</figure>",
            responsive(&svg, caption),
            esc(caption)
        );
    }

    if !cmp.tallies.is_empty() {
        let _ = writeln!(h, "<h2>Tallies</h2>\n<table><tr><th>tally</th>");
        for name in &cmp.names {
            let _ = write!(h, "<th class=\"n\">mean {}</th>", esc(name));
        }
        for name in cmp.names.iter().skip(1) {
            let _ = write!(h, "<th class=\"n\">{} − {}</th>", esc(name), esc(&cmp.names[0]));
        }
        let _ = writeln!(h, "</tr>");
        for t in &cmp.tallies {
            let _ = write!(h, "<tr><td><code>{}</code></td>", esc(&t.id));
            for e in &t.mean {
                let _ = write!(h, "<td class=\"n\">{:.3}</td>", e.value);
            }
            for p in &t.vs_first {
                let _ = write!(h, "<td class=\"n\">{}</td>", iv(&p.difference, 1.0, true));
            }
            let _ = writeln!(h, "</tr>");
        }
        let _ = writeln!(h, "</table>");
    }

    let _ = writeln!(h, "<h2>Each run's levels, side by side</h2>\n<div class=\"grid\">");
    for (name, r) in cmp.names.iter().zip(v.runs) {
        let svg = charts::svg("levels", r, opts)?;
        let _ = writeln!(
            h,
            "<figure>\n{}\n<figcaption>{}</figcaption>\n</figure>",
            responsive(&svg, name),
            esc(name)
        );
    }
    let _ = writeln!(h, "</div>\n</body>\n</html>");
    Ok(h)
}

/// An inline SVG sized by the page (viewBox kept, fixed size dropped).
fn responsive(svg: &str, label: &str) -> String {
    match svg.find('>') {
        Some(end) if svg.starts_with("<svg") => {
            let head = strip_attr(&strip_attr(&svg[..end], "width"), "height");
            format!("{head} role=\"img\" aria-label=\"{}\">{}", esc(label), &svg[end + 1..])
        }
        _ => svg.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
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
