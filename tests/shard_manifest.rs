//! `shard.json`'s design is one `kind`-tagged enum: a `run` shard has no design field, a
//! `compare` shard its `runs`, a `sweep` shard its `sweep` and a `sensitivity` shard its
//! `sensitivity`, written right after `kind` (format `brink-shard/4`). A field the kind
//! does not have, or one no kind has, is refused by name. Shards of format 3 (the design
//! written after `events`) still merge, into the same folder.

use crate::shards::{assert_same_folder, ok, refused};
use crate::util::{brink, bundled};
use std::path::{Path, PathBuf};

/// The four kinds: (command, its arguments, the design field of its shard.json).
const KINDS: [(&str, &[&str], Option<&str>); 4] = [
    ("run", &["--trials", "600", "--events", "5"], None),
    ("compare", &["--variants", "baseline,hotline", "--trials", "600"], Some("runs")),
    ("sweep", &["--param", "p_clash=0.1:0.3:3", "--trials", "600", "--shard-by", "points"], Some("sweep")),
    ("sensitivity", &["--trials", "600"], Some("sensitivity")),
];

/// The fields every shard.json has after its design, in order.
const REST: [&str; 21] = [
    "brink_version",
    "scenario_file",
    "scenario_sha256",
    "scenario_name",
    "variant",
    "params",
    "sets",
    "seed",
    "trials",
    "shard",
    "shards",
    "first_trial",
    "end_trial",
    "max_events",
    "trials_csv",
    "events",
    "threads",
    "wall_seconds",
    "command",
    "files",
    "digests",
];

/// Both shards of `command` on minimal.toml, in `dir/<command>-K`.
fn both_shards(dir: &Path, command: &str, args: &[&str]) -> Vec<PathBuf> {
    (0..2)
        .map(|k| {
            let out = dir.join(format!("{command}-{k}"));
            ok(brink()
                .arg(command)
                .arg(bundled("minimal.toml"))
                .args(args)
                .args(["--shard", &format!("{k}/2"), "--quiet", "--out"])
                .arg(&out));
            out
        })
        .collect()
}

/// The top-level entries of a pretty-printed JSON object, in file order: each key with
/// its value's text (no trailing comma).
fn entries(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines().skip(1) {
        if line == "}" {
            break;
        }
        if let Some(rest) = line.strip_prefix("  \"").filter(|_| !line.starts_with("   ")) {
            let (key, value) = rest.split_once("\": ").unwrap();
            out.push((key.to_owned(), value.to_owned()));
        } else {
            let value = &mut out.last_mut().unwrap().1;
            value.push('\n');
            value.push_str(line);
        }
    }
    for (_, value) in &mut out {
        if value.ends_with(',') {
            value.pop();
        }
    }
    out
}

/// A pretty-printed JSON object of `entries`, with a final newline.
fn object(entries: &[(String, String)]) -> String {
    let body: Vec<String> = entries.iter().map(|(k, v)| format!("  \"{k}\": {v}")).collect();
    format!("{{\n{}\n}}\n", body.join(",\n"))
}

fn edit(dir: &Path, f: impl FnOnce(&mut Vec<(String, String)>)) {
    let path = dir.join("shard.json");
    let mut e = entries(&std::fs::read_to_string(&path).unwrap());
    f(&mut e);
    std::fs::write(&path, object(&e)).unwrap();
}

fn copy(from: &Path, to: &Path) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
    to.to_owned()
}

#[test]
fn shard_json_writes_the_design_right_after_its_kind() {
    let tmp = tempfile::tempdir().unwrap();
    for (command, args, design) in KINDS {
        let dir = &both_shards(tmp.path(), command, args)[1];
        let text = std::fs::read_to_string(dir.join("shard.json")).unwrap();
        let e = entries(&text);
        assert_eq!(object(&e), text, "{command}: the test reads shard.json back as written");
        let keys: Vec<&str> = e.iter().map(|(k, _)| k.as_str()).collect();
        let mut want = vec!["format", "kind"];
        want.extend(design);
        want.extend(REST);
        assert_eq!(keys, want, "{command}");
        assert_eq!(e[0].1, "\"brink-shard/4\"", "{command}");
        assert_eq!(e[1].1, format!("\"{command}\""), "{command}");
    }
}

#[test]
fn shards_of_format_3_still_merge_into_the_same_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    for (command, args, design) in KINDS {
        let now = both_shards(t, command, args);
        let old: Vec<PathBuf> = now
            .iter()
            .enumerate()
            .map(|(k, d)| {
                let old = copy(d, &t.join(format!("{command}-old-{k}")));
                // Format 3 wrote the design after `events`.
                edit(&old, |e| {
                    e[0].1 = "\"brink-shard/3\"".into();
                    if let Some(key) = design {
                        let at = e.iter().position(|(k, _)| k == key).unwrap();
                        let entry = e.remove(at);
                        let events = e.iter().position(|(k, _)| k == "events").unwrap();
                        e.insert(events + 1, entry);
                    }
                });
                old
            })
            .collect();
        let merged = |dirs: &[PathBuf], name: &str| {
            let out = t.join(name);
            ok(brink().arg("merge").args(dirs).args(["--quiet", "--charts", "none", "--out"]).arg(&out));
            out
        };
        let want = merged(&now, &format!("{command}-merged"));
        let got = merged(&old, &format!("{command}-merged-old"));
        assert_same_folder(&want, &got, command);
    }
}

#[test]
fn a_field_the_kind_does_not_have_is_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let out = t.join("merged");
    let run = both_shards(t, "run", KINDS[0].1);
    let sweep = both_shards(t, "sweep", KINDS[2].1);
    let compare = both_shards(t, "compare", KINDS[1].1);
    let sweep_design = entries(&std::fs::read_to_string(sweep[0].join("shard.json")).unwrap())[2].clone();

    // A field no kind has: a typo must not pass unnoticed.
    let bad = copy(&run[1], &t.join("typo"));
    edit(&bad, |e| e.insert(3, ("trails".into(), "600".into())));
    let e = refused(&[&run[0], &bad], &out);
    assert!(e.contains(&bad.join("shard.json").display().to_string()), "{e}");
    assert!(e.contains("unknown field `trails`") && e.contains("a shard of `brink run`"), "{e}");

    // A run shard with a sweep's design.
    let bad = copy(&run[1], &t.join("run-with-sweep"));
    edit(&bad, |e| e.insert(2, sweep_design.clone()));
    let e = refused(&[&run[0], &bad], &out);
    assert!(
        e.contains("unknown field `sweep`") && e.contains("a shard of `brink run` has no design field"),
        "{e}"
    );

    // A comparison without its runs.
    let bad = copy(&compare[1], &t.join("compare-without-runs"));
    edit(&bad, |e| e.retain(|(k, _)| k != "runs"));
    let e = refused(&[&compare[0], &bad], &out);
    assert!(e.contains("missing field `runs`") && e.contains("a shard of `brink compare` has `runs`"), "{e}");

    // A sweep's design under another kind.
    let bad = copy(&sweep[1], &t.join("sweep-as-sensitivity"));
    edit(&bad, |e| e[1].1 = "\"sensitivity\"".into());
    let e = refused(&[&sweep[0], &bad], &out);
    assert!(e.contains("a shard of `brink sensitivity` has `sensitivity`"), "{e}");

    // A kind brink does not know, and none.
    let bad = copy(&run[1], &t.join("walk"));
    edit(&bad, |e| e[1].1 = "\"walk\"".into());
    let e = refused(&[&run[0], &bad], &out);
    assert!(
        e.contains("unknown variant `walk`, expected one of `run`, `compare`, `sweep`, `sensitivity`"),
        "{e}"
    );
    let bad = copy(&run[1], &t.join("no-kind"));
    edit(&bad, |e| e.retain(|(k, _)| k != "kind"));
    let e = refused(&[&run[0], &bad], &out);
    assert!(e.contains("missing field `kind`"), "{e}");
}
