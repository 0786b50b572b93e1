//! Issue 12, items 6 and 9 (first half): merges that cannot be fooled, and comparisons
//! that describe each run by its own manifest.
//!
//! Every file of a shard, `trials.csv` and `events.csv` included, carries a SHA-256 in
//! `shard.json`, computed as the file was written; the digests must be there, and merge
//! checks every file against its digest (the row files while it copies them) and every
//! trial id of `trials.csv` against the shard's range. An edit that keeps the size, a
//! forged digest, an emptied digest list or an older shard format is refused, naming the
//! shard folder and the file, and no merged folder is left behind.

use crate::shards::{files, forge_digests, ok, refused};
use crate::util::{brink, bundled};
use std::path::{Path, PathBuf};

/// 3,000 trials in 3 shards: shard 1 holds trials 1000..2000.
const TRIALS: &str = "3000";

/// The three shards of minimal.toml (with events.csv for the first 1,200 trials, so that
/// shard 1 has some), under `dir`.
fn three_shards(dir: &Path) -> Vec<PathBuf> {
    let args = ["--trials", TRIALS, "--seed", "5", "--events", "1200"];
    crate::shards::shards(&bundled("minimal.toml"), dir, "s", 3, &args)
}

/// A copy of the shard folder `from` (with its sub-folders) at `to`.
fn copy(from: &Path, to: &Path) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    for f in files(from) {
        if from.join(&f).is_dir() {
            copy(&from.join(&f), &to.join(&f));
        } else {
            std::fs::copy(from.join(&f), to.join(&f)).unwrap();
        }
    }
    to.to_owned()
}

/// Rewrites the rows of `path` (not its header) with `edit(row number from 1, fields)`.
fn edit_rows(path: &Path, mut edit: impl FnMut(usize, &mut Vec<String>)) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    for (i, line) in lines.enumerate() {
        let mut fields: Vec<String> = line.split(',').map(str::to_owned).collect();
        edit(i + 1, &mut fields);
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

/// shard.json of `dir`, edited by `edit`.
fn edit_manifest(dir: &Path, edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) {
    let path = dir.join("shard.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(m.as_object_mut().unwrap());
    std::fs::write(&path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
}

fn name(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn every_file_of_a_shard_has_a_sha256_in_shard_json() {
    let tmp = tempfile::tempdir().unwrap();
    let s = three_shards(tmp.path());
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s[1].join("shard.json")).unwrap()).unwrap();
    assert_eq!(m["format"], "brink-shard/4");
    let digests = m["digests"].as_array().unwrap();
    let paths: Vec<&str> = digests.iter().map(|d| d["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["aggregate.json", "events.csv", "scenario.toml", "trials.csv"]);
    use sha2::{Digest, Sha256};
    for d in digests {
        let bytes = std::fs::read(s[1].join(d["path"].as_str().unwrap())).unwrap();
        let hex: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(d["sha256"], hex, "{}", d["path"]);
        assert_eq!(d["bytes"], bytes.len() as u64, "{}", d["path"]);
    }
}

#[test]
fn edits_of_the_rows_that_keep_their_size_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let s = three_shards(t);
    let out = t.join("merged");

    // A tally of one trial changed from a 1 to a 9 (the size stays the same).
    let bad = copy(&s[1], &t.join("tally"));
    let rows = std::fs::read_to_string(bad.join("trials.csv")).unwrap();
    let col = rows.lines().next().unwrap().split(',').position(|h| h == "soldiers_killed").unwrap();
    let mut edited = false;
    edit_rows(&bad.join("trials.csv"), |_, f| {
        if !edited && f[col].len() == 1 && f[col] != "9" {
            f[col] = "9".into();
            edited = true;
        }
    });
    assert!(edited, "no trial with a one-digit tally");
    assert_eq!(std::fs::metadata(bad.join("trials.csv")).unwrap().len(), rows.len() as u64);
    let e = refused(&[&s[0], &bad, &s[2]], &out);
    assert!(e.contains(&name(&bad.join("trials.csv"))) && e.contains("SHA-256"), "{e}");

    // Trial 1003 renamed 1004.
    let bad = copy(&s[1], &t.join("id"));
    edit_rows(&bad.join("trials.csv"), |_, f| {
        if f[0] == "1003" {
            f[0] = "1004".into();
        }
    });
    let e = refused(&[&s[0], &bad, &s[2]], &out);
    assert!(e.contains(&name(&bad.join("trials.csv"))) && e.contains("SHA-256"), "{e}");
    // The same with the digests forged to match: the trial ids give it away.
    forge_digests(&bad);
    let e = refused(&[&s[0], &bad, &s[2]], &out);
    assert!(e.contains(&name(&bad.join("trials.csv"))) && e.contains("row 4 is trial 1004, not 1003"), "{e}");

    // One digit of events.csv.
    let bad = copy(&s[1], &t.join("events"));
    let text = std::fs::read_to_string(bad.join("events.csv")).unwrap();
    let at = text.find(",1\n").expect("an event with one soldier killed");
    std::fs::write(bad.join("events.csv"), format!("{},2\n{}", &text[..at], &text[at + 3..])).unwrap();
    let e = refused(&[&s[0], &bad, &s[2]], &out);
    assert!(e.contains(&name(&bad.join("events.csv"))) && e.contains("SHA-256"), "{e}");

    // An events.csv row moved to a trial outside the shard, digests forged.
    let bad = copy(&s[1], &t.join("events-id"));
    edit_rows(&bad.join("events.csv"), |i, f| {
        if i == 1 {
            f[0] = "2000".into();
        }
    });
    forge_digests(&bad);
    let e = refused(&[&s[0], &bad, &s[2]], &out);
    assert!(e.contains(&name(&bad.join("events.csv"))) && e.contains("trial 2000"), "{e}");

    // The shards themselves still merge.
    ok(brink().arg("merge").args(&s).args(["--quiet", "--charts", "none", "--out"]).arg(&out));
}

#[test]
fn shards_whose_trial_ids_are_shifted_or_reordered_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let s = three_shards(t);
    let out = t.join("merged");

    // Every trial id after the first moved up by one: 1000, 1002, 1003, ..., 2000.
    let bad = copy(&s[1], &t.join("shifted"));
    edit_rows(&bad.join("trials.csv"), |i, f| {
        if i > 1 {
            f[0] = (f[0].parse::<u64>().unwrap() + 1).to_string();
        }
    });
    forge_digests(&bad);
    let e = refused(&[&s[0], &bad, &s[2]], &out);
    assert!(e.contains(&name(&bad.join("trials.csv"))) && e.contains("row 2 is trial 1002, not 1001"), "{e}");

    // Two rows swapped: ids and count right, order wrong.
    let bad = copy(&s[1], &t.join("swapped"));
    let text = std::fs::read_to_string(bad.join("trials.csv")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.swap(10, 11);
    std::fs::write(bad.join("trials.csv"), lines.join("\n") + "\n").unwrap();
    forge_digests(&bad);
    let e = refused(&[&s[0], &bad, &s[2]], &out);
    assert!(
        e.contains(&name(&bad.join("trials.csv"))) && e.contains("row 10 is trial 1010, not 1009"),
        "{e}"
    );

    // A trial id that is not a number.
    let bad = copy(&s[1], &t.join("text"));
    edit_rows(&bad.join("trials.csv"), |i, f| {
        if i == 7 {
            f[0] = "10x6".into();
        }
    });
    forge_digests(&bad);
    let e = refused(&[&s[0], &bad, &s[2]], &out);
    assert!(e.contains(&name(&bad.join("trials.csv"))) && e.contains("row 7"), "{e}");
}

#[test]
fn digests_must_be_present_and_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let s = three_shards(t);
    let out = t.join("merged");

    // Emptied, and trial 1003 renamed 1004: the check must not switch off.
    let bad = copy(&s[1], &t.join("empty"));
    edit_rows(&bad.join("trials.csv"), |_, f| {
        if f[0] == "1003" {
            f[0] = "1004".into();
        }
    });
    edit_manifest(&bad, |m| {
        m.insert("digests".into(), serde_json::json!([]));
    });
    let e = refused(&[&s[0], &bad, &s[2]], &out);
    assert!(e.contains(&name(&bad)) && e.contains("digests") && e.contains("empty"), "{e}");

    // Removed.
    let bad = copy(&s[1], &t.join("missing"));
    edit_manifest(&bad, |m| {
        m.remove("digests");
    });
    let e = refused(&[&s[0], &bad, &s[2]], &out);
    assert!(e.contains(&name(&bad)) && e.contains("no `digests`"), "{e}");

    // The digest of trials.csv alone removed.
    let bad = copy(&s[1], &t.join("no-rows"));
    edit_manifest(&bad, |m| {
        m["digests"].as_array_mut().unwrap().retain(|d| d["path"] != "trials.csv");
    });
    let e = refused(&[&s[0], &bad, &s[2]], &out);
    assert!(e.contains(&name(&bad)) && e.contains("no digest of trials.csv"), "{e}");

    // A digest without its SHA-256, or with an empty one.
    for (case, value) in [("no-sha", None), ("empty-sha", Some(""))] {
        let bad = copy(&s[1], &t.join(case));
        edit_manifest(&bad, |m| {
            for d in m["digests"].as_array_mut().unwrap() {
                if d["path"] == "events.csv" {
                    match value {
                        None => {
                            d.as_object_mut().unwrap().remove("sha256");
                        }
                        Some(v) => d["sha256"] = v.into(),
                    }
                }
            }
        });
        let e = refused(&[&s[0], &bad, &s[2]], &out);
        assert!(e.contains(&name(&bad)) && e.contains("sha256"), "{case}: {e}");
    }

    // A shard of the older format, whose row files carry no SHA-256.
    let bad = copy(&s[1], &t.join("old"));
    edit_manifest(&bad, |m| {
        m.insert("format".into(), "brink-shard/2".into());
    });
    let e = refused(&[&s[0], &bad, &s[2]], &out);
    assert!(
        e.contains(&name(&bad)) && e.contains("brink-shard/2") && e.contains("run the shard again"),
        "{e}"
    );
}

#[test]
fn every_compared_runs_rows_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let args = ["--variants", "baseline,hotline", "--trials", "2000", "--seed", "3", "--charts", "none"];
    let dirs: Vec<PathBuf> = (0..2)
        .map(|k| {
            let out = t.join(format!("c-{k}"));
            ok(brink()
                .arg("compare")
                .arg(bundled("minimal.toml"))
                .args(args)
                .args(["--shard", &format!("{k}/2"), "--quiet", "--out"])
                .arg(&out));
            out
        })
        .collect();
    let out = t.join("merged");
    let bad = copy(&dirs[1], &t.join("bad"));
    edit_rows(&bad.join("hotline").join("trials.csv"), |i, f| {
        if i == 5 {
            f[1] =
                if f[1].starts_with('1') { f[1].replacen('1', "2", 1) } else { format!("1{}", &f[1][1..]) };
        }
    });
    let e = refused(&[&dirs[0], &bad], &out);
    assert!(e.contains(&name(&bad.join("hotline").join("trials.csv"))) && e.contains("SHA-256"), "{e}");
    ok(brink().arg("merge").args(&dirs).args(["--quiet", "--charts", "none", "--out"]).arg(&out));
}

/// `brink run minimal.toml` into `dir/<name>` with these trials and seed.
fn run(dir: &Path, name: &str, trials: &str, seed: &str) -> PathBuf {
    let out = dir.join(name);
    ok(brink()
        .arg("run")
        .arg(bundled("minimal.toml"))
        .args(["--trials", trials, "--seed", seed, "--quiet", "--out"])
        .arg(&out));
    out
}

/// `brink compare a b --out dir/<name>`: (stdout, stderr, report.html).
fn compare(a: &Path, b: &Path, out: &Path) -> (String, String, String) {
    let o = brink().arg("compare").arg(a).arg(b).arg("--out").arg(out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned(), report)
}

#[test]
fn a_comparison_of_runs_with_other_trials_or_seeds_describes_each_run() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let small = run(t, "small", "1000", "1");
    let big = run(t, "big", "3000", "2");
    let (stdout, stderr, report) = compare(&small, &big, &t.join("c1"));
    let first = stdout.lines().next().unwrap();
    assert_eq!(
        first,
        "2 runs: small (minimal, baseline, 1000 trials, seed 1), big (minimal, baseline, 3000 trials, seed 2); unpaired (different seeds and trial counts): independent samples (Newcombe and Welch intervals)",
        "{stdout}"
    );
    assert!(stderr.contains("different seeds and trial counts"), "{stderr}");
    assert!(!report.contains("trials per run") && !report.contains("trials each"), "{report}");
    assert!(report.contains("Unpaired comparison (different seeds and trial counts)"), "report");
    assert!(report.contains("<th class=\"n\">trials</th>"), "the runs table gives each run's trials");
    assert!(report.contains("<td class=\"n\">3000</td>") && report.contains("<td class=\"n\">1000</td>"));
    // The chart subtitles (inline SVG) give each run's trials and seed.
    assert!(report.contains("1,000 trials, seed 1 vs 3,000 trials, seed 2"), "chart subtitle");
    let csv = std::fs::read_to_string(t.join("c1").join("compare.csv")).unwrap();
    assert!(csv.contains("p_reached,war,big,"), "{csv}");

    // Same seed, other trial counts; other seed, same trial count.
    let same_seed = run(t, "same-seed", "2000", "1");
    let (stdout, _, report) = compare(&small, &same_seed, &t.join("c2"));
    assert!(stdout.starts_with("2 runs: small (minimal, baseline, 1000 trials, seed 1), same-seed (minimal, baseline, 2000 trials, seed 1); unpaired (different trial counts)"), "{stdout}");
    assert!(report.contains("Unpaired comparison (different trial counts)"));
    let other_seed = run(t, "other-seed", "1000", "9");
    let (stdout, stderr, _) = compare(&small, &other_seed, &t.join("c3"));
    assert!(stdout.starts_with("2 runs: small (minimal, baseline, 1000 trials, seed 1), other-seed (minimal, baseline, 1000 trials, seed 9); unpaired (different seeds)"), "{stdout}");
    assert!(stderr.contains("different seeds"), "{stderr}");

    // The same seed and trials: paired, and worded as before.
    let twin = run(t, "twin", "1000", "1");
    let (stdout, _, report) = compare(&small, &twin, &t.join("c4"));
    assert!(
        stdout.starts_with("2 runs, 1000 trials each; paired: same seed and trials, common random numbers\n"),
        "{stdout}"
    );
    assert!(report.contains("1000 trials per run. Paired comparison"));
    assert!(report.contains("1,000 trials each, seed 1"));
}

/// A shard whose `scenario.toml` is a link to `/dev/zero` (size 0 through the link's
/// target, so the size check alone passed) or a FIFO made the merge read forever: every
/// file merge reads must be a regular file of the shard.
#[test]
fn digests_of_links_and_pipes_are_refused_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let s = three_shards(tmp.path());
    let link = s[1].join("scenario.toml");
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    edit_manifest(&s[1], |m| {
        for d in m["digests"].as_array_mut().unwrap() {
            if d["path"] == "scenario.toml" {
                d["bytes"] = 0.into();
            }
        }
    });
    let dirs: Vec<&Path> = s.iter().map(PathBuf::as_path).collect();
    let err = crate::util::brink()
        .arg("merge")
        .args(&dirs)
        .arg("--out")
        .arg(tmp.path().join("m"))
        .arg("--charts")
        .arg("none")
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(err.status.code(), Some(2), "{}", String::from_utf8_lossy(&err.stderr));
    let text = String::from_utf8_lossy(&err.stderr);
    assert!(text.contains("scenario.toml") && text.contains("not a regular file"), "{text}");
    assert!(!tmp.path().join("m").exists());
}
