//! Shards (`brink run --shard K/N`) and `brink merge`: the merged folder is byte for byte
//! what one `brink run` of all the trials writes (charts and report included), for any
//! N, uneven splits and N beyond the number of 2048-trial chunks; only the wall-clock
//! fields of manifest.json differ. Shards of different runs, duplicates and gaps are
//! refused with a message naming the shard.

use crate::util::{brink, bundled, SMALL_SPREAD};
use brink::scenario::{self, Overrides};
use brink::shard::{AggregateFile, Shard, AGGREGATE_FORMAT};
use brink::sim::runner::{self, RunSpec, CHUNK};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// 10,001 trials: five chunks of 2048, the last one partial, and no N > 1 divides it.
const TRIALS: u64 = 10_001;
const SEED: &str = "7";
/// events.csv for the first 40 trials, so that it spans shard boundaries.
const EVENTS: &str = "40";

pub(crate) fn ok(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{:?} failed:\n{}", cmd, String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Rewrites `shard.json`'s record of its files (sizes, SHA-256) to match them as they
/// are now, as someone editing a shard by hand might: the checks behind the digests are
/// then tested too.
pub(crate) fn forge_digests(dir: &Path) {
    use sha2::{Digest, Sha256};
    let path = dir.join("shard.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for d in m["digests"].as_array_mut().unwrap() {
        let bytes = std::fs::read(dir.join(d["path"].as_str().unwrap())).unwrap();
        d["bytes"] = (bytes.len() as u64).into();
        if d.get("sha256").is_some() {
            d["sha256"] =
                Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect::<String>().into();
        }
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
}

/// Runs `brink merge`, which must fail with exit code 2; returns its stderr.
pub(crate) fn refused(dirs: &[&Path], out: &Path) -> String {
    let o =
        brink().arg("merge").args(dirs).arg("--out").arg(out).arg("--charts").arg("none").output().unwrap();
    assert_eq!(o.status.code(), Some(2), "merge should refuse: {}", String::from_utf8_lossy(&o.stderr));
    assert!(!out.exists(), "a refused merge must not leave {}", out.display());
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub(crate) fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The manifest without the fields that describe how, not what, was run.
fn stable_manifest(dir: &Path) -> serde_json::Value {
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let obj = m.as_object_mut().expect("manifest is an object");
    for k in ["threads", "wall_seconds", "trials_per_second", "command"] {
        assert!(obj.remove(k).is_some(), "manifest has no `{k}`");
    }
    obj.remove("events_per_second");
    m
}

/// Asserts that `merged` holds exactly `single`'s files and sub-folders, byte for byte
/// but for a run's manifest, whose results fields are equal.
pub(crate) fn assert_same_folder(single: &Path, merged: &Path, what: &str) {
    let names = files(single);
    assert_eq!(files(merged), names, "{what}: file lists differ");
    for f in &names {
        let (a, b) = (single.join(f), merged.join(f));
        if a.is_dir() {
            assert_same_folder(&a, &b, &format!("{what}: {f}"));
            continue;
        }
        let (x, y) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        if f == "manifest.json" && x != y {
            assert_eq!(stable_manifest(merged), stable_manifest(single), "{what}: manifest differs");
        } else {
            assert!(x == y, "{what}: {f} differs from the single run's");
        }
    }
}

/// Runs every shard of `n` into `dir/<name>-K`, with 1 to 3 threads, and returns the
/// shard folders.
pub(crate) fn shards(scenario: &Path, dir: &Path, name: &str, n: u64, args: &[&str]) -> Vec<PathBuf> {
    (0..n)
        .map(|k| {
            let out = dir.join(format!("{name}-{k}"));
            let threads = (k % 3 + 1).to_string();
            ok(brink()
                .arg("run")
                .arg(scenario)
                .args(args)
                .args(["--shard", &format!("{k}/{n}"), "--threads", &threads, "--quiet", "--out"])
                .arg(&out));
            out
        })
        .collect()
}

/// The single run of baghdad-2020 that every merge is compared with.
fn single() -> &'static (tempfile::TempDir, PathBuf) {
    static RUN: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    RUN.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("single");
        let t = TRIALS.to_string();
        ok(brink()
            .arg("run")
            .arg(bundled("baghdad-2020.toml"))
            .args(["--trials", &t, "--seed", SEED, "--events", EVENTS])
            .args(SMALL_SPREAD)
            .args(["--quiet", "--out"])
            .arg(&out));
        (tmp, out)
    })
}

fn merge_matches_single_run(n: u64) {
    let single = &single().1;
    let tmp = tempfile::tempdir().unwrap();
    let t = TRIALS.to_string();
    let args = [&["--trials", t.as_str(), "--seed", SEED, "--events", EVENTS][..], &SMALL_SPREAD].concat();
    let mut dirs = shards(&bundled("baghdad-2020.toml"), tmp.path(), "shard", n, &args);
    // The order on the command line does not matter.
    dirs.reverse();
    let merged = tmp.path().join("merged");
    let text = ok(brink().arg("merge").args(&dirs).arg("--out").arg(&merged));
    assert!(text.starts_with(&format!("merged {n} shards of {TRIALS} trials\n")), "{text}");
    assert_same_folder(single, &merged, &format!("{n} shards"));
}

#[test]
fn one_shard_merges_into_the_single_run() {
    merge_matches_single_run(1);
}

#[test]
fn three_uneven_shards_merge_into_the_single_run() {
    merge_matches_single_run(3);
}

#[test]
fn more_shards_than_chunks_merge_into_the_single_run() {
    assert!(TRIALS.div_ceil(CHUNK) < 7, "7 shards should be more than the chunks of a single run");
    merge_matches_single_run(7);
    merge_matches_single_run(13);
}

#[test]
fn variants_sets_empty_shards_and_no_trials_csv_merge_too() {
    let scenario = bundled("minimal.toml");
    let tmp = tempfile::tempdir().unwrap();
    // 5 trials in 7 shards: two shards are empty.
    for (name, n, args) in [
        (
            "hotline",
            4,
            vec!["--trials", "5000", "--variant", "hotline", "--set", "p_clash=0.25", "--no-trials-csv"],
        ),
        ("tiny", 7, vec!["--trials", "5", "--seed", "3", "--events", "5"]),
    ] {
        let single = tmp.path().join(format!("{name}-single"));
        ok(brink().arg("run").arg(&scenario).args(&args).args(["--quiet", "--out"]).arg(&single));
        let dirs = shards(&scenario, tmp.path(), name, n, &args);
        let merged = tmp.path().join(format!("{name}-merged"));
        ok(brink().arg("merge").args(&dirs).args(["--quiet", "--out"]).arg(&merged));
        assert_same_folder(&single, &merged, name);
    }
    assert!(!tmp.path().join("hotline-merged/trials.csv").exists());
    // Shards 0 and 3 of 7 have no trials of 5 (ranges k*5/7..(k+1)*5/7).
    for k in [0, 3] {
        let tiny = std::fs::read_to_string(tmp.path().join(format!("tiny-{k}/trials.csv"))).unwrap();
        assert_eq!(tiny.lines().count(), 1, "shard {k} of 7 is empty: header only\n{tiny}");
    }
}

#[test]
fn a_shard_folder_holds_its_rows_and_an_exact_aggregate() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = shards(&bundled("minimal.toml"), tmp.path(), "s", 3, &["--trials", "1000"]);
    let d = &dirs[1];
    assert_eq!(files(d), ["aggregate.json", "scenario.toml", "shard.json", "trials.csv"]);
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("shard.json")).unwrap()).unwrap();
    assert_eq!(m["format"], "brink-shard/4");
    assert_eq!((m["shard"].as_u64(), m["shards"].as_u64()), (Some(1), Some(3)));
    assert_eq!((m["first_trial"].as_u64(), m["end_trial"].as_u64()), (Some(333), Some(666)));
    assert_eq!(m["trials"], 1000);
    assert_eq!(m["scenario_name"], "minimal");
    assert_eq!(m["params"]["p_clash"], 0.2);
    assert_eq!(
        std::fs::read(d.join("scenario.toml")).unwrap(),
        std::fs::read(bundled("minimal.toml")).unwrap()
    );
    let rows = std::fs::read_to_string(d.join("trials.csv")).unwrap();
    let first: Vec<&str> = rows.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(first.len(), 333);
    assert_eq!((first[0], first[332]), ("333", "665"));
    let agg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("aggregate.json")).unwrap()).unwrap();
    assert_eq!(agg["format"], AGGREGATE_FORMAT);
    assert_eq!(agg["aggregate"]["trials"], 333);
    assert_eq!(agg["steps"][0], "border_incident");
    // 128-bit sums are decimal strings, 256-bit ones hex: no JSON reader rounds them.
    assert!(agg["aggregate"]["tallies"][0]["sum"].is_string());
    assert!(agg["aggregate"]["tallies"][0]["sum_sq"].as_str().unwrap().starts_with("0x"));
}

#[test]
fn aggregates_survive_json_and_merge_exactly() {
    let (model, _) = scenario::load(&bundled("baghdad-2020.toml"), &Overrides::default()).unwrap();
    let spec = RunSpec { trials: 7000, seed: 11, threads: 2, max_events: model.max_events };
    let whole = runner::run(&model, &spec, &mut |_| {}).unwrap();
    let mut merged = brink::sim::stats::Aggregate::new(&model);
    for k in (0..5).rev() {
        let range = Shard { index: k, count: 5 }.range(spec.trials);
        let part = crate::util::lockstep(&[&model], &spec, range);
        let bytes = AggregateFile::new(&model, &part.aggregates[0]).to_bytes();
        let back: AggregateFile = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back.aggregate, part.aggregates[0], "shard {k} changed in JSON");
        assert_eq!(AggregateFile::new(&model, &back.aggregate).to_bytes(), bytes);
        merged.merge(&back.aggregate);
    }
    assert_eq!(AggregateFile::new(&model, &merged).to_bytes(), AggregateFile::new(&model, &whole).to_bytes());
    // Damaged accumulators are rejected when read, not when written out.
    let text = String::from_utf8(AggregateFile::new(&model, &whole).to_bytes()).unwrap();
    let damaged = text.replacen("\"trials\":7000", "\"trials\":7001", 1);
    assert_ne!(damaged, text);
    let err = serde_json::from_str::<AggregateFile>(&damaged).unwrap_err().to_string();
    assert!(err.contains("not 7001"), "{err}");
}

#[test]
fn shards_of_other_runs_duplicates_and_gaps_are_refused() {
    let scenario = bundled("minimal.toml");
    let tmp = tempfile::tempdir().unwrap();
    let base = ["--trials", "900", "--seed", "5"];
    let s = shards(&scenario, tmp.path(), "s", 3, &base);
    let out = tmp.path().join("merged");
    let name = |p: &Path| p.display().to_string();

    let seed = shards(&scenario, tmp.path(), "seed", 3, &["--trials", "900", "--seed", "6"]);
    let e = refused(&[&s[0], &seed[1], &s[2]], &out);
    assert!(e.contains(&name(&seed[1])) && e.contains("seed is 6, not 5"), "{e}");

    let variant =
        shards(&scenario, tmp.path(), "hot", 3, &["--trials", "900", "--seed", "5", "--variant", "hotline"]);
    let e = refused(&[&s[0], &s[1], &variant[2]], &out);
    assert!(e.contains(&name(&variant[2])) && e.contains("variant is `hotline`, not baseline"), "{e}");

    let four = shards(&scenario, tmp.path(), "four", 4, &base);
    let e = refused(&[&s[0], &s[1], &four[3]], &out);
    assert!(e.contains(&name(&four[3])) && e.contains("shard count is 4, not 3"), "{e}");

    let e = refused(&[&s[0], &s[1], &s[1], &s[2]], &out);
    assert!(e.contains("shard 1/3 is given twice"), "{e}");

    let e = refused(&[&s[2], &s[0]], &out);
    assert!(e.contains("shard 1 of 3 is missing (given: 0, 2)"), "{e}");

    let e = refused(&[&s[0]], &out);
    assert!(e.contains("shards 1, 2 of 3 are missing"), "{e}");

    let e = refused(&[&s[0], &s[1], &s[2], tmp.path()], &out);
    assert!(e.contains("is not a shard folder"), "{e}");

    // A damaged shard: rows cut off, or the scenario copy edited.
    let cut = tmp.path().join("cut");
    std::fs::create_dir(&cut).unwrap();
    for f in files(&s[1]) {
        std::fs::copy(s[1].join(&f), cut.join(&f)).unwrap();
    }
    let rows = std::fs::read_to_string(cut.join("trials.csv")).unwrap();
    let kept: Vec<&str> = rows.lines().take(100).collect();
    std::fs::write(cut.join("trials.csv"), kept.join("\n") + "\n").unwrap();
    let e = refused(&[&s[0], &cut, &s[2]], &out);
    assert!(e.contains(&name(&cut.join("trials.csv"))) && e.contains("cut off"), "{e}");
    // Rows cut off and shard.json's record of them (size and SHA-256) forged to match:
    // the row count still catches it.
    forge_digests(&cut);
    let e = refused(&[&s[0], &cut, &s[2]], &out);
    assert!(e.contains("it has 99 rows, but shard 1/3 has 300"), "{e}");
    // One digit of the aggregate edited: its SHA-256 no longer matches.
    let agg = std::fs::read_to_string(s[1].join("aggregate.json")).unwrap();
    let i = agg.find(|c: char| c.is_ascii_digit() && c != '9').unwrap();
    let edited = format!("{}{}{}", &agg[..i], (agg.as_bytes()[i] + 1) as char, &agg[i + 1..]);
    for f in files(&s[1]) {
        std::fs::copy(s[1].join(&f), cut.join(&f)).unwrap();
    }
    std::fs::write(cut.join("aggregate.json"), edited).unwrap();
    let e = refused(&[&s[0], &cut, &s[2]], &out);
    assert!(e.contains(&name(&cut.join("aggregate.json"))) && e.contains("SHA-256"), "{e}");
    for f in files(&s[1]) {
        std::fs::copy(s[1].join(&f), cut.join(&f)).unwrap();
    }
    std::fs::write(cut.join("scenario.toml"), "# edited\n").unwrap();
    forge_digests(&cut);
    let e = refused(&[&s[0], &cut, &s[2]], &out);
    assert!(e.contains("scenario.toml") && e.contains("SHA-256"), "{e}");

    // --out on or around a shard folder, even with --force: refused, the shards kept.
    for (inside, what) in [
        (s[1].clone(), "the shard itself"),
        (tmp.path().to_path_buf(), "a folder holding the shards"),
        (s[1].join("sub"), "a folder inside a shard"),
    ] {
        let o = brink()
            .arg("merge")
            .args(&s)
            .args(["--force", "--charts", "none", "--out"])
            .arg(&inside)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{what}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stderr).contains("overlap the shard folder"), "{what}");
        assert!(s[1].join("shard.json").is_file(), "{what}: the shard is still there");
    }

    // The shards themselves still merge.
    ok(brink().arg("merge").args(&s).args(["--quiet", "--charts", "none", "--out"]).arg(&out));
}

#[test]
fn the_shard_flag_is_checked() {
    let scenario = bundled("minimal.toml");
    let tmp = tempfile::tempdir().unwrap();
    for (args, message) in [
        (vec!["--shard", "3/3"], "numbered 0 to 2"),
        (vec!["--shard", "1of3"], "expected K/N"),
        (vec!["--shard", "0/2", "--precision", "0.01"], "cannot be used with"),
        (vec!["--shard", "0/2", "--epistemic", "4"], "cannot be used with"),
    ] {
        let o = brink()
            .arg("run")
            .arg(&scenario)
            .args(&args)
            .arg("--out")
            .arg(tmp.path().join("x"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(message), "{args:?}: {e}");
    }
    // Without --out, a shard goes to its own folder next to the run's.
    let o = brink()
        .current_dir(tmp.path())
        .arg("run")
        .arg(&scenario)
        .args(["--trials", "10", "--shard", "1/2", "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(tmp.path().join("output/minimal-shard-1-of-2/shard.json").is_file());
}

/// With uncertain params, each shard runs its share of the parameter draws (draws
/// K*D/N to (K+1)*D/N, in `spread.json`); merged, the folder equals the single run's byte
/// for byte (params.csv, epistemic.csv, charts and report included), also with more
/// shards than draws, and merge prints the same headline. Shards of different draws are
/// refused.
#[test]
fn the_spread_of_uncertain_params_merges_into_the_single_run() {
    let scenario = bundled("baghdad-2020.toml");
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "--variant",
        "flat_priors",
        "--trials",
        "3001",
        "--seed",
        SEED,
        "--draws",
        "5",
        "--draw-trials",
        "700",
    ];
    let single = tmp.path().join("single");
    let text = ok(brink().arg("run").arg(&scenario).args(args).arg("--out").arg(&single));
    for n in [3, 7] {
        let dirs = shards(&scenario, tmp.path(), &format!("u{n}"), n, &args);
        assert!(files(&dirs[0]).contains(&"spread.json".to_string()));
        let merged = tmp.path().join(format!("merged-{n}"));
        let merge_text = ok(brink().arg("merge").args(&dirs).arg("--out").arg(&merged));
        assert_same_folder(&single, &merged, &format!("{n} shards with draws"));
        // The same headline: the merge prints no time of its own for the draws.
        let table = |t: &str| {
            t.lines().skip_while(|l| !l.contains("90% across draws")).take(8).collect::<Vec<_>>().join("\n")
        };
        assert_eq!(table(&merge_text), table(&text));
        assert!(merge_text.lines().nth(1).unwrap().contains("uncertain param"), "{merge_text}");
    }
    let other = shards(&scenario, tmp.path(), "other", 2, &[&args[..8], &["--draw-trials", "600"]].concat());
    let first = shards(&scenario, tmp.path(), "first", 2, &args);
    let err = refused(&[&first[0], &other[1]], &tmp.path().join("refused"));
    assert!(err.contains("parameter draws"), "{err}");
}
