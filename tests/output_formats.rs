//! Analyses compute and `output/` writes: no file of `src/analysis/` builds CSV or JSON
//! text, so each file format has one place (issue 13). The bytes themselves are guarded
//! by tests/checksums.rs.

use std::path::{Path, PathBuf};

/// The ways brink builds the text of a CSV or JSON file.
const WRITERS: [&str; 5] = ["csv::Writer", "write_record", "serde_json::to_", "to_vec_pretty", "json!"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn analysis_builds_no_csv_or_json_text() {
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/analysis"), &mut files);
    files.sort();
    let mut found = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.find("//").map_or(line, |i| &line[..i]);
            for w in WRITERS.iter().filter(|w| code.contains(*w)) {
                found.push(format!("{}:{}: {w}", path.display(), n + 1));
            }
        }
    }
    assert!(found.is_empty(), "file formats belong in src/output/:\n{}", found.join("\n"));
}
