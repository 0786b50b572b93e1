//! Diagnostics: errors in a scenario file, located by file, line and column.
//!
//! Validation collects every problem it can find before giving up, so a user fixes a
//! file in one pass instead of one error per run. Each [`Diagnostic`] carries a byte span
//! into the source; [`Diagnostics::render`] turns spans into `file:line:col` headers with
//! the offending line underlined, in the style of rustc.

use std::fmt::Write as _;
use std::ops::Range;

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
    pub fn whole_file(message: impl Into<String>) -> Self {
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
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
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

    /// Renders every diagnostic for a terminal: header, location, source line, caret, help.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for d in &self.items {
            let _ = writeln!(out, "error: {}", d.message);
            let _ = writeln!(out, "  --> {}", self.location(d));
            if let Some(span) = &d.span {
                let (line, col) = line_col(&self.source, span.start);
                if let Some(text) = self.source.lines().nth(line - 1) {
                    let gutter = line.to_string().len();
                    let remaining = text.chars().count().saturating_sub(col - 1).max(1);
                    let width = self
                        .source
                        .get(span.start..span.end.min(self.source.len()))
                        .map(|s| s.lines().next().unwrap_or("").chars().count())
                        .unwrap_or(1)
                        .clamp(1, remaining);
                    let _ = writeln!(out, "{:gutter$} |", "");
                    let _ = writeln!(out, "{line} | {text}");
                    let _ = writeln!(out, "{:gutter$} | {}{}", "", " ".repeat(col - 1), "^".repeat(width));
                }
            }
            if let Some(help) = &d.help {
                let _ = writeln!(out, "  = help: {help}");
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
pub fn suggest(kind: &str, unknown: &str, known: &[&str]) -> String {
    match nearest(unknown, known.iter().copied()) {
        Some(k) => format!("did you mean `{k}`?"),
        None if known.is_empty() => format!("no {kind} is defined"),
        None => {
            let mut list: Vec<String> = Vec::new();
            for k in known {
                let k = format!("`{k}`");
                if !list.contains(&k) && list.len() < 12 {
                    list.push(k);
                }
            }
            format!("known {}: {}", plural(kind), list.join(", "))
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
    fn suggestions() {
        assert_eq!(nearest("atack_rate", ["attack_rate", "p_strike"]), Some("attack_rate"));
        assert_eq!(nearest("zzz", ["attack_rate"]), None);
        assert_eq!(plural("branch"), "branches");
        assert_eq!(plural("tally"), "tallies");
        assert_eq!(plural("level"), "levels");
    }
}
