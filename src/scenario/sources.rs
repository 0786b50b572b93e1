//! Sources with dates (docs/data.md, "The sources file"): the CSV a scenario names in
//! `[scenario] sources`, the source keys its params, steps, branches, triggers and
//! schedule entries cite, and the hindsight audit of `brink check --as-of`.
//!
//! Only `brink check` reads the sources file: a run does not depend on who published
//! what, so a scenario runs the same whether or not its sources file is at hand.

use crate::scenario::diag::{shown_id, suggest, Diagnostic, Diagnostics};
use crate::scenario::input;
use crate::scenario::log::parse_date;
use crate::scenario::raw::{self, Document};
use crate::sim::calendar::Date;
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// How many problems one reading of a sources file reports at most.
pub const MAX_PROBLEMS: usize = 20;

/// The columns of a sources file, in the order the bundled one writes them.
pub const COLUMNS: [&str; 6] = ["key", "publisher", "title", "published", "url", "supports"];

/// One row of a sources file.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The key scenarios and logs cite.
    pub key: String,
    /// The `published` cell as written (`YYYY-MM-DD` or `YYYY-MM`).
    pub published: String,
    /// The date the audit compares: the day, or the last day of the month for `YYYY-MM`,
    /// so that a month-only date errs towards being flagged.
    pub published_by: Date,
    /// Line of the file (1-based).
    pub line: u64,
}

/// A sources file, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Sources {
    /// The rows in file order.
    pub list: Vec<Source>,
}

impl Sources {
    /// The row of `key`, if any.
    pub fn get(&self, key: &str) -> Option<&Source> {
        self.list.iter().find(|s| s.key == key)
    }
}

/// Why a sources file was refused: every problem found, each with its line.
#[derive(Debug, thiserror::Error)]
#[error("{}", problems.join("\n"))]
pub struct SourcesError {
    /// `FILE:LINE: message` lines.
    pub problems: Vec<String>,
}

/// Reads the sources file at `path`.
pub fn read(path: &Path) -> Result<Sources, SourcesError> {
    let text =
        input::read_text(path, "sources file").map_err(|e| SourcesError { problems: vec![e.to_string()] })?;
    parse(&path.display().to_string(), &text)
}

/// `YYYY-MM-DD`, or `YYYY-MM` read as the month's last day.
fn published_by(s: &str) -> Option<Date> {
    if let Some(d) = parse_date(s) {
        return Some(d);
    }
    let (y, m) = s.split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
    let first = Date::new(y, m, 1)?;
    let next = if m == 12 { Date::new(y + 1, 1, 1)? } else { Date::new(y, m + 1, 1)? };
    Some(first.plus_days(next.days() - first.days() - 1))
}

/// A key as the sources file may define it: `[a-z0-9-]+`.
fn is_key(k: &str) -> bool {
    !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Parses sources text named `file` (for messages).
pub fn parse(file: &str, text: &str) -> Result<Sources, SourcesError> {
    let mut problems = Vec::new();
    let mut say = |line: u64, message: String| {
        if problems.len() < MAX_PROBLEMS {
            problems.push(format!("{file}:{line}: {message}"));
        }
    };
    let mut reader =
        csv::ReaderBuilder::new().comment(Some(b'#')).flexible(false).from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(SourcesError { problems: vec![format!("{file}: {e}")] }),
    };
    let header_line = reader.position().line().saturating_sub(1).max(1);
    let missing: Vec<&str> = COLUMNS.iter().copied().filter(|c| !headers.iter().any(|h| h == *c)).collect();
    if !missing.is_empty() {
        say(
            header_line,
            format!(
                "missing column{} {}: a sources file has the columns {} (docs/data.md)",
                if missing.len() == 1 { "" } else { "s" },
                missing.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", "),
                COLUMNS.join(",")
            ),
        );
        return Err(SourcesError { problems });
    }
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap_or(0);
    let (c_key, c_published) = (column("key"), column("published"));
    let mut list: Vec<Source> = Vec::new();
    let mut lines: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                say(line, format!("not a CSV row of {} cells: {e}", headers.len()));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let key = record.get(c_key).unwrap_or("").trim();
        let published = record.get(c_published).unwrap_or("").trim();
        if !is_key(key) {
            say(
                line,
                format!("key `{}` is not a key: use lower-case letters, digits and `-`", shown_id(key)),
            );
            continue;
        }
        if let Some(first) = lines.insert(key.to_owned(), line) {
            say(
                line,
                format!(
                    "key `{}` is defined twice (first on line {first}): keys must be unique",
                    shown_id(key)
                ),
            );
            continue;
        }
        let Some(by) = published_by(published) else {
            say(
                line,
                format!(
                    "published date `{}` of `{}` is not a date: use YYYY-MM-DD, or YYYY-MM when only the month is known",
                    shown_id(published),
                    shown_id(key)
                ),
            );
            continue;
        };
        list.push(Source { key: key.to_owned(), published: published.to_owned(), published_by: by, line });
    }
    if problems.is_empty() {
        Ok(Sources { list })
    } else {
        Err(SourcesError { problems })
    }
}

/// One source key cited in a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Citation {
    /// What cites it, for people: `param p_tbi`, `step s, branch b`, `schedule entry 1 (step s)`.
    pub by: String,
    /// The key as written.
    pub key: String,
    /// Byte span of the key in the scenario text (of the whole `source` value when the key
    /// cannot be placed exactly).
    pub span: Range<usize>,
}

/// The keys of a `source` text with their byte offsets: separated by spaces, commas or
/// semicolons.
fn keys(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let separator = c.is_whitespace() || c == ',' || c == ';';
        match (separator, start) {
            (true, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

/// The citations of one `source` value whose string literal spans `span` in `text`: each
/// key at its own position when the literal is a plain one-line string, else at the literal.
fn cite(out: &mut Vec<Citation>, text: &str, by: &str, value: &str, span: Range<usize>) {
    let literal = text.get(span.clone()).unwrap_or("");
    let exact = literal.len() == value.len() + 2 && literal.get(1..literal.len() - 1) == Some(value);
    for (at, k) in keys(value) {
        let span = if exact { span.start + 1 + at..span.start + 1 + at + k.len() } else { span.clone() };
        out.push(Citation { by: by.to_owned(), key: k.to_owned(), span });
    }
}

/// The span of the string after `source =` inside `span` (a param's table), if found.
fn param_source_span(text: &str, span: &Range<usize>) -> Option<Range<usize>> {
    let inner = text.get(span.clone())?;
    let mut from = 0;
    while let Some(i) = inner[from..].find("source") {
        let at = from + i;
        let rest = inner[at + "source".len()..].trim_start();
        if let Some(after_eq) = rest.strip_prefix('=') {
            let value = after_eq.trim_start();
            let q = value.chars().next()?;
            if q == '"' || q == '\'' {
                let start = span.start + inner.len() - value.len();
                let end = value[1..].find(q)? + 2;
                return Some(start..start + end);
            }
        }
        from = at + 1;
    }
    None
}

/// Every source key the scenario cites, in file order of the things citing.
pub fn citations(doc: &Document, text: &str) -> Vec<Citation> {
    let mut out = Vec::new();
    for (name, spec) in &doc.params.0 {
        if let Some(value) = &spec.get_ref().source {
            let span = param_source_span(text, &spec.span()).unwrap_or(spec.span());
            cite(&mut out, text, &format!("param `{}`", name.get_ref()), value, span);
        }
    }
    let own = |out: &mut Vec<Citation>, by: &str, s: &Option<Spanned<String>>| {
        if let Some(s) = s {
            cite(out, text, by, s.get_ref(), s.span());
        }
    };
    for step in &doc.steps {
        let step = step.get_ref();
        let id = step.id.get_ref();
        own(&mut out, &format!("step `{id}`"), &step.source);
        for b in &step.branches {
            let b = b.get_ref();
            own(&mut out, &format!("step `{id}`, branch `{}`", b.id.get_ref()), &b.source);
        }
        for (i, t) in step.triggers.iter().enumerate() {
            let t: &raw::Trigger = t.get_ref();
            let by = format!("step `{id}`, trigger {} (after `{}`)", i + 1, t.after.get_ref());
            own(&mut out, &by, &t.source);
        }
    }
    for (i, s) in doc.schedule.iter().enumerate() {
        let s = s.get_ref();
        own(&mut out, &format!("schedule entry {} (step `{}`)", i + 1, s.step.get_ref()), &s.source);
    }
    out
}

/// A scenario's sources file and what the scenario cites from it.
#[derive(Debug)]
pub struct Cited {
    /// The file as read.
    pub sources: Sources,
    /// Every citation, each of a key in `sources`.
    pub citations: Vec<Citation>,
}

/// Why the citations of a scenario could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum CiteError {
    /// A key is not in the sources file, or the file cannot be read: at the scenario.
    #[error("{0}")]
    Scenario(Diagnostics),
    /// The sources file itself is bad.
    #[error("{0}")]
    File(SourcesError),
}

/// Reads the sources file that scenario `text` (at `path`) names, if it names one, and
/// checks that every key it cites is there. `Ok(None)`: no sources file, so `source`
/// is free text.
pub fn check(path: &Path, text: &str) -> Result<Option<Cited>, CiteError> {
    let file = path.display().to_string();
    let fail =
        |items| CiteError::Scenario(Diagnostics { file: file.clone(), source: text.to_owned(), items });
    let doc: Document = toml::from_str(text)
        .map_err(|e| fail(vec![Diagnostic::whole_file(format!("not a scenario: {}", e.message().trim()))]))?;
    let Some(named) = &doc.scenario.get_ref().sources else { return Ok(None) };
    let at = path.parent().unwrap_or(Path::new("")).join(named.get_ref());
    if !at.is_file() {
        return Err(fail(vec![Diagnostic::at(
            named.span(),
            format!(
                "sources file `{}` not found (it is read as {})",
                shown_id(named.get_ref()),
                at.display()
            ),
        )
        .help("`sources` is a path relative to the scenario file, e.g. \"../data/sources.csv\"")]));
    }
    let sources = read(&at).map_err(CiteError::File)?;
    let citations = citations(&doc, text);
    let known: Vec<&str> = sources.list.iter().map(|s| s.key.as_str()).collect();
    let mut problems = Vec::new();
    for c in &citations {
        if sources.get(&c.key).is_none() {
            problems.push(
                Diagnostic::at(
                    c.span.clone(),
                    format!(
                        "source key `{}` of {} is not in the sources file {}",
                        shown_id(&c.key),
                        c.by,
                        at.display()
                    ),
                )
                .help(format!(
                    "a `source` holds only keys of the sources file, separated by spaces, commas or \
                     semicolons (other text goes in `note`); {}",
                    suggest("key", &c.key, &known)
                )),
            );
        }
    }
    if !problems.is_empty() {
        return Err(fail(problems));
    }
    Ok(Some(Cited { sources, citations }))
}

/// One line of the hindsight audit: a citation of a source published after the date.
#[derive(Debug, Clone, PartialEq)]
pub struct Hindsight<'a> {
    /// The citation.
    pub citation: &'a Citation,
    /// Its source.
    pub source: &'a Source,
}

/// The citations whose source was published strictly after `as_of`: what a forecast
/// made on `as_of` could not have known.
pub fn hindsight(cited: &Cited, as_of: Date) -> Vec<Hindsight<'_>> {
    cited
        .citations
        .iter()
        .filter_map(|c| {
            let source = cited.sources.get(&c.key)?;
            (source.published_by > as_of).then_some(Hindsight { citation: c, source })
        })
        .collect()
}

/// Checks a record's `source` column against the scenario's sources file: every row cites
/// at least one key, and every key is in the file. A log without a `source` column (one
/// that brink simulated) has nothing to check.
pub fn check_log(
    file: &str,
    log: &crate::scenario::log::EventLog,
    sources: &Sources,
) -> Result<(), crate::scenario::log::LogError> {
    if !log.source_column {
        return Ok(());
    }
    let known: Vec<&str> = sources.list.iter().map(|s| s.key.as_str()).collect();
    let mut problems: Vec<String> = Vec::new();
    for e in &log.events {
        if problems.len() >= crate::scenario::log::MAX_PROBLEMS {
            break;
        }
        if e.sources.is_empty() {
            problems.push(format!(
                "{file}:{}: the row cites no source: every row of a record needs at least one key",
                e.line
            ));
        }
        for k in &e.sources {
            if sources.get(k).is_none() {
                problems.push(format!(
                    "{file}:{}: source key `{}` is not in the sources file; {}",
                    e.line,
                    shown_id(k),
                    suggest("key", k, &known)
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(crate::scenario::log::LogError { problems })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_only_dates_count_as_the_last_day_of_the_month() {
        assert_eq!(published_by("2020-02").unwrap(), Date::new(2020, 2, 29).unwrap());
        assert_eq!(published_by("2021-12").unwrap(), Date::new(2021, 12, 31).unwrap());
        assert_eq!(published_by("2021-02-03").unwrap(), Date::new(2021, 2, 3).unwrap());
        assert!(published_by("2021-13").is_none());
        assert!(published_by("Feb 2021").is_none());
    }

    #[test]
    fn keys_are_split_on_spaces_commas_and_semicolons_with_their_offsets() {
        let got = keys("a-1 b;c,  d");
        assert_eq!(got, vec![(0, "a-1"), (4, "b"), (6, "c"), (10, "d")]);
    }

    #[test]
    fn a_param_table_source_is_found_in_the_table_text() {
        let text = r#"x = { value = 1, note = "source", source = "k1 k2" }"#;
        let span = param_source_span(text, &(4..text.len())).unwrap();
        assert_eq!(&text[span], "\"k1 k2\"");
    }
}
