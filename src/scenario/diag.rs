//! Diagnostics: errors in a scenario file, located by file, line and column.
//!
//! Validation collects every problem it can find before giving up, so a user fixes a
//! file in one pass instead of one error per run. Each [`Diagnostic`] carries a byte span
//! into the source; [`Diagnostics::render`] turns spans into `file:line:col` headers with
//! the offending line underlined, in the style of rustc.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::ops::Range;

/// Longest id (of a level, step, branch, tally, param or variant) and scenario name, in
/// characters: ids name columns, files and folders, and are printed in aligned tables.
pub(crate) const MAX_ID_CHARS: usize = 64;
/// Longest free text (a label, title, actor, description or source) that terminal text,
/// `brink trace` and `brink graph` print; longer text is cut there, for display only.
pub(crate) const SHOWN_TEXT_CHARS: usize = 200;
/// Longest actor those outputs print (an actor fills a column of `brink trace`).
pub(crate) const SHOWN_ACTOR_CHARS: usize = 40;
/// Characters of the source line shown on each side of an error's column.
const SNIPPET_SIDE_CHARS: usize = 60;
/// Longest message or help line of a diagnostic (a safety net: a message that quotes a
/// huge id or value is cut rather than printed whole).
const MAX_MESSAGE_CHARS: usize = 1000;

/// `text` cut to at most `max` characters, ending in `...` when it was cut. Display only:
/// nothing that is read back or compared goes through this.
pub(crate) fn clip(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some(_) => {
            let keep = max.saturating_sub(3);
            let end = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
            Cow::Owned(format!("{}...", &text[..end]))
        }
    }
}

/// An id or name as messages quote it: cut to [`MAX_ID_CHARS`].
pub(crate) fn shown_id(id: &str) -> Cow<'_, str> {
    clip(id, MAX_ID_CHARS)
}

/// Free text (label, title, description) as terminal text prints it.
pub(crate) fn shown_text(text: &str) -> Cow<'_, str> {
    clip(text, SHOWN_TEXT_CHARS)
}

/// An actor as terminal text prints it.
pub(crate) fn shown_actor(actor: &str) -> Cow<'_, str> {
    clip(actor, SHOWN_ACTOR_CHARS)
}

/// The part of a source line shown under an error: the whole line when it is short, else
/// a window of [`SNIPPET_SIDE_CHARS`] around column `col` (1-based, in characters) with
/// `...` where it was cut. Returns the text, the caret's column in it and how many
/// characters of the line it shows from the caret on, so a 40 MB one-line file gives a
/// message of a few lines.
fn snippet(line: &str, col: usize) -> (String, usize, usize) {
    let total = line.chars().count();
    if total <= 2 * SNIPPET_SIDE_CHARS + 20 {
        return (line.to_owned(), col, total.saturating_sub(col - 1));
    }
    let from = col.saturating_sub(1).saturating_sub(SNIPPET_SIDE_CHARS);
    let to = (col - 1 + SNIPPET_SIDE_CHARS).min(total).max(from);
    let mut out = String::new();
    let mut caret = col - from;
    if from > 0 {
        out.push_str("...");
        caret += 3;
    }
    out.extend(line.chars().skip(from).take(to - from));
    if to < total {
        out.push_str("...");
    }
    (out, caret, to.saturating_sub(col - 1))
}

/// One problem found in a scenario file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// What is wrong, in one sentence.
    pub message: String,
    /// Byte range in the source that the message points at (None: the whole file).
    pub span: Option<Range<usize>>,
    /// What would be right, when we can say.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A problem at a span.
    pub fn at(span: Range<usize>, message: impl Into<String>) -> Self {
        Diagnostic { message: message.into(), span: Some(span), help: None }
    }

    /// A problem with no single location (for example: a cycle, an empty file).
    pub(crate) fn whole_file(message: impl Into<String>) -> Self {
        Diagnostic { message: message.into(), span: None, help: None }
    }

    /// Adds advice to a diagnostic already recorded.
    pub fn hint(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }

    /// Adds advice on how to fix it.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// All problems found in one file, with the source text needed to render them.
#[derive(Debug, Clone)]
pub struct Diagnostics {
    /// The file name as the user gave it.
    pub file: String,
    /// The file's text.
    pub source: String,
    /// The problems, in the order found.
    pub items: Vec<Diagnostic>,
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let mut line = 1;
    let mut line_start = 0;
    for (i, b) in source.bytes().enumerate() {
        if i >= offset {
            break;
        }
        if b == b'\n' {
            line += 1;
            line_start = i + 1;
        }
    }
    let prefix = source.get(line_start..offset).unwrap_or("");
    (line, prefix.chars().count() + 1)
}

impl Diagnostics {
    /// The location `file:line:col` of a diagnostic (line and column of its span's start).
    pub fn location(&self, d: &Diagnostic) -> String {
        match &d.span {
            Some(span) => {
                let (line, col) = line_col(&self.source, span.start);
                format!("{}:{}:{}", self.file, line, col)
            }
            None => self.file.clone(),
        }
    }

    /// Renders every diagnostic for a terminal: header, location, source line (cut to a
    /// window around the column when it is long), caret, help.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for d in &self.items {
            let _ = writeln!(out, "error: {}", clip(&d.message, MAX_MESSAGE_CHARS));
            let _ = writeln!(out, "  --> {}", self.location(d));
            if let Some(span) = &d.span {
                let (line, col) = line_col(&self.source, span.start);
                if let Some(text) = self.source.lines().nth(line - 1) {
                    // The gutter is as wide as the line number: a handful of spaces.
                    let gutter = " ".repeat(line.to_string().len());
                    let (text, col, shown) = snippet(text, col);
                    let remaining = shown.max(1);
                    let width = self
                        .source
                        .get(span.start..span.end.min(self.source.len()))
                        .map(|s| s.lines().next().unwrap_or("").chars().take(remaining).count())
                        .unwrap_or(1)
                        .clamp(1, remaining);
                    let _ = writeln!(out, "{gutter} |");
                    let _ = writeln!(out, "{line} | {text}");
                    let _ = writeln!(out, "{gutter} | {}{}", " ".repeat(col - 1), "^".repeat(width));
                }
            }
            if let Some(help) = &d.help {
                let _ = writeln!(out, "  = help: {}", clip(help, MAX_MESSAGE_CHARS));
            }
            out.push('\n');
        }
        let n = self.items.len();
        let _ = writeln!(out, "{}: {} error{} found", self.file, n, if n == 1 { "" } else { "s" });
        out
    }
}

impl std::fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for Diagnostics {}

/// The known name closest to `unknown`, if it is close enough to be a likely typo.
pub fn nearest<'a>(unknown: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for k in known {
        let score = strsim::jaro_winkler(unknown, k);
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, k));
        }
    }
    best.filter(|(s, _)| *s >= 0.7).map(|(_, k)| k)
}

/// "did you mean `x`?" help text, or a list of what exists when nothing is close.
pub(crate) fn suggest(kind: &str, unknown: &str, known: &[&str]) -> String {
    suggest_listed(kind, unknown, known, None)
}

/// The most names a list of what exists gives before "… and N more".
const LISTED: usize = 12;

/// As [`suggest`]; a list cut short says how many more there are and, given `whole`
/// (e.g. "GET /"), where the whole list is.
pub(crate) fn suggest_listed(kind: &str, unknown: &str, known: &[&str], whole: Option<&str>) -> String {
    match nearest(unknown, known.iter().copied()) {
        Some(k) => format!("did you mean `{k}`?"),
        None if known.is_empty() => format!("no {kind} is defined"),
        None => {
            let mut distinct: Vec<&str> = Vec::new();
            for k in known {
                if !distinct.contains(k) {
                    distinct.push(k);
                }
            }
            let list: Vec<String> = distinct.iter().take(LISTED).map(|k| format!("`{k}`")).collect();
            let mut text = format!("known {}: {}", plural(kind), list.join(", "));
            let more = distinct.len() - list.len();
            if more > 0 {
                text += &format!(", … and {more} more");
                if let Some(w) = whole {
                    text += &format!("; {w} lists them");
                }
            }
            text
        }
    }
}

/// English plural of a kind of thing ("branch" -> "branches", "tally" -> "tallies").
fn plural(kind: &str) -> String {
    if let Some(stem) = kind.strip_suffix('y') {
        format!("{stem}ies")
    } else if kind.ends_with("ch") || kind.ends_with('s') {
        format!("{kind}es")
    } else {
        format!("{kind}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_list_says_how_many_more() {
        let known: Vec<String> = (0..20).map(|i| format!("zz{i}")).collect();
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        let all = suggest("param", "q", &known);
        assert!(all.starts_with("known params: `zz0`, `zz1`, "), "{all}");
        assert!(all.ends_with("`zz11`, … and 8 more"), "{all}");
        let web = suggest_listed("param", "q", &known, Some("GET /"));
        assert!(web.ends_with("`zz11`, … and 8 more; GET / lists them"), "{web}");
        assert_eq!(suggest("param", "q", &known[..3]), "known params: `zz0`, `zz1`, `zz2`");
    }

    #[test]
    fn line_col_counts_from_one() {
        let s = "ab\ncde\nf";
        assert_eq!(line_col(s, 0), (1, 1));
        assert_eq!(line_col(s, 4), (2, 2));
        assert_eq!(line_col(s, 7), (3, 1));
    }

    #[test]
    fn render_underlines_the_span() {
        let d = Diagnostics {
            file: "x.toml".into(),
            source: "a = 1\nrate = -3\n".into(),
            items: vec![Diagnostic::at(13..15, "rate must be >= 0").help("use a rate per day")],
        };
        let r = d.render();
        assert!(r.contains("--> x.toml:2:8"), "{r}");
        assert!(r.contains("2 | rate = -3"), "{r}");
        assert!(r.contains("  |        ^^"), "{r}");
        assert!(r.contains("help: use a rate per day"), "{r}");
    }

    #[test]
    fn long_lines_are_cut_around_the_column() {
        let line = format!("x = \"{}\" junk", "a".repeat(100_000));
        let source = format!("{line}\n");
        let at = line.find("junk").unwrap();
        let d = Diagnostics {
            file: "x.toml".into(),
            source,
            items: vec![Diagnostic::at(at..at + 4, "unexpected junk")],
        };
        let r = d.render();
        assert!(r.len() < 600, "{r}");
        assert!(r.contains(&format!("1 | ...{}\" junk", "a".repeat(58))), "{r}");
        // The caret stays under `junk`.
        let lines: Vec<&str> = r.lines().collect();
        let (text, caret) = (lines[2], lines[3]);
        assert_eq!(caret.find('^'), text.find("junk"), "{r}");
        assert_eq!(clip("abcdef", 5), "ab...");
        assert_eq!(clip("abcde", 5), "abcde");
    }

    #[test]
    fn suggestions() {
        assert_eq!(nearest("atack_rate", ["attack_rate", "p_strike"]), Some("attack_rate"));
        assert_eq!(nearest("zzz", ["attack_rate"]), None);
        assert_eq!(plural("branch"), "branches");
        assert_eq!(plural("tally"), "tallies");
        assert_eq!(plural("level"), "levels");
    }
}
