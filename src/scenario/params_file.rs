//! `--params FILE`: a `[params]` table kept in a file of its own (as `brink fit` writes
//! `params.toml`), applied after the variant and before `--set`.
//!
//! The file is parsed here with the same [`ParamSpec`] as a scenario's `[params]`, so a
//! number, a distribution or a `{ value, source, note }` table mean the same in both.
//! Names are checked against the scenario before it is compiled, so that a mistake is
//! reported at the params file's own line and column; everything the value must satisfy
//! where the param is used is checked by the compiler, as for a variant.

use super::diag::{suggest, Diagnostic, Diagnostics};
use super::input::read_text;
use super::raw::{self, Entries, ParamSpec, ParamValue};
use super::LoadError;
use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

/// The file as written: one `[params]` table and nothing else.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    params: Entries<Spanned<String>, Spanned<ParamSpec>>,
}

/// A parsed params file, with its text (for messages and for the manifest's SHA-256).
#[derive(Debug, Clone)]
pub struct ParamsFile {
    /// The path as the user gave it.
    pub file: String,
    /// The file's text.
    pub source: String,
    /// Its `[params]` entries, in file order, with their spans in `source`.
    pub entries: Vec<(Spanned<String>, Spanned<ParamSpec>)>,
}

impl ParamsFile {
    /// Reads and parses the params file at `path`.
    pub fn read(path: &Path) -> Result<ParamsFile, LoadError> {
        let source = read_text(path, "params file")?;
        ParamsFile::parse(&path.display().to_string(), &source).map_err(LoadError::Invalid)
    }

    /// Parses params-file text; `file` names it in messages.
    pub fn parse(file: &str, source: &str) -> Result<ParamsFile, Diagnostics> {
        let fail = |items| Diagnostics { file: file.to_owned(), source: source.to_owned(), items };
        match toml::from_str::<Document>(source) {
            Ok(doc) => {
                Ok(ParamsFile { file: file.to_owned(), source: source.to_owned(), entries: doc.params.0 })
            }
            Err(e) => {
                let message = e.message().trim().to_owned();
                let d = match e.span() {
                    Some(span) => Diagnostic::at(span, message),
                    None => Diagnostic::whole_file(message),
                };
                Err(fail(vec![help(d)]))
            }
        }
    }

    /// The names of the params the file sets, in file order.
    pub fn names(&self) -> Vec<String> {
        self.entries.iter().map(|(k, _)| k.get_ref().clone()).collect()
    }

    /// The problems of the file against the scenario `doc`: names that are not params of
    /// it, numbers that are not finite. Located in the params file.
    pub(crate) fn check(&self, doc: &raw::Document) -> Option<Diagnostics> {
        let known: Vec<&str> = doc.params.0.iter().map(|(k, _)| k.get_ref().as_str()).collect();
        let mut items = Vec::new();
        for (k, v) in &self.entries {
            let name = k.get_ref();
            if !known.contains(&name.as_str()) {
                items.push(
                    Diagnostic::at(k.span(), format!("`{name}` is not a param of the scenario"))
                        .help(suggest("param", name, &known)),
                );
            } else if matches!(v.get_ref().value, ParamValue::Num(x) if !x.is_finite()) {
                items.push(Diagnostic::at(v.span(), format!("param `{name}` must be a finite number")));
            }
        }
        (!items.is_empty()).then(|| self.diagnostics(items))
    }

    /// Several params files applied in order (`--params A --params B`), as one: where two
    /// set the same param, the later one's value (with its source and note) stands. The
    /// result is a params file of its own, named `A + B`, whose text lists each kept entry
    /// under a comment naming the file, line and SHA-256 it came from, so that a message
    /// or a manifest still tells where a value was set.
    pub fn layered(mut files: Vec<ParamsFile>) -> Result<ParamsFile, Diagnostics> {
        if files.len() <= 1 {
            return files.pop().ok_or_else(|| Diagnostics {
                file: String::new(),
                source: String::new(),
                items: vec![Diagnostic::whole_file("no params file to apply")],
            });
        }
        let name = files.iter().map(|f| f.file.as_str()).collect::<Vec<_>>().join(" + ");
        let mut text =
            format!("# The params files {name}, applied in this order: each kept entry names its file.\n");
        for f in &files {
            text.push_str(&format!(
                "# {}: SHA-256 {}\n",
                f.file,
                crate::sim::rng::sha256_hex(f.source.as_bytes())
            ));
        }
        text.push_str("[params]\n");
        for (i, f) in files.iter().enumerate() {
            // Each value as TOML reads it, written inline: a `{ value, source, note }` entry
            // may be a table of its own in the file (`[params.rate]`), whose span is only
            // its header.
            let table: toml::Table = toml::from_str(&f.source)
                .map_err(|e| f.diagnostics(vec![Diagnostic::whole_file(e.message().trim().to_owned())]))?;
            let values = table.get("params").and_then(toml::Value::as_table);
            for (k, _) in &f.entries {
                let name = k.get_ref();
                let later = files[i + 1..].iter().any(|g| g.entries.iter().any(|(n, _)| n.get_ref() == name));
                let Some(v) = values.and_then(|t| t.get(name)) else { continue };
                if later {
                    continue;
                }
                let line = f.source[..k.span().start].matches('\n').count() + 1;
                // A name that is not a bare key is quoted, as TOML writes strings.
                let key = if crate::scenario::compile::valid_id(name) {
                    name.clone()
                } else {
                    toml::Value::String(name.clone()).to_string()
                };
                text.push_str(&format!("{key} = {v}  # from {}:{line}\n", f.file));
            }
        }
        ParamsFile::parse(&name, &text)
    }

    /// Problems located in this file, ready to render.
    pub(crate) fn diagnostics(&self, items: Vec<Diagnostic>) -> Diagnostics {
        Diagnostics { file: self.file.clone(), source: self.source.clone(), items }
    }
}

/// Advice for serde's messages about a params file.
fn help(d: Diagnostic) -> Diagnostic {
    if d.message.starts_with("missing field `params`") {
        return d.help(
            "a params file holds one [params] table: a line `[params]`, then one `name = value` per line",
        );
    }
    if d.message.starts_with("unknown field") {
        return d.help(
            "a params file holds only a [params] table; the rest of a scenario stays in the scenario file",
        );
    }
    if d.message.contains("wanted exactly 1 element") {
        return d.help("a distribution is a table with exactly one key, e.g. { beta = [4, 1] } or { gamma = { mean = 0.1, shape = 4 } }");
    }
    d
}
