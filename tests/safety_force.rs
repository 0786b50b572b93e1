//! `--force` and the results folder (issue 12, items 1-3 and the output-folder points of
//! item 8): `--force` replaces only a folder brink wrote and that holds nothing else,
//! never the scenario's folder, the current folder or a file; a bad `--out` is refused
//! before anything is simulated; the replacement is one atomic exchange; staging folders
//! of killed runs are cleaned (only brink's own); `brink plot` leaves no partial file.

use crate::util::{brink, bundled};
use brink::output::{replace_folder, Staging, STAGING_MARKER};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Every file under `dir` (relative, sorted), to show that nothing was deleted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A project folder: the minimal scenario, the user's notes and a subfolder of theirs.
fn project(root: &Path) -> PathBuf {
    let proj = root.join("proj");
    std::fs::create_dir_all(proj.join("scenarios")).unwrap();
    std::fs::copy(bundled("minimal.toml"), proj.join("scenarios/scen.toml")).unwrap();
    std::fs::copy(bundled("minimal.toml"), proj.join("scen.toml")).unwrap();
    std::fs::write(proj.join("README.md"), "my project\n").unwrap();
    std::fs::write(proj.join("scenarios/notes.txt"), "my notes\n").unwrap();
    proj
}

fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

/// Entries of `dir` whose names start with a dot (staging and old siblings).
fn hidden(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    v.sort();
    v
}

#[test]
fn force_into_the_scenarios_own_folder_refuses_and_deletes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let proj = project(tmp.path());
    let before = tree(&proj);
    for out in [proj.clone(), proj.join("scenarios")] {
        let scen = if out == proj { proj.join("scen.toml") } else { proj.join("scenarios/scen.toml") };
        let a = brink()
            .current_dir(tmp.path())
            .arg("run")
            .arg(&scen)
            .args(["--trials", "50", "--quiet", "--force", "--out"])
            .arg(&out)
            .assert()
            .code(2);
        assert!(stderr(&a).contains("scen.toml"), "{}", stderr(&a));
        assert_eq!(tree(&proj), before, "--force deleted files of the project");
    }
}

#[test]
fn force_into_the_current_folder_refuses_and_deletes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let proj = project(tmp.path());
    let before = tree(&proj);
    for (cmd, extra) in [("run", vec![]), ("sweep", vec!["--param", "p_clash=0.1:0.3:2"])] {
        let a = brink()
            .current_dir(&proj)
            .arg(cmd)
            .arg("scenarios/scen.toml")
            .args(&extra)
            .args(["--trials", "50", "--quiet", "--force", "--out"])
            .arg(proj.canonicalize().unwrap())
            .assert()
            .code(2);
        assert!(stderr(&a).contains("current folder"), "{}", stderr(&a));
        assert_eq!(tree(&proj), before, "{cmd} --out $PWD --force deleted files");
    }
}

#[test]
fn force_into_a_folder_with_user_files_refuses_and_names_them() {
    let tmp = tempfile::tempdir().unwrap();
    let scen = bundled("minimal.toml");
    // A folder of the user's, without any manifest.
    let theirs = tmp.path().join("theirs");
    std::fs::create_dir_all(theirs.join("sub")).unwrap();
    std::fs::write(theirs.join("thesis.tex"), "x").unwrap();
    std::fs::write(theirs.join("sub/data.csv"), "y").unwrap();
    let a = brink()
        .arg("run")
        .arg(&scen)
        .args(["--trials", "50", "--quiet", "--force", "--out"])
        .arg(&theirs)
        .assert()
        .code(2);
    assert!(stderr(&a).contains("not a results folder written by brink"), "{}", stderr(&a));
    assert_eq!(tree(&theirs), ["sub/data.csv", "thesis.tex"]);

    // A results folder of brink's is replaced, until the user adds files to it.
    let out = tmp.path().join("res");
    let run = || {
        brink()
            .arg("run")
            .arg(&scen)
            .args(["--trials", "50", "--quiet", "--force", "--out"])
            .arg(&out)
            .assert()
    };
    run().success();
    run().success();
    let results = tree(&out);
    std::fs::write(out.join("my-notes.txt"), "keep me").unwrap();
    std::fs::create_dir(out.join("analysis")).unwrap();
    std::fs::write(out.join("analysis/fig.py"), "keep me too").unwrap();
    let a = run().code(2);
    let err = stderr(&a);
    assert!(err.contains("my-notes.txt") && err.contains("analysis/"), "{err}");
    assert!(err.contains("nothing was deleted"), "{err}");
    let mut expected = results.clone();
    expected.extend(["analysis/fig.py".to_string(), "my-notes.txt".to_string()]);
    expected.sort();
    assert_eq!(tree(&out), expected);
    assert!(hidden(tmp.path()).is_empty(), "{:?}", hidden(tmp.path()));
}

/// Runs a command twice into one folder with --force (both succeed), adds a file of the
/// user's, and checks that a third --force is refused and keeps it.
fn replaced_only_while_brinks(args: &[&str], out: &Path) {
    let run = || brink().args(args).args(["--quiet", "--force", "--out"]).arg(out).assert();
    run().success();
    run().success();
    std::fs::write(out.join("user.txt"), "keep").unwrap();
    let a = run().code(2);
    assert!(stderr(&a).contains("user.txt"), "{args:?}: {}", stderr(&a));
    assert_eq!(std::fs::read_to_string(out.join("user.txt")).unwrap(), "keep");
}

#[test]
fn every_kind_of_results_folder_is_replaced_only_while_it_holds_just_brinks_files() {
    let tmp = tempfile::tempdir().unwrap();
    let minimal = bundled("minimal.toml").display().to_string();
    let baghdad = bundled("baghdad-2020.toml").display().to_string();
    let hindcast = bundled("hindcast-2019-2021.toml").display().to_string();
    let observed =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/observed-2019-2021.csv").display().to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let kinds: Vec<(&str, Vec<String>)> = vec![
        ("run", s(&["run", &minimal, "--trials", "40", "--charts", "svg", "--events", "3"])),
        ("shard", s(&["run", &minimal, "--trials", "40", "--shard", "0/2"])),
        (
            "compare",
            s(&["compare", &minimal, "--variants", "baseline,hotline", "--trials", "40", "--charts", "none"]),
        ),
        (
            "sweep",
            s(&["sweep", &minimal, "--param", "p_clash=0.1:0.3:2", "--trials", "40", "--charts", "svg"]),
        ),
        ("sensitivity", s(&["sensitivity", &minimal, "--trials", "40", "--charts", "none"])),
        (
            "backtest",
            s(&["backtest", &hindcast, "--observed", &observed, "--trials", "40", "--charts", "svg"]),
        ),
        (
            "epistemic",
            s(&[
                "run",
                &baghdad,
                "--variant",
                "flat_priors",
                "--epistemic",
                "2",
                "--trials",
                "40",
                "--charts",
                "none",
            ]),
        ),
    ];
    for (name, args) in kinds {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        replaced_only_while_brinks(&args, &tmp.path().join(name));
    }
}

#[test]
fn out_naming_a_regular_file_is_refused_before_simulating() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("results.txt");
    std::fs::write(&file, "precious").unwrap();
    // A billion trials: a run that simulated before refusing would not end in time.
    let a = brink()
        .arg("run")
        .arg(bundled("minimal.toml"))
        .args(["--trials", "1000000000", "--force", "--out"])
        .arg(&file)
        .timeout(Duration::from_secs(60))
        .assert()
        .code(2);
    assert!(stderr(&a).contains("is a file, not a folder"), "{}", stderr(&a));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious");
    assert!(hidden(tmp.path()).is_empty(), "{:?}", hidden(tmp.path()));

    // A folder that cannot be made (its parent is that file): bad input too, not a failure.
    let a = brink()
        .arg("run")
        .arg(bundled("minimal.toml"))
        .args(["--trials", "1000000000", "--out"])
        .arg(file.join("sub"))
        .timeout(Duration::from_secs(60))
        .assert()
        .code(2);
    assert!(stderr(&a).contains("results.txt"), "{}", stderr(&a));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious");
}

#[cfg(unix)]
#[test]
fn dangling_symlink_out_is_refused_before_simulating() {
    let tmp = tempfile::tempdir().unwrap();
    let link = tmp.path().join("out");
    std::os::unix::fs::symlink(tmp.path().join("nowhere"), &link).unwrap();
    let a = brink()
        .arg("run")
        .arg(bundled("minimal.toml"))
        .args(["--trials", "1000000000", "--out"])
        .arg(&link)
        .timeout(Duration::from_secs(60))
        .assert()
        .code(2);
    assert!(stderr(&a).contains("symbolic link"), "{}", stderr(&a));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert!(!tmp.path().join("nowhere").exists());
    assert!(hidden(tmp.path()).is_empty(), "{:?}", hidden(tmp.path()));
}

/// A hidden sibling as a killed run leaves it: brink's marker (unless `marked` is false)
/// and some results.
fn sibling(parent: &Path, name: &str, marked: bool) -> PathBuf {
    let d = parent.join(name);
    std::fs::create_dir_all(d.join("results")).unwrap();
    std::fs::write(d.join("results/levels.csv"), "level\n").unwrap();
    if marked {
        std::fs::write(d.join(STAGING_MARKER), "brink staging folder\n").unwrap();
    }
    d
}

#[test]
fn stale_marked_siblings_are_cleaned_and_reported_unmarked_ones_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let parent = tmp.path().join("output");
    std::fs::create_dir(&parent).unwrap();
    // PIDs above any pid_max: no live process owns them.
    let partial = sibling(&parent, ".res.partial-4999999", true);
    let old = sibling(&parent, ".other.old-4999998", true);
    let look_alike = sibling(&parent, ".res.partial-4999997", false);
    let not_a_pid = sibling(&parent, ".res.partial-x1", true);
    let a = brink()
        .arg("run")
        .arg(bundled("minimal.toml"))
        .args(["--trials", "50", "--quiet", "--out"])
        .arg(parent.join("res"))
        .assert()
        .success();
    let err = stderr(&a);
    assert!(!partial.exists(), "{:?}", hidden(&parent));
    assert!(err.contains(".res.partial-4999999"), "{err}");
    // brink makes no `.NAME.old-PID` folders (any more): such a folder is not its own.
    assert!(old.exists() && !err.contains("4999998"), "{err}");
    assert_eq!(tree(&look_alike), ["results/levels.csv"]);
    assert!(not_a_pid.exists());
    assert!(!err.contains("4999997"), "{err}");
}

#[test]
fn results_moved_aside_by_an_interrupted_replacement_are_restored() {
    let tmp = tempfile::tempdir().unwrap();
    let parent = tmp.path().join("output");
    std::fs::create_dir(&parent).unwrap();
    // Killed between the two renames of the fallback: `res` is gone, its old results are
    // in the staging folder's `old`.
    let stale = sibling(&parent, ".res.partial-4999999", true);
    std::fs::create_dir(stale.join("old")).unwrap();
    std::fs::write(stale.join("old/levels.csv"), "old results\n").unwrap();
    let a = brink()
        .arg("run")
        .arg(bundled("minimal.toml"))
        .args(["--trials", "50", "--quiet", "--out"])
        .arg(parent.join("other"))
        .assert()
        .success();
    assert!(stderr(&a).contains("restored"), "{}", stderr(&a));
    assert_eq!(std::fs::read_to_string(parent.join("res/levels.csv")).unwrap(), "old results\n");
    assert!(hidden(&parent).is_empty(), "{:?}", hidden(&parent));
}

#[test]
fn replace_folder_exchanges_without_a_window() {
    let tmp = tempfile::tempdir().unwrap();
    let (new, dest, aside) = (tmp.path().join("new"), tmp.path().join("dest"), tmp.path().join("aside"));
    std::fs::create_dir(&new).unwrap();
    std::fs::create_dir(&dest).unwrap();
    std::fs::write(new.join("levels.csv"), "new").unwrap();
    std::fs::write(dest.join("levels.csv"), "old").unwrap();
    std::fs::write(dest.join("steps.csv"), "old").unwrap();
    let old = replace_folder(&new, &dest, &aside).unwrap();
    assert_eq!(tree(&dest), ["levels.csv"]);
    assert_eq!(std::fs::read_to_string(dest.join("levels.csv")).unwrap(), "new");
    assert_eq!(tree(&old), ["levels.csv", "steps.csv"]);
    assert_eq!(std::fs::read_to_string(old.join("levels.csv")).unwrap(), "old");
    if cfg!(target_os = "linux") {
        // One renameat2(RENAME_EXCHANGE): the old folder took the new one's place, and
        // nothing was ever moved aside, so `dest` never went missing.
        assert_eq!(old, new);
        assert!(!aside.exists());
    }
    std::fs::remove_dir_all(&old).unwrap();
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(left, ["dest"]);
}

#[test]
fn concurrent_force_runs_leave_one_complete_folder_and_no_siblings() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("res");
    // Each run has its own seed, so the folder tells which run's results it holds; long
    // enough (about a second each) that the runs of a round overlap.
    let args = |o: &Path, seed: u32| {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("brink"));
        c.arg("run").arg(bundled("minimal.toml"));
        c.args(["--trials", "100000", "--threads", "1", "--charts", "none", "--no-trials-csv", "--quiet"]);
        c.args(["--seed", &seed.to_string(), "--force", "--out"]).arg(o);
        c
    };
    assert!(args(&out, 1).status().unwrap().success());
    let mut lost = 0;
    for round in 0..3 {
        let children: Vec<_> = (0..6)
            .map(|k| {
                let seed = 100 * (round + 1) + k;
                let c = args(&out, seed)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                (seed, c)
            })
            .collect();
        let mut winners = Vec::new();
        for (seed, c) in children {
            let o = c.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            match o.status.code() {
                Some(0) => winners.push(seed),
                Some(1) => {
                    assert!(err.contains("was replaced by another brink run"), "round {round}: {err}");
                    lost += 1;
                }
                code => panic!("round {round}: exit {code:?}: {err}"),
            }
        }
        assert!(!winners.is_empty(), "round {round}: no run won");
        // A complete results folder: the manifest lists exactly the files present, and
        // it holds the results of a run that said it wrote them.
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
        let mut listed: Vec<String> =
            m["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_owned()).collect();
        listed.sort();
        assert_eq!(tree(&out), listed, "round {round}");
        let seed = m["seed"].as_u64().unwrap() as u32;
        assert!(winners.contains(&seed), "round {round}: seed {seed} is not one of the winners {winners:?}");
        assert!(hidden(tmp.path()).is_empty(), "round {round}: {:?}", hidden(tmp.path()));
        let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(left, ["res"], "round {round}");
    }
    // Runs that overlapped did not all claim to have written the folder.
    assert!(lost > 0, "every concurrent --force run said it wrote {}", out.display());
}

#[cfg(unix)]
#[test]
fn a_killed_runs_staging_folder_is_cleaned_by_the_next_run() {
    let tmp = tempfile::tempdir().unwrap();
    let parent = tmp.path().join("output");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("brink"))
        .arg("run")
        .arg(bundled("minimal.toml"))
        .args(["--trials", "1000000000", "--threads", "1", "--quiet", "--out"])
        .arg(parent.join("big"))
        .spawn()
        .unwrap();
    let staging = parent.join(format!(".big.partial-{}", child.id()));
    let start = std::time::Instant::now();
    while !staging.join("results/trials.csv").exists() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("no staging folder with brink's layout appeared at {}", staging.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL: no cleanup of its own
    child.wait().unwrap();
    assert!(staging.exists());
    let a = brink()
        .arg("run")
        .arg(bundled("minimal.toml"))
        .args(["--trials", "50", "--quiet", "--out"])
        .arg(parent.join("small"))
        .assert()
        .success();
    assert!(stderr(&a).contains(&format!(".big.partial-{}", child.id())), "{}", stderr(&a));
    assert!(hidden(&parent).is_empty(), "{:?}", hidden(&parent));
}

/// A full disk, imitated by a file size limit of 1 KiB for `brink plot` (SIGXFSZ
/// ignored, so the write fails with EFBIG as it would with ENOSPC).
#[cfg(unix)]
#[test]
fn plot_on_a_full_disk_leaves_no_partial_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("res");
    brink()
        .arg("run")
        .arg(bundled("minimal.toml"))
        .args(["--trials", "50", "--quiet", "--charts", "none", "--out"])
        .arg(&out)
        .assert()
        .success();
    let before = tree(&out);
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 2; exec \"$0\" plot \"$1\"")
        .arg(assert_cmd::cargo::cargo_bin("brink"))
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(hidden(&out).is_empty(), "partial files left: {:?}", hidden(&out));
    assert_eq!(tree(&out), before);
}

// ---------------------------------------------------------------------------------------
// Review 1 of the --force guard and `brink plot` (items 2, 3, 4, 7, 8): compared folders,
// symbolic links, crafted manifests, odd --out forms, unreadable manifests.
// ---------------------------------------------------------------------------------------

/// A run folder of the minimal scenario (50 trials, no charts) at `out`.
fn quick_run(out: &Path, extra: &[&str]) {
    brink()
        .arg("run")
        .arg(bundled("minimal.toml"))
        .args(["--trials", "50", "--quiet", "--charts", "none"])
        .args(extra)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

#[test]
fn force_never_deletes_the_folders_it_compares() {
    let tmp = tempfile::tempdir().unwrap();
    for name in ["minimal-a.toml", "minimal-b.toml"] {
        std::fs::copy(bundled("minimal.toml"), tmp.path().join(name)).unwrap();
    }
    brink()
        .current_dir(tmp.path())
        .args(["compare", "minimal-a.toml", "minimal-b.toml", "--out", "cf", "--trials", "50"])
        .args(["--charts", "none", "--quiet"])
        .assert()
        .success();
    let cf = tmp.path().join("cf");
    let before = tree(&cf);
    assert!(before.iter().any(|f| f.starts_with("minimal-a")), "{before:?}");
    let a = brink()
        .current_dir(tmp.path())
        .args(["compare", "cf/minimal-a", "cf/minimal-b", "--out", "cf", "--force", "--quiet"])
        .args(["--charts", "none"])
        .assert()
        .code(2);
    assert!(stderr(&a).contains("minimal-a"), "{}", stderr(&a));
    assert_eq!(tree(&cf), before, "--force deleted a compared folder");
    assert!(hidden(tmp.path()).is_empty(), "{:?}", hidden(tmp.path()));
}

#[cfg(unix)]
#[test]
fn plot_never_writes_through_a_symbolic_link() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r1");
    quick_run(&out, &[]);
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, "mine").unwrap();
    std::os::unix::fs::symlink("../victim.txt", out.join(".levels.png.partial")).unwrap();
    std::os::unix::fs::symlink("../victim.txt", out.join("levels.svg")).unwrap();
    brink().arg("plot").arg(&out).args(["--charts", "both"]).assert().success();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "mine", "plot wrote through a link");
    for name in ["levels.png", "levels.svg"] {
        let m = std::fs::symlink_metadata(out.join(name)).unwrap();
        assert!(m.file_type().is_file(), "{name} is not a plain file");
    }
}

/// A results folder whose `manifest.json` is `manifest` (and which holds `extra` files).
fn crafted(root: &Path, name: &str, manifest: &str, extra: &[&str]) -> PathBuf {
    let d = root.join(name);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("manifest.json"), manifest).unwrap();
    for f in extra {
        std::fs::write(d.join(f), "x").unwrap();
    }
    d
}

/// `--force` into `out` is refused with exit 2 within a few seconds, the folder keeps
/// every entry, and stderr is short and contains `says`.
fn force_refused(out: &Path, says: &str) {
    let entries = |d: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let before = entries(out);
    let a = brink()
        .arg("run")
        .arg(bundled("minimal.toml"))
        .args(["--trials", "50", "--quiet", "--charts", "none", "--force", "--out"])
        .arg(out)
        .timeout(Duration::from_secs(60))
        .assert()
        .code(2);
    let err = stderr(&a);
    assert!(err.len() < 2000, "{} bytes of stderr: {}", err.len(), &err[..300]);
    assert!(err.contains(says), "{out:?}: expected `{says}` in: {err}");
    assert_eq!(entries(out), before, "{out:?}");
}

#[test]
fn crafted_manifests_never_crash_force_nor_widen_what_it_deletes() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let cmp =
        |runs: &str| format!(r#"{{"format":"brink-compare/1","files":["manifest.json"],"runs":{runs}}}"#);
    // `runs` naming the folder itself or its parent: once a stack overflow or 30 KB of text.
    force_refused(&crafted(t, "c1", &cmp(r#"[""]"#), &[]), "run folder");
    force_refused(&crafted(t, "c2", &cmp(r#"["."]"#), &[]), "run folder");
    force_refused(&crafted(t, "c3", &cmp(r#"[".."]"#), &[]), "run folder");
    force_refused(&crafted(t, "c4", &cmp(r#"["a/b"]"#), &[]), "run folder");
    // `files` naming paths, not plain file names.
    let run = |files: &str| format!(r#"{{"format":"brink-run/1","files":["manifest.json",{files}]}}"#);
    for (i, bad) in
        [r#""../victim.txt""#, r#""/etc/passwd""#, r#""""#, r#"".""#, r#""sub/x""#].iter().enumerate()
    {
        force_refused(&crafted(t, &format!("f{i}"), &run(bad), &[]), "file name");
    }
    // A folder of the user's named like a file brink writes.
    let d = crafted(t, "d1", &run(r#""notes""#), &[]);
    std::fs::create_dir(d.join("notes")).unwrap();
    std::fs::write(d.join("notes/mine.txt"), "mine").unwrap();
    force_refused(&d, "notes");
}

#[cfg(unix)]
#[test]
fn symbolic_links_in_a_results_folder_are_the_users() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    // A link named like a file brink writes.
    let out = t.join("r1");
    quick_run(&out, &[]);
    std::os::unix::fs::symlink("/etc/hostname", out.join("levels.png")).unwrap();
    force_refused(&out, "levels.png");
    // A compared run folder that is a link to the comparison itself (a cycle).
    let cmp = r#"{"format":"brink-compare/1","files":["manifest.json"],"runs":["loop"]}"#;
    let c = crafted(t, "c1", cmp, &[]);
    std::os::unix::fs::symlink(".", c.join("loop")).unwrap();
    force_refused(&c, "loop");
    // The manifest itself a link (to a manifest of brink's elsewhere).
    let m = t.join("m1");
    std::fs::create_dir(&m).unwrap();
    std::os::unix::fs::symlink(out.join("manifest.json"), m.join("manifest.json")).unwrap();
    force_refused(&m, "manifest.json");
}

#[test]
fn out_ending_in_dot_dotdot_or_slash_is_settled_before_anything_is_simulated() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    quick_run(&t.join("r1"), &[]);
    let before = tree(t);
    for out in ["r1/.", "zz/..", "r1/..", "."] {
        let a = brink()
            .current_dir(t)
            .arg("run")
            .arg(bundled("minimal.toml"))
            .args(["--trials", "1000000000", "--quiet", "--force", "--out", out])
            .timeout(Duration::from_secs(60))
            .assert()
            .code(2);
        assert!(stderr(&a).contains(out), "{out}: {}", stderr(&a));
        assert!(!t.join("zz").exists(), "{out}: a refused command made a folder");
        assert_eq!(tree(t), before, "{out}");
        assert!(hidden(t).is_empty() && hidden(&t.join("r1")).is_empty(), "{out}");
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("r1", t.join("lnk")).unwrap();
        let a = brink()
            .current_dir(t)
            .arg("run")
            .arg(bundled("minimal.toml"))
            .args(["--trials", "1000000000", "--quiet", "--force", "--out", "lnk/"])
            .timeout(Duration::from_secs(60))
            .assert()
            .code(2);
        assert!(stderr(&a).contains("symbolic link"), "{}", stderr(&a));
        std::fs::remove_file(t.join("lnk")).unwrap();
    }
    // A trailing slash on a plain folder is the folder.
    brink()
        .current_dir(t)
        .arg("run")
        .arg(bundled("minimal.toml"))
        .args(["--trials", "50", "--quiet", "--charts", "none", "--force", "--out", "r1/"])
        .assert()
        .success();
    assert!(t.join("r1/manifest.json").is_file() && hidden(t).is_empty());
}

#[test]
fn a_manifest_that_cannot_be_read_is_named_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    // A folder where manifest.json should be: not "it has no manifest.json".
    let d = t.join("d1");
    std::fs::create_dir_all(d.join("manifest.json")).unwrap();
    force_refused(&d, "directory");
    // A manifest past the input cap is not read to its end.
    let big = crafted(t, "b1", &" ".repeat(3 << 20), &[]);
    let a = brink()
        .env("BRINK_MAX_INPUT_BYTES", "1M")
        .arg("run")
        .arg(bundled("minimal.toml"))
        .args(["--trials", "50", "--quiet", "--force", "--out"])
        .arg(&big)
        .assert()
        .code(2);
    assert!(stderr(&a).contains("input limit"), "{}", stderr(&a));
}

/// `brink plot` tells a folder's kind from its manifest's `format`, not from which files
/// happen to be there.
#[test]
fn plot_names_a_folders_kind_from_its_format() {
    let tmp = tempfile::tempdir().unwrap();
    let cf = tmp.path().join("cf");
    brink()
        .arg("compare")
        .arg(bundled("minimal.toml"))
        .args(["--variants", "baseline,hotline", "--trials", "40", "--charts", "none", "--quiet", "--out"])
        .arg(&cf)
        .assert()
        .success();
    std::fs::remove_file(cf.join("compare.csv")).unwrap();
    let a = brink().arg("plot").arg(&cf).assert().code(2);
    assert!(stderr(&a).contains("is a compare folder"), "{}", stderr(&a));
    let sw = tmp.path().join("sw");
    brink()
        .arg("sweep")
        .arg(bundled("minimal.toml"))
        .args(["--param", "p_clash=0.1:0.3:2", "--trials", "40", "--charts", "none", "--quiet", "--out"])
        .arg(&sw)
        .assert()
        .success();
    let a = brink().arg("plot").arg(&sw).assert().code(2);
    assert!(stderr(&a).contains("is a sweep folder"), "{}", stderr(&a));
}

/// Issue 12 item 3, review finding 1: a run's fresh staging folder is never taken for a
/// killed run's by another run starting next to it (the docs/clusters.md pattern of
/// `--out shards/$k`). Many short runs into sibling folders of one parent, in parallel.
#[test]
fn parallel_runs_into_sibling_folders_never_remove_each_others_staging() {
    let tmp = tempfile::tempdir().unwrap();
    let parent = tmp.path().join("par");
    // 6 x 40 runs: the code before the fix failed about one run in six of these.
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let out = parent.join(format!("o{t}"));
            std::thread::spawn(move || {
                for i in 0..40 {
                    let o = std::process::Command::new(assert_cmd::cargo::cargo_bin("brink"))
                        .arg("run")
                        .arg(bundled("minimal.toml"))
                        .args([
                            "--trials",
                            "20",
                            "--charts",
                            "none",
                            "--no-trials-csv",
                            "-q",
                            "--force",
                            "--out",
                        ])
                        .arg(&out)
                        .output()
                        .unwrap();
                    let err = String::from_utf8_lossy(&o.stderr).into_owned();
                    assert!(o.status.success(), "o{t} run {i}: exit {:?}: {err}", o.status.code());
                    assert!(!err.contains("killed"), "o{t} run {i} took a live run for a killed one: {err}");
                    let m: serde_json::Value =
                        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
                    let mut listed: Vec<String> = m["files"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|f| f.as_str().unwrap().to_owned())
                        .collect();
                    listed.sort();
                    assert_eq!(tree(&out), listed, "o{t} run {i}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(hidden(&parent).is_empty(), "{:?}", hidden(&parent));
}

/// Review finding 1: where locks are local to a machine (a cluster file system), a live
/// run on another host holds no lock this host can see: its staging folder is left alone
/// and reported, not deleted.
#[test]
fn a_staging_folder_made_on_another_host_is_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let parent = tmp.path().join("output");
    std::fs::create_dir(&parent).unwrap();
    let theirs = sibling(&parent, ".res.partial-4999999", true);
    std::fs::write(
        theirs.join(STAGING_MARKER),
        "brink staging folder\nhost: node-that-is-not-this-one-4711\npid: 4999999\n",
    )
    .unwrap();
    let a = brink()
        .arg("run")
        .arg(bundled("minimal.toml"))
        .args(["--trials", "50", "--quiet", "--out"])
        .arg(parent.join("other"))
        .assert()
        .success();
    assert_eq!(tree(&theirs), [".brink-staging", "results/levels.csv"]);
    let err = stderr(&a);
    assert!(err.contains("node-that-is-not-this-one-4711") && err.contains(".res.partial-4999999"), "{err}");
    assert!(!err.contains("removed"), "{err}");
}

/// Review finding 6: a replacement whose fallback renames both failed leaves the old
/// results in the staging folder's `old`; dropping the staging (the run failed) must not
/// delete them.
#[test]
fn dropping_an_uncommitted_staging_keeps_results_moved_aside() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("res");
    let staging = Staging::create(&dest, true, &[]).unwrap();
    let root = staging.dir().parent().unwrap().to_owned();
    std::fs::create_dir(root.join("old")).unwrap();
    std::fs::write(root.join("old/levels.csv"), "old results\n").unwrap();
    drop(staging);
    let kept = [dest.join("levels.csv"), root.join("old/levels.csv")];
    assert!(
        kept.iter().any(|f| std::fs::read_to_string(f).is_ok_and(|s| s == "old results\n")),
        "the old results were deleted: {:?}",
        hidden(tmp.path())
    );
}

/// Review "Also": files the user adds to the results folder while a `--force` run
/// simulates make its commit refuse; the simulation is not thrown away but kept next to
/// the folder, and the refusal says where.
#[cfg(unix)]
#[test]
fn a_refusal_found_at_the_commit_keeps_the_runs_results() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("res");
    let run = |trials: &str| {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("brink"));
        c.arg("run").arg(bundled("minimal.toml"));
        c.args(["--trials", trials, "--threads", "1", "--charts", "none", "--no-trials-csv", "-q"]);
        c.args(["--force", "--out"]).arg(&out);
        c
    };
    assert!(run("50").status().unwrap().success());
    let before = tree(&out);
    let child = run("3000000").stderr(std::process::Stdio::piped()).spawn().unwrap();
    let staging = tmp.path().join(format!(".res.partial-{}", child.id()));
    let start = std::time::Instant::now();
    while !staging.join("results").exists() {
        assert!(start.elapsed() < Duration::from_secs(60), "no staging folder appeared");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let pid = child.id();
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let kept = format!("res.unplaced-{pid}");
    assert!(err.contains("notes.txt") && err.contains(&kept), "{err}");
    let mut expected = before.clone();
    expected.push("notes.txt".into());
    expected.sort();
    assert_eq!(tree(&out), expected);
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join(&kept).join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["trials"].as_u64(), Some(3_000_000), "{m}");
    assert!(hidden(tmp.path()).is_empty(), "{:?}", hidden(tmp.path()));
}
