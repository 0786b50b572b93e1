//! `brink sweep` and `brink sensitivity` against closed forms, and their CLI.

use crate::util::tol;
use assert_cmd::Command;

/// A step at `rate` per day whose branch `hit` (p) is terminal: P(war by T) =
/// 1 - exp(-rate p T) with T = 20.
const THINNED: &str = r#"
[scenario]
name = "thinned"
horizon_days = 20
trials = 4000
seed = 11
[params]
rate = 0.1
p = 0.3
cap = 3
unused = 7
[[levels]]
id = "calm"
[[levels]]
id = "war"
terminal = true
[[steps]]
id = "attack"
rate = "rate"
max = "cap"
  [[steps.branches]]
  id = "hit"
  p = "p"
  raise_to = "war"
  [[steps.branches]]
  id = "miss"
  p = "rest"
"#;

fn brink() -> Command {
    Command::cargo_bin("brink").unwrap()
}

fn write(dir: &std::path::Path) -> std::path::PathBuf {
    let f = dir.join("thinned.toml");
    std::fs::write(&f, THINNED).unwrap();
    f
}

fn rows(csv: &str) -> Vec<Vec<String>> {
    csv.lines().skip(1).map(|l| l.split(',').map(str::to_owned).collect()).collect()
}

/// P(war) at each rate matches the closed form (the cap of 3 firings changes it only
/// through P(more than 3 firings before the first hit), which the formula below
/// includes exactly: war iff one of the first 3 firings (within T) hits).
#[test]
fn sweep_follows_the_closed_form_and_is_monotone() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path());
    let out = dir.path().join("sw");
    brink()
        .args(["sweep", "--param", "rate=0.05:0.35:4", "--quiet", "--out"])
        .arg(&out)
        .arg(&f)
        .assert()
        .success();
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    assert!(csv.starts_with("rate,level,p_reached,p_low,p_high,trials_reached\n"), "{csv}");
    let war: Vec<(f64, f64)> = rows(&csv)
        .into_iter()
        .filter(|r| r[1] == "war")
        .map(|r| (r[0].parse().unwrap(), r[2].parse().unwrap()))
        .collect();
    assert_eq!(war.len(), 4);
    for w in war.windows(2) {
        assert!(w[1].1 >= w[0].1, "common random numbers make P(war) monotone in the rate: {war:?}");
    }
    for (rate, p) in war {
        // N ~ Poisson(rate T) firings, capped at 3; each hits with 0.3:
        // P(war) = sum_k P(min(N, 3) = k) (1 - 0.7^k).
        let m = rate * 20.0;
        let pk = |k: i32| (-m).exp() * m.powi(k) / (1..=k).product::<i32>().max(1) as f64;
        let p3 = 1.0 - pk(0) - pk(1) - pk(2);
        let want = pk(1) * 0.3 + pk(2) * (1.0 - 0.49) + p3 * (1.0 - 0.343);
        assert!((p - want).abs() < tol(want * (1.0 - want), 4000), "rate {rate}: {p} vs {want}");
    }
    assert!(out.join("sweep.png").is_file() && out.join("manifest.json").is_file());
}

#[test]
fn two_axis_sweep_writes_a_grid() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path());
    let out = dir.path().join("grid");
    brink()
        .args([
            "sweep",
            "--param",
            "rate=0.1:0.2:2",
            "--param",
            "p=0.2:0.4:3",
            "--trials",
            "500",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .arg(&f)
        .assert()
        .success();
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    assert!(csv.starts_with("rate,p,level,"));
    assert_eq!(rows(&csv).len(), 2 * 3 * 2, "grid points x levels");
    assert!(out.join("sweep.svg").is_file());
}

#[test]
fn sensitivity_caps_probabilities_rounds_counts_and_skips_unused_params() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path());
    let out = dir.path().join("sens");
    let src = THINNED.replace("p = 0.3", "p = 0.9");
    std::fs::write(&f, src).unwrap();
    brink()
        .args(["sensitivity", "--spread", "0.25", "--quiet", "--out"])
        .arg(&out)
        .arg(&f)
        .assert()
        .success();
    let csv = std::fs::read_to_string(out.join("sensitivity.csv")).unwrap();
    let r = rows(&csv);
    let find = |name: &str| r.iter().find(|x| x[0] == name).cloned();
    let p = find("p").unwrap();
    assert_eq!((p[2].as_str(), p[3].as_str()), ("0.675", "1"), "0.9 x 1.25 is capped at 1");
    let cap = find("cap").unwrap();
    assert_eq!((cap[2].as_str(), cap[3].as_str()), ("2", "4"), "3 x 0.75 and 3 x 1.25 rounded");
    assert!(find("unused").is_none(), "params no field uses are not varied");
    // Sorted by swing, largest first.
    let swings: Vec<f64> = r.iter().map(|x| x[18].parse().unwrap()).collect();
    assert!(swings.windows(2).all(|w| w[0] >= w[1]), "{swings:?}");
    assert!(out.join("tornado.png").is_file());
}

#[test]
fn explore_usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path());
    brink()
        .args(["sweep", "--param", "rate=0:1"])
        .arg(&f)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("FROM:TO:STEPS"));
    brink()
        .args(["sweep", "--param", "rat=0:1:3", "--out"])
        .arg(dir.path().join("x"))
        .arg(&f)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("did you mean `rate`"));
    brink()
        .args(["sweep", "--param", "p=0.5:1.5:3", "--out"])
        .arg(dir.path().join("y"))
        .arg(&f)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("probability"));
    brink()
        .args(["sensitivity", "--metric", "wr", "--out"])
        .arg(dir.path().join("z"))
        .arg(&f)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("`war`"));
    brink().args(["sensitivity", "--spread", "1.5"]).arg(&f).assert().code(2);
}
