//! The terminal summary of a run, and the readable form of a scenario for `brink check`.

use crate::analysis::epistemic::SpreadCounts;
use crate::output::text::{num, pct, pct_bounds, sig};

/// "[lo, hi]".
fn bracket((lo, hi): (String, String)) -> String {
    format!("[{lo}, {hi}]")
}
use crate::scenario::diag::{shown_actor, shown_text, MAX_ID_CHARS};
use crate::sim::calendar::Date;
use crate::sim::model::{LevelChange, Model};
use crate::sim::stats::{wilson, Aggregate, Z95};
use std::fmt::Write as _;
use std::path::Path;

/// The spread of P(level) across draws of the uncertain params that a predictive run
/// leads with, and the seconds it took (unknown after a merge).
pub(crate) struct Spread<'a> {
    /// Every draw's level counts.
    pub counts: &'a SpreadCounts,
    /// Seconds of the draws' trials.
    pub seconds: Option<f64>,
}

/// A few lines an analyst reads first: P(reached) per level with its 95% interval,
/// the tallies, the most common paths, where the files went. With uncertain params
/// (`spread`), the first line says so, and each level leads with the spread of P across
/// the draws, the Monte Carlo interval second.
pub(crate) fn run_summary(
    model: &Model,
    agg: &Aggregate,
    spread: Option<Spread<'_>>,
    seed: u64,
    secs: f64,
    dest: &Path,
    files: &[String],
) -> String {
    let mut s = String::new();
    let variant = model.variant.as_deref().map(|v| format!(" [{v}]")).unwrap_or_default();
    match &spread {
        None => {
            let _ = writeln!(s, "{}{}: {}", model.name, variant, shown_text(&model.title));
        }
        Some(_) => {
            let n = model.uncertain.len();
            let _ = writeln!(
                s,
                "{}{}: {n} uncertain param{}; first interval: P across draws of {}, second: Monte Carlo error only",
                model.name,
                variant,
                if n == 1 { "" } else { "s" },
                if n == 1 { "it" } else { "them" },
            );
            let _ = writeln!(s, "  {}", shown_text(&model.title));
        }
    }
    let _ = writeln!(
        s,
        "  {} trials, seed {}, {} days{}; {:.2} s ({:.0} trials/s, {:.0} events/s)",
        agg.trials,
        seed,
        model.horizon_days,
        model.start.map(|d| format!(" from {d}")).unwrap_or_default(),
        secs,
        super::folder::per_second(agg.trials, secs),
        super::folder::per_second(super::folder::firings(agg), secs),
    );
    if let Some(sp) = &spread {
        let _ = writeln!(
            s,
            "  spread: {} draws of the params x {} trials each{}",
            sp.counts.draws,
            sp.counts.trials,
            sp.seconds.map(|t| format!("; {t:.2} s")).unwrap_or_default()
        );
    }
    let _ = writeln!(s);
    // Column widths come from ids, which validation keeps short; the clamp keeps a
    // width argument bounded whatever reaches here.
    let w = model.levels.iter().map(|l| l.id.len()).max().unwrap_or(5).clamp(5, MAX_ID_CHARS);
    if let Some(sp) = &spread {
        levels_with_spread(&mut s, model, agg, sp.counts, w);
    } else {
        levels_plain(&mut s, model, agg, w);
    }
    tallies_paths_files(&mut s, model, agg, dest, files);
    s
}

/// P(reached) per level with the spread across draws first, the Monte Carlo interval
/// second, then what they mean.
fn levels_with_spread(s: &mut String, model: &Model, agg: &Aggregate, sp: &SpreadCounts, w: usize) {
    let _ = writeln!(
        s,
        "  {:w$}  {:>8}  {:>18}  {:>18}  {:>10}",
        "level", "reached", "90% across draws", "95% Monte Carlo", "median day"
    );
    for (l, level) in model.levels.iter().enumerate() {
        let k = agg.levels[l].reached;
        let p = k as f64 / agg.trials.max(1) as f64;
        let (lo, hi) = wilson(k, agg.trials, Z95);
        let (slo, shi) = sp.interval(l);
        let med = agg.first_day_percentile(l, 0.5).map(|d| format!("{d:.1}")).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            s,
            "  {:w$}  {:>8}  {:>18}  {:>18}  {:>10}{}",
            level.id,
            pct(p),
            bracket(pct_bounds(p, slo, shi)),
            bracket(pct_bounds(p, lo, hi)),
            med,
            if level.terminal { "  (terminal)" } else { "" }
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "  reached: P(reached) averaged over what the uncertain params may be (predictive).\n  \
         90% across draws: the 5th to 95th percentile of P(reached) over {} draws of the params,\n  \
         each run on the same {} trials: the range that not knowing them leaves (plus some\n  \
         Monte Carlo noise of each draw). 95% Monte Carlo: the error of the first column only.",
        sp.draws, sp.trials
    );
}

/// P(reached) per level with its 95% Wilson interval.
fn levels_plain(s: &mut String, model: &Model, agg: &Aggregate, w: usize) {
    let _ = writeln!(s, "  {:w$}  {:>8}  {:>19}  {:>10}", "level", "reached", "95% interval", "median day");
    for (l, level) in model.levels.iter().enumerate() {
        let k = agg.levels[l].reached;
        let p = k as f64 / agg.trials.max(1) as f64;
        let (lo, hi) = wilson(k, agg.trials, Z95);
        let med = agg.first_day_percentile(l, 0.5).map(|d| format!("{d:.1}")).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            s,
            "  {:w$}  {:>8}  {:>19}  {:>10}{}",
            level.id,
            pct(p),
            bracket(pct_bounds(p, lo, hi)),
            med,
            if level.terminal { "  (terminal)" } else { "" }
        );
    }
}

/// The tallies, the most common paths and where the files went.
fn tallies_paths_files(s: &mut String, model: &Model, agg: &Aggregate, dest: &Path, files: &[String]) {
    if !model.tallies.is_empty() {
        let _ = writeln!(s);
        let w = model.tallies.iter().map(|t| t.id.len()).max().unwrap_or(5).clamp(5, MAX_ID_CHARS);
        let _ = writeln!(s, "  {:w$}  {:>8}  {:>6}  {:>6}  {:>8}", "tally", "mean", "p95", "max", "P(>0)");
        for (t, tally) in model.tallies.iter().enumerate() {
            let (mean, _) = agg.tally_mean_sd(t);
            let acc = &agg.tallies[t];
            let p95 = acc.hist.percentile(0.95).unwrap_or(0);
            let max = acc.hist.iter().last().map(|(x, _)| x).unwrap_or(0);
            let ppos = acc.positive as f64 / agg.trials.max(1) as f64;
            let _ = writeln!(s, "  {:w$}  {:>8.3}  {:>6}  {:>6}  {:>8}", tally.id, mean, p95, max, pct(ppos));
        }
    }
    let top = agg.sorted_paths();
    if !top.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "  most frequent escalation paths:");
        for (p, n) in top.iter().take(5) {
            let share = *n as f64 / agg.trials.max(1) as f64;
            let _ = writeln!(s, "  {:>8}  {}", pct(share), crate::output::tables::path_text(model, p));
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "  results in {}/ ({} files):", dest.display(), files.len());
    let of = |ext: &[&str]| -> Vec<&str> {
        files.iter().map(String::as_str).filter(|f| ext.iter().any(|e| f.ends_with(e))).collect()
    };
    let tables = of(&[".csv", ".json"]);
    if !tables.is_empty() {
        let _ = writeln!(s, "    tables: {}", tables.join(" "));
    }
    let mut charts: Vec<&str> = Vec::new();
    let mut kinds: Vec<&str> = Vec::new();
    for f in of(&[".png", ".svg"]) {
        if let Some((stem, ext)) = f.rsplit_once('.') {
            if !charts.contains(&stem) {
                charts.push(stem);
            }
            if !kinds.contains(&ext) {
                kinds.push(ext);
            }
        }
    }
    if !charts.is_empty() {
        let _ = writeln!(s, "    charts: {} ({})", charts.join(" "), kinds.join(", "));
    }
    if files.iter().any(|f| f == "report.html") {
        let _ = writeln!(s, "    report: {}/report.html", dest.display());
    }
}

/// The scenario in readable form: ladder, steps with rates and branches, triggers, schedule.
pub fn describe(model: &Model) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}: {}", model.name, shown_text(&model.title));
    let _ = writeln!(
        s,
        "  horizon {} days{}; defaults: {} trials, seed {}",
        model.horizon_days,
        model.start.map(|d| format!(" from {d}")).unwrap_or_default(),
        model.trials,
        model.seed
    );
    if let Some(v) = &model.variant {
        let _ = writeln!(s, "  variant: {v}");
    }
    let _ = writeln!(s, "\nLadder (lowest first):");
    for (i, l) in model.levels.iter().enumerate() {
        let mark = if i == model.initial_level {
            "  <- initial"
        } else if l.terminal {
            "  [terminal]"
        } else {
            ""
        };
        let _ = writeln!(s, "  {i}  {:<20} {}{}", l.id, shown_text(&l.label), mark);
    }
    let _ = writeln!(s, "\nSteps:");
    for step in &model.steps {
        let mut how = Vec::new();
        if let Some(r) = step.rate {
            // Two significant figures: a rate of 0.00105/day is 0.032/month, not 0.0.
            how.push(format!("{}/day ({}/month)", num(r), sig(r * 30.4375, 2)));
        }
        for w in &step.windows {
            how.push(format!("x{} on days {} to {}", num(w.rate_x), num(w.from), num(w.to)));
        }
        if let Some(m) = step.max {
            how.push(format!("at most {m}"));
        }
        let actor =
            if step.actor.is_empty() { String::new() } else { format!(" ({})", shown_actor(&step.actor)) };
        let _ = writeln!(s, "  {}{}: {}", step.id, actor, shown_text(&step.label));
        if !how.is_empty() {
            let _ = writeln!(s, "      {}", how.join("; "));
        }
        if step.branches.len() > 1
            || step.branches[0].tallies.len() + step.branches[0].modify.len() + step.branches[0].excite.len()
                > 0
            || step.branches[0].level != LevelChange::None
        {
            for b in &step.branches {
                let mut fx = Vec::new();
                for (t, a) in &b.tallies {
                    fx.push(format!("{} += {}", model.tallies[*t].id, a.describe()));
                }
                match b.level {
                    LevelChange::RaiseTo(l) => fx.push(format!("raise to {}", model.levels[l].id)),
                    LevelChange::LowerTo(l) => fx.push(format!("lower to {}", model.levels[l].id)),
                    LevelChange::None => {}
                }
                for m in &b.modify {
                    let mut what = Vec::new();
                    if m.rate_x != 1.0 {
                        what.push(format!("rate x{}", num(m.rate_x)));
                    }
                    if m.p_x != 1.0 {
                        what.push(format!("p x{}", num(m.p_x)));
                    }
                    fx.push(format!("{} {} for {} d", model.steps[m.step].id, what.join(", "), num(m.days)));
                }
                for e in &b.excite {
                    fx.push(format!(
                        "excite {} (n {}, decay {} d)",
                        model.steps[e.step].id,
                        num(e.n),
                        num(e.decay_days)
                    ));
                }
                let _ = writeln!(s, "      - {:<16} p={:<8} {}", b.id, num(b.p), fx.join("; "));
            }
        }
    }
    if !model.triggers.is_empty() {
        let _ = writeln!(s, "\nTriggers (reactions, in file order):");
        for t in &model.triggers {
            let after = match t.after_branch {
                Some(b) => format!("{}.{}", model.steps[t.after].id, model.steps[t.after].branches[b].id),
                None => model.steps[t.after].id.clone(),
            };
            let mut guard = Vec::new();
            if let Some(l) = t.min_level {
                guard.push(format!("level >= {}", model.levels[l].id));
            }
            if let Some(l) = t.max_level {
                guard.push(format!("level <= {}", model.levels[l].id));
            }
            let guard =
                if guard.is_empty() { String::new() } else { format!(", if {}", guard.join(" and ")) };
            let _ = writeln!(
                s,
                "  {after} -> {}  p={}, after {}{guard}",
                model.steps[t.step].id,
                num(t.p),
                t.delay.describe()
            );
        }
    }
    if !model.schedule.is_empty() {
        let _ = writeln!(s, "\nSchedule:");
        for e in &model.schedule {
            let date =
                model.start.map(|d| format!(" ({})", d.plus_days(e.day.floor() as i64))).unwrap_or_default();
            let branch =
                e.branch.map(|b| format!(" [{}]", model.steps[e.step].branches[b].id)).unwrap_or_default();
            let _ = writeln!(s, "  day {}{date}: {}{branch}", num(e.day), model.steps[e.step].id);
        }
    }
    if !model.questions.is_empty() {
        let _ = writeln!(s, "\nQuestions (asked at day 0; brink track-record scores them):");
        for q in &model.questions {
            let target = model.asked_text(q.target);
            let _ = writeln!(s, "  {} [{}]: {target} within {} days", q.id, q.kind, q.days);
            let _ = writeln!(s, "      {}", shown_text(&q.text));
        }
    }
    if !model.params.is_empty() {
        let drawn = model.provenance.iter().filter(|p| p.dist.is_some()).count();
        let how = match drawn {
            0 => String::new(),
            n => format!(" ({n} drawn anew in every trial; the value is the mean)"),
        };
        let _ = writeln!(s, "\nParams{how}:");
        let width = model.params.iter().map(|(n, _)| n.len()).max().unwrap_or(0).min(MAX_ID_CHARS);
        for ((name, v), p) in model.params.iter().zip(&model.provenance) {
            let dist = p.dist.map(|d| format!("  ~ {}", d.describe())).unwrap_or_default();
            let _ = writeln!(s, "  {name:<width$} {:<8}{dist}", num(*v));
            if let Some(src) = &p.source {
                let _ = writeln!(s, "      source: {}", shown_text(src));
            }
        }
    }
    if !model.variants.is_empty() {
        let _ = writeln!(s, "\nVariants:");
        for (v, d) in &model.variants {
            let _ = writeln!(s, "  {v}: {}", shown_text(d));
        }
    }
    // Columns padded for alignment leave spaces at the end of a line whose last column
    // is empty (a param without a law, a branch without effects): none are printed.
    let mut trimmed = String::with_capacity(s.len());
    for line in s.lines() {
        trimmed.push_str(line.trim_end());
        trimmed.push('\n');
    }
    trimmed
}

/// The hindsight audit of `brink check --as-of`: every citation of a source published
/// after `as_of`, with the place that cites it, then the counts. Empty of lines when a
/// forecast made on `as_of` could have known every source it cites.
pub fn hindsight(file: &str, text: &str, cited: &crate::scenario::sources::Cited, as_of: Date) -> String {
    use crate::scenario::diag::line_col;
    let late = crate::scenario::sources::hindsight(cited, as_of);
    let mut s = String::new();
    let _ = writeln!(s, "Hindsight audit of {file} as of {as_of}: sources published after {as_of}");
    let places: Vec<String> = late
        .iter()
        .map(|h| {
            let (line, col) = line_col(text, h.citation.span.start);
            format!("{file}:{line}:{col}")
        })
        .collect();
    let wp = places.iter().map(|p| p.len()).max().unwrap_or(0);
    let wk = late.iter().map(|h| h.source.key.len()).max().unwrap_or(0).min(MAX_ID_CHARS);
    for (h, place) in late.iter().zip(&places) {
        let _ = writeln!(
            s,
            "  {place:<wp$}  {:<wk$}  {:<10}  {}",
            h.source.key, h.source.published, h.citation.by
        );
    }
    let mut keys: Vec<&str> = late.iter().map(|h| h.source.key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut items: Vec<&str> = late.iter().map(|h| h.citation.by.as_str()).collect();
    items.sort_unstable();
    items.dedup();
    let mut all: Vec<&str> = cited.citations.iter().map(|c| c.by.as_str()).collect();
    all.sort_unstable();
    all.dedup();
    let _ = writeln!(
        s,
        "{} citation{} of {} source{} published after {as_of}, by {} of the {} citing item{} \
         (params, steps, branches, triggers, schedule entries)",
        late.len(),
        if late.len() == 1 { "" } else { "s" },
        keys.len(),
        if keys.len() == 1 { "" } else { "s" },
        items.len(),
        all.len(),
        if all.len() == 1 { "" } else { "s" },
    );
    s
}

/// The terminal summary: each fitted param beside the scenario's value, then what was not
/// fitted and the self-excitation checks.
pub fn fit_summary(
    model: &Model,
    f: &crate::analysis::fit::Fit,
    events: &Path,
    window: &str,
    dest: &Path,
    charts: bool,
) -> String {
    let g = |x: f64| crate::output::text::sig(x, 3);
    let mut t = format!(
        "{}: params fitted from {} ({} rows, {} {}), {window}\n\n",
        model.name,
        events.display(),
        f.rows,
        f.histories,
        if f.histories == 1 { "history" } else { "histories" }
    );
    let w = f.fitted.iter().map(|p| p.param.len()).max().unwrap_or(5).max(5);
    t.push_str(&format!(
        "  {:<w$}  {:>10}  {:>10}  {:>23}  {:>5}  {:>9}  method\n",
        "param", "scenario", "fitted", "95% interval", "n", "exposure"
    ));
    for p in &f.fitted {
        let flag = match p.check {
            Some(c) if p.hand < c.low => " <- scenario below",
            Some(c) if p.hand > c.high => " <- scenario above",
            _ => "",
        };
        t.push_str(&format!(
            "  {:<w$}  {:>10}  {:>10}  {:>23}  {:>5}  {:>9}  {}{flag}\n",
            p.param,
            g(p.hand),
            g(p.value.estimate),
            format!("[{}, {}]", g(p.value.low), g(p.value.high)),
            p.n,
            p.exposure_days.map(|e| format!("{}d", g(e))).unwrap_or_default(),
            p.method,
        ));
    }
    let outside =
        f.fitted.iter().filter(|p| p.check.is_some_and(|c| p.hand < c.low || p.hand > c.high)).count();
    t.push_str(&format!(
        "\n  {} params fitted. The scenario's value lies outside the record's exact 95% interval \
         (Garwood for rates,\n  Clopper-Pearson for probabilities, not judged below {} trials) for {outside}. \
         An incomplete log puts rates low.\n",
        f.fitted.len(),
        crate::analysis::fit::MIN_JUDGED
    ));
    if !f.unfitted.is_empty() {
        t.push_str(&format!("\n  not fitted ({}):\n", f.unfitted.len()));
        for p in &f.unfitted {
            t.push_str(&format!("    {} ({}): {}\n", p.param, g(p.hand), p.reason));
        }
    }
    if !f.clustering.is_empty() {
        t.push_str(
            "\n  self-excitation (Hawkes, each step exciting itself) against Poisson, given the scenario's rate windows\n  \
             (windows drawn around clusters absorb them; a thinned log hides clustering):\n",
        );
        let w = f
            .clustering
            .iter()
            .map(|c| crate::analysis::fit::group_name(model, &c.steps).len())
            .max()
            .unwrap_or(4)
            .max(4);
        t.push_str(&format!(
            "    {:<w$} {:>7}  {:>22}  {:>20}  {:>6}  {:>6}  {:>17}  {}\n",
            "step",
            "firings",
            "branching ratio [95%]",
            "decay days [95%]",
            "LR",
            "p",
            "AIC Hawkes/Poisson",
            "verdict"
        ));
        for c in &f.clustering {
            let h = &c.fit;
            // AIC lower by more than 2 is the usual threshold for a real difference.
            let verdict = if h.aic < h.poisson_aic - 2.0 { "clustered" } else { "no evidence" };
            // A decay at the window's length means the kernel acts as a trend, not a cluster.
            let verdict = if h.decay.estimate >= 0.99 * (f.span.to - f.span.from) {
                format!("{verdict} (decay at the window's length: a trend, not clusters)")
            } else {
                verdict.to_owned()
            };
            t.push_str(&format!(
                "    {:<w$} {:>7}  {:>22}  {:>20}  {:>6.2}  {:>6.3}  {:>17}  {verdict}\n",
                crate::analysis::fit::group_name(model, &c.steps),
                c.k,
                format!("{} [{}, {}]", g(h.n.estimate), g(h.n.low), g(h.n.high)),
                {
                    // An end at the window's length is the search's bound, not the data's.
                    let span = f.span.to - f.span.from;
                    let high =
                        if h.decay.high >= 0.99 * span { format!(">={}", g(span)) } else { g(h.decay.high) };
                    format!("{} [{}, {high}]", g(h.decay.estimate), g(h.decay.low))
                },
                h.lr,
                h.lr_p,
                format!("{:.1}/{:.1}", h.aic, h.poisson_aic),
            ));
        }
    }
    for n in &f.notes {
        t.push_str(&format!("\n  note: {n}\n"));
    }
    t.push_str(&format!(
        "\n  results in {}/ (fit.csv, params.toml, not-fitted.csv, self-excitation.csv, counts.csv{}, manifest.json)\n",
        dest.display(),
        if charts { ", counts chart" } else { "" }
    ));
    t
}

/// What `brink score` prints: the run, then per kind of target the mean scores of each
/// forecaster and brink's skill against each baseline.
pub struct ScoreView<'a> {
    /// The scenario.
    pub model: &'a Model,
    /// The log's path.
    pub events: &'a str,
    /// The origins (as shown, day).
    pub origins: &'a [(String, f64)],
    /// Days between origins.
    pub every: f64,
    /// Lead (days).
    pub lead: f64,
    /// Trials per origin, seed.
    pub spec: &'a crate::sim::runner::RunSpec,
    /// With --refit: the first day of the fits, and the params applied at each origin.
    pub refit: Option<(String, Vec<usize>)>,
    /// The forecasters, brink's first.
    pub forecasters: &'a [&'a str],
    /// Means and skills.
    pub summaries: &'a [crate::analysis::score::Summary],
    /// PIT checks.
    pub pits: &'a [crate::analysis::score::PitRow],
    /// Origins per bootstrap block.
    pub block: usize,
    /// The results folder.
    pub dest: &'a Path,
    /// The files written.
    pub files: &'a [String],
}

/// The terminal summary of `brink score`.
pub fn score_summary(v: &ScoreView<'_>) -> String {
    use crate::analysis::score::Group;
    let mut t = String::new();
    let (first, last) = (&v.origins[0].0, &v.origins[v.origins.len() - 1].0);
    let _ = writeln!(t, "{}: forecasts scored against {}", v.model.name, v.events);
    let _ = writeln!(
        t,
        "  {} origins, {first} to {last}, every {} days; {}-day windows; {} trials per origin, seed {}",
        v.origins.len(),
        num(v.every),
        num(v.lead),
        v.spec.trials,
        v.spec.seed
    );
    match &v.refit {
        Some((from, applied)) => {
            let (lo, hi) = (applied.iter().min().unwrap_or(&0), applied.iter().max().unwrap_or(&0));
            let _ = writeln!(
                t,
                "  brink refitted at each origin from the log since {from} ({lo}-{hi} params applied); \
                 frozen: the fit of the first origin"
            );
        }
        None => {
            let _ = writeln!(
                t,
                "  brink: the scenario's params as given (uncertain ones drawn per trial), the state rebuilt from the log at each origin"
            );
        }
    }
    let _ = writeln!(
        t,
        "  climatology: Poisson at each step's rate over the {} days before the origin (fewer if day 0 is closer)",
        crate::analysis::score::CLIMATE_DAYS
    );
    if v.every < v.lead {
        let _ = writeln!(
            t,
            "  note: windows overlap (--every {} < --lead {}): neighbouring rows share events, so \
             the PIT check counts some twice",
            num(v.every),
            num(v.lead)
        );
    }
    let _ = writeln!(t);
    let names: Vec<&str> = v.forecasters.to_vec();
    let clim = names.len() - 1;
    let busy: Vec<&crate::analysis::score::Summary> = v
        .summaries
        .iter()
        .filter(|s| s.forecaster == 0 && s.events >= crate::analysis::score::MIN_EVENTS)
        .filter(|s| {
            matches!(s.group, Group::One(crate::analysis::score::Target::Count(_)))
                || matches!(s.group, Group::All(_))
        })
        .collect();
    let _ = write!(t, "  {:<28} {:<10} {:>6}", "targets", "score", "events");
    for n in &names {
        let _ = write!(t, " {n:>12}");
    }
    let _ = writeln!(t, "   brink's skill vs {} [95%]", names[clim]);
    for s in busy {
        let name = match &s.group {
            Group::All(kind) => format!("all {kind}"),
            Group::One(target) => target.name(v.model),
        };
        let _ = write!(t, "  {name:<28} {:<10} {:>6}", s.rule.name(), s.events);
        for f in 0..names.len() {
            let m = v.summaries.iter().find(|x| x.group == s.group && x.rule == s.rule && x.forecaster == f);
            let _ = write!(t, " {:>12}", m.map_or("-".to_owned(), |m| format!("{:.4}", m.mean)));
        }
        match s.versus.iter().find(|x| x.baseline == clim).and_then(|x| x.skill) {
            Some(k) => {
                let _ = writeln!(t, "   {:+.3} [{:+.3}, {:+.3}]", k.value, k.low, k.high);
            }
            None => {
                let _ = writeln!(t, "   -");
            }
        }
    }
    let _ = writeln!(
        t,
        "\n  Scores: lower is better. Skill = 1 - brink's mean / the baseline's, above 0 when brink is\n  \
         better; intervals from a moving-block bootstrap of origins (blocks of {}). Shown: the\n  \
         step counts and kinds with at least {} events; scores.csv has every target.",
        v.block,
        crate::analysis::score::MIN_EVENTS
    );
    for p in v.pits.iter().filter(|p| p.step.is_none()) {
        let n: u64 = p.bins.iter().sum();
        let chi = match p.chi2 {
            Some((c, pv)) => format!("chi-square {c:.1} on {} df, {}", p.bins.len() - 1, p_value(pv)),
            None => "too few for a chi-square".to_owned(),
        };
        let _ = writeln!(
            t,
            "  PIT, {}: {n} counts of steps that fired, {chi}; {} beyond 5%/95% ({})",
            names[p.forecaster],
            p.extreme,
            p_value(p.extreme_p)
        );
    }
    let _ =
        writeln!(t, "\n  results in {}/ ({} files): {}", v.dest.display(), v.files.len(), v.files.join(" "));
    t
}

/// A p-value for people: `p = 0.0123`, or `p < 0.0001`.
fn p_value(p: f64) -> String {
    if p < 1e-4 {
        "p < 0.0001".to_owned()
    } else {
        format!("p = {p:.4}")
    }
}

/// What `brink track-record` shows on the terminal.
pub struct TrackView<'a> {
    /// The track-record file.
    pub file: &'a str,
    /// Episodes in the file.
    pub episodes: usize,
    /// Every question of every episode, episodes by day 0.
    pub answers: &'a [crate::analysis::track::Answer],
    /// Means over the answered questions: Brier, then log score.
    pub means: (Option<crate::analysis::track::PairedMeans>, Option<crate::analysis::track::PairedMeans>),
    /// The results folder and its files.
    pub dest: &'a Path,
    /// Files written.
    pub files: &'a [String],
}

/// The terminal summary of `brink track-record`: one line per question, then the means.
pub fn track_summary(v: &TrackView<'_>) -> String {
    let mut t = String::new();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let revised = v.answers.iter().filter(|a| a.revised.is_some()).count();
    let _ = writeln!(
        t,
        "track record from {}: {}, {}{}",
        v.file,
        plural(v.episodes, "episode"),
        plural(v.answers.len(), "question"),
        if revised > 0 {
            format!(" ({revised} in revised entries, not in the means)")
        } else {
            String::new()
        }
    );
    let line = |t: &mut String, a: &crate::analysis::track::Answer| {
        let (lo, hi) = a.interval();
        let (answer, scores) = match (a.outcome, a.scored()) {
            (Some(y), Some((b, n))) => (
                if y { "yes" } else { "no" },
                format!("{:>11.4}  {:>9}  {:>10.4}", b.0, pct(a.baseline()), n.0),
            ),
            _ => ("?", format!("{:>11}  {:>9}  {:>10}", "", pct(a.baseline()), "")),
        };
        let _ = writeln!(
            t,
            "  {:<14} {:<10} {:<28} {:>4}  {:<25}  {:<3}  {scores}",
            a.episode,
            a.day0,
            a.question.id,
            a.question.days,
            format!("{:>6} [{}, {}]", pct(a.p()), pct(lo), pct(hi)),
            answer
        );
    };
    let _ = writeln!(
        t,
        "\n  {:<14} {:<10} {:<28} {:>4}  {:<25}  {:<3}  {:>11}  {:>9}  {:>10}",
        "episode",
        "day 0",
        "question",
        "days",
        "brink [95% MC]",
        "rec",
        "brink Brier",
        "base rate",
        "base Brier"
    );
    for a in v.answers.iter().filter(|a| a.revised.is_none()) {
        line(&mut t, a);
    }
    let _ = writeln!(t);
    for (name, m) in [("Brier", &v.means.0), ("log score", &v.means.1)] {
        if let Some(m) = m {
            let _ = writeln!(
                t,
                "  mean {name} over {} questions: brink {:.3}, base rate {:.3}; base rate - brink {:+.3} [{:+.3}, {:+.3}]",
                m.n, m.brink, m.baseline, m.gain.0, m.gain.1, m.gain.2
            );
        }
    }
    let _ = writeln!(
        t,
        "  Scores: lower is better; a difference above 0 favours brink. Intervals: 95%, a paired\n  \
         bootstrap over questions; the questions of one episode are not independent and they are\n  \
         few, so read the interval, not the sign. Base rate: (yes + 1/2) / (asked + 1) over the\n  \
         earlier episodes' questions of the same kind (1/2 for the first)."
    );
    let revised: Vec<_> = v.answers.iter().filter(|a| a.revised.is_some()).collect();
    if !revised.is_empty() {
        let _ = writeln!(t, "\n  revised after scoring (not in the means or the base rates):");
        for a in revised {
            line(&mut t, a);
        }
    }
    let _ =
        writeln!(t, "\n  results in {}/ ({} files): {}", v.dest.display(), v.files.len(), v.files.join(" "));
    t
}
