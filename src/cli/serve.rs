//! `brink serve`: a local what-if page. Every param is a slider, every variant a button;
//! each change re-runs the scenario on the same seed (common random numbers) and redraws
//! the headline, the charts and the paired difference from the baseline.
//!
//! The server is axum on a current-thread tokio runtime. Simulations run one at a time
//! (a semaphore of one permit) on the blocking pool, on brink's own worker threads; a
//! newer simulating request of the same page (the `tab` id the page sends) cancels that
//! page's older one (between slices of trials, so a cancelled run stops within one
//! slice), and never another page's. It reads the scenario once, writes no files, and
//! answers bad query values with 400 and the compiler's own message.
//!
//! Numbers come from the same functions as `brink run`: the tables are formatted by
//! `output::tables`, read back as `Results` like a results folder, and the charts are
//! drawn from those by `present::charts`, so `/api/chart/levels.svg` is the `levels.svg`
//! that `brink run` writes for the same inputs. The headline card is the report's
//! (`present::report::served_card`), with the paired difference from the baseline.

use super::*;
use crate::analysis::compare::paired_proportion;
use crate::output::manifest::Manifest;
use crate::output::tables;
use crate::present::charts::{self, CHARTS};
use crate::sim::accumulate::Reached;
use crate::sim::stats::Aggregate;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The most trials one request may ask for.
pub(crate) const MAX_TRIALS: u64 = 200_000;

/// Trials per slice: a cancelled run stops at the end of its current slice. Eight
/// chunks, so two to eight threads stay busy within a slice.
const SLICE: u64 = 8 * runner::CHUNK;

/// Paths listed in the JSON (the most frequent first).
const TOP_PATHS: usize = 10;

/// The longest page id (`tab`) a request may send.
const MAX_TAB: usize = 64;

/// The page, with `/*PARAMS*/`, `/*SCENARIO*/` and `/*CARD_CSS*/` filled in at start-up.
const PAGE: &str = include_str!("serve.html");

#[derive(Debug, Args)]
pub(super) struct ServeArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Port to listen on (0: any free port; the address is printed).
    #[arg(long, default_value_t = 8017)]
    port: u16,
    /// IP address to listen on: the loopback interface unless told otherwise.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Worker threads of each simulation (default: all cores); results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    threads: Option<u64>,
}

/// What every request shares.
struct Server {
    /// The scenario file as given (names it in messages and manifests).
    file: String,
    /// Its text, compiled again for each request's variant and `set`s.
    source: String,
    /// The scenario without variant or `set`: what differences are measured from.
    baseline: Model,
    threads: usize,
    /// One simulation at a time, whichever page asks.
    slots: Arc<tokio::sync::Semaphore>,
    /// The last ticket handed out (each simulating request takes the next).
    tickets: AtomicU64,
    /// When the server started: the origin of the `ran_ms` of each answer.
    born: std::time::Instant,
    /// Per page (`tab`), the ticket of its newest simulating request while one is under
    /// way: an older request of that page stops when it sees a newer ticket here. An
    /// entry leaves with its request, so the map holds only pages with work under way.
    latest: Mutex<HashMap<String, u64>>,
    /// The baseline's reached flags, kept from the last run of it.
    base_cache: BaselineCache,
    /// The page, filled in.
    page: String,
}

/// A request's inputs, checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Query {
    pub trials: u64,
    pub seed: u64,
    /// None: the baseline.
    pub variant: Option<String>,
    /// `set=NAME=VALUE`, in order (a later value for the same name stands).
    pub sets: Vec<(String, f64)>,
    /// Charts to include as SVG text (`/api/run` only).
    pub charts: Vec<String>,
    /// The page that asks (empty: none named); a newer request of a page cancels only
    /// that page's older one.
    pub tab: String,
}

/// Reads a query string: `trials`, `seed`, `variant`, `tab`, repeatable `set=NAME=VALUE`
/// and, where `charts` allows it, repeatable `chart=NAME`. Values are checked for form here;
/// names and ranges of params and the variant are checked by compiling the scenario.
pub(crate) fn parse_query(raw: Option<&str>, base: &Model, charts: bool) -> Result<Query, String> {
    let mut q = Query {
        trials: base.trials.min(MAX_TRIALS),
        seed: base.seed,
        variant: None,
        sets: Vec::new(),
        charts: Vec::new(),
        tab: String::new(),
    };
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        match &*k {
            "trials" => {
                q.trials = match v.trim().parse::<u64>() {
                    Ok(n) if (1..=MAX_TRIALS).contains(&n) => n,
                    _ => return Err(format!("trials={v}: give a whole number from 1 to {MAX_TRIALS}")),
                }
            }
            "seed" => {
                q.seed = v
                    .trim()
                    .parse()
                    .map_err(|_| format!("seed={v}: give a whole number from 0 to {}", u64::MAX))?
            }
            "variant" => {
                let v = v.trim();
                q.variant = (!v.is_empty() && v != "baseline").then(|| v.to_owned());
            }
            "tab" => {
                let ok = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
                if v.len() > MAX_TAB || !v.chars().all(ok) {
                    return Err(format!(
                        "tab={v}: a page id is at most {MAX_TAB} letters, digits, '-' or '_'"
                    ));
                }
                q.tab = v.into_owned();
            }
            "set" => {
                let (name, x) = parse_set(&v).map_err(|e| format!("set={v}: {e}"))?;
                q.sets.retain(|(n, _)| *n != name);
                q.sets.push((name, x));
            }
            "chart" if charts => {
                if !CHARTS.iter().any(|(n, _)| *n == v) {
                    let names: Vec<&str> = CHARTS.iter().map(|(n, _)| *n).collect();
                    return Err(format!("chart={v}: no such chart; charts: {}", names.join(", ")));
                }
                if !q.charts.iter().any(|c| *c == v) {
                    q.charts.push(v.into_owned());
                }
            }
            other => {
                let known = if charts {
                    "trials, seed, variant, set, tab, chart"
                } else {
                    "trials, seed, variant, set, tab"
                };
                return Err(format!("unknown query parameter `{other}`: this endpoint takes {known}"));
            }
        }
    }
    Ok(q)
}

/// Why a request got no result.
#[derive(Debug)]
enum Refusal {
    /// A bad value (400), with the message.
    Bad(String),
    /// A newer request came in (409).
    Superseded,
    /// The run failed (500), e.g. a runaway trial.
    Failed(String),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (code, text) = match self {
            Refusal::Bad(m) => (StatusCode::BAD_REQUEST, m),
            Refusal::Superseded => {
                (StatusCode::CONFLICT, "superseded: a newer request cancelled this one".to_owned())
            }
            Refusal::Failed(m) => (StatusCode::INTERNAL_SERVER_ERROR, m),
        };
        let text = if text.ends_with('\n') { text } else { text + "\n" };
        (code, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
    }
}

/// One request's results.
struct Outcome {
    /// The run's tables read back, as a results folder would be.
    results: Results,
    /// Against the baseline on the same trials (None when this is the baseline): per level,
    /// the baseline's P and the paired difference.
    difference: Option<Vec<(f64, crate::analysis::compare::Estimate)>>,
    seconds: f64,
}

/// The baseline's reached flags on one seed, for its first `trials()` trials: a trial
/// does not depend on the total, so a shorter run is a prefix of it.
type BaselineCache = std::sync::Mutex<Option<(u64, Arc<Reached>)>>;

impl Server {
    /// Compiles the query's scenario, runs it, pairs it trial by trial with the baseline on
    /// the same seed (the baseline's flags are kept from an earlier request where they
    /// can be), and reads its tables back; stops early when a newer request of the same
    /// page came.
    fn compute(&self, q: &Query, ticket: u64) -> Result<Outcome, Refusal> {
        let started = Instant::now();
        let ov = Overrides {
            variant: q.variant.clone(),
            sets: q.sets.clone(),
            params: None,
            sets_as: scenario::SetSyntax::Query,
        };
        let model = scenario::compile_str(&self.file, &self.source, &ov)
            .map_err(|d| Refusal::Bad(d.to_string().replace("(from --variant)", "(from variant=)")))?;
        let (agg, reached) = self.run(&model, q, ticket)?;
        let is_baseline = q.variant.is_none() && q.sets.is_empty();
        let difference = if is_baseline {
            self.remember(q.seed, reached);
            None
        } else {
            let base = match self.recall(q.seed, q.trials) {
                Some(b) => b,
                None => self.remember(q.seed, self.run(&self.baseline, q, ticket)?.1),
            };
            let p = pair(&self.baseline, &model, &base, &reached, q.trials);
            Some(
                p.level_counts
                    .iter()
                    .map(|&c| {
                        let pp = paired_proportion(c, p.trials);
                        (pp.a.value, pp.difference)
                    })
                    .collect(),
            )
        };
        let results = self.results(&model, q, &agg).map_err(|e| Refusal::Failed(e.to_string()))?;
        Ok(Outcome { results, difference, seconds: started.elapsed().as_secs_f64() })
    }

    /// Runs `model` on the query's trials and seed, in slices, checking between slices
    /// that no newer request came.
    fn run(&self, model: &Model, q: &Query, ticket: u64) -> Result<(Aggregate, Reached), Refusal> {
        let spec =
            RunSpec { trials: q.trials, seed: q.seed, threads: self.threads, max_events: model.max_events };
        let empty = || (Aggregate::new(model), Reached::new(model.levels.len()));
        let mut total = empty();
        let mut start = 0;
        while start < q.trials {
            if self.superseded(&q.tab, ticket) {
                return Err(Refusal::Superseded);
            }
            let end = (start + SLICE).min(q.trials);
            runner::run_set(&[model], &spec, start..end, &empty, &mut total, &mut |_| {})
                .map_err(|e| Refusal::Failed(e.to_string()))?;
            start = end;
        }
        Ok(total)
    }

    /// Whether a newer request of page `tab` than `ticket` is under way.
    fn superseded(&self, tab: &str, ticket: u64) -> bool {
        let latest = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        latest.get(tab).is_some_and(|&t| t != ticket)
    }

    /// Keeps the baseline's flags of `seed` (unless longer ones of that seed are kept).
    fn remember(&self, seed: u64, r: Reached) -> Arc<Reached> {
        let mut kept = self.base_cache.lock().unwrap_or_else(|e| e.into_inner());
        match &*kept {
            Some((s, k)) if *s == seed && k.trials() >= r.trials() => k.clone(),
            _ => {
                let r = Arc::new(r);
                *kept = Some((seed, r.clone()));
                r
            }
        }
    }

    /// The baseline's flags of `seed` for at least `trials` trials, if kept.
    fn recall(&self, seed: u64, trials: u64) -> Option<Arc<Reached>> {
        let kept = self.base_cache.lock().unwrap_or_else(|e| e.into_inner());
        kept.as_ref().filter(|(s, k)| *s == seed && k.trials() >= trials).map(|(_, k)| k.clone())
    }

    /// The run's tables and manifest, formatted as `brink run` formats them and read back
    /// as a results folder is.
    fn results(
        &self,
        model: &Model,
        q: &Query,
        agg: &crate::sim::stats::Aggregate,
    ) -> Result<Results, ResultsError> {
        let mut m = Manifest::describe(model, &self.file, self.source.as_bytes(), q.seed, agg.trials);
        m.sets = sets_text(&q.sets);
        m.threads = self.threads;
        let files = [
            ("levels.csv", tables::levels(model, agg)),
            ("tallies.csv", tables::tallies(model, agg)),
            ("tally_distribution.csv", tables::tally_distribution(model, agg)),
            ("steps.csv", tables::steps(model, agg)),
            ("daily.csv", tables::daily(model, agg)),
            ("paths.csv", tables::paths(model, agg)),
            ("manifest.json", m.to_bytes()),
        ];
        let dir = Path::new(&self.file);
        Results::from_files(dir, |name| match files.iter().find(|(n, _)| *n == name) {
            Some((_, b)) => Ok(b.clone()),
            None => Err(ResultsError::Io {
                path: dir.join(name),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "not part of a served run"),
            }),
        })
    }

    /// The page's sliders, in the file's order: for each param used, its name, value,
    /// range, step, what it is (a probability, a whole number, a distribution with its
    /// mean) and what the file says of it (its note and its source keys), so that the page
    /// can name each slider in words.
    fn sliders(&self) -> Value {
        let m = &self.baseline;
        let mut out = Vec::new();
        for (i, (name, value)) in m.params.iter().enumerate() {
            let uses = m.param_uses.get(i).copied().unwrap_or_default();
            if !uses.used {
                continue;
            }
            let prov = m.provenance.get(i);
            let dist = prov.and_then(|p| p.dist);
            let (lo, hi) = slider_range(*value, uses.probability, dist);
            let step = if uses.whole { 1.0 } else { nice_step((hi - lo) / 200.0) };
            let sources: Vec<&str> =
                prov.and_then(|p| p.source.as_deref()).map_or(Vec::new(), |s| s.split_whitespace().collect());
            out.push(json!({
                "name": name,
                "value": value,
                "min": lo,
                "max": hi,
                "step": step,
                "probability": uses.probability,
                "whole": uses.whole,
                "dist": dist.map(|d| d.describe()),
                "dist_mean": dist.map(|d| json_f64(d.mean())),
                "note": prov.and_then(|p| p.note.as_deref()),
                "sources": sources,
            }));
        }
        Value::Array(out)
    }

    /// Each slider's value and distribution under a variant: what its button moves the
    /// sliders to. A variant that does not compile (a range it breaks is checked only
    /// when it is applied) gets null, and its button says why when pressed.
    fn variant_values(&self, name: &str) -> Value {
        let ov = Overrides { variant: Some(name.to_owned()), ..Overrides::default() };
        let Ok(m) = scenario::compile_str(&self.file, &self.source, &ov) else { return Value::Null };
        let mut out = serde_json::Map::new();
        for (i, (param, value)) in m.params.iter().enumerate() {
            if !m.param_uses.get(i).is_some_and(|u| u.used) {
                continue;
            }
            let dist = m.provenance.get(i).and_then(|p| p.dist);
            let mean = dist.map(|d| json_f64(d.mean()));
            out.insert(
                param.clone(),
                json!({ "value": value, "dist": dist.map(|d| d.describe()), "dist_mean": mean }),
            );
        }
        Value::Object(out)
    }
}

/// The paired level counts of the first `trials` trials of two runs (baseline `a`, the
/// changed run `b`), levels matched by id, as `brink compare` pairs them.
fn pair(
    a_model: &Model,
    b_model: &Model,
    a: &Reached,
    b: &Reached,
    trials: u64,
) -> crate::analysis::compare::Paired {
    fn ids(m: &Model) -> Vec<&str> {
        m.levels.iter().map(|l| l.id.as_str()).collect()
    }
    let mut p = crate::analysis::compare::Paired::from_ids(&ids(a_model), &ids(b_model), &[], &[]);
    for t in 0..trials as usize {
        p.add_raw(a.trial(t), &[], b.trial(t), &[]);
    }
    p
}

/// A slider's range: a distribution's support where it is finite (within [0, 1] for a
/// probability); [0, 1] for a probability; else from 0 to three times the value (or to the
/// mean plus four standard deviations of a distribution, if that is more).
fn slider_range(value: f64, probability: bool, dist: Option<crate::sim::params::ParamDist>) -> (f64, f64) {
    let (lo, hi) = match dist.map(|d| (d.support(), d)) {
        Some(((lo, hi), _)) if lo.is_finite() && hi.is_finite() && hi > lo => (lo, hi),
        Some((_, d)) => (0.0, (value * 3.0).max(d.mean() + 4.0 * d.variance().sqrt())),
        None if probability => (0.0, 1.0),
        None if value > 0.0 => (0.0, value * 3.0),
        None if value < 0.0 => (value * 3.0, 0.0),
        None => (0.0, 1.0),
    };
    if probability {
        (lo.max(0.0), hi.min(1.0))
    } else {
        (lo, hi)
    }
}

/// 1, 2 or 5 times a power of ten, at most `x` (for slider steps).
fn nice_step(x: f64) -> f64 {
    if !(x > 0.0 && x.is_finite()) {
        return 0.001;
    }
    let p = 10f64.powf(x.log10().floor());
    [5.0, 2.0, 1.0].into_iter().map(|k| k * p).find(|s| *s <= x).unwrap_or(p)
}

/// A number for JSON: null for NaN (never expected) so the JSON stays valid.
fn json_f64(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// The JSON of `/api/run`.
fn outcome_json(o: &Outcome, q: &Query, charts: &[(String, String)]) -> Value {
    let r = &o.results;
    let m = &r.manifest;
    let levels: Vec<Value> = r
        .levels
        .iter()
        .map(|l| {
            json!({
                "level": l.level, "label": l.label, "terminal": l.terminal,
                "p_reached": json_f64(l.p_reached), "p_low": json_f64(l.p_low), "p_high": json_f64(l.p_high),
                "trials_reached": l.trials_reached,
                "day_p10": l.day_p10.map(json_f64), "day_p50": l.day_p50.map(json_f64), "day_p90": l.day_p90.map(json_f64),
                "p_highest": json_f64(l.p_highest), "p_final": json_f64(l.p_final),
            })
        })
        .collect();
    let tallies: Vec<Value> = r
        .tallies
        .iter()
        .map(|t| {
            json!({
                "tally": t.tally, "label": t.label, "mean": json_f64(t.mean), "sd": json_f64(t.sd),
                "p5": t.p5, "p50": t.p50, "p95": t.p95, "max": t.max, "p_positive": json_f64(t.p_positive),
            })
        })
        .collect();
    let paths: Vec<Value> = r
        .paths
        .iter()
        .take(TOP_PATHS)
        .map(|p| json!({ "rank": p.rank, "path": p.path, "trials": p.trials, "share": json_f64(p.share) }))
        .collect();
    let difference = o.difference.as_ref().map(|d| {
        let rows: Vec<Value> = r
            .levels
            .iter()
            .zip(d)
            .map(|(l, (base, e))| {
                json!({
                    "level": l.level, "p_baseline": json_f64(*base), "difference": json_f64(e.value),
                    "low": e.low.map(json_f64), "high": e.high.map(json_f64),
                })
            })
            .collect();
        json!({ "from": "baseline", "paired": true, "levels": rows })
    });
    let mut out = json!({
        "scenario": m.scenario_name,
        "title": m.scenario_title,
        "variant": q.variant.as_deref().unwrap_or("baseline"),
        "sets": m.sets,
        "trials": m.trials,
        "seed": m.seed,
        "horizon_days": m.horizon_days,
        "levels": levels,
        "tallies": tallies,
        "paths": paths,
        "difference": difference,
        "headline_html": headline_html(o),
        "seconds": json_f64(o.seconds),
    });
    if !charts.is_empty() {
        let map: serde_json::Map<String, Value> =
            charts.iter().map(|(n, s)| (n.clone(), Value::String(s.clone()))).collect();
        out["charts"] = Value::Object(map);
    }
    out
}

/// The headline card of the run as the report renders it (escaped HTML), with the paired
/// difference of P(top level) from the baseline.
fn headline_html(o: &Outcome) -> String {
    let versus = o.difference.as_ref().and_then(|d| d.last().copied());
    crate::present::report::served_card(&o.results, &crate::present::report::Served { versus })
}

/// The chart size of the page and of `/api/chart`: brink's own default.
fn chart_options() -> ChartOptions {
    ChartOptions { formats: Formats::Svg, ..ChartOptions::default() }
}

/// A request's place as its page's newest: taken when the request comes, given up when
/// its simulation ends (unless a newer request of the page has taken it by then).
struct Ticket {
    server: Arc<Server>,
    tab: String,
    number: u64,
}

impl Ticket {
    fn take(server: &Arc<Server>, tab: &str) -> Ticket {
        // Numbered under the lock, so that tickets enter `latest` in the order of their
        // numbers whatever runtime runs the handlers.
        let mut latest = server.latest.lock().unwrap_or_else(|e| e.into_inner());
        let number = server.tickets.fetch_add(1, Ordering::SeqCst) + 1;
        latest.insert(tab.to_owned(), number);
        Ticket { server: server.clone(), tab: tab.to_owned(), number }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut latest = self.server.latest.lock().unwrap_or_else(|e| e.into_inner());
        if latest.get(&self.tab) == Some(&self.number) {
            latest.remove(&self.tab);
        }
    }
}

/// The page with each placeholder replaced by its text, in one pass over the template:
/// text put in (a scenario's title, a param's note) is never searched for placeholders.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + values.iter().map(|(_, v)| v.len()).sum::<usize>());
    let mut rest = template;
    while let Some((at, key, value)) =
        values.iter().filter_map(|(k, v)| rest.find(k).map(|at| (at, *k, *v))).min_by_key(|(at, _, _)| *at)
    {
        out.push_str(&rest[..at]);
        out.push_str(value);
        rest = &rest[at + key.len()..];
    }
    out.push_str(rest);
    out
}

/// Runs `q` on the blocking pool once a slot is free (one simulation at a time, whichever
/// page asks), unless a newer request of the same page came first.
async fn run_query(
    s: &Arc<Server>,
    q: Query,
) -> Result<(Outcome, Vec<(String, String)>, Query, [u64; 2]), Refusal> {
    let ticket = Ticket::take(s, &q.tab);
    let permit = s.slots.clone().acquire_owned().await.map_err(|e| Refusal::Failed(e.to_string()))?;
    if s.superseded(&q.tab, ticket.number) {
        return Err(Refusal::Superseded);
    }
    let server = s.clone();
    tokio::task::spawn_blocking(move || {
        // The ticket and the slot stay with the simulation, even when the page that asked
        // has gone: a newer request of that page still stops it.
        let (_permit, ticket) = (permit, ticket);
        let from = server.born.elapsed().as_millis() as u64;
        let o = server.compute(&q, ticket.number)?;
        let mut svgs = Vec::new();
        for name in &q.charts {
            let svg = charts::svg(name, &o.results, &chart_options())
                .map_err(|e| Refusal::Failed(e.to_string()))?;
            svgs.push((name.clone(), svg));
        }
        Ok((o, svgs, q, [from, server.born.elapsed().as_millis() as u64]))
    })
    .await
    .map_err(|e| Refusal::Failed(format!("the simulation task failed: {e}")))?
}

async fn api_run(State(s): State<Arc<Server>>, RawQuery(raw): RawQuery) -> Response {
    let q = match parse_query(raw.as_deref(), &s.baseline, true) {
        Ok(q) => q,
        Err(m) => return Refusal::Bad(m).into_response(),
    };
    match run_query(&s, q).await {
        Ok((o, svgs, q, ran)) => {
            let mut body = outcome_json(&o, &q, &svgs);
            // When the simulation held the slot, in ms since the server started.
            body["ran_ms"] = json!(ran);
            let body = body.to_string();
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Err(r) => r.into_response(),
    }
}

async fn api_chart(
    State(s): State<Arc<Server>>,
    UrlPath(file): UrlPath<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let name = match file.strip_suffix(".svg") {
        Some(n) if CHARTS.iter().any(|(c, _)| *c == n) => n.to_owned(),
        _ => {
            let names: Vec<String> = CHARTS.iter().map(|(n, _)| format!("{n}.svg")).collect();
            return (StatusCode::NOT_FOUND, format!("no chart `{file}`; charts: {}\n", names.join(", ")))
                .into_response();
        }
    };
    let mut q = match parse_query(raw.as_deref(), &s.baseline, false) {
        Ok(q) => q,
        Err(m) => return Refusal::Bad(m).into_response(),
    };
    q.charts = vec![name];
    match run_query(&s, q).await {
        Ok((_, mut svgs, _, _)) => {
            let svg = svgs.pop().map(|(_, s)| s).unwrap_or_default();
            ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response()
        }
        Err(r) => r.into_response(),
    }
}

async fn page(State(s): State<Arc<Server>>) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], s.page.clone()).into_response()
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found: brink serve has /, /api/run and /api/chart/NAME.svg\n")
        .into_response()
}

/// JSON for a `<script>` element: `</` cannot close it.
fn script_json(v: &Value) -> String {
    v.to_string().replace("</", "<\\/")
}

impl Server {
    /// A server for scenario text (compiled here as the baseline), without its page.
    fn new(
        file: String,
        source: String,
        threads: usize,
    ) -> Result<Server, crate::scenario::diag::Diagnostics> {
        let baseline = scenario::compile_str(&file, &source, &Overrides::default())?;
        Ok(Server {
            file,
            source,
            baseline,
            threads,
            slots: Arc::new(tokio::sync::Semaphore::new(1)),
            tickets: AtomicU64::new(0),
            born: std::time::Instant::now(),
            latest: Mutex::new(HashMap::new()),
            base_cache: BaselineCache::default(),
            page: String::new(),
        })
    }
}

pub(super) fn serve(a: ServeArgs) -> Result<(), Failure> {
    let file = a.scenario.display().to_string();
    let source = crate::scenario::input::read_text(&a.scenario, "scenario file").map_err(LoadError::from)?;
    let mut server = Server::new(file, source, worker_threads(a.threads)).map_err(LoadError::Invalid)?;
    let b = &server.baseline;
    let scenario = json!({
        "name": b.name,
        "title": b.title,
        "trials": b.trials.min(MAX_TRIALS),
        "seed": b.seed,
        "horizon_days": b.horizon_days,
        "top": b.levels.last().map(|l| l.id.clone()),
        "variants": b
            .variants
            .iter()
            .map(|(n, d)| json!({ "name": n, "description": d, "params": server.variant_values(n) }))
            .collect::<Vec<_>>(),
        "max_trials": MAX_TRIALS,
    });
    server.page = fill(
        PAGE,
        &[
            ("/*SCENARIO*/", &script_json(&scenario)),
            ("/*PARAMS*/", &script_json(&server.sliders())),
            ("/*CARD_CSS*/", &crate::present::report::headline_css()),
        ],
    );
    let server = Arc::new(server);
    let app = Router::new()
        .route("/", get(page))
        .route("/api/run", get(api_run))
        .route("/api/chart/{file}", get(api_chart))
        .fallback(not_found)
        .with_state(server.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| Failure::Failed(format!("cannot start the server: {e}")))?;
    rt.block_on(async move {
        let addr = SocketAddr::new(a.host, a.port);
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            Failure::Usage(format!("cannot listen on {addr}: {e} (is the port taken? try --port 0)"))
        })?;
        let bound = listener.local_addr().map_err(|e| Failure::Failed(e.to_string()))?;
        let shown = match bound.ip() {
            ip if ip.is_unspecified() => format!("http://localhost:{}/", bound.port()),
            _ => format!("http://{bound}/"),
        };
        let (params, variants) = (server.baseline.params.len(), server.baseline.variants.len());
        say(&format!(
            "brink serve: {shown} ({}: {params} {}, {variants} {}); Ctrl-C to stop\n",
            server.baseline.name,
            if params == 1 { "param" } else { "params" },
            if variants == 1 { "variant" } else { "variants" },
        ));
        if !bound.ip().is_loopback() {
            eprintln!("warning: listening on {}: other machines can reach this page", bound.ip());
        }
        axum::serve(listener, app).await.map_err(|e| Failure::Failed(format!("server stopped: {e}")))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_in_the_values_are_left_alone() {
        let page = super::fill("a /*X*/ b /*Y*/ c", &[("/*X*/", "[/*Y*/]"), ("/*Y*/", "[/*X*/]")]);
        assert_eq!(page, "a [/*Y*/] b [/*X*/] c");
    }

    use super::*;

    #[test]
    fn slider_ranges() {
        assert_eq!(slider_range(0.3, true, None), (0.0, 1.0));
        assert_eq!(slider_range(0.1, false, None), (0.0, 0.30000000000000004));
        assert_eq!(slider_range(0.0, false, None), (0.0, 1.0));
        let u = crate::sim::params::ParamDist::Uniform { lo: 1.1, hi: 1.5 };
        assert_eq!(slider_range(1.3, false, Some(u)), (1.1, 1.5));
        let p = crate::sim::params::ParamDist::Pert { min: 0.0, mode: 0.1, max: 0.45 };
        assert_eq!(slider_range(0.15, true, Some(p)), (0.0, 0.45));
        // Gamma(mean 1, shape 4): sd 0.5, so the mean plus 4 sd is 3, as 3 x the value.
        let g = crate::sim::params::ParamDist::Gamma { mean: 1.0, shape: 4.0 };
        assert_eq!(slider_range(1.0, false, Some(g)), (0.0, 3.0));
    }

    /// Pairing a run with the kept baseline flags counts what a lockstep run of the two
    /// models (as `brink compare` runs them) counts, whether the flags were kept from a
    /// longer run or made for this one.
    #[test]
    fn pairing_with_the_kept_baseline_equals_a_lockstep_run() {
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/minimal.toml");
        let source = std::fs::read_to_string(file).unwrap();
        let s = Server::new(file.into(), source.clone(), 2).unwrap();
        let q = |trials, variant: Option<&str>, sets: Vec<(String, f64)>| Query {
            trials,
            seed: 9,
            variant: variant.map(String::from),
            sets,
            charts: Vec::new(),
            tab: String::new(),
        };
        let changed = q(3000, Some("hotline"), vec![("p_clash".into(), 0.35)]);
        let ov = Overrides {
            variant: changed.variant.clone(),
            sets: changed.sets.clone(),
            params: None,
            ..Default::default()
        };
        let model = scenario::compile_str(file, &source, &ov).unwrap();
        let models = [&s.baseline, &model];
        let spec = RunSpec { trials: 3000, seed: 9, threads: 2, max_events: model.max_events };
        let empty = || crate::analysis::compare::SetOutput::empty(&models);
        let mut lockstep = empty();
        runner::run_set(&models, &spec, 0..3000, &empty, &mut lockstep, &mut |_| {}).unwrap();
        let want: Vec<_> = lockstep.paired[0]
            .level_counts
            .iter()
            .map(|&c| {
                let p = paired_proportion(c, 3000);
                (p.a.value, p.difference)
            })
            .collect();
        // Without kept flags, then with the flags of a longer baseline run.
        let fresh = s.compute(&changed, 0).unwrap();
        assert_eq!(fresh.difference.as_ref(), Some(&want));
        s.compute(&q(5000, None, Vec::new()), 0).unwrap();
        assert_eq!(s.recall(9, 5000).map(|r| r.trials()), Some(5000));
        let kept = s.compute(&changed, 0).unwrap();
        assert_eq!(kept.difference.as_ref(), Some(&want));
        assert_eq!(kept.results.levels, fresh.results.levels);
    }

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(0.0015), 0.001);
        assert_eq!(nice_step(0.003), 0.002);
        assert_eq!(nice_step(0.7), 0.5);
        assert_eq!(nice_step(0.0), 0.001);
    }

    #[test]
    fn script_json_cannot_close_the_script() {
        assert_eq!(script_json(&json!("</script>")), "\"<\\/script>\"");
    }
}
