//! Reproducibility (docs/reproducibility.md): the same scenario, seed and trial count give
//! byte-identical outputs whatever the number of threads; trials do not depend on the
//! total count or on how they are split into chunks; a different seed gives different
//! trials.

use crate::util::{brink, bundled, SMALL_SPREAD};
use brink::scenario::{self, Overrides};
use brink::sim::runner::{self, RunSpec, CHUNK};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const SEED: &str = "7";
const TRIALS: &str = "20000";

/// Runs baghdad-2020 into `dir/name` and returns the folder; with a small headline spread
/// unless `args` size it.
fn run(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let spread = if args.contains(&"--draws") { &[][..] } else { &SMALL_SPREAD[..] };
    let assert = brink()
        .arg("run")
        .arg(bundled("baghdad-2020.toml"))
        .args(args)
        .args(spread)
        .arg("--quiet")
        .arg("--out")
        .arg(&out)
        .assert();
    let o = assert.get_output();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

/// The manifest without the fields that may differ between equal runs.
fn stable_manifest(dir: &Path) -> serde_json::Value {
    let mut m = manifest(dir);
    let obj = m.as_object_mut().expect("manifest is an object");
    for k in ["threads", "wall_seconds", "trials_per_second", "events_per_second", "command"] {
        assert!(obj.remove(k).is_some(), "manifest has no `{k}`");
    }
    m
}

/// baghdad-2020 with 20,000 trials and seed 7, run with 1, 2, 4 and again 2 threads.
fn thread_runs() -> &'static (tempfile::TempDir, Vec<(PathBuf, u64)>) {
    static RUNS: OnceLock<(tempfile::TempDir, Vec<(PathBuf, u64)>)> = OnceLock::new();
    RUNS.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let runs = [("t1", 1), ("t2", 2), ("t4", 4), ("t2again", 2)]
            .iter()
            .map(|&(name, threads)| {
                let t = threads.to_string();
                let args = ["--trials", TRIALS, "--seed", SEED, "--threads", &t];
                (run(tmp.path(), name, &args), threads)
            })
            .collect();
        (tmp, runs)
    })
}

/// Files that describe how a run was made (threads, timing, command line) and so may
/// differ between runs with equal results.
const RUN_DESCRIPTIONS: [&str; 2] = ["manifest.json", "report.html"];

#[test]
fn outputs_are_byte_identical_whatever_the_thread_count() {
    let runs = &thread_runs().1;
    let reference = &runs[0].0;
    let names = files(reference);
    for f in
        ["levels.csv", "tallies.csv", "steps.csv", "daily.csv", "paths.csv", "trials.csv", "manifest.json"]
    {
        assert!(names.contains(&f.to_owned()), "{f} missing from {names:?}");
    }
    for (dir, threads) in runs {
        assert_eq!(files(dir), names);
        for f in names.iter().filter(|f| !RUN_DESCRIPTIONS.contains(&f.as_str())) {
            let a = std::fs::read(reference.join(f)).unwrap();
            let b = std::fs::read(dir.join(f)).unwrap();
            assert!(a == b, "{f} differs between 1 and {threads} threads");
        }
        assert_eq!(stable_manifest(dir), stable_manifest(reference));
        // The fields left out are the ones that describe the run, not its results.
        let m = manifest(dir);
        assert_eq!(m["threads"], *threads);
        assert_eq!(m["trials"], 20000);
        assert_eq!(m["seed"], 7);
    }
    // trials.csv holds one row per trial, in trial order.
    let trials = std::fs::read_to_string(reference.join("trials.csv")).unwrap();
    for (i, line) in trials.lines().skip(1).enumerate() {
        let first = line.split(',').next().unwrap();
        assert_eq!(first, i.to_string(), "row {i}");
    }
    assert_eq!(trials.lines().count(), 20001);
}

#[test]
fn report_is_identical_but_for_the_command_line() {
    let runs = &thread_runs().1;
    let reference = &runs[0].0;
    if !reference.join("report.html").exists() {
        return; // --charts none or an older brink: nothing to compare
    }
    let without_command = |dir: &Path| -> Vec<String> {
        let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
        html.lines().filter(|l| !l.contains("<td>command</td>")).map(str::to_owned).collect()
    };
    let a = without_command(reference);
    for (dir, threads) in runs {
        assert!(a == without_command(dir), "report.html differs between 1 and {threads} threads");
    }
}

#[test]
fn every_file_but_the_manifest_is_byte_identical_whatever_the_thread_count() {
    // docs/reproducibility.md: byte-identical outputs whatever the number of threads; only
    // manifest.json records how the run was made.
    let runs = &thread_runs().1;
    let reference = &runs[0].0;
    for (dir, threads) in runs {
        for f in files(reference).iter().filter(|f| *f != "manifest.json") {
            let a = std::fs::read(reference.join(f)).unwrap();
            let b = std::fs::read(dir.join(f)).unwrap();
            assert!(a == b, "{f} differs between 1 and {threads} threads");
        }
    }
}

#[test]
fn a_different_seed_gives_different_trials() {
    let tmp = tempfile::tempdir().unwrap();
    let a = run(tmp.path(), "a", &["--trials", "4000", "--seed", "7"]);
    let b = run(tmp.path(), "b", &["--trials", "4000", "--seed", "8"]);
    let ta = std::fs::read_to_string(a.join("trials.csv")).unwrap();
    let tb = std::fs::read_to_string(b.join("trials.csv")).unwrap();
    assert_eq!(ta.lines().next(), tb.lines().next(), "same header");
    let differ = ta.lines().zip(tb.lines()).skip(1).filter(|(x, y)| x != y).count();
    // Nearly every trial of baghdad-2020 has a different number of attacks.
    assert!(differ > 3000, "only {differ} of 4000 rows differ");
    // The seed in the file is used when none is given, and is not 7.
    let c = run(tmp.path(), "c", &["--trials", "4000"]);
    assert_eq!(manifest(&c)["seed"], 20201220);
    assert_ne!(std::fs::read(c.join("trials.csv")).unwrap(), ta.as_bytes());
}

#[test]
fn trials_do_not_depend_on_the_total_count() {
    // Neither count is a multiple of the chunk size.
    let n = 2 * CHUNK + 123;
    let m = CHUNK + 77;
    let tmp = tempfile::tempdir().unwrap();
    let small = run(tmp.path(), "small", &["--trials", &n.to_string(), "--seed", SEED, "--threads", "2"]);
    let big = run(tmp.path(), "big", &["--trials", &(n + m).to_string(), "--seed", SEED, "--threads", "3"]);
    let s = std::fs::read_to_string(small.join("trials.csv")).unwrap();
    let b = std::fs::read_to_string(big.join("trials.csv")).unwrap();
    let s: Vec<&str> = s.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    assert_eq!(s.len() as u64, n + 1);
    assert_eq!(b.len() as u64, n + m + 1);
    assert_eq!(s[..], b[..s.len()], "the first {n} trials differ");
    assert_eq!(b.last().unwrap().split(',').next().unwrap(), (n + m - 1).to_string());
    let levels = crate::util::Table::read(&small.join("levels.csv"));
    let first = levels.rows.first().unwrap();
    assert_eq!(first[levels.col("trials_reached")], n.to_string());
}

fn baghdad() -> brink::sim::model::Model {
    scenario::load(&bundled("baghdad-2020.toml"), &Overrides::default()).unwrap_or_else(|e| panic!("{e}")).0
}

fn spec(trials: u64, threads: usize) -> RunSpec {
    RunSpec { trials, seed: 7, threads, max_events: 10_000 }
}

#[test]
fn library_run_is_independent_of_threads_and_of_sharding() {
    let model = baghdad();
    let trials = 3 * CHUNK + 5;
    let mut rows1 = Vec::new();
    let mut rows3 = Vec::new();
    let mut seen = Vec::new();
    let a1 = crate::util::run_with_rows(&model, &spec(trials, 1), &mut rows1, &mut |d| seen.push(d)).unwrap();
    let a3 = crate::util::run_with_rows(&model, &spec(trials, 3), &mut rows3, &mut |_| {}).unwrap();
    assert_eq!(a1.trials, trials);
    assert!(a1 == a3, "aggregates differ between 1 and 3 threads");
    assert!(rows1 == rows3, "trial rows differ between 1 and 3 threads");
    assert_eq!(seen.last(), Some(&trials), "progress ends at the trial count");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");

    // Shards of any size, merged in any order, give the same aggregate.
    let s = spec(trials, 1);
    let cuts = [0, 1, 700, CHUNK + 1, trials];
    let mut parts = Vec::new();
    let mut rows = Vec::new();
    for w in cuts.windows(2) {
        let (agg, bytes) = crate::util::chunk(&model, &s, w[0], w[1]).unwrap();
        assert_eq!(agg.trials, w[1] - w[0]);
        parts.push(agg);
        rows.extend(bytes);
    }
    assert!(rows == rows1, "rows from shards differ");
    let mut forward = brink::sim::stats::Aggregate::new(&model);
    for p in &parts {
        forward.merge(p);
    }
    let mut backward = brink::sim::stats::Aggregate::new(&model);
    for p in parts.iter().rev() {
        backward.merge(p);
    }
    assert!(forward == a1, "merged shards differ from a whole run");
    assert!(backward == a1, "merge order changes the aggregate");

    // A different seed gives a different aggregate (so the equalities above are not
    // trivially true).
    let other = runner::run(&model, &RunSpec { seed: 8, ..spec(trials, 2) }, &mut |_| {}).unwrap();
    assert!(other != a1);
}

/// A run with uncertain params (baghdad-2020's `flat_priors` variant) writes its spread
/// across parameter draws (params.csv, epistemic.csv, their charts, the report's headline)
/// byte for byte alike on 1, 2 and 3 threads; only the manifest's run fields differ.
#[test]
fn the_spread_across_parameter_draws_is_identical_whatever_the_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let runs: Vec<PathBuf> = ["1", "2", "3"]
        .iter()
        .map(|t| {
            let args = [
                "--variant",
                "flat_priors",
                "--trials",
                "5000",
                "--seed",
                SEED,
                "--draws",
                "12",
                "--draw-trials",
                "2500",
            ];
            run(tmp.path(), &format!("u{t}"), &[&args[..], &["--threads", t]].concat())
        })
        .collect();
    let names = files(&runs[0]);
    for f in ["params.csv", "epistemic.csv", "epistemic.svg", "drivers.svg", "report.html"] {
        assert!(names.contains(&f.to_owned()), "{f} missing from {names:?}");
    }
    for dir in &runs[1..] {
        assert_eq!(files(dir), names);
        for f in names.iter().filter(|f| !RUN_DESCRIPTIONS.contains(&f.as_str())) {
            let (a, b) = (std::fs::read(runs[0].join(f)).unwrap(), std::fs::read(dir.join(f)).unwrap());
            assert!(a == b, "{f} differs between thread counts");
        }
        assert_eq!(stable_manifest(dir), stable_manifest(&runs[0]));
    }
    let m = manifest(&runs[0]);
    assert_eq!(m["spread"], serde_json::json!({ "draws": 12, "trials_per_draw": 2500 }));
    // 12 draws in params.csv, a header and one row each.
    assert_eq!(std::fs::read_to_string(runs[0].join("params.csv")).unwrap().lines().count(), 13);
}

/// The portable block functions (what a CPU without AVX2 runs: four SSE2 lanes, or the
/// scalar rounds) give the very trials the AVX2 ones give, end to end: the first blocks
/// computed eight at a time, the busy streams' eight-block refills and the warm-up of the
/// last trial's streams. On dense (busy streams, every amount family) and baghdad-2020
/// (31 params drawn in every trial). The switch is process-wide; any other test that runs
/// meanwhile draws the same numbers either way.
#[test]
fn trials_are_the_same_without_avx2() {
    use brink::sim::engine::Engine;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (file, trials) in [("benches/scenarios/dense.toml", 150u64), ("scenarios/baghdad-2020.toml", 3000)] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let m = crate::util::model(&text);
        let run = |portable: bool| {
            brink::sim::rng::set_portable_blocks(portable);
            let mut e = Engine::new(&m, 7);
            let trials: Vec<_> = (0..trials)
                .map(|i| {
                    e.run(i).unwrap();
                    let o = e.outcome();
                    let reached: Vec<u64> = o.reached.iter().map(|x| x.to_bits()).collect();
                    (
                        o.end_day.to_bits(),
                        o.final_level,
                        o.max_level,
                        reached,
                        o.counts.to_vec(),
                        o.tallies.to_vec(),
                    )
                })
                .collect();
            brink::sim::rng::set_portable_blocks(false);
            trials
        };
        let (lanes, portable) = (run(false), run(true));
        assert!(lanes.iter().map(|t| t.4.iter().sum::<u32>()).sum::<u32>() > 1000, "{file}: trials fire");
        assert_eq!(lanes, portable, "{file}: the same trials with and without AVX2");
    }
}
