//! Scenario files: reading, validating and compiling them into a [`Model`].
//!
//! Two stages, as in ripgrep's argument handling: [`raw`] mirrors the TOML exactly
//! (syntax, key names and value types are checked by serde with spans), then
//! [`compile`] checks meaning (references, ranges, sums, cycles), collecting every
//! problem it finds, and resolves ids to indices. Only a compiled [`Model`] reaches the
//! engine.

pub mod compile;
pub mod raw;

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::Model;
use std::path::Path;

/// Choices made outside the file: which variant, which params overridden on the CLI.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `[variants.NAME]` to apply (None or `"baseline"`: none).
    pub variant: Option<String>,
    /// `--set NAME=VALUE` pairs, applied after the variant.
    pub sets: Vec<(String, f64)>,
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read scenario file {path}: {source}")]
    Io {
        /// The path as given.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file was read but is not a valid scenario.
    #[error("{0}")]
    Invalid(Diagnostics),
}

/// Reads, validates and compiles a scenario file.
pub fn load(path: &Path, overrides: &Overrides) -> Result<(Model, String), LoadError> {
    let name = path.display().to_string();
    let source =
        std::fs::read_to_string(path).map_err(|e| LoadError::Io { path: name.clone(), source: e })?;
    let model = compile_str(&name, &source, overrides).map_err(LoadError::Invalid)?;
    Ok((model, source))
}

/// Validates and compiles scenario text; `file` names it in messages.
pub fn compile_str(file: &str, source: &str, overrides: &Overrides) -> Result<Model, Diagnostics> {
    let fail = |items| Diagnostics { file: file.to_owned(), source: source.to_owned(), items };
    let doc: raw::Document = match toml::from_str(source) {
        Ok(doc) => doc,
        Err(e) => {
            let message = e.message().trim().to_owned();
            let d = match e.span() {
                Some(span) => Diagnostic::at(span, message),
                None => Diagnostic::whole_file(message),
            };
            return Err(fail(vec![toml_help(d)]));
        }
    };
    compile::compile(&doc, overrides).map_err(fail)
}

/// Adds advice to serde's messages where a common mistake is likely.
fn toml_help(d: Diagnostic) -> Diagnostic {
    if d.message.starts_with("missing field `scenario`") {
        return d.help("a scenario file starts with a [scenario] table: name, horizon_days, ...");
    }
    if d.message.starts_with("unknown field") || d.message.starts_with("unexpected keys") {
        return d.help("check the spelling; docs/scenario-language.md lists every key");
    }
    if d.message.contains("wanted exactly 1 element") {
        return d.help(
            "a distribution is a table with exactly one key, e.g. { uniform = [1, 3] } or { poisson = 2 }",
        );
    }
    if d.message.starts_with("unknown variant") {
        return d.help("delays: fixed, uniform, exponential, triangular, lognormal; tallies: fixed, poisson, poisson_at_least_one, uniform_int, binomial, negative_binomial");
    }
    d
}
