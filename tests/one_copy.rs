//! One copy of each number-formatting helper (issue 13): the percentages and scenario
//! numbers people read, and the Wilson estimate of a level's P, were written four, four and
//! two times with drifting thresholds. The source must define each once.

use crate::util::rust_files;
use std::path::Path;

/// The file under `src/` of every definition of a free function whose signature starts so.
fn definitions(signature: &str) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for line in text.lines() {
            let line = line.trim_start().trim_start_matches("pub(crate) ").trim_start_matches("pub ");
            if line.starts_with(signature) {
                found.push(file.strip_prefix(&src).unwrap().display().to_string());
            }
        }
    }
    found
}

#[test]
fn percentages_are_formatted_in_one_place() {
    assert_eq!(definitions("fn pct("), ["output/text.rs"]);
}

#[test]
fn scenario_numbers_are_formatted_in_one_place() {
    assert_eq!(definitions("fn num(x: f64)"), ["output/text.rs"]);
}

#[test]
fn the_wilson_estimate_is_made_in_one_place() {
    assert_eq!(definitions("fn wilson_est"), ["analysis/compare.rs"]);
}
