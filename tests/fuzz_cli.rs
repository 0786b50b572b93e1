//! The CLI fuzz target (issue 12, item 11): damaged copies of the bundled scenarios go
//! through `brink check`, `brink run` (a few trials), `brink trace` and `brink graph`, as
//! a user would run them. Every command must end with exit code 0, 1 or 2, print no panic,
//! never be killed by a signal or a time-out, and keep its error text short (a snippet
//! around the column, not a 100,000-character line).
//!
//! The damage (`tests/mutate.rs`): bit flips, line deletions and duplications, numbers
//! swapped for 0, -1, 1e308, nan or huge integers, ids swapped, the file cut short, and
//! ids or labels made tens of thousands of characters long.
//!
//! `cargo test` runs a few dozen cases on a fixed seed, in a few seconds. A longer run for
//! developers (the case count and the seed are read from the environment):
//!
//! ```text
//! BRINK_FUZZ_CASES=5000 BRINK_FUZZ_SEED=7 cargo test --release --test tests fuzz_cli -- --nocapture
//! ```
//!
//! A failing case is printed by proptest, shrunk to the fewest mutations that still fail.

use crate::mutate::{apply_bytes, mutation};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// Cases in a plain `cargo test`: enough to cross every command with every kind of
/// damage, few enough to stay within a few seconds.
const DEFAULT_CASES: u32 = 24;

/// Longest stderr accepted from one command: error messages cite a window of the line.
const MAX_STDERR: usize = 64 * 1024;

/// A command that has not ended after this long counts as hung.
const TIME_OUT: Duration = Duration::from_secs(120);

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn config() -> Config {
    Config {
        cases: env_number("BRINK_FUZZ_CASES").map_or(DEFAULT_CASES, |n| n.min(u32::MAX as u64) as u32),
        rng_seed: RngSeed::Fixed(env_number("BRINK_FUZZ_SEED").unwrap_or(0x0b71_4c11)),
        failure_persistence: None,
        // Shrinking re-runs the binary many times; a few hundred steps suffice.
        max_shrink_iters: 256,
        ..Config::default()
    }
}

/// The bundled scenarios and the dense benchmark scenario, as bytes.
fn sources() -> &'static Vec<Vec<u8>> {
    static SOURCES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SOURCES.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        [
            "scenarios/minimal.toml",
            "scenarios/chain-2019.toml",
            "scenarios/baghdad-2020.toml",
            "scenarios/hindcast-2019-2021.toml",
            "benches/scenarios/dense.toml",
        ]
        .iter()
        .map(|f| std::fs::read(root.join(f)).unwrap_or_else(|e| panic!("cannot read {f}: {e}")))
        .collect()
    })
}

/// Runs `brink ARGS` and checks how it ended; returns its exit code.
fn brink(args: &[&str], dir: &Path) -> Result<i32, TestCaseError> {
    let out = crate::util::brink()
        .args(args)
        .current_dir(dir)
        .timeout(TIME_OUT)
        .output()
        .map_err(|e| TestCaseError::fail(format!("brink {args:?} could not be run: {e}")))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let head: String = stderr.chars().take(600).collect();
    let code = out.status.code();
    prop_assert!(
        matches!(code, Some(0..=2)),
        "brink {:?} ended with {:?} (a signal or a time-out has no code); stderr:\n{}",
        args,
        out.status,
        head
    );
    prop_assert!(!stderr.contains("panicked"), "brink {:?} panicked:\n{}", args, head);
    prop_assert!(
        out.stderr.len() <= MAX_STDERR,
        "brink {:?} wrote {} bytes to stderr; it begins:\n{}",
        args,
        out.stderr.len(),
        head
    );
    if code != Some(0) {
        prop_assert!(stderr.contains("error"), "brink {:?} failed without saying why:\n{}", args, head);
    }
    Ok(code.unwrap_or(-1))
}

/// A `scenarios/` folder in `tmp` with the bundled sources file at `../data/sources.csv`,
/// where the bundled scenarios' `sources` key looks for it, so that `check` gets past it.
fn scenario_dir(tmp: &Path) -> std::io::Result<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(tmp.join("data"))?;
    std::fs::copy(root.join("data/sources.csv"), tmp.join("data/sources.csv"))?;
    let dir = tmp.join("scenarios");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Puts the damaged file through every command that reads a scenario.
fn exercise(src: &[u8]) -> Result<(), TestCaseError> {
    let tmp = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
    let dir = &scenario_dir(tmp.path()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    std::fs::write(dir.join("s.toml"), src).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let checked = brink(&["check", "s.toml"], dir)?;
    if checked != 0 {
        prop_assert_eq!(checked, 2, "an invalid scenario is bad input (exit 2)");
        return Ok(());
    }
    let limit = ["--max-events", "20000"];
    let run = [
        &["run", "s.toml", "--trials", "20", "--threads", "1", "--out", "out", "--quiet"][..],
        &limit,
        &["--charts", "svg"],
    ]
    .concat();
    brink(&run, dir)?;
    brink(&[&["trace", "s.toml", "--trial", "0"][..], &limit].concat(), dir)?;
    brink(&["graph", "s.toml"], dir)?;
    brink(&["graph", "s.toml", "--format", "mermaid"], dir)?;
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn damaged_scenarios_through_every_command(
        file in 0usize..5,
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let mut src = sources()[file].clone();
        for m in &mutations {
            src = apply_bytes(&src, m);
        }
        exercise(&src)?;
    }
}

#[test]
fn undamaged_scenarios_pass_every_command() {
    // The property starts from files that every command accepts: if one did not, its
    // cases would test nothing past `check`.
    for src in sources() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = scenario_dir(tmp.path()).unwrap();
        std::fs::write(dir.join("s.toml"), src).unwrap();
        let limit = ["--max-events", "20000"];
        for args in [
            [&["check", "s.toml"][..]].concat(),
            [&["run", "s.toml", "--trials", "20", "--threads", "1", "--out", "out", "--quiet"][..], &limit]
                .concat(),
            [&["trace", "s.toml", "--trial", "0"][..], &limit].concat(),
            vec!["graph", "s.toml"],
        ] {
            let code = brink(&args, &dir).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(code, 0, "brink {args:?} on an undamaged scenario");
        }
    }
}
