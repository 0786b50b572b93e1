//! The option groups every command shares (src/cli/mod.rs): declared once, so each
//! command takes them the same way, and `brink slurm` takes only a whole command after
//! `--`.

use crate::util::{brink, bundled};
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data").join(name)
}

/// Every command that simulates, with what it needs besides the shared options.
fn simulating() -> Vec<(&'static str, Vec<String>)> {
    let s = bundled("minimal.toml").display().to_string();
    let hindcast = bundled("hindcast-2019-2021.toml").display().to_string();
    let observed = data("observed-2019-2021.csv").display().to_string();
    let words = |w: &[&str]| w.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        ("run", words(&["run", &s])),
        ("compare", words(&["compare", &s, "--variants", "baseline,hotline"])),
        ("sweep", words(&["sweep", &s, "--param", "p_clash=0.1:0.5:2"])),
        ("sensitivity", words(&["sensitivity", &s])),
        ("backtest", words(&["backtest", &hindcast, "--observed", &observed])),
        (
            "run --epistemic",
            words(&[
                "run",
                &bundled("baghdad-2020.toml").display().to_string(),
                "--variant",
                "flat_priors",
                "--epistemic",
                "2",
            ]),
        ),
    ]
}

/// `--max-events` caps every simulating command's trials alike: a limit of one firing is
/// a runaway trial (exit 1) whatever the command, never an unknown option (exit 2).
#[test]
fn every_simulating_command_takes_max_events() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, args) in simulating() {
        let o = brink()
            .current_dir(tmp.path())
            .args(&args)
            .args(["--trials", "50", "--max-events", "1", "--charts", "none", "--quiet"])
            .output()
            .unwrap();
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{name}: {e}");
        assert!(e.contains("exceeded the limit of 1 firings"), "{name}: {e}");
        let left = std::fs::read_dir(tmp.path().join("output")).map_or(0, |d| d.count());
        assert_eq!(left, 0, "{name} left something in output/");
    }
    // trace shares the trial options too (it has no results folder); a baghdad-2020
    // trial fires dozens of steps, so one firing is never enough.
    let o = brink()
        .args(["trace"])
        .arg(bundled("baghdad-2020.toml"))
        .args(["--trial", "0", "--max-events", "1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("exceeded the limit of 1 firings"));
}

/// A bad value of a shared option is refused with the same message and exit code 2 by
/// every command that takes it, before anything is simulated or written.
#[test]
fn bad_shared_values_are_refused_alike() {
    let tmp = tempfile::tempdir().unwrap();
    for (flag, value) in [
        ("--trials", "0"),
        ("--seed", "-1"),
        ("--max-events", "0"),
        ("--threads", "0"),
        ("--chart-size", "10x10"),
        ("--charts", "gif"),
        ("--set", "p_clash"),
    ] {
        let mut first: Option<(String, String)> = None;
        for (name, args) in simulating() {
            let o = brink().current_dir(tmp.path()).args(&args).args([flag, value]).output().unwrap();
            let e = String::from_utf8_lossy(&o.stderr).into_owned();
            assert_eq!(o.status.code(), Some(2), "{name} {flag} {value}: {e}");
            let said = e.lines().next().unwrap_or("").to_string();
            match &first {
                None => first = Some((name.to_string(), said)),
                Some((n, s)) => assert_eq!(&said, s, "{flag} {value}: {name} and {n} differ"),
            }
        }
    }
    assert!(!tmp.path().join("output").exists());
}

/// The shared options read the same in every command's --help, and each command lists
/// each of them once (`--trials`, `--seed` and `--out` say per command what they default
/// to).
#[test]
fn the_shared_options_have_one_help_text() {
    let help = |cmd: &str| {
        let o = brink().args([cmd, "--help"]).output().unwrap();
        assert!(o.status.success(), "{cmd} --help");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    // An option's line and the lines of text under it.
    let line = |text: &str, flag: &str| -> String {
        let lines: Vec<&str> = text.lines().collect();
        let at: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].trim_start().starts_with(flag)).collect();
        assert_eq!(at.len(), 1, "{flag} once in\n{text}");
        let below = lines[at[0] + 1..].iter().take_while(|l| l.starts_with("          "));
        std::iter::once(lines[at[0]]).chain(below.copied()).collect::<Vec<_>>().join("\n")
    };
    let run = help("run");
    for cmd in ["compare", "sweep", "sensitivity", "backtest"] {
        let other = help(cmd);
        for flag in
            ["--set", "--max-events", "--threads", "--force", "-q, --quiet", "--charts", "--chart-size"]
        {
            assert_eq!(line(&run, flag), line(&other, flag), "{flag} of {cmd}");
        }
        for flag in ["--trials", "--seed", "--out"] {
            line(&other, flag);
        }
    }
    let merge = help("merge");
    for flag in ["--force", "-q, --quiet", "--charts", "--chart-size"] {
        assert_eq!(line(&run, flag), line(&merge, flag), "{flag} of merge");
    }
    let trace = help("trace");
    for flag in ["--seed", "--max-events", "--variant", "--set"] {
        assert_eq!(line(&run, flag), line(&trace, flag), "{flag} of trace");
    }
}

/// Without --out each command writes where its help says: output/<scenario>[-<variant>]
/// with the command's suffix (one function names them all).
#[test]
fn default_results_folders_are_named_alike() {
    let tmp = tempfile::tempdir().unwrap();
    let s = bundled("minimal.toml").display().to_string();
    let mut cases = simulating();
    cases.push((
        "run --shard",
        vec!["run".into(), s.clone(), "--variant".into(), "hotline".into(), "--shard".into(), "1/2".into()],
    ));
    cases.push((
        "sweep --shard",
        vec![
            "sweep".into(),
            s.clone(),
            "--param".into(),
            "p_clash=0.1:0.5:2".into(),
            "--shard".into(),
            "0/2".into(),
        ],
    ));
    cases.push((
        "compare --shard",
        vec![
            "compare".into(),
            s.clone(),
            "--variants".into(),
            "hotline,baseline".into(),
            "--shard".into(),
            "0/3".into(),
        ],
    ));
    let expected = [
        "minimal",
        "minimal-compare",
        "minimal-sweep",
        "minimal-sensitivity",
        "hindcast-2019-2021-backtest",
        "baghdad-2020-flat_priors-epistemic",
        "minimal-hotline-shard-1-of-2",
        "minimal-sweep-shard-0-of-2",
        "minimal-compare-shard-0-of-3",
    ];
    for ((name, args), folder) in cases.into_iter().zip(expected) {
        let o = brink()
            .current_dir(tmp.path())
            .args(&args)
            .args(["--trials", "20", "--charts", "none", "--quiet"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        let dir = tmp.path().join("output").join(folder);
        assert!(dir.is_dir(), "{name}: no {}", dir.display());
    }
    // Merging a sweep's shards writes the unsharded sweep's folder (here: taken).
    let o = brink()
        .current_dir(tmp.path())
        .args(["sweep", &s, "--param", "p_clash=0.1:0.5:2", "--shard", "0/1", "--trials", "20", "-q"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = brink()
        .current_dir(tmp.path())
        .args(["merge", "output/minimal-sweep-shard-0-of-1"])
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(
        e.contains(&format!("{} already exists", Path::new("output").join("minimal-sweep").display())),
        "{e}"
    );
}

/// `brink slurm` takes the command to shard after `--` only: a scenario or a run option
/// before it is a usage error that shows the form to use, and nothing is written.
#[test]
fn slurm_without_the_separator_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let s = bundled("minimal.toml").display().to_string();
    // Each error shows the form to use.
    let cases: [(Vec<&str>, &str, &str); 4] = [
        (vec![], "give the command to shard after `--`", "-- run SCENARIO"),
        (vec![s.as_str()], "minimal.toml` before `--`", "-- run SCENARIO"),
        (vec!["--trials", "5", "--", "run", s.as_str()], "`--trials` before `--`", "-- run SCENARIO"),
        (vec!["--variant=hotline", "--", "run", s.as_str()], "`--variant` before `--`", "-- run SCENARIO"),
    ];
    for (args, message, form) in cases {
        let o = brink()
            .current_dir(tmp.path())
            .args(["slurm", "--shards", "2", "--dir", "job"])
            .args(&args)
            .output()
            .unwrap();
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(e.contains(message), "{args:?}: {message:?} not in\n{e}");
        assert!(e.contains(form), "{args:?}: {form:?} not in\n{e}");
        assert!(!tmp.path().join("job").exists(), "{args:?} wrote the job directory");
    }
}
