//! Input a careless or hostile user may give (issue 12, items 4, 7, 8 and plot's half of
//! 9): huge ids and labels, huge and endless files, one-line files, and the messages of
//! sweep, backtest, merge and plot. Each test failed on the code before its fix.

use crate::util::{brink, bundled};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The bundled tutorial's text.
fn minimal() -> String {
    std::fs::read_to_string(bundled("minimal.toml")).unwrap()
}

/// Writes `text` as `name` in `dir`.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs brink; returns (exit code, stdout, stderr), asserting it did not panic.
fn run(args: Vec<&std::ffi::OsStr>) -> (i32, String, String) {
    let out = brink().args(&args).timeout(Duration::from_secs(120)).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(!stderr.contains("panicked"), "brink {args:?} panicked:\n{}", &stderr[..stderr.len().min(3000)]);
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

macro_rules! args {
    ($($a:expr),* $(,)?) => { vec![$(std::ffi::OsStr::new($a)),*] };
}

/// The longest line of a text, in characters.
fn longest_line(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// The tutorial with every label, the title, an actor, a variant's description and a
/// tally's label 100,000 characters long.
fn long_label_scenario(dir: &Path) -> PathBuf {
    let long = "L".repeat(100_000);
    let src = minimal()
        .replace("Border incidents between two neighbours (tutorial)", &long)
        .replace("Calm: tension, no fighting", &long)
        .replace("War between the two countries", &long)
        .replace("Soldiers killed in border clashes", &long)
        .replace("Incident at the border (shots, a patrol crossing, a drone)", &long)
        .replace("Retaliatory strike across the border", &long)
        .replace("A military hotline lets commanders defuse clashes before anyone retaliates", &long)
        .replacen("actor = \"both\"", &format!("actor = \"{long}\""), 1)
        .replace("id = \"strike\"", &format!("id = \"strike\"\n  label = \"{long}\""));
    assert_eq!(src.matches(&long).count(), 9, "every long text is in place");
    write(dir, "long.toml", &src)
}

/// Every text output of brink with 100,000-character labels: no panic, and no line longer
/// than a screenful (the labels are cut for display only).
#[test]
fn every_text_output_survives_a_100000_character_label() {
    let dir = TempDir::new().unwrap();
    let s = long_label_scenario(dir.path());
    let s = s.as_os_str();
    let o = |name: &str| dir.path().join(name).into_os_string();
    let (out, run_out, cmp, sweep, sens) = (o("run"), o("run2"), o("cmp"), o("sweep"), o("sens"));
    let cases: Vec<(&str, Vec<&std::ffi::OsStr>)> = vec![
        ("check", args!["check", s]),
        ("run summary", args!["run", s, "--trials", "200", "--out", &out, "--charts", "none"]),
        (
            "run with events",
            args!["run", s, "--trials", "50", "--events", "50", "--out", &run_out, "--charts", "none"],
        ),
        ("trace text", args!["trace", s, "--trial", "3"]),
        ("trace csv", args!["trace", s, "--find", "clash", "--format", "csv"]),
        ("trace json", args!["trace", s, "--find", "clash", "--format", "json"]),
        ("graph dot", args!["graph", s]),
        ("graph mermaid", args!["graph", s, "--format", "mermaid"]),
        (
            "compare",
            args![
                "compare",
                s,
                "--variants",
                "baseline,hotline",
                "--trials",
                "200",
                "--out",
                &cmp,
                "--charts",
                "none"
            ],
        ),
        (
            "sweep",
            args![
                "sweep",
                s,
                "--param",
                "p_clash=0.1:0.3:2",
                "--trials",
                "200",
                "--out",
                &sweep,
                "--charts",
                "none"
            ],
        ),
        ("sensitivity", args!["sensitivity", s, "--trials", "200", "--out", &sens, "--charts", "none"]),
    ];
    for (what, a) in cases {
        let (code, stdout, stderr) = run(a);
        assert_eq!(code, 0, "{what}: exit {code}\n{}", &stderr[..stderr.len().min(2000)]);
        let longest = longest_line(&stdout).max(longest_line(&stderr));
        assert!(longest <= 400, "{what}: a line of {longest} characters");
    }
    // events.csv of the run keeps its rows short too.
    let events = std::fs::read_to_string(dir.path().join("run2/events.csv")).unwrap();
    assert!(longest_line(&events) <= 400, "events.csv: a line of {}", longest_line(&events));
}

/// Display-only cutting: a label of 200 characters is printed whole, one of 201 is cut to
/// 197 and `...`.
#[test]
fn labels_are_cut_only_past_the_display_limit() {
    let dir = TempDir::new().unwrap();
    let (kept, cut) = ("k".repeat(200), "c".repeat(201));
    let src =
        minimal().replace("Calm: tension, no fighting", &kept).replace("War between the two countries", &cut);
    let s = write(dir.path(), "s.toml", &src);
    let (code, stdout, _) = run(args!["check", s.as_os_str()]);
    assert_eq!(code, 0);
    assert!(stdout.contains(&format!("calm                 {kept}  <- initial")), "{stdout}");
    assert!(stdout.contains(&format!("war                  {}...  [terminal]", &cut[..197])), "{stdout}");
}

/// An id of 65 characters is refused at its file:line:col with the rule stated; one of
/// 65,536 characters too, with a short message.
#[test]
fn ids_longer_than_64_characters_are_refused_where_they_are() {
    let dir = TempDir::new().unwrap();
    for (n, kind) in [(64usize, None), (65, Some("step id")), (65_536, Some("step id"))] {
        let id = "a".repeat(n);
        let src = minimal()
            .replace("\"border_incident\"", &format!("\"{id}\""))
            .replace("\"border_incident.clash\"", &format!("\"{id}.clash\""));
        let s = write(dir.path(), "s.toml", &src);
        let (code, stdout, stderr) = run(args!["check", s.as_os_str()]);
        match kind {
            None => assert_eq!(code, 0, "{stderr}"),
            Some(kind) => {
                assert_eq!(code, 2, "{stdout}");
                assert!(stderr.contains(&format!("{kind} `aaaa")), "{stderr}");
                assert!(
                    stderr.contains(&format!("is {n} characters long: at most 64 are allowed")),
                    "{stderr}"
                );
                // `id = "border_incident"` is on line 60; the id starts after `id = "`.
                assert!(stderr.contains(&format!("--> {}:60:6", s.display())), "{stderr}");
                assert!(stderr.contains("at most 64 characters"), "{stderr}");
                assert!(stderr.len() < 4000, "a message of {} bytes", stderr.len());
            }
        }
    }
    // Params, tallies, levels and variants follow the same rule.
    let long = "b".repeat(70);
    for (from, kind) in
        [("p_clash", "param name"), ("soldiers_killed", "tally id"), ("[variants.hotline]", "variant name")]
    {
        let to = if from.starts_with('[') { format!("[variants.{long}]") } else { long.clone() };
        let s = write(dir.path(), "s.toml", &minimal().replace(from, &to));
        let (code, _, stderr) = run(args!["check", s.as_os_str()]);
        assert_eq!(code, 2);
        assert!(stderr.contains(&format!("{kind} `{}...` is 70 characters long", &long[..61])), "{stderr}");
    }
}

/// `trace` on a scenario whose actor is 65,536 characters long used to panic
/// (`Formatting argument out of range`); so did `check` on a long param name.
#[test]
fn a_huge_actor_does_not_break_the_trace_columns() {
    let dir = TempDir::new().unwrap();
    let actor = "x".repeat(65_536);
    let s = write(
        dir.path(),
        "s.toml",
        &minimal().replacen("actor = \"both\"", &format!("actor = \"{actor}\""), 1),
    );
    let (code, stdout, _) = run(args!["trace", s.as_os_str(), "--trial", "1"]);
    assert_eq!(code, 0);
    assert!(longest_line(&stdout) < 300, "a line of {}", longest_line(&stdout));
    assert!(stdout.contains(&format!("{}...", "x".repeat(37))), "{stdout}");
}

/// A file over the cap is refused with its name and the cap, before it is read whole;
/// `/dev/zero` is refused quickly instead of filling memory.
#[test]
fn input_files_are_capped() {
    let dir = TempDir::new().unwrap();
    let s = write(dir.path(), "s.toml", &minimal());
    let size = std::fs::metadata(&s).unwrap().len();
    let out = brink().args(["check"]).arg(&s).env("BRINK_MAX_INPUT_BYTES", "1000").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot read scenario file {}: it is larger than the input limit of 1000 bytes",
            s.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("BRINK_MAX_INPUT_BYTES"), "{stderr}");
    // At the file's size exactly it is read.
    let out =
        brink().args(["check"]).arg(&s).env("BRINK_MAX_INPUT_BYTES", size.to_string()).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    // A bad limit is a usage error.
    let out = brink().args(["check"]).arg(&s).env("BRINK_MAX_INPUT_BYTES", "lots").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("BRINK_MAX_INPUT_BYTES=lots is not a size"));

    if Path::new("/dev/zero").exists() {
        let started = Instant::now();
        let out = brink()
            .args(["check", "/dev/zero"])
            .env_remove("BRINK_MAX_INPUT_BYTES")
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("/dev/zero: it is larger than the input limit of 64 MB"), "{stderr}");
        assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());

        // The observed file and the mapping of a backtest too.
        let h = bundled("hindcast-2019-2021.toml");
        let map = bundled("../data/observed-2019-2021.toml");
        let obs = bundled("../data/observed-2019-2021.csv");
        for (o, m, which) in [
            ("/dev/zero".as_ref(), map.as_path(), "observed file"),
            (obs.as_path(), "/dev/zero".as_ref(), "mapping file"),
        ] {
            let out = brink()
                .arg("backtest")
                .arg(&h)
                .arg("--observed")
                .arg(o)
                .arg("--map")
                .arg(m)
                .args(["--trials", "10", "--charts", "none"])
                .arg("--out")
                .arg(dir.path().join("bt"))
                .env("BRINK_MAX_INPUT_BYTES", "1M")
                .timeout(Duration::from_secs(60))
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{stderr}");
            assert!(
                stderr.contains(&format!(
                    "cannot read {which} /dev/zero: it is larger than the input limit of 1 MB"
                )),
                "{stderr}"
            );
        }
    }
}

/// An error on a 4 MB one-line file prints a window of the line around the column, not
/// the whole line.
#[test]
fn error_snippets_are_a_window_around_the_column() {
    let dir = TempDir::new().unwrap();
    let junk = "q".repeat(4 << 20);
    let src = minimal().replacen(
        "title = \"Border incidents between two neighbours (tutorial)\"",
        &format!("title = \"{junk}\" oops = 1"),
        1,
    );
    let s = write(dir.path(), "s.toml", &src);
    let (code, _, stderr) = run(args!["check", s.as_os_str()]);
    assert_eq!(code, 2);
    assert!(
        stderr.len() < 2000,
        "a message of {} bytes:\n{}",
        stderr.len(),
        &stderr[..stderr.len().min(600)]
    );
    assert!(stderr.contains("...qqqq"), "{stderr}");
    // A label of 4 MB that is valid but sits on the line of an error elsewhere is cut too.
    let src = minimal()
        .replace("label = \"Calm: tension, no fighting\"", &format!("label = \"{junk}\"\nlabel = \"again\""));
    let s = write(dir.path(), "s.toml", &src);
    let (code, _, stderr) = run(args!["check", s.as_os_str()]);
    assert_eq!(code, 2);
    assert!(stderr.len() < 2000, "a message of {} bytes", stderr.len());
}

/// Numbers above 2^53 are "too large", not "not a whole number".
#[test]
fn numbers_above_2_pow_53_are_too_large() {
    let dir = TempDir::new().unwrap();
    let src = minimal().replace("rate = \"incident_rate\"", "rate = \"incident_rate\"\nmax = 1e16");
    let s = write(dir.path(), "s.toml", &src);
    let (code, _, stderr) = run(args!["check", s.as_os_str()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("max of step `border_incident` is too large"), "{stderr}");
    assert!(!stderr.contains("must be a whole number"), "{stderr}");
    // An integer beyond 64 bits, where TOML wants one.
    let src = minimal().replace("trials = 10000 ", "trials = 99999999999999999999 ");
    let s = write(dir.path(), "s.toml", &src);
    let (code, _, stderr) = run(args!["check", s.as_os_str()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("help: the number is too large"), "{stderr}");
    let (code, _, stderr) = run(args![
        "sweep",
        bundled("minimal.toml").as_os_str(),
        "--param",
        "p_clash=0:1:99999999999999999999999"
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("STEPS is too large"), "{stderr}");
}

/// `sweep --param` errors speak of `--param`; a `--set` of a swept param is refused.
#[test]
fn sweep_messages_name_param_not_set() {
    let dir = TempDir::new().unwrap();
    let s = bundled("minimal.toml");
    let s = s.as_os_str();
    let out = dir.path().join("o").into_os_string();
    let (code, _, stderr) = run(args!["sweep", s, "--param", "nope=0:1:3", "--out", &out]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--param nope=...: `nope` is not a param of this file"), "{stderr}");
    assert!(!stderr.contains("--set"), "{stderr}");
    let (code, _, stderr) = run(args!["sweep", s, "--param", "p_clash=0:2:3", "--out", &out]);
    assert_eq!(code, 2);
    assert!(stderr.contains("got 2 (param `p_clash`, as set by --param)"), "{stderr}");
    // A genuine --set beside a sweep still says --set.
    let (code, _, stderr) =
        run(args!["sweep", s, "--set", "p_retaliation=3", "--param", "p_clash=0:1:3", "--out", &out]);
    assert_eq!(code, 2);
    assert!(stderr.contains("(param `p_retaliation`, as set by --set)"), "{stderr}");
    // The sweep would override the --set at every point: refused, nothing written.
    let (code, _, stderr) = run(args![
        "sweep",
        s,
        "--set",
        "p_clash=0.5",
        "--param",
        "p_clash=0:1:3",
        "--trials",
        "100",
        "--out",
        &out
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("`p_clash` is given both to --set and to --param"), "{stderr}");
    assert!(!dir.path().join("o").exists());
}

/// Backtest: negative counts and invalid months are refused at file:line; no Rust debug
/// text such as `Some("2019-10")` in any message.
#[test]
fn backtest_refuses_bad_observed_rows_at_their_line() {
    let dir = TempDir::new().unwrap();
    let h = bundled("hindcast-2019-2021.toml");
    let map = bundled("../data/observed-2019-2021.toml");
    let head = "# observed\nquantity,month,value,source\nattacks,2019-10,5,x\n";
    let cases = [
        ("attacks,2019-11,-3,x\n", ":4: observed: the value -3 of `attacks` is negative"),
        ("attacks,2019-13,5,x\n", ":4: observed: `2019-13` is not a valid month"),
        ("attacks,19-1,5,x\n", ":4: observed: `19-1` is not a valid month"),
        ("attacks,2019-10,5,y\n", "observed: `attacks` in month 2019-10 appears twice"),
    ];
    for (row, want) in cases {
        let obs = write(dir.path(), "obs.csv", &format!("{head}{row}"));
        let (code, _, stderr) = run(args![
            "backtest",
            h.as_os_str(),
            "--observed",
            obs.as_os_str(),
            "--map",
            map.as_os_str(),
            "--trials",
            "10",
            "--out",
            dir.path().join("bt").as_os_str(),
        ]);
        assert_eq!(code, 2, "{row}: {stderr}");
        assert!(stderr.contains(want), "{row}: {stderr}");
        assert!(stderr.contains(&obs.display().to_string()), "{stderr}");
        assert!(!stderr.contains("Some(") && !stderr.contains("not simulated"), "{stderr}");
    }
}

/// A merge of shards that differ in --no-trials-csv says so once, in words.
#[test]
fn merge_mismatch_on_trials_csv_reads_well() {
    let dir = TempDir::new().unwrap();
    let s = bundled("minimal.toml");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let (code, _, e) =
        run(args!["run", s.as_os_str(), "--trials", "100", "--shard", "0/2", "--out", a.as_os_str(), "-q"]);
    assert_eq!(code, 0, "{e}");
    let (code, _, e) = run(args![
        "run",
        s.as_os_str(),
        "--trials",
        "100",
        "--shard",
        "1/2",
        "--no-trials-csv",
        "--out",
        b.as_os_str(),
        "-q"
    ]);
    assert_eq!(code, 0, "{e}");
    let out = dir.path().join("m");
    let (code, _, stderr) = run(args!["merge", a.as_os_str(), b.as_os_str(), "--out", out.as_os_str()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("its trials.csv is left out (--no-trials-csv), not written"), "{stderr}");
    assert!(!stderr.contains("not written, not written"), "{stderr}");
}

/// `brink plot` on the folder of a sweep, sensitivity, comparison or backtest says what
/// it redraws and what the folder is, instead of "missing field `scenario_title`".
#[test]
fn plot_names_the_folder_kinds_it_redraws() {
    let dir = TempDir::new().unwrap();
    let s = bundled("minimal.toml");
    let s = s.as_os_str();
    let o = |n: &str| dir.path().join(n);
    let (sw, se, cm, bt, sh) = (o("sweep"), o("sens"), o("cmp"), o("bt"), o("shard"));
    let h = bundled("hindcast-2019-2021.toml");
    let obs = bundled("../data/observed-2019-2021.csv");
    let make: Vec<Vec<&std::ffi::OsStr>> = vec![
        args![
            "sweep",
            s,
            "--param",
            "p_clash=0.1:0.3:2",
            "--trials",
            "100",
            "--charts",
            "none",
            "-q",
            "--out",
            sw.as_os_str()
        ],
        args!["sensitivity", s, "--trials", "100", "--charts", "none", "-q", "--out", se.as_os_str()],
        args![
            "compare",
            s,
            "--variants",
            "baseline,hotline",
            "--trials",
            "100",
            "--charts",
            "none",
            "-q",
            "--out",
            cm.as_os_str()
        ],
        args![
            "backtest",
            h.as_os_str(),
            "--observed",
            obs.as_os_str(),
            "--trials",
            "20",
            "--charts",
            "none",
            "-q",
            "--out",
            bt.as_os_str()
        ],
        args!["run", s, "--trials", "100", "--shard", "0/2", "-q", "--out", sh.as_os_str()],
    ];
    for a in make {
        let (code, _, e) = run(a);
        assert_eq!(code, 0, "{e}");
    }
    for (folder, kind) in
        [(&sw, "sweep"), (&se, "sensitivity"), (&cm, "compare"), (&bt, "backtest"), (&sh, "shard")]
    {
        let (code, _, stderr) = run(args!["plot", folder.as_os_str()]);
        assert_eq!(code, 2, "{kind}: {stderr}");
        assert!(stderr.contains(&format!("{} is a {kind} folder", folder.display())), "{stderr}");
        assert!(
            stderr.contains("brink plot redraws the charts and report of a run's results folder"),
            "{stderr}"
        );
        assert!(!stderr.contains("missing field"), "{stderr}");
    }
}

/// A TOML error in a one-line mapping file of 4 MB gives a short message with the line
/// and column, not the line itself (twice).
#[test]
fn a_mapping_error_on_a_huge_line_is_short() {
    let dir = TempDir::new().unwrap();
    let map =
        write(dir.path(), "map.toml", &format!("[[quantity]]\nid = \"{}\" junk\n", "x".repeat(4 << 20)));
    let (code, _, stderr) = run(args![
        "backtest",
        bundled("hindcast-2019-2021.toml").as_os_str(),
        "--observed",
        bundled("../data/observed-2019-2021.csv").as_os_str(),
        "--map",
        map.as_os_str(),
        "--trials",
        "10",
        "--out",
        dir.path().join("bt").as_os_str(),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.len() < 1000, "a message of {} bytes", stderr.len());
    assert!(stderr.contains(&format!("{}:2: mapping:", map.display())), "{stderr}");
    assert!(stderr.contains(&format!("(column {})", 4 * 1024 * 1024 + 9)), "{stderr}");
}
