//! Shards of `brink compare`, `sweep` and `sensitivity`: merged, they give exactly the
//! folder of the unsharded command (charts and report included; for a comparison only
//! the wall-clock fields of each run's manifest.json differ), for several N, uneven
//! splits and N beyond the number of 2048-trial chunks or of grid points. Sweeps shard by
//! trials or by grid points. Mixtures of kinds, designs and damaged state are refused.

use crate::shards::{assert_same_folder, files, forge_digests, ok, refused};
use crate::util::{brink, bundled};
use brink::sim::runner::CHUNK;
use std::path::{Path, PathBuf};

/// Three chunks of 2048 (the last partial); 3 and 7 do not divide it.
const TRIALS: &str = "5000";

/// Runs `brink <command> <scenario> <args> --shard K/N` for every K into `dir/<name>-K`
/// (with 1 or 2 threads), and returns the shard folders in reverse, to show that the
/// order given to merge does not matter.
fn shards(
    command: &str,
    scenarios: &[PathBuf],
    dir: &Path,
    name: &str,
    n: u64,
    args: &[&str],
) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = (0..n)
        .map(|k| {
            let out = dir.join(format!("{name}-{k}"));
            let threads = (k % 2 + 1).to_string();
            ok(brink()
                .arg(command)
                .args(scenarios)
                .args(args)
                .args(["--shard", &format!("{k}/{n}"), "--threads", &threads, "--quiet", "--out"])
                .arg(&out));
            out
        })
        .collect();
    dirs.reverse();
    dirs
}

/// The unsharded command's folder, `dir/<name>`.
fn single(command: &str, scenarios: &[PathBuf], dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    ok(brink().arg(command).args(scenarios).args(args).args(["--quiet", "--out"]).arg(&out));
    out
}

/// Merges `dirs` into `dir/<name>` and checks it against `want`; returns merge's output.
fn merged_equals(dirs: &[PathBuf], dir: &Path, name: &str, want: &Path, charts: &[&str]) -> String {
    let out = dir.join(name);
    let text = ok(brink().arg("merge").args(dirs).args(charts).arg("--out").arg(&out));
    assert_same_folder(want, &out, name);
    text
}

#[test]
fn compare_shards_merge_into_the_single_comparison() {
    assert!(5000u64.div_ceil(CHUNK) < 7, "7 shards should be more than the chunks");
    let tmp = tempfile::tempdir().unwrap();
    let scenario = [bundled("minimal.toml")];
    let args = ["--variants", "baseline,hotline", "--trials", TRIALS, "--seed", "3"];
    let want = single("compare", &scenario, tmp.path(), "single", &args);
    for n in [1, 3, 7] {
        let dirs = shards("compare", &scenario, tmp.path(), &format!("s{n}"), n, &args);
        let text = merged_equals(&dirs, tmp.path(), &format!("merged-{n}"), &want, &[]);
        assert!(text.starts_with(&format!("merged {n} shards of 5000 trials\n")), "{text}");
        assert!(text.contains("hotline reaches"), "{text}");
    }
    let d = tmp.path().join("s3-1");
    assert_eq!(files(&d), ["baseline", "hotline", "paired.json", "shard.json"]);
    // A run name is a sub-folder: a name that leads outside the results is refused.
    let evil = tmp.path().join("evil");
    std::fs::create_dir(&evil).unwrap();
    for k in 0..3 {
        let from = tmp.path().join(format!("s3-{k}"));
        let to = evil.join(k.to_string());
        assert!(std::process::Command::new("cp").arg("-r").arg(&from).arg(&to).status().unwrap().success());
        let mut m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(to.join("shard.json")).unwrap()).unwrap();
        m["runs"][1]["name"] = "../../escaped".into();
        std::fs::write(to.join("shard.json"), serde_json::to_vec(&m).unwrap()).unwrap();
    }
    let dirs: Vec<PathBuf> = (0..3).map(|k| evil.join(k.to_string())).collect();
    let o = brink()
        .arg("merge")
        .args(&dirs)
        .args(["--charts", "none", "--out"])
        .arg(evil.join("m"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not a plain folder name"));
    assert!(!tmp.path().join("escaped").exists() && !evil.join("m").exists());
    assert_eq!(files(&d.join("hotline")), ["aggregate.json", "scenario.toml", "trials.csv"]);
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("shard.json")).unwrap()).unwrap();
    assert_eq!(
        (m["kind"].as_str(), m["first_trial"].as_u64(), m["end_trial"].as_u64()),
        (Some("compare"), Some(1666), Some(3333))
    );
    assert_eq!(m["runs"][1]["variant"], "hotline");
    assert_eq!(m["runs"][1]["params"]["p_retaliation"], 0.1);
    let p: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("paired.json")).unwrap()).unwrap();
    assert_eq!(p["format"], "brink-paired/1");
    assert_eq!(
        (p["pairs"][0]["a"].as_str(), p["pairs"][0]["b"].as_str()),
        (Some("baseline"), Some("hotline"))
    );
    assert_eq!(p["pairs"][0]["paired"]["trials"], 1667);
    // Exact sums: 128-bit as decimal text, 256-bit as hex.
    assert!(p["pairs"][0]["paired"]["tally_sums"][0]["sum_a"].is_string());
    assert!(p["pairs"][0]["paired"]["tally_sums"][0]["sum_dd"].as_str().unwrap().starts_with("0x"));
}

#[test]
fn a_comparison_of_two_files_without_trials_csv_merges_too() {
    let tmp = tempfile::tempdir().unwrap();
    let other = tmp.path().join("minimal-b.toml");
    let text = std::fs::read_to_string(bundled("minimal.toml")).unwrap();
    std::fs::write(&other, text.replace("p_clash = 0.2 ", "p_clash = 0.3 ")).unwrap();
    let scenarios = [bundled("minimal.toml"), other];
    let args = ["--trials", "1000", "--set", "incident_rate=0.2", "--no-trials-csv", "--charts", "none"];
    let want = single("compare", &scenarios, tmp.path(), "single", &args);
    let dirs = shards("compare", &scenarios, tmp.path(), "s", 4, &args);
    merged_equals(&dirs, tmp.path(), "merged", &want, &["--charts", "none"]);
    assert!(!tmp.path().join("merged/minimal-a/trials.csv").exists());
    assert!(tmp.path().join("merged/minimal-b/levels.csv").is_file());
}

#[test]
fn sweep_shards_merge_by_trials_and_by_grid_points() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = [bundled("minimal.toml")];
    // Six grid points.
    let grid = ["--param", "incident_rate=0.05:0.15:3", "--param", "p_clash=0.1:0.3:2", "--trials", TRIALS];
    let want = single("sweep", &scenario, tmp.path(), "single", &grid);
    for (split, n) in [("trials", 2), ("trials", 7), ("points", 4), ("points", 7)] {
        let name = format!("{split}-{n}");
        let args = [&grid[..], &["--shard-by", split]].concat();
        let dirs = shards("sweep", &scenario, tmp.path(), &name, n, &args);
        let text = merged_equals(&dirs, tmp.path(), &format!("merged-{name}"), &want, &[]);
        assert!(text.starts_with(&format!("merged {n} shards of a sweep of 6 grid points\n")), "{text}");
    }
    // By points, 7 shards of 6 points: shard 0 has none (k*6/7).
    let empty: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("points-7-0/counts.json")).unwrap()).unwrap();
    assert_eq!(empty["counts"].as_array().map(Vec::len), Some(0));
    let c: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("trials-7-3/counts.json")).unwrap()).unwrap();
    assert_eq!(c["format"], "brink-counts/1");
    assert_eq!(c["levels"], serde_json::json!(["calm", "clash", "war"]));
    assert_eq!(c["counts"].as_array().map(Vec::len), Some(6));
    assert_eq!(c["counts"][0]["trials"], 715);
}

#[test]
fn sensitivity_shards_merge_into_the_single_analysis() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = [bundled("minimal.toml")];
    let args = ["--trials", TRIALS, "--spread", "0.2", "--metric", "clash"];
    let want = single("sensitivity", &scenario, tmp.path(), "single", &args);
    for n in [3, 7] {
        let dirs = shards("sensitivity", &scenario, tmp.path(), &format!("s{n}"), n, &args);
        merged_equals(&dirs, tmp.path(), &format!("merged-{n}"), &want, &[]);
    }
    assert_eq!(
        files(&tmp.path().join("s3-0")),
        ["counts.json", "paired.json", "scenario.toml", "shard.json"]
    );
}

/// A copy of a shard folder, to damage.
fn copy(from: &Path, to: &Path) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    for f in files(from) {
        std::fs::copy(from.join(&f), to.join(&f)).unwrap();
    }
    to.to_owned()
}

#[test]
fn mixtures_of_kinds_and_designs_and_damaged_state_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let scenario = [bundled("minimal.toml")];
    let out = t.join("merged");
    let name = |p: &Path| p.display().to_string();
    let cmp = ["--variants", "baseline,hotline", "--trials", "600", "--charts", "none"];
    let c = shards("compare", &scenario, t, "c", 2, &cmp);
    let run = crate::shards::shards(&scenario[0], t, "run", 2, &["--trials", "600"]);
    let e = refused(&[&c[0], &run[1]], &out);
    assert!(
        e.contains(&name(&run[1])) && e.contains("its command is `brink run`, not `brink compare`"),
        "{e}"
    );
    let other =
        shards("compare", &scenario, t, "o", 2, &["--variants", "hotline,baseline", "--trials", "600"]);
    let e = refused(&[&c[0], &other[0]], &out);
    assert!(e.contains(&name(&other[0])) && e.contains("variant is `hotline`, not baseline"), "{e}");
    let three = ["--variants", "baseline,hotline,hotline", "--trials", "600"];
    let o = brink()
        .arg("compare")
        .args(&scenario)
        .args(three)
        .args(["--shard", "0/2", "--out"])
        .arg(t.join("x"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "a variant listed twice");
    let swapped = ["--variants", "baseline,hotline", "--trials", "600", "--set", "p_clash=0.2"];
    let other = shards("compare", &scenario, t, "p", 2, &swapped);
    let e = refused(&[&c[0], &other[0]], &out);
    assert!(e.contains(&name(&other[0])) && e.contains("--set list is `p_clash=0.2`, not empty"), "{e}");

    let grid = ["--param", "p_clash=0.1:0.3:3", "--trials", "600"];
    let by_trials = shards("sweep", &scenario, t, "wt", 2, &grid);
    let by_points = shards("sweep", &scenario, t, "wp", 2, &[&grid[..], &["--shard-by", "points"]].concat());
    let e = refused(&[&by_trials[1], &by_points[0]], &out);
    assert!(e.contains(&name(&by_points[0])) && e.contains("sweep split is by points, not by trials"), "{e}");
    let wider = shards("sweep", &scenario, t, "ww", 2, &["--param", "p_clash=0.1:0.4:3", "--trials", "600"]);
    let e = refused(&[&by_trials[1], &wider[0]], &out);
    assert!(
        e.contains(&name(&wider[0]))
            && e.contains("sweep grid is p_clash = [0.1, 0.25, 0.4], not p_clash = [0.1, 0.2, 0.3]"),
        "{e}"
    );
    let s1 = shards("sensitivity", &scenario, t, "s1", 2, &["--trials", "600"]);
    let s2 = shards("sensitivity", &scenario, t, "s2", 2, &["--trials", "600", "--spread", "0.1"]);
    let e = refused(&[&s1[0], &s2[0]], &out);
    assert!(e.contains("sensitivity design is --spread 0.1"), "{e}");

    // Damaged state: a pairing or a count that does not hold the shard's trials.
    let bad = copy(&s1[1], &t.join("bad-paired"));
    let text = std::fs::read_to_string(bad.join("paired.json")).unwrap();
    std::fs::write(bad.join("paired.json"), text.replacen("\"trials\":300", "\"trials\":301", 1)).unwrap();
    let e = refused(&[&s1[0], &bad], &out);
    assert!(e.contains(&name(&bad.join("paired.json"))) && e.contains("SHA-256"), "{e}");
    forge_digests(&bad);
    let e = refused(&[&s1[0], &bad], &out);
    assert!(
        e.contains(&name(&bad.join("paired.json"))) && e.contains("301 trials, but shard 0/2 has 300"),
        "{e}"
    );
    let bad = copy(&by_trials[0], &t.join("bad-counts"));
    let text = std::fs::read_to_string(bad.join("counts.json")).unwrap();
    std::fs::write(bad.join("counts.json"), text.replacen("\"trials\":300", "\"trials\":299", 1)).unwrap();
    forge_digests(&bad);
    let e = refused(&[&by_trials[1], &bad], &out);
    assert!(e.contains(&name(&bad.join("counts.json"))) && e.contains("setting 0"), "{e}");
    let bad = copy(&by_points[0], &t.join("bad-format"));
    let text = std::fs::read_to_string(bad.join("counts.json")).unwrap();
    std::fs::write(bad.join("counts.json"), text.replace("brink-counts/1", "brink-counts/2")).unwrap();
    forge_digests(&bad);
    let e = refused(&[&by_points[1], &bad], &out);
    assert!(e.contains("format `brink-counts/2` is not `brink-counts/1`"), "{e}");

    // A sweep design `brink sweep` would not accept (here an axis without values, which
    // would leave nothing to draw): refused, not a panic.
    let bad = copy(&by_trials[0], &t.join("bad-axis"));
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bad.join("shard.json")).unwrap()).unwrap();
    m["sweep"]["axes"][0]["values"] = serde_json::json!([]);
    std::fs::write(bad.join("shard.json"), serde_json::to_vec(&m).unwrap()).unwrap();
    let e = refused(&[&bad, &by_trials[1]], &out);
    assert!(e.contains("every sweep axis needs at least one finite value"), "{e}");

    // Shards of another brink version, even all of them.
    let old: Vec<PathBuf> =
        by_trials.iter().enumerate().map(|(k, d)| copy(d, &t.join(format!("old-{k}")))).collect();
    for d in &old {
        let m = std::fs::read_to_string(d.join("shard.json")).unwrap();
        let v = format!("\"brink_version\": \"{}\"", env!("CARGO_PKG_VERSION"));
        std::fs::write(d.join("shard.json"), m.replace(&v, "\"brink_version\": \"0.0.1\"")).unwrap();
    }
    let e = refused(&[&old[0], &old[1]], &out);
    assert!(e.contains("written by brink 0.0.1") && e.contains(&name(&old[0])), "{e}");

    // The shards themselves still merge.
    for set in [&c, &by_trials, &by_points, &s1] {
        ok(brink()
            .arg("merge")
            .args(set)
            .args(["--quiet", "--charts", "none", "--force", "--out"])
            .arg(&out));
    }
}

#[test]
fn the_shard_flags_of_compare_sweep_and_sensitivity_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let m = bundled("minimal.toml");
    let results = tmp.path().join("r");
    ok(brink()
        .arg("run")
        .arg(&m)
        .args(["--trials", "50", "--charts", "none", "--quiet", "--out"])
        .arg(&results));
    let r = results.display().to_string();
    let s = m.display().to_string();
    for (args, message) in [
        (vec!["compare", &r, &r, "--shard", "0/2"], "give scenarios, not results folders"),
        (
            vec!["compare", &s, "--variants", "baseline,hotline", "--shard", "0/2", "--precision", "0.01"],
            "cannot be used with",
        ),
        (vec!["sweep", &s, "--param", "p_clash=0.1:0.3:3", "--shard-by", "points"], "--shard <K/N>"),
        (
            vec!["sweep", &s, "--param", "p_clash=0.1:0.3:3", "--shard", "0/2", "--shard-by", "grid"],
            "invalid value",
        ),
        (vec!["sensitivity", &s, "--shard", "2/2"], "numbered 0 to 1"),
    ] {
        let o = brink().args(&args).arg("--out").arg(tmp.path().join("x")).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(message), "{args:?}: {e}");
    }
    // Without --out, a shard goes next to the unsharded results.
    let o = brink()
        .current_dir(tmp.path())
        .arg("sweep")
        .arg(&m)
        .args(["--param", "p_clash=0.1:0.3:3", "--trials", "10", "--shard", "1/2", "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(tmp.path().join("output/minimal-sweep-shard-1-of-2/shard.json").is_file());
}
