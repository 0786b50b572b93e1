//! A track-record file (`brink track-record FILE`): the episodes whose forecast questions
//! brink is scored on, each a scenario file, the dated record that answers its
//! questions and, where the forecast used one, the params file it was frozen with.
//! Paths are relative to the file itself, so the file travels with its data.

use super::diag::{Diagnostic, Diagnostics};
use super::input::read_text;
use super::LoadError;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    episodes: Vec<Spanned<RawEpisode>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEpisode {
    scenario: Spanned<String>,
    record: Spanned<String>,
    params: Option<Spanned<OneOrMore>>,
    trials: Option<Spanned<i64>>,
    revised: Option<String>,
    note: Option<String>,
}

/// `params = "FILE"` or `params = ["FILE", ...]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMore {
    One(String),
    More(Vec<String>),
}

impl OneOrMore {
    fn list(&self) -> Vec<&str> {
        match self {
            OneOrMore::One(p) => vec![p],
            OneOrMore::More(ps) => ps.iter().map(String::as_str).collect(),
        }
    }
}

/// One episode, its paths resolved against the track-record file's folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    /// The scenario file whose `[[questions]]` are scored.
    pub scenario: PathBuf,
    /// The event log that answers them.
    pub record: PathBuf,
    /// The params files the forecast was frozen with, applied in order as `--params` is.
    pub params: Vec<PathBuf>,
    /// Trials, if not the scenario's.
    pub trials: Option<u64>,
    /// Set for a version written after the outcome was scored (with when and why): it is
    /// shown, but counts neither in the means nor in the base rates.
    pub revised: Option<String>,
    /// Free text for people.
    pub note: Option<String>,
    /// The line of its `[[episodes]]` entry (its first key), for messages.
    pub line: usize,
}

/// Reads the track-record file at `path`.
pub fn read(path: &Path) -> Result<Vec<Episode>, LoadError> {
    let source = read_text(path, "track-record file")?;
    parse(&path.display().to_string(), &source, path.parent().unwrap_or(Path::new(".")))
        .map_err(LoadError::Invalid)
}

/// Parses track-record text named `file`, resolving paths against `dir`.
pub fn parse(file: &str, source: &str, dir: &Path) -> Result<Vec<Episode>, Diagnostics> {
    let fail = |items| Diagnostics { file: file.to_owned(), source: source.to_owned(), items };
    let doc: Document = toml::from_str(source).map_err(|e| {
        let message = e.message().trim().to_owned();
        fail(vec![match e.span() {
            Some(span) => Diagnostic::at(span, message),
            None => Diagnostic::whole_file(message),
        }
        .help("a track-record file is a list of [[episodes]], each with `scenario` and `record` (docs/track-record.md)")])
    })?;
    let mut items = Vec::new();
    if doc.episodes.is_empty() {
        items.push(Diagnostic::whole_file("the file lists no [[episodes]]"));
    }
    let mut out = Vec::new();
    for e in doc.episodes {
        let line = super::diag::line_col(source, e.get_ref().scenario.span().start).0;
        let e = e.into_inner();
        let trials = match &e.trials {
            Some(t) if *t.get_ref() >= 1 => Some(*t.get_ref() as u64),
            Some(t) => {
                items.push(Diagnostic::at(
                    t.span(),
                    format!("trials must be a whole number >= 1, got {}", t.get_ref()),
                ));
                None
            }
            None => None,
        };
        for p in [&e.scenario, &e.record] {
            if p.get_ref().trim().is_empty() {
                items.push(Diagnostic::at(p.span(), "an empty path"));
            }
        }
        let params: Vec<&str> = e.params.as_ref().map_or(Vec::new(), |p| p.get_ref().list());
        if let Some(p) = &e.params {
            if params.is_empty() || params.iter().any(|x| x.trim().is_empty()) {
                items.push(Diagnostic::at(p.span(), "an empty path among the params files"));
            }
        }
        out.push(Episode {
            scenario: joined(dir, e.scenario.get_ref()),
            record: joined(dir, e.record.get_ref()),
            params: params.iter().map(|p| joined(dir, p)).collect(),
            trials,
            revised: e.revised,
            note: e.note,
            line,
        });
    }
    if items.is_empty() {
        Ok(out)
    } else {
        Err(fail(items))
    }
}

/// `dir/rel` with `name/..` pairs taken out, so that messages show `scenarios/x.toml`
/// rather than `data/../scenarios/x.toml` (lexically: a `..` after a symbolic link is
/// rare in a project's own files, and the path still names the same file otherwise).
fn joined(dir: &Path, rel: &str) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component<'_>> = Vec::new();
    let full = dir.join(rel);
    for c in full.components() {
        match (c, out.last()) {
            (Component::CurDir, _) => {}
            (Component::ParentDir, Some(Component::Normal(_))) => {
                out.pop();
            }
            _ => out.push(c),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}
