//! Observed event logs (docs/data.md): what happened, in the format of `events.csv`,
//! read against a scenario so that every row names a real step and branch.
//!
//! A log written by `brink run --events` is a valid log, so the estimators can be tested
//! on histories simulated from known params. A record compiled by people adds a row `id`,
//! the `source` keys and the `cause` of a reaction. Every problem is reported with the
//! file and line, up to [`MAX_PROBLEMS`] of them, so one pass over a long record shows
//! most of what needs fixing.

use crate::scenario::diag::{shown_id, suggest};
use crate::scenario::input;
use crate::sim::calendar::Date;
use crate::sim::model::Model;
use std::collections::HashMap;
use std::path::Path;

/// The largest trial index a log may name (far beyond any run, and safe to count past).
pub const MAX_TRIAL: u64 = 1_000_000_000_000;

/// How many problems one reading reports at most.
pub const MAX_PROBLEMS: usize = 20;

/// Free-text columns for people, read and ignored.
const IGNORED: [&str; 5] = ["kind", "place", "note", "level_before", "level_after"];

/// One row of a log: a counted firing of a step.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Line of the file (1-based), for messages.
    pub line: u64,
    /// The row's `id`, if the log gives ids.
    pub id: Option<String>,
    /// The history it belongs to (0 when the log has no `trial` column).
    pub trial: u64,
    /// Time in days from the scenario's day 0 (a date alone is placed at mid-day).
    pub day: f64,
    /// Step index in the model.
    pub step: usize,
    /// Branch index within the step.
    pub branch: usize,
    /// Per tally of the model: what the event added, `None` where the log has no column
    /// for it or the cell is empty (reported but not counted).
    pub tallies: Vec<Option<u64>>,
    /// Source keys.
    pub sources: Vec<String>,
    /// Index (in [`EventLog::events`]) of the row that provoked this one.
    pub cause: Option<usize>,
}

/// A log read against a model.
#[derive(Debug, Clone, PartialEq)]
pub struct EventLog {
    /// The rows, in file order (time order within each trial).
    pub events: Vec<Event>,
    /// How many histories it holds (the largest trial index + 1).
    pub histories: u64,
    /// Whether the log has a `cause` column: without one, no trigger p can be fitted.
    pub cause_column: bool,
    /// Whether the log has a `source` column (a record compiled by people).
    pub source_column: bool,
    /// Remarks that do not stop a fit: a `cause` that no trigger of the scenario models.
    pub warnings: Vec<String>,
    /// Rows left out because they lie outside the scenario's window ([`parse_within`]).
    pub outside: usize,
}

/// Why a log was refused: every problem found, each with its line.
#[derive(Debug, thiserror::Error)]
#[error("{}", problems.join("\n"))]
pub struct LogError {
    /// `FILE:LINE: message` lines.
    pub problems: Vec<String>,
}

/// Reads the log at `path` against `model`.
pub fn read(path: &Path, model: &Model) -> Result<EventLog, LogError> {
    let text = input::read_text(path, "event log").map_err(|e| LogError { problems: vec![e.to_string()] })?;
    parse(&path.display().to_string(), &text, model)
}

/// Parses log text named `file` (for messages) against `model`.
pub fn parse(file: &str, text: &str, model: &Model) -> Result<EventLog, LogError> {
    parse_rows(file, text, model, false)
}

/// Parses a log that may run beyond the scenario's window, as a longer record does (a
/// 2019-21 record read against a scenario of one month in it): rows outside the window
/// are left out, after their step and branch are checked, and counted in
/// [`EventLog::outside`]; a cause naming such a row is dropped.
pub fn parse_within(file: &str, text: &str, model: &Model) -> Result<EventLog, LogError> {
    parse_rows(file, text, model, true)
}

fn parse_rows(file: &str, text: &str, model: &Model, within: bool) -> Result<EventLog, LogError> {
    let mut problems = Problems { file, list: Vec::new(), total: 0 };
    let mut reader =
        csv::ReaderBuilder::new().comment(Some(b'#')).flexible(false).from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(LogError { problems: vec![format!("{file}: {e}")] }),
    };
    // The reader stands at the line after the header now.
    let header_line = reader.position().line().saturating_sub(1).max(1);
    let column = |name: &str| headers.iter().position(|h| h == name);
    // Columns: fixed ones, tallies, ignored ones; anything else is a mistake.
    let tally_ids: Vec<&str> = model.tallies.iter().map(|t| t.id.as_str()).collect();
    let fixed = ["id", "trial", "day", "date", "actor", "step", "branch", "source", "cause"];
    // A file with none of the columns a log must have is another kind of file: say so once,
    // rather than calling each of its words an unknown column.
    if column("step").is_none()
        && column("branch").is_none()
        && column("day").is_none()
        && column("date").is_none()
    {
        return Err(LogError {
            problems: vec![format!(
                "{file}:{header_line}: this is not an event log: its first row should be a CSV header with `day` \
                 (or `date`), `step` and `branch` columns, as brink run --events writes (docs/data.md)"
            )],
        });
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        if let Some(first) = seen.insert(h, i) {
            problems.say(
                header_line,
                format!("column `{}` appears twice (columns {} and {})", shown_id(h), first + 1, i + 1),
            );
        } else if !fixed.contains(&h) && !tally_ids.contains(&h) && !IGNORED.contains(&h) {
            let mut known: Vec<&str> = fixed.to_vec();
            known.extend(&tally_ids);
            known.extend(IGNORED);
            problems.say(
                header_line,
                format!(
                    "unknown column `{}`: a log has the columns of events.csv, `source` and `cause` \
                     (docs/data.md); {}",
                    shown_id(h),
                    suggest("column", h, &known)
                ),
            );
        }
    }
    let (c_step, c_branch) = (column("step"), column("branch"));
    let (c_day, c_date) = (column("day"), column("date"));
    if c_step.is_none() || c_branch.is_none() {
        problems.say(header_line, "a log needs the columns `step` and `branch`".into());
    }
    if c_day.is_none() && c_date.is_none() {
        problems.say(header_line, "a log needs a `day` or a `date` column".into());
    }
    if c_date.is_some() && model.start.is_none() {
        problems.say(
            header_line,
            "the log gives dates but the scenario has no `start` date to count days from".into(),
        );
    }
    if !problems.list.is_empty() {
        return Err(LogError { problems: problems.shown() });
    }
    let (c_step, c_branch) = (c_step.unwrap_or(0), c_branch.unwrap_or(0));
    let (c_id, c_trial, c_actor) = (column("id"), column("trial"), column("actor"));
    let (c_source, c_cause) = (column("source"), column("cause"));
    let tally_cols: Vec<Option<usize>> = tally_ids.iter().map(|t| column(t)).collect();
    let step_ids: Vec<&str> = model.steps.iter().map(|s| s.id.as_str()).collect();

    let mut events: Vec<Event> = Vec::new();
    let mut ids: HashMap<(u64, String), usize> = HashMap::new();
    // Every id written in the file, of refused rows too: a cause naming a refused row is
    // not a second problem.
    let mut seen_ids: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut causes: Vec<(usize, String)> = Vec::new();
    let mut last: Option<(u64, f64, u64)> = None;
    let mut outside = 0;
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.say(line, format!("not a CSV row: {e}"));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let get = |c: Option<usize>| c.and_then(|c| record.get(c)).map(str::trim).unwrap_or("");
        if !get(c_id).is_empty() {
            seen_ids.insert(get(c_id).to_owned());
        }
        let trial = match get(c_trial) {
            "" => 0,
            t => match t.parse::<u64>() {
                Ok(t) if t > MAX_TRIAL => {
                    problems.say(line, format!("trial `{t}` is beyond the largest trial index, {MAX_TRIAL}"));
                    continue;
                }
                Ok(t) => t,
                Err(_) => {
                    problems.say(line, format!("trial `{}` is not a whole number >= 0", shown_id(t)));
                    continue;
                }
            },
        };
        // Step and branch.
        let step_text = get(Some(c_step));
        let Some(step) = step_ids.iter().position(|s| *s == step_text) else {
            problems.say(
                line,
                format!(
                    "`{}` is not a step of the scenario; {}",
                    shown_id(step_text),
                    suggest("step", step_text, &step_ids)
                ),
            );
            continue;
        };
        let s = &model.steps[step];
        let branch_text = get(Some(c_branch));
        let branch_ids: Vec<&str> = s.branches.iter().map(|b| b.id.as_str()).collect();
        let Some(branch) = branch_ids.iter().position(|b| *b == branch_text) else {
            problems.say(
                line,
                format!(
                    "`{}` is not a branch of step `{}`; {}",
                    shown_id(branch_text),
                    s.id,
                    suggest("branch", branch_text, &branch_ids)
                ),
            );
            continue;
        };
        if c_actor.is_some() && !get(c_actor).is_empty() && get(c_actor) != s.actor {
            problems.say(
                line,
                format!(
                    "actor `{}` is not the actor of step `{}` (`{}`)",
                    shown_id(get(c_actor)),
                    s.id,
                    s.actor
                ),
            );
        }
        // Time.
        let Some(day) = event_day(model, get(c_day), get(c_date), line, &mut problems) else { continue };
        if !(0.0..model.horizon_days as f64).contains(&day) {
            if within {
                outside += 1;
                continue;
            }
            let dates = model.start.map_or(String::new(), |s| {
                format!(", {s} to {} exclusive", s.plus_days(i64::from(model.horizon_days)))
            });
            problems.say(
                line,
                format!(
                    "the event lies outside the scenario's window (day {day} of 0 to {}{dates}): \
                     is this the log of another scenario?",
                    model.horizon_days
                ),
            );
            continue;
        }
        if let Some((t, d, l)) = last {
            if trial < t {
                problems.say(
                    line,
                    format!(
                        "trial {trial} comes after trial {t} (line {l}): rows are grouped by trial, in order"
                    ),
                );
            } else if trial == t && day < d {
                problems.say(
                    line,
                    format!("this row is earlier than the row of line {l}: rows are in time order"),
                );
            }
        }
        last = Some((trial, day, line));
        // Tallies.
        let mut tallies = vec![None; tally_ids.len()];
        for (ti, c) in tally_cols.iter().enumerate() {
            let cell = get(*c);
            if c.is_none() || cell.is_empty() {
                continue;
            }
            match cell.parse::<u64>() {
                Ok(x) => tallies[ti] = Some(x),
                Err(_) => problems.say(
                    line,
                    format!(
                        "tally `{}` is `{}`, not a whole number >= 0 (or empty)",
                        tally_ids[ti],
                        shown_id(cell)
                    ),
                ),
            }
        }
        let id = match get(c_id) {
            "" => None,
            id if !id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') => {
                problems.say(line, format!("id `{}` must match [a-z0-9-]+", shown_id(id)));
                None
            }
            id => {
                if let Some(&other) = ids.get(&(trial, id.to_owned())) {
                    problems.say(line, format!("id `{id}` is already used on line {}", events[other].line));
                }
                ids.insert((trial, id.to_owned()), events.len());
                Some(id.to_owned())
            }
        };
        let sources =
            get(c_source).split(';').map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned).collect();
        if !get(c_cause).is_empty() {
            causes.push((events.len(), get(c_cause).to_owned()));
        }
        events.push(Event { line, id, trial, day, step, branch, tallies, sources, cause: None });
    }
    // Causes name earlier rows of the same history.
    let mut warnings = Vec::new();
    for (i, cause) in causes {
        let e = &events[i];
        match ids.get(&(e.trial, cause.clone())) {
            None if seen_ids.contains(&cause) => {}
            None => problems.say(e.line, format!("cause `{}` is the id of no row", shown_id(&cause))),
            Some(&c) if c >= i => problems
                .say(e.line, format!("cause `{cause}` is this row or a later one (line {})", events[c].line)),
            Some(&c) => {
                let (from, to) = (&events[c], &events[i]);
                let modelled = model.triggers.iter().any(|t| {
                    t.step == to.step
                        && t.after == from.step
                        && t.after_branch.is_none_or(|b| b == from.branch)
                });
                if modelled {
                    events[i].cause = Some(c);
                } else {
                    // Not a reaction the scenario knows: the row stays an unprovoked firing.
                    warnings.push(format!(
                        "{file}:{}: cause `{cause}` ({}.{}) is not the `after` of a trigger of step `{}`; fits ignore the link",
                        to.line,
                        model.steps[from.step].id,
                        model.steps[from.step].branches[from.branch].id,
                        model.steps[to.step].id
                    ));
                }
            }
        }
    }
    if !problems.list.is_empty() {
        return Err(LogError { problems: problems.shown() });
    }
    let histories = events.iter().map(|e| e.trial + 1).max().unwrap_or(0);
    Ok(EventLog {
        events,
        histories,
        cause_column: c_cause.is_some(),
        source_column: c_source.is_some(),
        warnings,
        outside,
    })
}

/// The problems found so far, as `FILE:LINE: message` lines.
struct Problems<'a> {
    file: &'a str,
    list: Vec<String>,
    /// All problems found, shown or not.
    total: usize,
}

impl Problems<'_> {
    fn say(&mut self, line: u64, message: String) {
        self.total += 1;
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(format!("{}:{line}: {message}", self.file));
        }
    }

    /// The problems to show, with a count of those left out.
    fn shown(mut self) -> Vec<String> {
        if self.total > self.list.len() {
            self.list.push(format!("{}: ... and {} more problems", self.file, self.total - self.list.len()));
        }
        self.list
    }
}

/// The time of a row from its `day` and/or `date` cells.
fn event_day(model: &Model, day: &str, date: &str, line: u64, problems: &mut Problems) -> Option<f64> {
    let from_date = match (date, model.start) {
        ("", _) | (_, None) => None,
        (d, Some(start)) => match parse_date(d) {
            Some(dt) => Some(dt.days() - start.days()),
            None => {
                problems.say(line, format!("date `{}` is not a calendar date YYYY-MM-DD", shown_id(d)));
                return None;
            }
        },
    };
    match (day, from_date) {
        ("", None) => {
            problems.say(line, "the row has neither a day nor a date".into());
            None
        }
        ("", Some(d)) => Some(d as f64 + 0.5),
        (t, d) => match t.parse::<f64>() {
            Ok(x) if x.is_finite() => {
                if let Some(d) = d {
                    // events.csv writes days to 4 decimals: 40.99997 reads 41.0000 on day 40.
                    let (lo, hi) = (d as f64 - 5e-5, (d + 1) as f64 + 5e-5);
                    if !(lo..=hi).contains(&x) {
                        problems.say(
                            line,
                            format!("day {x} falls on day {} but the date says day {d}", x.floor()),
                        );
                        return None;
                    }
                }
                Some(x)
            }
            _ => {
                problems.say(line, format!("day `{}` is not a number of days", shown_id(t)));
                None
            }
        },
    }
}

/// `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    let mut it = s.split('-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCENARIO: &str = r#"
[scenario]
name = "t"
start = 2020-01-01
horizon_days = 60
[tallies]
killed = "killed"
[[levels]]
id = "calm"
[[levels]]
id = "war"
terminal = true
[[steps]]
id = "attack"
actor = "militia"
rate = 0.1
  [[steps.branches]]
  id = "lethal"
  p = 0.2
  tally = { killed = { poisson = 1 } }
  [[steps.branches]]
  id = "harmless"
  p = "rest"
[[steps]]
id = "strike"
actor = "us"
  [[steps.triggers]]
  after = "attack.lethal"
  p = 0.5
"#;

    fn model() -> Model {
        crate::scenario::compile_str("t.toml", SCENARIO, &Default::default()).expect("valid")
    }

    #[test]
    fn a_good_log_is_read_with_its_causes() {
        let log = "# a comment\nid,date,step,branch,killed,source,cause,note\n\
                   a1,2020-01-03,attack,lethal,2,s1;s2,,x\n\
                   s1,2020-01-04,strike,default,,s3,a1,\n\
                   a2,2020-01-04,attack,harmless,0,,,\n";
        let l = parse("log.csv", log, &model()).unwrap();
        assert_eq!(l.events.len(), 3);
        assert_eq!(l.events[0].day, 2.5);
        assert_eq!(l.events[0].tallies, vec![Some(2)]);
        assert_eq!(l.events[1].tallies, vec![None]);
        assert_eq!(l.events[1].cause, Some(0));
        assert_eq!(l.events[0].sources, vec!["s1", "s2"]);
        assert_eq!((l.events[1].line, l.histories), (4, 1));
        assert!(l.warnings.is_empty());
    }

    #[test]
    fn bad_rows_are_named_by_line() {
        let log = "id,date,step,branch,killed,cause\n\
                   a1,2020-01-05,attak,lethal,1,\n\
                   a2,2020-01-05,attack,lethl,1,\n\
                   a3,2020-03-05,attack,lethal,1,\n\
                   a4,2020-01-04,attack,lethal,-1,\n\
                   a5,2020-01-06,strike,default,,zz\n\
                   a5,2020-01-07,attack,lethal,1,\n";
        let e = parse("log.csv", log, &model()).unwrap_err().problems;
        let want = [
            "log.csv:2: `attak` is not a step of the scenario; did you mean `attack`?",
            "log.csv:3: `lethl` is not a branch of step `attack`",
            "log.csv:4: the event lies outside the scenario's window",
            "log.csv:5: tally `killed` is `-1`",
            "log.csv:7: id `a5` is already used on line 6",
            "log.csv:6: cause `zz` is the id of no row",
        ];
        for (got, want) in e.iter().zip(want) {
            assert!(got.starts_with(want), "{got:?} should start with {want:?}\nall: {e:#?}");
        }
        assert_eq!(e.len(), want.len(), "{e:#?}");
    }

    #[test]
    fn a_file_that_is_not_a_log_is_named_as_such() {
        let e = parse("r.md", "# brink\n\nbrink asks one question about a crisis\n", &model()).unwrap_err();
        assert_eq!(e.problems.len(), 1, "{e}");
        assert!(e.problems[0].starts_with("r.md:3: this is not an event log"), "{e}");
    }

    #[test]
    fn unsorted_rows_unknown_columns_and_a_cause_no_trigger_models() {
        let e = parse("l.csv", "date,step,branch,kiled\n2020-01-05,attack,lethal,1\n", &model()).unwrap_err();
        assert!(e.problems[0].starts_with("l.csv:1: unknown column `kiled`"), "{e}");
        let log = "day,step,branch\n5.5,attack,lethal\n4,attack,lethal\n";
        let e = parse("l.csv", log, &model()).unwrap_err();
        assert!(e.problems[0].starts_with("l.csv:3: this row is earlier than the row of line 2"), "{e}");
        let log = "id,day,step,branch,cause\na,1,attack,harmless,\nb,2,strike,default,a\n";
        let l = parse("l.csv", log, &model()).unwrap();
        assert!(
            l.warnings[0].contains("attack.harmless") && l.warnings[0].starts_with("l.csv:3:"),
            "{:?}",
            l.warnings
        );
    }
}
