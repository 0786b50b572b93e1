//! Backtesting: simulate the quantities a historical record observed and see where the
//! record falls in the simulated distribution (`brink backtest`).
//!
//! A *mapping* (TOML, see docs/outputs.md) says how each observed quantity is computed
//! from a trial: `count` of the firings of a list of steps (or `step.branch`), over the
//! whole horizon, a date range, or per calendar month (`monthly = true`); or `reached`,
//! 1 if the trial reached a level, else 0. The *observed* file is a CSV with the columns
//! `quantity,month,value,source` (month `YYYY-MM`, empty for totals).
//!
//! The trials go through the runner like a run's, each watched by a firing counter, and
//! their values are joined in trial order, so a backtest is as deterministic as a run,
//! whatever the thread count. Intervals are central and use nearest-rank percentiles; the
//! percentile of an observed value is its mid-rank, (below + 0.5 x equal) / N.

use crate::sim::accumulate::{shape_differs, Accumulate};
use crate::sim::calendar::Date;
use crate::sim::engine::{Firing, Observer, Outcome};
use crate::sim::model::{LevelIx, Model, StepIx};
use crate::sim::runner::{self, RunError, RunSpec};
use crate::sim::stats::nearest_rank;
use std::collections::BTreeMap;

/// A bad mapping or observed file, with the line of the file when there is one.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct BacktestError {
    /// What is wrong.
    pub message: String,
    /// The line of the file it is on (1-based), when one is to blame.
    pub line: Option<u64>,
}

impl BacktestError {
    /// The message prefixed with `file:line:` (or `file:`), as the CLI prints it.
    pub(crate) fn in_file(&self, file: &std::path::Path) -> String {
        match self.line {
            Some(line) => format!("{}:{line}: {}", file.display(), self.message),
            None => format!("{}: {}", file.display(), self.message),
        }
    }
}

fn bad(msg: impl Into<String>) -> BacktestError {
    BacktestError { message: msg.into(), line: None }
}

fn bad_at(line: u64, msg: impl Into<String>) -> BacktestError {
    BacktestError { message: msg.into(), line: Some(line) }
}

/// Whether `text` is a calendar month `YYYY-MM` (month 01 to 12).
fn valid_month(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 7
        && b[4] == b'-'
        && b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit)
        && (1..=12).contains(&text[5..].parse::<u32>().unwrap_or(0))
}

/// How a quantity is computed from one trial.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    /// Firings of these steps (branch `None`: any branch) with `from <= time < to`;
    /// per calendar month if `monthly`.
    Count {
        /// (step, branch) pairs.
        steps: Vec<(StepIx, Option<usize>)>,
        /// One value per calendar month.
        monthly: bool,
        /// First day counted.
        from: f64,
        /// Day after the last counted.
        to: f64,
    },
    /// 1 if the trial reached the level, else 0.
    Reached {
        /// The level.
        level: LevelIx,
    },
}

/// One observed quantity of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    /// Id, as in the observed file's `quantity` column.
    pub id: String,
    /// What it means, for people.
    pub label: String,
    /// How it is simulated.
    pub measure: Measure,
}

/// A calendar month of the horizon: `YYYY-MM` and its days `[from, to)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Month {
    /// `YYYY-MM`.
    pub label: String,
    /// First day (from day 0, clamped to 0).
    pub from: f64,
    /// Day after the last (clamped to the horizon).
    pub to: f64,
}

/// The calendar months the horizon touches (needs `start`).
pub fn months(model: &Model) -> Option<Vec<Month>> {
    let start = model.start?;
    let horizon = model.horizon_days as i64;
    let mut out = Vec::new();
    let (mut y, mut m) = (start.year, start.month);
    loop {
        let first = Date { year: y, month: m, day: 1 }.days() - start.days();
        if first >= horizon {
            break;
        }
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        let next = Date { year: ny, month: nm, day: 1 }.days() - start.days();
        out.push(Month {
            label: format!("{y:04}-{m:02}"),
            from: first.max(0) as f64,
            to: next.min(horizon) as f64,
        });
        (y, m) = (ny, nm);
    }
    Some(out)
}

fn day_of(model: &Model, v: &toml::Value, what: &str) -> Result<f64, BacktestError> {
    let text = match v {
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::String(s) => s.clone(),
        _ => return Err(bad(format!("{what}: expected a date YYYY-MM-DD"))),
    };
    let parts: Vec<&str> = text.split('-').collect();
    let date = (parts.len() == 3)
        .then(|| Date::new(parts[0].parse().ok()?, parts[1].parse().ok()?, parts[2].parse().ok()?))
        .flatten()
        .ok_or_else(|| bad(format!("{what}: `{text}` is not a date YYYY-MM-DD")))?;
    let start = model.start.ok_or_else(|| bad(format!("{what}: dates need the scenario's `start`")))?;
    Ok((date.days() - start.days()) as f64)
}

/// Parses a mapping file against the model: every step, branch and level must exist.
pub fn parse_mapping(model: &Model, text: &str) -> Result<Vec<Quantity>, BacktestError> {
    // The TOML error's own text quotes the whole offending line (twice), which for a
    // one-line file of 40 MB is 80 MB: say where it is instead.
    let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let message = format!("mapping: {}", crate::scenario::diag::clip(e.message().trim(), 300));
        match e.span() {
            Some(span) => {
                let (line, col) = crate::scenario::diag::line_col(text, span.start);
                bad_at(line as u64, format!("{message} (column {col})"))
            }
            None => bad(message),
        }
    })?;
    for k in doc.keys() {
        if k != "quantity" {
            return Err(bad(format!("mapping: unknown key `{k}` (expected [[quantity]] tables)")));
        }
    }
    let items = match doc.get("quantity") {
        Some(toml::Value::Array(a)) => a,
        _ => return Err(bad("mapping: no [[quantity]] tables")),
    };
    let mut out: Vec<Quantity> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let t = item.as_table().ok_or_else(|| bad(format!("mapping: quantity {} is not a table", i + 1)))?;
        let id = t
            .get("id")
            .and_then(|v| v.as_str())
            .ok_or_else(|| bad(format!("mapping: quantity {} has no `id`", i + 1)))?
            .to_owned();
        let w = format!("mapping: quantity `{id}`");
        if out.iter().any(|q| q.id == id) {
            return Err(bad(format!("{w} is defined twice")));
        }
        for k in t.keys() {
            if !["id", "label", "kind", "steps", "monthly", "from", "to", "level"].contains(&k.as_str()) {
                return Err(bad(format!("{w}: unknown key `{k}`")));
            }
        }
        let label = t.get("label").and_then(|v| v.as_str()).unwrap_or(&id).to_owned();
        let kind = t.get("kind").and_then(|v| v.as_str()).unwrap_or("count");
        let measure = match kind {
            "count" => {
                let list = t
                    .get("steps")
                    .and_then(|v| v.as_array())
                    .ok_or_else(|| bad(format!("{w}: `steps` must list step ids")))?;
                let mut steps = Vec::new();
                for s in list {
                    let s = s.as_str().ok_or_else(|| bad(format!("{w}: `steps` must be strings")))?;
                    let (sid, bid) = match s.split_once('.') {
                        Some((a, b)) => (a, Some(b)),
                        None => (s, None),
                    };
                    let ix = model.step_ix(sid).ok_or_else(|| bad(format!("{w}: unknown step `{sid}`")))?;
                    let b = match bid {
                        Some(b) => Some(
                            model.steps[ix]
                                .branches
                                .iter()
                                .position(|br| br.id == b)
                                .ok_or_else(|| bad(format!("{w}: step `{sid}` has no branch `{b}`")))?,
                        ),
                        None => None,
                    };
                    steps.push((ix, b));
                }
                let monthly = t.get("monthly").and_then(|v| v.as_bool()).unwrap_or(false);
                if monthly && model.start.is_none() {
                    return Err(bad(format!("{w}: `monthly` needs the scenario's `start` date")));
                }
                let from = t.get("from").map(|v| day_of(model, v, &w)).transpose()?.unwrap_or(0.0);
                let to = t
                    .get("to")
                    .map(|v| day_of(model, v, &w))
                    .transpose()?
                    .unwrap_or(model.horizon_days as f64);
                if to <= from {
                    return Err(bad(format!("{w}: `to` must come after `from`")));
                }
                Measure::Count { steps, monthly, from, to }
            }
            "reached" => {
                let l = t
                    .get("level")
                    .and_then(|v| v.as_str())
                    .ok_or_else(|| bad(format!("{w}: `reached` needs a `level`")))?;
                let level = model.level_ix(l).ok_or_else(|| bad(format!("{w}: unknown level `{l}`")))?;
                Measure::Reached { level }
            }
            k => return Err(bad(format!("{w}: unknown kind `{k}` (count or reached)"))),
        };
        out.push(Quantity { id, label, measure });
    }
    Ok(out)
}

/// One row of the observed file.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// Quantity id.
    pub quantity: String,
    /// `YYYY-MM` for a monthly quantity, else `None`.
    pub month: Option<String>,
    /// The observed value.
    pub value: f64,
    /// Source key(s).
    pub source: String,
}

/// Parses an observed CSV (`quantity,month,value,source`; `#` lines are comments).
pub fn parse_observed(text: &str) -> Result<Vec<Observation>, BacktestError> {
    let mut r =
        csv::ReaderBuilder::new().comment(Some(b'#')).trim(csv::Trim::All).from_reader(text.as_bytes());
    let h = r.headers().map_err(|e| bad(format!("observed: {e}")))?.clone();
    let want = ["quantity", "month", "value", "source"];
    if h.iter().collect::<Vec<_>>() != want {
        return Err(bad(format!("observed: the header must be `{}`", want.join(","))));
    }
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| bad(format!("observed: {e}")))?;
        // The line in the file, comments included (a record knows where it started).
        let line = rec.position().map_or(0, |p| p.line());
        let value: f64 = rec[2].parse().ok().filter(|x: &f64| x.is_finite()).ok_or_else(|| {
            bad_at(
                line,
                format!("observed: the value `{}` is not a number", crate::scenario::diag::shown_id(&rec[2])),
            )
        })?;
        if value < 0.0 {
            return Err(bad_at(
                line,
                format!(
                    "observed: the value {value} of `{}` is negative: observed values are counts \
                     (or 0 and 1 for a `reached` quantity), so they are >= 0",
                    crate::scenario::diag::shown_id(&rec[0])
                ),
            ));
        }
        if !rec[1].is_empty() && !valid_month(&rec[1]) {
            return Err(bad_at(
                line,
                format!(
                    "observed: `{}` is not a valid month: write YYYY-MM with a month from 01 to 12, \
                     e.g. 2020-01 (or leave it empty for a total)",
                    crate::scenario::diag::shown_id(&rec[1])
                ),
            ));
        }
        out.push(Observation {
            quantity: rec[0].to_owned(),
            month: (!rec[1].is_empty()).then(|| rec[1].to_owned()),
            value,
            source: rec[3].to_owned(),
        });
    }
    Ok(out)
}

/// A simulated column: a quantity (and month).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Index into the quantities.
    pub quantity: usize,
    /// Month label, for a monthly quantity.
    pub month: Option<String>,
    /// Days counted, for counts.
    from: f64,
    to: f64,
}

/// The simulated columns of a mapping: one per total, one per month of monthly counts.
pub fn columns(model: &Model, qs: &[Quantity]) -> Vec<Column> {
    let ms = months(model).unwrap_or_default();
    let mut out = Vec::new();
    for (qi, q) in qs.iter().enumerate() {
        match &q.measure {
            Measure::Count { monthly: true, from, to, .. } => {
                for m in ms.iter().filter(|m| m.to > *from && m.from < *to) {
                    out.push(Column {
                        quantity: qi,
                        month: Some(m.label.clone()),
                        from: m.from.max(*from),
                        to: m.to.min(*to),
                    });
                }
            }
            Measure::Count { from, to, .. } => {
                out.push(Column { quantity: qi, month: None, from: *from, to: *to })
            }
            Measure::Reached { .. } => out.push(Column { quantity: qi, month: None, from: 0.0, to: 0.0 }),
        }
    }
    out
}

/// Counts, per column, the firings of one trial.
struct Counter<'a> {
    /// For each step: (branch filter, column) pairs.
    by_step: &'a [Vec<(Option<usize>, usize)>],
    cols: &'a [Column],
    values: Vec<f64>,
}

impl Observer for Counter<'_> {
    fn on_start(&mut self, _trial: u64) {
        self.values.fill(0.0);
    }
    fn on_fire(&mut self, f: &Firing) {
        for &(b, c) in &self.by_step[f.step] {
            let col = &self.cols[c];
            if b.is_none_or(|b| b == f.branch) && col.from <= f.time && f.time < col.to {
                self.values[c] += 1.0;
            }
        }
    }
}

/// The simulated values of a chunk of trials, `values[column][trial]`: counts from
/// watching each trial's firings, levels from its outcome.
struct Values<'a> {
    qs: &'a [Quantity],
    counter: Counter<'a>,
    values: Vec<Vec<f64>>,
}

impl Accumulate for Values<'_> {
    fn watch(&mut self, _model: usize) -> impl Observer + '_ {
        &mut self.counter
    }

    fn add(&mut self, _model: usize, o: &Outcome<'_>, _first: &Outcome<'_>) {
        for (c, col) in self.counter.cols.iter().enumerate() {
            let v = match self.qs[col.quantity].measure {
                Measure::Reached { level } => f64::from(u8::from(!o.reached[level].is_nan())),
                Measure::Count { .. } => self.counter.values[c],
            };
            self.values[c].push(v);
        }
    }

    fn merge(&mut self, later: Self) -> std::io::Result<()> {
        if self.values.len() != later.values.len() {
            return Err(shape_differs("a set of columns", self.values.len(), later.values.len()));
        }
        for (all, more) in self.values.iter_mut().zip(later.values) {
            all.extend(more);
        }
        Ok(())
    }
}

/// Simulates `trials` trials from `seed` on `threads` workers: `values[column][trial]`.
///
/// The trials go through the runner like a run's ([`runner::run_set`]), so the values are
/// in trial order and do not depend on the thread count.
pub fn simulate(
    model: &Model,
    qs: &[Quantity],
    cols: &[Column],
    spec: &RunSpec,
    mut progress: impl FnMut(u64),
) -> Result<Vec<Vec<f64>>, RunError> {
    let mut by_step = vec![Vec::new(); model.steps.len()];
    for (c, col) in cols.iter().enumerate() {
        if let Measure::Count { steps, .. } = &qs[col.quantity].measure {
            for &(s, b) in steps {
                by_step[s].push((b, c));
            }
        }
    }
    let empty = || Values {
        qs,
        counter: Counter { by_step: &by_step, cols, values: vec![0.0; cols.len()] },
        values: vec![Vec::new(); cols.len()],
    };
    let mut total = empty();
    runner::run_set(&[model], spec, 0..spec.trials, &empty, &mut total, &mut progress)?;
    Ok(total.values)
}

/// Mid-rank percentile of `x` among the values: (below + 0.5 x equal) / N.
pub fn mid_rank(values: &[f64], x: f64) -> f64 {
    let below = values.iter().filter(|&&v| v < x).count() as f64;
    let equal = values.iter().filter(|&&v| v == x).count() as f64;
    (below + 0.5 * equal) / values.len().max(1) as f64
}

/// The simulated distribution of one column, summarised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Median.
    pub median: f64,
    /// 25th percentile.
    pub p25: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 5th percentile.
    pub p5: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Mean.
    pub mean: f64,
}

/// Summarises simulated values.
pub fn summarise(values: &[f64]) -> Summary {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    Summary {
        median: nearest_rank(&v, 0.5),
        p25: nearest_rank(&v, 0.25),
        p75: nearest_rank(&v, 0.75),
        p5: nearest_rank(&v, 0.05),
        p95: nearest_rank(&v, 0.95),
        mean: v.iter().sum::<f64>() / v.len().max(1) as f64,
    }
}

/// One compared value.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Quantity id.
    pub quantity: String,
    /// Month, if monthly.
    pub month: Option<String>,
    /// Observed value.
    pub observed: f64,
    /// Simulated distribution.
    pub sim: Summary,
    /// Mid-rank percentile of the observed value.
    pub percentile: f64,
    /// Inside [p25, p75].
    pub in_50: bool,
    /// Inside [p5, p95].
    pub in_90: bool,
    /// Source key(s).
    pub source: String,
}

/// Matches observations to simulated columns and compares them, in the file's order.
pub fn compare(
    qs: &[Quantity],
    cols: &[Column],
    sims: &[Vec<f64>],
    obs: &[Observation],
) -> Result<Vec<Row>, BacktestError> {
    let mut index = BTreeMap::new();
    for (c, col) in cols.iter().enumerate() {
        index.insert((qs[col.quantity].id.clone(), col.month.clone()), c);
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut rows = Vec::new();
    for o in obs {
        let key = (o.quantity.clone(), o.month.clone());
        let Some(&c) = index.get(&key) else {
            let what = match &o.month {
                Some(m) => format!("`{}` in month {m}", o.quantity),
                None => format!("`{}` (total)", o.quantity),
            };
            return Err(bad(format!(
                "observed: {what} is not simulated: check the quantity id, whether it is monthly in the mapping, and that the month lies in the horizon"
            )));
        };
        if !seen.insert(key) {
            let which = match &o.month {
                Some(m) => format!("`{}` in month {m}", o.quantity),
                None => format!("`{}` (total)", o.quantity),
            };
            return Err(bad(format!("observed: {which} appears twice: give each quantity and month once")));
        }
        let sim = summarise(&sims[c]);
        rows.push(Row {
            quantity: o.quantity.clone(),
            month: o.month.clone(),
            observed: o.value,
            sim,
            percentile: mid_rank(&sims[c], o.value),
            in_50: sim.p25 <= o.value && o.value <= sim.p75,
            in_90: sim.p5 <= o.value && o.value <= sim.p95,
            source: o.source.clone(),
        });
    }
    Ok(rows)
}

/// Share of rows inside the 50% and 90% intervals.
pub fn coverage(rows: &[Row]) -> (f64, f64) {
    let n = rows.len().max(1) as f64;
    (rows.iter().filter(|r| r.in_50).count() as f64 / n, rows.iter().filter(|r| r.in_90).count() as f64 / n)
}

/// The fan of a monthly quantity: (month, simulated summary, observed value if any).
pub fn fan(
    qs: &[Quantity],
    cols: &[Column],
    sims: &[Vec<f64>],
    obs: &[Observation],
    quantity: &str,
) -> Vec<(String, Summary, Option<f64>)> {
    cols.iter()
        .zip(sims)
        .filter(|(c, _)| qs[c.quantity].id == quantity && c.month.is_some())
        .map(|(c, v)| {
            let o = obs.iter().find(|o| o.quantity == quantity && o.month == c.month).map(|o| o.value);
            (c.month.clone().unwrap_or_default(), summarise(v), o)
        })
        .collect()
}
