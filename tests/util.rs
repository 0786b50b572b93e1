//! Helpers shared by the test modules.
#![allow(dead_code)]

use brink::scenario::{compile_str, Overrides};
use brink::sim::model::Model;
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

/// A small headline spread (8 draws of 500 trials) for runs of the bundled scenarios whose
/// test is about something else: the default spread (100 draws of up to 5,000 trials) is
/// most of a run's work, and a debug build pays for it in every such test.
pub const SMALL_SPREAD: [&str; 4] = ["--draws", "8", "--draw-trials", "500"];

/// Path of a bundled scenario.
pub fn bundled(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name)
}

/// Half-width of a 99.9% normal interval for a mean of `n` draws with this variance
/// (z = 3.29): statistical tests use it so that a correct implementation fails about
/// once in a thousand fixed seeds, and a wrong one fails decisively.
pub fn tol(variance: f64, n: u64) -> f64 {
    3.29 * (variance / n as f64).sqrt()
}

/// A Chromium on the PATH, for the tests that render reports in a real browser.
pub fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|name| {
        std::env::var_os("PATH")?
            .to_str()?
            .split(':')
            .map(|dir| std::path::Path::new(dir).join(name))
            .find(|p| p.is_file())
    })
}

/// The `brink` binary, ready for arguments.
pub fn brink() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("brink").expect("the brink binary is built for tests")
}

/// A CSV file read whole: header and rows, every field as text.
pub struct Table {
    /// Column names.
    pub headers: Vec<String>,
    /// Rows, in file order.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Reads a CSV file with a header row.
    pub fn read(path: &std::path::Path) -> Table {
        let mut r =
            csv::Reader::from_path(path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
        let headers = r.headers().expect("a header row").iter().map(str::to_owned).collect();
        let rows = r
            .records()
            .map(|rec| {
                rec.unwrap_or_else(|e| panic!("bad row in {}: {e}", path.display()))
                    .iter()
                    .map(str::to_owned)
                    .collect()
            })
            .collect();
        Table { headers, rows }
    }

    /// Index of a column, panicking with the known names if it is missing.
    pub fn col(&self, name: &str) -> usize {
        self.headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column `{name}` in {:?}", self.headers))
    }

    /// The rows whose column `key` holds `value`.
    pub fn find(&self, key: &str, value: &str) -> Vec<&Vec<String>> {
        let k = self.col(key);
        self.rows.iter().filter(|r| r[k] == value).collect()
    }

    /// The one row whose column `key` holds `value`.
    pub fn row(&self, key: &str, value: &str) -> &Vec<String> {
        let found = self.find(key, value);
        assert_eq!(found.len(), 1, "expected one row with {key} = {value}");
        found[0]
    }

    /// A field parsed as a number.
    pub fn num(&self, row: &[String], name: &str) -> f64 {
        let v = &row[self.col(name)];
        v.parse().unwrap_or_else(|_| panic!("column `{name}`: `{v}` is not a number"))
    }
}

/// Every `.rs` file under `dir`, recursively (for tests that read the source).
pub fn rust_files(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Trials `range` of `models` in lockstep through the runner: each model's aggregate and
/// each later model's pairing with the first.
pub fn lockstep(
    models: &[&Model],
    spec: &brink::sim::runner::RunSpec,
    range: std::ops::Range<u64>,
) -> brink::analysis::compare::SetOutput {
    use brink::analysis::compare::SetOutput;
    let mut out = SetOutput::empty(models);
    brink::sim::runner::run_set(models, spec, range, &|| SetOutput::empty(models), &mut out, &mut |_| {})
        .unwrap();
    out
}

/// All trials of `model` through the runner, their `trials.csv` rows (no header) streamed
/// to `rows` in trial order.
pub fn run_with_rows(
    model: &Model,
    spec: &brink::sim::runner::RunSpec,
    rows: &mut (dyn std::io::Write + Send),
    progress: &mut dyn FnMut(u64),
) -> Result<brink::sim::stats::Aggregate, brink::sim::runner::RunError> {
    use brink::output::trials::TrialRows;
    use brink::sim::stats::Aggregate;
    let empty = || (Aggregate::new(model), TrialRows::new(model));
    let mut total = (Aggregate::new(model), TrialRows::to(model, rows));
    brink::sim::runner::run_set(&[model], spec, 0..spec.trials, &empty, &mut total, progress)?;
    Ok(total.0)
}

/// Trials `from..to` of `model` on this thread: their aggregate and `trials.csv` rows.
pub fn chunk(
    model: &Model,
    spec: &brink::sim::runner::RunSpec,
    from: u64,
    to: u64,
) -> Result<(brink::sim::stats::Aggregate, Vec<u8>), brink::sim::engine::Runaway> {
    use brink::output::trials::TrialRows;
    let mut acc = (brink::sim::stats::Aggregate::new(model), TrialRows::new(model));
    brink::sim::runner::run_chunk(&[model], spec, from..to, &mut acc)?;
    Ok((acc.0, acc.1.into_bytes()))
}

/// A four-rung ladder (calm, clash, crisis, war, the last terminal) for hand-worked models.
pub const LADDER: &str = r#"
[[levels]]
id = "calm"
[[levels]]
id = "clash"
[[levels]]
id = "crisis"
[[levels]]
id = "war"
terminal = true
"#;

/// A model on [`LADDER`] from day 0 (1 Jan 2021) to `horizon`, with the given steps.
pub fn ladder_model(horizon: u32, body: &str) -> Model {
    model(&format!(
        "[scenario]\nname = \"t\"\nhorizon_days = {horizon}\nstart = 2021-01-01\n{LADDER}\n{body}"
    ))
}
