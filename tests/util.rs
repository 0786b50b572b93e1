//! Helpers shared by the test modules.
#![allow(dead_code)]

use brink::model::Model;
use brink::scenario::{compile_str, Overrides};
use std::path::PathBuf;

/// Compiles scenario text, panicking with the rendered diagnostics if it is invalid.
pub fn model(src: &str) -> Model {
    match compile_str("test.toml", src, &Overrides::default()) {
        Ok(m) => m,
        Err(d) => panic!("scenario did not compile:\n{}", d.render()),
    }
}

/// The rendered diagnostics of scenario text that must be invalid.
pub fn errors(src: &str) -> String {
    match compile_str("test.toml", src, &Overrides::default()) {
        Ok(_) => panic!("scenario compiled but should not have:\n{src}"),
        Err(d) => d.render(),
    }
}

/// Path of a bundled scenario.
pub fn bundled(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

/// Half-width of a 99.9% normal interval for a mean of `n` draws with this variance
/// (z = 3.29): statistical tests use it so that a correct implementation fails about
/// once in a thousand fixed seeds, and a wrong one fails decisively.
pub fn tol(variance: f64, n: u64) -> f64 {
    3.29 * (variance / n as f64).sqrt()
}
