//! `brink compare`: paired statistics against hand-derived values, the CLI's three
//! forms, and the paired/unpaired choice for results folders.

use crate::util::{model, tol};
use assert_cmd::Command;
use brink::output::compare::{Comparison, RunSummary};
use brink::scenario::{compile_str, Overrides};
use brink::sim::runner::RunSpec;

/// One firing at day 0 whose branch `hit` (p = `p_hit`) reaches the terminal level.
/// With the same seed both variants draw the same u: A reaches war iff u < 0.5, B iff
/// u < 0.4. So: P(A) = 0.5, P(B) = 0.4, both 0.4, A only 0.1; the paired difference is
/// -0.1 with var(D) = 0.1 - 0.01 = 0.09 per trial; var(A) + var(B) = 0.25 + 0.24 = 0.49,
/// a variance reduction of 5.44; phi = 0.2 / sqrt(0.25 x 0.24) = 0.816.
const COIN: &str = r#"
[scenario]
name = "coin"
horizon_days = 10
[params]
p_hit = 0.5
[[levels]]
id = "calm"
[[levels]]
id = "war"
terminal = true
[tallies]
hurt = "people hurt"
[[steps]]
id = "shot"
  [[steps.branches]]
  id = "hit"
  p = "p_hit"
  raise_to = "war"
  tally = { hurt = { fixed = 2 } }
  [[steps.branches]]
  id = "miss"
  p = "rest"
[[schedule]]
step = "shot"
day = 0
[variants.careful]
p_hit = 0.4
"#;

fn variant(name: Option<&str>) -> brink::sim::model::Model {
    let ov = Overrides { variant: name.map(str::to_owned), sets: vec![], params: None, ..Default::default() };
    compile_str("coin.toml", COIN, &ov).unwrap()
}

#[test]
fn paired_difference_matches_the_hand_derivation() {
    let (a, b) = (variant(None), variant(Some("careful")));
    let n = 20_000;
    let spec = RunSpec { trials: n, seed: 5, threads: 2, max_events: 1000 };
    let out = crate::util::lockstep(&[&a, &b], &spec, 0..n);
    let pair = &out.paired[0];
    let c = pair.level_counts[1];
    assert_eq!(c.b_only, 0, "B's hit implies A's hit under common random numbers");
    let war = pair.level(1);
    assert!((war.difference.value + 0.1).abs() < tol(0.09, n), "{war:?}");
    // The interval's half-width is z sqrt(var(D) / n) with var(D) ~ 0.09.
    let half = war.difference.high.unwrap() - war.difference.value;
    assert!((half - 1.96 * (0.09f64 / n as f64).sqrt()).abs() < 0.001, "{half}");
    let vrf = war.variance_reduction.unwrap();
    assert!((vrf - 0.49 / 0.09).abs() < 0.6, "variance reduction {vrf}");
    assert!((war.correlation.unwrap() - 0.2 / (0.06f64).sqrt()).abs() < 0.03);
    // Tally: 2 per hit, so the mean difference is -0.2 and var(D) = 4 x 0.09.
    let hurt = pair.tally(0);
    assert!((hurt.difference.value + 0.2).abs() < tol(0.36, n), "{hurt:?}");
    let cmp = Comparison::from_paired(
        vec!["baseline".into(), "careful".into()],
        &[
            RunSummary::from_aggregate(&a, &out.aggregates[0], spec.seed),
            RunSummary::from_aggregate(&b, &out.aggregates[1], spec.seed),
        ],
        &out.paired,
    );
    assert!(cmp.paired);
    let text = cmp.summary();
    assert!(text.contains("careful reaches war in"), "{text}");
    assert!(text.contains("less likely"), "{text}");
}

/// Pairing is decisive where independence is not: the same comparison on two seeds has
/// an interval about sqrt(5.44) = 2.3 times wider.
#[test]
fn pairing_narrows_the_interval() {
    let (a, b) = (variant(None), variant(Some("careful")));
    let n = 20_000;
    let spec = RunSpec { trials: n, seed: 5, threads: 1, max_events: 1000 };
    let out = crate::util::lockstep(&[&a, &b], &spec, 0..n);
    let paired = out.paired[0].level(1).difference;
    let ka = out.aggregates[0].levels[1].reached;
    let other = brink::sim::runner::run(&b, &RunSpec { seed: 6, ..spec.clone() }, &mut |_| {}).unwrap();
    let unpaired = brink::analysis::compare::unpaired_difference(ka, n, other.levels[1].reached, n);
    let w = |e: brink::analysis::compare::Estimate| e.high.unwrap() - e.low.unwrap();
    let ratio = w(unpaired) / w(paired);
    assert!(ratio > 1.9 && ratio < 2.8, "width ratio {ratio}");
}

#[test]
fn run_set_matches_separate_runs() {
    let m = model(COIN);
    let spec = RunSpec { trials: 5000, seed: 9, threads: 2, max_events: 1000 };
    let alone = brink::sim::runner::run(&m, &spec, &mut |_| {}).unwrap();
    let b = variant(Some("careful"));
    let together = crate::util::lockstep(&[&m, &b], &spec, 0..5000);
    assert_eq!(together.aggregates[0], alone, "lockstep runs are the same trials");
    // A range split in two merges to the whole.
    let mut first = crate::util::lockstep(&[&m], &spec, 0..1234);
    let second = crate::util::lockstep(&[&m], &spec, 1234..5000);
    first.merge(&second);
    assert_eq!(first.aggregates[0], alone);
}

fn brink() -> Command {
    Command::cargo_bin("brink").unwrap()
}

#[test]
fn compare_variants_writes_a_folder_per_run_and_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("coin.toml");
    std::fs::write(&file, COIN).unwrap();
    let out = dir.path().join("cmp");
    let assert = brink()
        .args([
            "compare",
            "--variants",
            "baseline,careful",
            "--trials",
            "4000",
            "--seed",
            "3",
            "--threads",
            "2",
        ])
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(stdout.contains("careful reaches war in"), "{stdout}");
    assert!(stdout.contains("pairing: correlation"), "{stdout}");
    for f in ["compare.csv", "report.html", "compare_levels.png", "compare_time_to_level.svg"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    for run in ["baseline", "careful"] {
        for f in ["levels.csv", "trials.csv", "report.html", "manifest.json"] {
            assert!(out.join(run).join(f).is_file(), "{run}/{f}");
        }
    }
    let csv = std::fs::read_to_string(out.join("compare.csv")).unwrap();
    assert!(csv.starts_with("metric,key,run,value,low,high\n"));
    let row = csv.lines().find(|l| l.starts_with("p_reached_difference,war,careful vs baseline,")).unwrap();
    let d: f64 = row.split(',').nth(3).unwrap().parse().unwrap();
    assert!((d + 0.1).abs() < tol(0.09, 4000), "{row}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<figure id=\"compare_levels\">") && html.contains("careful/report.html"));

    // Each run's folder is exactly what `brink run` writes for that variant.
    let solo = dir.path().join("solo");
    brink()
        .args(["run", "--variant", "careful", "--trials", "4000", "--seed", "3", "--quiet", "--out"])
        .arg(&solo)
        .arg(&file)
        .assert()
        .success();
    for f in ["levels.csv", "trials.csv", "daily.csv", "levels.png", "report.html"] {
        assert_eq!(
            std::fs::read(solo.join(f)).unwrap(),
            std::fs::read(out.join("careful").join(f)).unwrap(),
            "{f}"
        );
    }

    // Two results folders with the same seed and trials are compared paired, and agree.
    let base = dir.path().join("base");
    brink()
        .args(["run", "--trials", "4000", "--seed", "3", "--quiet", "--out"])
        .arg(&base)
        .arg(&file)
        .assert()
        .success();
    let folders = dir.path().join("folders");
    let assert = brink().arg("compare").arg(&base).arg(&solo).arg("--out").arg(&folders).assert().success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(stdout.contains("paired: same seed"), "{stdout}");
    let csv2 = std::fs::read_to_string(folders.join("compare.csv")).unwrap();
    let diff = |c: &str| {
        c.lines()
            .find(|l| l.starts_with("p_reached_difference,war,"))
            .unwrap()
            .split(',')
            .skip(3)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(diff(&csv), diff(&csv2), "folder comparison = live comparison");

    // Another seed: unpaired, and it says so.
    let other = dir.path().join("other");
    brink()
        .args(["run", "--variant", "careful", "--trials", "4000", "--seed", "4", "--quiet", "--out"])
        .arg(&other)
        .arg(&file)
        .assert()
        .success();
    brink()
        .arg("compare")
        .arg(&base)
        .arg(&other)
        .arg("--out")
        .arg(dir.path().join("unpaired"))
        .assert()
        .success()
        .stdout(predicates::str::contains("unpaired"))
        .stderr(predicates::str::contains("because of different seeds"));
}

#[test]
fn compare_results_do_not_depend_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    let mut csvs = Vec::new();
    for t in ["1", "3"] {
        let out = dir.path().join(format!("t{t}"));
        brink()
            .args([
                "compare",
                "--variants",
                "baseline,direct_warning",
                "--trials",
                "3000",
                "--quiet",
                "--threads",
                t,
            ])
            .arg(crate::util::bundled("baghdad-2020.toml"))
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        csvs.push((
            std::fs::read(out.join("compare.csv")).unwrap(),
            std::fs::read(out.join("report.html")).unwrap(),
        ));
    }
    assert_eq!(csvs[0], csvs[1]);
}

#[test]
fn compare_usage_errors_exit_2() {
    let minimal = crate::util::bundled("minimal.toml");
    brink().arg("compare").arg(&minimal).assert().code(2).stderr(predicates::str::contains("--variants"));
    brink()
        .args(["compare", "--variants", "baseline,hotlin"])
        .arg(&minimal)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("hotline"));
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.toml");
    std::fs::write(
        &other,
        "[scenario]\nname = \"o\"\nhorizon_days = 3\n[[levels]]\nid = \"a\"\n[[steps]]\nid = \"zzz\"\n",
    )
    .unwrap();
    brink()
        .arg("compare")
        .arg(&minimal)
        .arg(&other)
        .arg("--out")
        .arg(dir.path().join("x"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("share no step"));
}

/// --precision adds batches of trials until the paired interval is narrow enough, and
/// the result is byte-identical to a plain run of the final trial count.
/// For minimal.toml, P(war) falls by ~10 points with the hotline; the discordant share
/// is ~0.1, so the half-width is ~1.96 sqrt(0.1 / n): 0.3% needs n > 42,700, three
/// batches of 16,384 = 49,152 trials.
#[test]
fn precision_stops_at_a_batch_boundary_and_equals_a_plain_run() {
    let dir = tempfile::tempdir().unwrap();
    let minimal = crate::util::bundled("minimal.toml");
    let auto = dir.path().join("auto");
    let out = brink()
        .args(["compare", "--variants", "baseline,hotline", "--precision", "0.3%", "--out"])
        .arg(&auto)
        .arg(&minimal)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("reached with 49152 trials"), "{text}");
    let plain = dir.path().join("plain");
    brink()
        .args(["compare", "--variants", "baseline,hotline", "--trials", "49152", "--quiet", "--out"])
        .arg(&plain)
        .arg(&minimal)
        .assert()
        .success();
    for f in ["compare.csv", "baseline/trials.csv", "hotline/levels.csv", "report.html"] {
        assert_eq!(std::fs::read(auto.join(f)).unwrap(), std::fs::read(plain.join(f)).unwrap(), "{f}");
    }
}

/// `run --precision`: P(war) ~ 0.158 in minimal.toml; a 1% half-width needs
/// n > 1.96^2 x 0.158 x 0.842 / 0.01^2 = 5,110, so the first batch (16,384) is enough;
/// the folder equals a plain run of 16,384 trials.
#[test]
fn run_precision_equals_a_plain_run() {
    let dir = tempfile::tempdir().unwrap();
    let minimal = crate::util::bundled("minimal.toml");
    let auto = dir.path().join("auto");
    brink()
        .args(["run", "--precision", "1%", "--out"])
        .arg(&auto)
        .arg(&minimal)
        .assert()
        .success()
        .stdout(predicates::str::contains("precision 1.000 points on P(war): reached with 16384 trials"));
    let capped = dir.path().join("capped");
    brink()
        .args(["run", "--precision", "0.1%", "--max-trials", "20000", "--out"])
        .arg(&capped)
        .arg(&minimal)
        .assert()
        .success()
        .stdout(predicates::str::contains("NOT reached (--max-trials hit) with 20000 trials"));
    let plain = dir.path().join("plain");
    brink()
        .args(["run", "--trials", "16384", "--quiet", "--out"])
        .arg(&plain)
        .arg(&minimal)
        .assert()
        .success();
    for f in ["trials.csv", "levels.csv", "daily.csv", "levels.png"] {
        assert_eq!(std::fs::read(auto.join(f)).unwrap(), std::fs::read(plain.join(f)).unwrap(), "{f}");
    }
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(auto.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["trials"], 16384);
}
