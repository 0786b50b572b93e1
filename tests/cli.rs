//! The command line: exit codes, messages and their `file:line:col` locations for each
//! kind of bad input, the results folder (refusal, `--force`, no leftovers after a
//! failure), the bundled scenarios, and a closed stdout.
//!
//! Every expected `line:col` below is counted by hand from the TOML text in the test.
//! Columns count characters from 1.

use crate::util::{brink, bundled, model};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use tempfile::TempDir;

/// Lines 1-18 of most test files; the text appended after it starts on line 19.
///
/// ```text
///  1 [scenario]
///  2 name = "t"
///  3 horizon_days = 10
///  4
///  5 [params]
///  6 attack_rate = 0.1
///  7
///  8 [[levels]]
///  9 id = "calm"
/// 10 [[levels]]
/// 11 id = "lethal"
/// 12 [[levels]]
/// 13 id = "war"
/// 14 terminal = true
/// 15
/// 16 [tallies]
/// 17 killed = "people killed"
/// 18
/// ```
const HEAD: &str = "[scenario]
name = \"t\"
horizon_days = 10

[params]
attack_rate = 0.1

[[levels]]
id = \"calm\"
[[levels]]
id = \"lethal\"
[[levels]]
id = \"war\"
terminal = true

[tallies]
killed = \"people killed\"

";

/// HEAD followed by `body`, whose first line is line 19.
fn with_head(body: &str) -> String {
    assert_eq!(HEAD.lines().count(), 18, "HEAD must stay 18 lines long");
    format!("{HEAD}{body}")
}

/// Writes `src` as `test.toml` in a fresh temporary folder.
fn scenario_file(src: &str) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("test.toml");
    std::fs::write(&path, src).expect("write scenario");
    (dir, path)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `brink check` on `src`, which must be invalid: exit 2, nothing on stdout, no
/// panic. Returns stderr with the temporary path shortened to `test.toml`.
fn check_fails(src: &str) -> String {
    let (_dir, path) = scenario_file(src);
    let out = brink().arg("check").arg(&path).output().expect("run brink");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "exit code; stderr:\n{stderr}");
    assert!(out.stdout.is_empty(), "stdout: {}", text(&out.stdout));
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr.replace(&path.display().to_string(), "test.toml")
}

/// Asserts that `haystack` contains every one of `needles`.
#[track_caller]
fn assert_has(haystack: &str, needles: &[&str]) {
    for n in needles {
        assert!(haystack.contains(n), "expected `{n}` in:\n{haystack}");
    }
}

/// Number of diagnostics in rendered output (each starts a line with `error: `).
fn count_errors(stderr: &str) -> usize {
    stderr.lines().filter(|l| l.starts_with("error: ")).count()
}

/// Asserts the closing count line and that it matches the diagnostics shown.
#[track_caller]
fn assert_count(stderr: &str, n: usize) {
    let line = format!("test.toml: {n} error{} found", if n == 1 { "" } else { "s" });
    assert!(stderr.contains(&line), "expected `{line}` in:\n{stderr}");
    assert_eq!(count_errors(stderr), n, "{stderr}");
    assert_eq!(stderr.matches("  --> test.toml").count(), n, "every error has a location:\n{stderr}");
}

// ---------------------------------------------------------------------------------
// Syntax and key names (serde stage)
// ---------------------------------------------------------------------------------

#[test]
fn toml_syntax_error_is_located() {
    // `horizon_days = = 10`: the second `=` is at column 16 of line 3.
    let err = check_fails("[scenario]\nname = \"t\"\nhorizon_days = = 10\n");
    assert_has(&err, &["error: ", "--> test.toml:3:16", "3 | horizon_days = = 10"]);
    assert_count(&err, 1);
}

#[test]
fn unknown_key_is_named_and_located() {
    let err = check_fails(&with_head(
        "[[steps]]
id = \"attack\"
rate = 0.1
rat = 0.1
",
    ));
    // Line 22 is `rat = 0.1`.
    assert_has(&err, &["unknown field `rat`", "--> test.toml:22:1", "22 | rat = 0.1"]);
    assert_count(&err, 1);
}

#[test]
fn unknown_key_column_counts_characters_not_bytes() {
    // Line 23 (first of the body is 19):
    // `branches = [ { id = "b", label = "été", p = 1, rais_to = "war" } ]`
    // `branches = [ { ` 15 chars, `id = "b", ` 10, `label = "été", ` 15, `p = 1, ` 7:
    // `rais_to` starts at character 48 (byte 50: `é` is two bytes).
    let err = check_fails(&with_head(
        "[[steps]]
id = \"attack\"
rate = 0.1
# comment
branches = [ { id = \"b\", label = \"été\", p = 1, rais_to = \"war\" } ]
",
    ));
    assert_has(&err, &["unknown field `rais_to`", "--> test.toml:23:48"]);
    assert_count(&err, 1);
}

#[test]
fn missing_scenario_table() {
    let err = check_fails("[params]\nx = 1\n");
    assert_has(&err, &["missing field `scenario`", "--> test.toml:1:1"]);
}

// ---------------------------------------------------------------------------------
// References
// ---------------------------------------------------------------------------------

#[test]
fn unknown_references_suggest_the_nearest_id() {
    let err = check_fails(&with_head(
        "[[steps]]
id = \"attack\"
rate = \"atack_rate\"
  [[steps.branches]]
  id = \"hit\"
  p = 0.5
  raise_to = \"lethel\"
  tally = { kiled = { fixed = 1 } }
  [[steps.branches]]
  id = \"miss\"
  p = \"rest\"

[[steps]]
id = \"reply\"
  [[steps.triggers]]
  after = \"atack\"
",
    ));
    // 21: rate = "atack_rate"          the string starts at column 8
    // 25:   raise_to = "lethel"        column 14
    // 26:   tally = { kiled = ...      column 13
    // 34:   after = "atack"            column 11
    assert_has(
        &err,
        &[
            "unknown param `atack_rate`",
            "--> test.toml:21:8",
            "did you mean `attack_rate`?",
            "unknown level `lethel`",
            "--> test.toml:25:14",
            "did you mean `lethal`?",
            "unknown tally `kiled`",
            "--> test.toml:26:13",
            "did you mean `killed`?",
            "unknown step `atack`",
            "--> test.toml:34:11",
            "did you mean `attack`?",
        ],
    );
    assert_count(&err, 4);
}

#[test]
fn unknown_branch_in_after_suggests_the_nearest_branch() {
    let err = check_fails(&two_branches_and_reply("attack.hitt"));
    // Line 32: `  after = "attack.hitt"`, the string at column 11.
    assert_has(&err, &["step `attack` has no branch `hitt`", "--> test.toml:32:11", "did you mean `hit`?"]);
    assert_count(&err, 1);
}

#[test]
fn list_of_known_branches_is_spelled_right() {
    // Nothing is close to `zzz`, so the help lists the branches that exist.
    let err = check_fails(&two_branches_and_reply("attack.zzz"));
    assert_has(&err, &["known branches: `hit`, `miss`"]);
}

fn two_branches_and_reply(after: &str) -> String {
    with_head(&format!(
        "[[steps]]
id = \"attack\"
rate = 0.1
  [[steps.branches]]
  id = \"hit\"
  p = 0.5
  [[steps.branches]]
  id = \"miss\"
  p = \"rest\"

[[steps]]
id = \"reply\"
  [[steps.triggers]]
  after = \"{after}\"
"
    ))
}

#[test]
fn unknown_initial_level_and_modifier_step() {
    let src = "[scenario]
name = \"t\"
horizon_days = 10
initial_level = \"clam\"

[[levels]]
id = \"calm\"

[[steps]]
id = \"attack\"
rate = 0.1
  [[steps.branches]]
  id = \"hit\"
  p = 1
  modify = [ { step = \"atack\", rate_x = 2, days = 3 } ]
";
    let err = check_fails(src);
    // 4: initial_level = "clam"   column 17
    // 15:   modify = [ { step = "atack", ...   `  modify = [ { step = ` is 22 chars: column 23
    assert_has(
        &err,
        &[
            "unknown level `clam`",
            "--> test.toml:4:17",
            "did you mean `calm`?",
            "unknown step `atack`",
            "--> test.toml:15:23",
            "did you mean `attack`?",
        ],
    );
    assert_count(&err, 2);
}

// ---------------------------------------------------------------------------------
// Ranges and sums
// ---------------------------------------------------------------------------------

/// A step `attack` (line 20) with rate on line 21 and two branches whose p are on
/// lines 24 and 27.
fn two_branches(rate: &str, p1: &str, p2: &str) -> String {
    with_head(&format!(
        "[[steps]]
id = \"attack\"
rate = {rate}
  [[steps.branches]]
  id = \"hit\"
  p = {p1}
  [[steps.branches]]
  id = \"miss\"
  p = {p2}
"
    ))
}

#[test]
fn branch_p_above_one() {
    let err = check_fails(&two_branches("0.1", "1.5", "\"rest\""));
    assert_has(
        &err,
        &["p of branch `attack.hit` must be a probability in [0, 1], got 1.5", "--> test.toml:24:7"],
    );
    // The sum is not checked again once a p is invalid.
    assert_count(&err, 1);
}

#[test]
fn branch_p_negative() {
    let err = check_fails(&two_branches("0.1", "\"rest\"", "-0.25"));
    assert_has(
        &err,
        &["p of branch `attack.miss` must be a probability in [0, 1], got -0.25", "--> test.toml:27:7"],
    );
    assert_count(&err, 1);
}

#[test]
fn branch_p_not_summing_to_one() {
    let err = check_fails(&two_branches("0.1", "0.5", "0.4"));
    assert_has(&err, &["branch probabilities of step `attack` sum to 0.9, not 1", "--> test.toml:24:7"]);
    assert_count(&err, 1);
    // Within 1e-9 of 1 is accepted.
    model(&two_branches("0.1", "0.3", "0.7"));
}

#[test]
fn branch_p_above_one_before_rest() {
    let err = check_fails(&with_head(
        "[[steps]]
id = \"attack\"
rate = 0.1
  [[steps.branches]]
  id = \"hit\"
  p = 0.75
  [[steps.branches]]
  id = \"graze\"
  p = 0.5
  [[steps.branches]]
  id = \"miss\"
  p = \"rest\"
",
    ));
    assert_has(&err, &["sum to 1.25 before \"rest\"", "--> test.toml:24:7"]);
    assert_count(&err, 1);
}

#[test]
fn two_rest_branches() {
    let err = check_fails(&two_branches("0.1", "\"rest\"", "\"rest\""));
    assert_has(&err, &["step `attack` has more than one branch with p = \"rest\"", "--> test.toml:27:7"]);
    assert_count(&err, 1);
}

#[test]
fn negative_rate() {
    let err = check_fails(&two_branches("-0.5", "0.5", "\"rest\""));
    assert_has(&err, &["rate of step `attack` must be a finite number >= 0, got -0.5", "--> test.toml:21:8"]);
    assert_count(&err, 1);
}

#[test]
fn nan_and_inf_are_rejected_everywhere() {
    let err = check_fails(&with_head(
        "[[steps]]
id = \"attack\"
rate = nan

[[steps]]
id = \"reply\"
  [[steps.triggers]]
  after = \"attack\"
  p = inf
  delay = { exponential = -inf }

[variants.v]
attack_rate = nan
",
    ));
    // 21: rate = nan                       column 8
    // 27:   p = inf                        column 7
    // 28:   delay = { exponential = -inf } `  delay = { exponential = ` is 26 chars: column 27
    // 31: attack_rate = nan                column 15
    assert_has(
        &err,
        &[
            "rate of step `attack` must be a finite number >= 0, got NaN",
            "--> test.toml:21:8",
            "p of trigger `reply` after `attack` must be a probability in [0, 1], got inf",
            "--> test.toml:27:7",
            "must be a finite number >= 0, got -inf",
            "--> test.toml:28:27",
            "variant value for `attack_rate` must be a finite number",
            "--> test.toml:31:15",
        ],
    );
    assert_count(&err, 4);
}

#[test]
fn nan_param_is_rejected_where_defined() {
    let src = HEAD.replace("attack_rate = 0.1", "attack_rate = nan");
    let err = check_fails(&format!(
        "{src}[[steps]]
id = \"attack\"
rate = 1
"
    ));
    // Line 6: attack_rate = nan, the value at column 15.
    assert_has(&err, &["param `attack_rate` must be a finite number", "--> test.toml:6:15"]);
}

#[test]
fn delay_distribution_as_tally_and_tally_distribution_as_delay() {
    let err = check_fails(&with_head(
        "[[steps]]
id = \"attack\"
rate = 0.1
  [[steps.branches]]
  id = \"hit\"
  p = 1
  tally = { killed = { uniform = [1, 2] } }

[[steps]]
id = \"reply\"
  [[steps.triggers]]
  after = \"attack\"
  delay = { poisson = 2 }
",
    ));
    // 25:   tally = { killed = { uniform ...   `  tally = { killed = ` is 21 chars: column 22
    // 31:   delay = { poisson = 2 }            column 11
    assert_has(
        &err,
        &[
            "tally `killed` of `attack.hit`: `uniform` is a distribution of delays, not of counts",
            "--> test.toml:25:22",
            "delay of trigger `reply` after `attack`: `poisson` is a distribution of counts, not of delays",
            "--> test.toml:31:11",
        ],
    );
    assert_count(&err, 2);
}

#[test]
fn poisson_at_least_one_needs_mean_at_least_one() {
    let body = |mean: &str| {
        with_head(&format!(
            "[[steps]]
id = \"attack\"
rate = 0.1
  [[steps.branches]]
  id = \"hit\"
  p = 1
  tally = {{ killed = {{ poisson_at_least_one = {mean} }} }}
"
        ))
    };
    let err = check_fails(&body("0.5"));
    assert_has(
        &err,
        &["poisson_at_least_one needs mean >= 1", "got 0.5", "--> test.toml:25:22", "{ poisson = mean }"],
    );
    assert_count(&err, 1);
    // The boundary itself is valid.
    model(&body("1"));
}

#[test]
fn empty_ladder() {
    let err = check_fails(
        "[scenario]
name = \"t\"
horizon_days = 10

[[steps]]
id = \"a\"
rate = 1
",
    );
    assert_has(&err, &["the escalation ladder is empty", "--> test.toml:1:1", "[[levels]]"]);
    assert_count(&err, 1);
}

/// `ping` reacts to `pong` with no delay; `pong` reacts to `ping` with `delay`.
fn ping_pong(delay: &str, ping_extra: &str) -> String {
    with_head(&format!(
        "[[steps]]
id = \"ping\"
{ping_extra}
  [[steps.triggers]]
  after = \"pong\"

[[steps]]
id = \"pong\"
rate = 0.1
  [[steps.triggers]]
  after = \"ping\"
  delay = {delay}
"
    ))
}

#[test]
fn zero_delay_trigger_cycle() {
    let err = check_fails(&ping_pong("{ fixed = 0 }", ""));
    // Line 20: id = "ping", the id at column 6.
    assert_has(&err, &["zero-delay trigger cycle: ping -> pong -> ping", "--> test.toml:20:6"]);
    assert_count(&err, 1);
    // A delay that cannot be zero, or a cap on one step, breaks the cycle.
    model(&ping_pong("{ fixed = 0.5 }", ""));
    model(&ping_pong("{ uniform = [0, 1] }", ""));
    model(&ping_pong("{ fixed = 0 }", "max = 3"));
}

#[test]
fn zero_delay_self_trigger() {
    let err = check_fails(&with_head(
        "[[steps]]
id = \"echo\"
rate = 0.1
  [[steps.triggers]]
  after = \"echo\"
",
    ));
    assert_has(&err, &["zero-delay trigger cycle: echo -> echo", "--> test.toml:20:6"]);
    assert_count(&err, 1);
}

#[test]
fn scheduled_day_outside_the_horizon() {
    let err = check_fails(&with_head(
        "[[steps]]
id = \"attack\"

[[schedule]]
step = \"attack\"
day = 10

[[schedule]]
step = \"attack\"
day = 9.99
",
    ));
    // Line 24: day = 10 (column 7). Day 9.99 is inside a 10-day horizon.
    assert_has(
        &err,
        &[
            "scheduled firing of `attack` on day 10 is outside the horizon (0 <= day < 10)",
            "--> test.toml:24:7",
        ],
    );
    assert_count(&err, 1);
}

#[test]
fn scheduled_date_outside_the_horizon() {
    let err = check_fails(
        "[scenario]
name = \"t\"
start = 2020-12-20
horizon_days = 10

[[levels]]
id = \"calm\"

[[steps]]
id = \"attack\"

[[schedule]]
step = \"attack\"
date = 2020-12-30

[[schedule]]
step = \"attack\"
date = 2020-12-19

[[schedule]]
step = \"attack\"
date = 2020-12-29
",
    );
    // 14: date = 2020-12-30 is day 10; 18: date = 2020-12-19 is day -1 (both column 8);
    // 22: 2020-12-29 is day 9, inside.
    assert_has(
        &err,
        &[
            "on day 10 is outside the horizon",
            "--> test.toml:14:8",
            "on day -1 is outside the horizon",
            "--> test.toml:18:8",
        ],
    );
    assert_count(&err, 2);
}

#[test]
fn date_window_without_start() {
    let err = check_fails(&with_head(
        "[[steps]]
id = \"attack\"
rate = 0.1
windows = [ { from = 2021-01-01, to = 2021-01-07, rate_x = 2 } ]
",
    ));
    // Line 22: `windows = [ { from = ` is 21 chars, so `from`'s date is at column 22;
    // `2021-01-01, to = ` is 17 more: `to`'s date at column 39.
    assert_has(
        &err,
        &[
            "from of window of step `attack` is a date, but [scenario] has no `start`",
            "--> test.toml:22:22",
            "to of window of step `attack` is a date, but [scenario] has no `start`",
            "--> test.toml:22:39",
            "add `start = YYYY-MM-DD`",
        ],
    );
    assert_count(&err, 2);
}

#[test]
fn independent_errors_are_all_reported_at_once() {
    let err = check_fails(&with_head(
        "[[steps]]
id = \"attack\"
rate = -1
  [[steps.branches]]
  id = \"hit\"
  p = 1.25
  [[steps.branches]]
  id = \"miss\"
  p = \"rest\"

[[steps]]
id = \"reply\"
  [[steps.branches]]
  id = \"strike\"
  p = 1
  raise_to = \"wra\"
  [[steps.triggers]]
  after = \"attack\"
  delay = { uniform = [3, 1] }

[[schedule]]
step = \"attack\"
day = 12
",
    ));
    // 21 rate = -1 (col 8); 24 p = 1.25 (col 7); 34 raise_to = "wra" (col 14);
    // 37 delay = { uniform = [3, 1] } (col 11); 41 day = 12 (col 7).
    assert_has(
        &err,
        &[
            "--> test.toml:21:8",
            "--> test.toml:24:7",
            "--> test.toml:34:14",
            "unknown level `wra`",
            "--> test.toml:37:11",
            "uniform [a, b] needs a <= b, got [3, 1]",
            "--> test.toml:41:7",
            "on day 12 is outside the horizon",
        ],
    );
    assert_count(&err, 5);
}

#[test]
fn run_rejects_an_invalid_scenario_before_writing_anything() {
    let (dir, path) = scenario_file(&two_branches("0.1", "0.5", "0.4"));
    let out = dir.path().join("res");
    brink()
        .arg("run")
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("sum to 0.9, not 1"));
    assert_eq!(entries(dir.path()), vec!["test.toml".to_owned()]);
}

// ---------------------------------------------------------------------------------
// Command-line options
// ---------------------------------------------------------------------------------

#[test]
fn unknown_variant_suggests_the_nearest() {
    let minimal = bundled("minimal.toml");
    let out = brink().arg("check").arg(&minimal).args(["--variant", "hotlin"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_has(&err, &["variant `hotlin` (from --variant) is not defined", "did you mean `hotline`?"]);
    // Nothing close: the known variants are listed.
    let out = brink().arg("check").arg(&minimal).args(["--variant", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_has(&text(&out.stderr), &["variant `nope` (from --variant) is not defined", "`hotline`"]);
    // `baseline` and a real variant are fine.
    for v in ["baseline", "hotline"] {
        brink().arg("check").arg(&minimal).args(["--variant", v]).assert().success();
    }
}

#[test]
fn unknown_variant_on_run_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    brink()
        .arg("run")
        .arg(bundled("minimal.toml"))
        .args(["--variant", "nope", "--trials", "100", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("variant `nope`"));
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn set_of_an_unknown_param() {
    let out = brink().arg("check").arg(bundled("minimal.toml")).args(["--set", "nope=1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_has(&text(&out.stderr), &["--set nope=...: `nope` is not a param"]);
    let out =
        brink().arg("check").arg(bundled("minimal.toml")).args(["--set", "p_clas=0.5"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_has(&text(&out.stderr), &["did you mean `p_clash`?"]);
}

#[test]
fn set_value_out_of_range_points_at_its_use() {
    let (_dir, path) = scenario_file(&two_branches("\"attack_rate\"", "0.5", "\"rest\""));
    let out = brink().arg("check").arg(&path).args(["--set", "attack_rate=-2"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr).replace(&path.display().to_string(), "test.toml");
    // Line 21: rate = "attack_rate", column 8.
    assert_has(
        &err,
        &[
            "rate of step `attack` must be a finite number >= 0, got -2 (param `attack_rate`, as set by --set)",
            "--> test.toml:21:8",
        ],
    );
    // The same value from the file is fine once overridden to something valid.
    brink().arg("check").arg(&path).args(["--set", "attack_rate=2"]).assert().success();
}

#[test]
fn set_with_a_value_that_is_not_a_number_is_a_usage_error() {
    let out = brink().arg("check").arg(bundled("minimal.toml")).args(["--set", "x=abc"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_has(
        &text(&out.stderr),
        &["invalid value 'x=abc' for '--set <PARAM=VALUE>'", "`abc` is not a number", "--help"],
    );
    for bad in ["novalue", "x=inf", "x=nan"] {
        brink()
            .arg("check")
            .arg(bundled("minimal.toml"))
            .args(["--set", bad])
            .assert()
            .code(2)
            .stderr(predicates::str::contains("--set"));
    }
}

#[test]
fn missing_scenario_file_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let out = brink().arg("check").arg(&missing).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_has(&text(&out.stderr), &["cannot read scenario file", &missing.display().to_string()]);
    let res = dir.path().join("res");
    let out = brink().arg("run").arg(&missing).arg("--out").arg(&res).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!res.exists());
}

#[test]
fn unknown_subcommand_and_bad_numbers_are_usage_errors() {
    brink()
        .arg("frobnicate")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unrecognized subcommand 'frobnicate'"));
    brink().assert().code(2);
    for args in
        [["--trials", "0"], ["--trials", "-5"], ["--threads", "0"], ["--seed", "x"], ["--max-events", "0"]]
    {
        // --out in a temporary folder, so a wrongly accepted value never writes to output/.
        let dir = tempfile::tempdir().unwrap();
        let res = dir.path().join("res");
        brink().arg("run").arg(bundled("minimal.toml")).args(args).arg("--out").arg(&res).assert().code(2);
        assert!(!res.exists());
    }
    brink().arg("--version").assert().success();
}

// ---------------------------------------------------------------------------------
// The results folder
// ---------------------------------------------------------------------------------

/// Names in a folder, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn run_minimal(out: &Path, extra: &[&str]) -> Output {
    brink()
        .arg("run")
        .arg(bundled("minimal.toml"))
        .args(["--trials", "2000", "--seed", "3", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn existing_results_folder_is_refused_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let res = dir.path().join("res");
    std::fs::create_dir(&res).unwrap();
    std::fs::write(res.join("keep.txt"), "precious").unwrap();

    let out = run_minimal(&res, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_has(&text(&out.stderr), &["already exists", "--force", &res.display().to_string()]);
    assert!(out.stdout.is_empty());
    assert_eq!(entries(&res), vec!["keep.txt".to_owned()]);
    assert_eq!(std::fs::read_to_string(res.join("keep.txt")).unwrap(), "precious");
    assert_eq!(entries(dir.path()), vec!["res".to_owned()], "no staging left");

    // --force replaces only a results folder brink wrote (issue 12): the user's file stays.
    let out = run_minimal(&res, &["--force", "--quiet"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_has(&text(&out.stderr), &["--force refused", &res.display().to_string()]);
    assert_eq!(std::fs::read_to_string(res.join("keep.txt")).unwrap(), "precious");

    std::fs::remove_file(res.join("keep.txt")).unwrap();
    for _ in 0..2 {
        let out = run_minimal(&res, &["--force", "--quiet"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(entries(&res).contains(&"levels.csv".to_owned()));
        assert_eq!(entries(dir.path()), vec!["res".to_owned()], "no staging left");
    }
}

#[test]
fn runaway_trial_fails_and_leaves_no_results() {
    let src = "[scenario]
name = \"loop\"
horizon_days = 10

[[levels]]
id = \"calm\"

[[steps]]
id = \"spark\"
rate = 0.5

[[steps]]
id = \"echo\"
  [[steps.triggers]]
  after = \"spark\"
  delay = { fixed = 0.5 }
  [[steps.triggers]]
  after = \"echo\"
  p = 1
  delay = { exponential = 0.0001 }

[[schedule]]
step = \"spark\"
day = 0
";
    let (dir, path) = scenario_file(src);
    // The file is valid: the loop has a delay that cannot be zero.
    brink().arg("check").arg(&path).assert().success();
    let res = dir.path().join("res");
    let out = brink()
        .arg("run")
        .arg(&path)
        .args(["--trials", "2000", "--max-events", "1000", "--out"])
        .arg(&res)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_has(&err, &["trial 0 exceeded the limit of 1000 firings", "step `echo` fired", "--max-events"]);
    assert!(!err.contains("panicked"), "{err}");
    assert!(!res.exists());
    assert_eq!(entries(dir.path()), vec!["test.toml".to_owned()], "no results or staging folder left behind");
}

#[test]
fn runaway_under_force_keeps_the_old_results() {
    let src = "[scenario]
name = \"loop\"
horizon_days = 10

[[levels]]
id = \"calm\"

[[steps]]
id = \"echo\"
  [[steps.triggers]]
  after = \"echo\"
  delay = { exponential = 0.0001 }

[[schedule]]
step = \"echo\"
day = 1
";
    let (dir, path) = scenario_file(src);
    let res = dir.path().join("res");
    assert_eq!(run_minimal(&res, &["--quiet"]).status.code(), Some(0));
    let old = entries(&res);
    let levels = std::fs::read(res.join("levels.csv")).unwrap();
    let out = brink()
        .arg("run")
        .arg(&path)
        .args(["--trials", "10", "--max-events", "500", "--force", "--out"])
        .arg(&res)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(entries(&res), old);
    assert_eq!(std::fs::read(res.join("levels.csv")).unwrap(), levels);
    assert_eq!(entries(dir.path()), vec!["res".to_owned(), "test.toml".to_owned()]);
}

// ---------------------------------------------------------------------------------
// Bundled scenarios and a normal run
// ---------------------------------------------------------------------------------

fn bundled_scenarios() -> Vec<PathBuf> {
    let dir = bundled("");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    assert!(v.len() >= 3, "bundled scenarios: {v:?}");
    v
}

#[test]
fn check_accepts_every_bundled_scenario_and_prints_the_ladder() {
    for path in bundled_scenarios() {
        let out = brink().arg("check").arg(&path).output().unwrap();
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{}: {}", path.display(), text(&out.stderr));
        assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
        let m = model(&std::fs::read_to_string(&path).unwrap());
        assert_has(&stdout, &["Ladder (lowest first):", &format!("{}: valid", path.display()), &m.name]);
        // The ladder lists every level, lowest first, with its index.
        let mut last = 0;
        for (i, l) in m.levels.iter().enumerate() {
            let line = format!("  {i}  {:<20} {}", l.id, l.label);
            let at = stdout.find(&line).unwrap_or_else(|| panic!("`{line}` not in:\n{stdout}"));
            assert!(at >= last, "levels out of order");
            last = at;
        }
        for s in &m.steps {
            assert!(stdout.contains(&format!("  {}", s.id)), "step {}", s.id);
        }
        for line in stdout.lines() {
            assert_eq!(line, line.trim_end(), "{}: a line ends in spaces", path.display());
        }
        if path.ends_with("baghdad-2020.toml") {
            // A window before day 0 reads as a range, and a rare rate keeps two figures a
            // month (0.00105 a day is 0.032 a month, not "0.0").
            assert_has(&stdout, &["x0.125 on days -71 to -33", "0.00105/day (0.032/month)"]);
        }
    }
}

#[test]
fn run_writes_every_file_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let res = dir.path().join("res");
    let out = run_minimal(&res, &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let files = entries(&res);
    for f in REQUIRED_FILES {
        assert!(files.contains(&f.to_owned()), "{f} missing from {files:?}");
    }
    assert_eq!(entries(dir.path()), vec!["res".to_owned()]);
    assert_has(
        &stdout,
        &[
            "minimal: ",
            "2000 trials, seed 3, 30 days",
            "95% interval",
            "calm",
            "clash",
            "war",
            "(terminal)",
            "soldiers_killed",
            "most frequent escalation paths:",
            &format!("results in {}", res.display()),
        ],
    );
    let trials = std::fs::read_to_string(res.join("trials.csv")).unwrap();
    assert_eq!(trials.lines().count(), 2001, "header + one row per trial");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(res.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["trials"], 2000);
    assert_eq!(manifest["seed"], 3);
    assert_eq!(manifest["scenario_name"], "minimal");
    // Every file the manifest lists is in the folder.
    for f in listed_files(&res) {
        assert!(files.contains(&f), "manifest lists {f}, missing from {files:?}");
    }
}

#[test]
fn manifest_lists_every_file_in_the_folder() {
    // docs/outputs.md: `files` lists every file of the folder: data, charts and report.
    let dir = tempfile::tempdir().unwrap();
    let res = dir.path().join("res");
    let out = run_minimal(&res, &["-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(listed_files(&res), entries(&res));
    let res = dir.path().join("res-svg");
    let out = run_minimal(&res, &["-q", "--charts", "svg", "--no-trials-csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(listed_files(&res), entries(&res));
}

/// The files every results folder holds (docs/outputs.md).
const REQUIRED_FILES: [&str; 7] =
    ["daily.csv", "levels.csv", "manifest.json", "paths.csv", "steps.csv", "tallies.csv", "trials.csv"];

/// `files` of a results folder's manifest, sorted.
fn listed_files(res: &Path) -> Vec<String> {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(res.join("manifest.json")).unwrap()).unwrap();
    let mut listed: Vec<String> = manifest["files"]
        .as_array()
        .expect("manifest lists its files")
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    listed
}

#[test]
fn quiet_prints_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let res = dir.path().join("res");
    let out = run_minimal(&res, &["--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    assert!(res.join("levels.csv").is_file());
    assert!(res.join("trials.csv").is_file());
}

#[test]
fn no_trials_csv_omits_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let res = dir.path().join("res");
    let out = run_minimal(&res, &["--no-trials-csv", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let files = entries(&res);
    assert!(!files.contains(&"trials.csv".to_owned()), "{files:?}");
    for f in REQUIRED_FILES.iter().filter(|f| **f != "trials.csv") {
        assert!(files.contains(&f.to_string()), "{f} missing from {files:?}");
    }
    let listed = listed_files(&res);
    assert!(!listed.contains(&"trials.csv".to_owned()), "{listed:?}");
    for f in listed {
        assert!(files.contains(&f), "manifest lists {f}, missing from {files:?}");
    }
    // The aggregate files do not depend on whether trials.csv is written.
    let other = dir.path().join("other");
    run_minimal(&other, &["-q"]);
    for f in ["levels.csv", "daily.csv", "paths.csv", "steps.csv", "tallies.csv"] {
        assert_eq!(std::fs::read(res.join(f)).unwrap(), std::fs::read(other.join(f)).unwrap(), "{f}");
    }
}

// ---------------------------------------------------------------------------------
// A closed stdout (`brink check ... | head -0`) is not an error
// ---------------------------------------------------------------------------------

/// Spawns brink with stdout on a pipe whose reading end is closed at once.
fn with_closed_stdout(args: &[&std::ffi::OsStr]) -> Output {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("brink"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn brink");
    drop(child.stdout.take());
    child.wait_with_output().expect("wait for brink")
}

#[test]
fn closed_stdout_is_not_an_error() {
    let baghdad = bundled("baghdad-2020.toml");
    let out = with_closed_stdout(&["check".as_ref(), baghdad.as_os_str()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.is_empty(), "{err}");

    // `run` prints its summary only after simulating, so the pipe is surely closed.
    let dir = tempfile::tempdir().unwrap();
    let res = dir.path().join("res");
    let minimal = bundled("minimal.toml");
    let out = with_closed_stdout(&[
        "run".as_ref(),
        minimal.as_os_str(),
        "--trials".as_ref(),
        "20000".as_ref(),
        "--out".as_ref(),
        res.as_os_str(),
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(res.join("manifest.json").is_file());
}

#[test]
fn tally_ids_may_not_take_a_column_name_of_trials_csv() {
    let errs = crate::util::errors(
        "[scenario]\nname = \"t\"\nhorizon_days = 5\n[[levels]]\nid = \"a\"\n[tallies]\npath = \"x\"\ncount_a = \"y\"\n[[steps]]\nid = \"s\"\n",
    );
    assert!(errs.contains("tally id `path` would clash"), "{errs}");
    assert!(errs.contains("test.toml:7:1"), "{errs}");
    assert!(errs.contains("tally id `count_a` would clash"), "{errs}");
    assert!(errs.contains("2 errors found"), "{errs}");
}

#[test]
fn check_compiles_every_variant() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("v.toml");
    let src = "[scenario]\nname = \"t\"\nhorizon_days = 5\n[params]\np = 0.5\n[[levels]]\nid = \"a\"\n[[steps]]\nid = \"s\"\n[[steps.triggers]]\nafter = \"s\"\np = \"p\"\ndelay = { fixed = 1 }\n[variants.bad]\np = 2.0\n";
    std::fs::write(&file, src).unwrap();
    let out = brink().arg("check").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("variant `bad`"), "{err}");
    // The error points where the param is used (line 12, column 5).
    assert!(err.contains("v.toml:12:5"), "{err}");
}

#[test]
fn run_reports_events_per_second_in_manifest_and_summary() {
    // docs/outputs.md: `events_per_second` is every step firing of every trial over
    // `wall_seconds`, so its ratio to `trials_per_second` is the mean firings per trial,
    // which steps.csv gives as the sum of `mean_count`.
    let dir = tempfile::tempdir().unwrap();
    let res = dir.path().join("res");
    let out = brink()
        .arg("run")
        .arg(bundled("baghdad-2020.toml"))
        .args(["--trials", "20000", "--seed", "5", "--charts", "none"])
        .args(crate::util::SMALL_SPREAD)
        .arg("--out")
        .arg(&res)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains(" trials/s, ") && stdout.contains(" events/s)"), "{stdout}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(res.join("manifest.json")).unwrap()).unwrap();
    let num = |k: &str| manifest[k].as_f64().unwrap_or_else(|| panic!("manifest has no number `{k}`"));
    let (secs, trials_s, events_s) =
        (num("wall_seconds"), num("trials_per_second"), num("events_per_second"));
    assert!(secs > 0.0 && trials_s > 0.0 && events_s > 0.0, "{manifest}");
    let steps = crate::util::Table::read(&res.join("steps.csv"));
    let per_trial: f64 = steps.rows.iter().map(|r| steps.num(r, "mean_count")).sum();
    assert!(per_trial > 1.0, "baghdad-2020 fires several steps per trial: {per_trial}");
    // mean_count has 6 decimals; the rates are full doubles of the same wall time.
    let ratio = events_s / trials_s;
    assert!((ratio - per_trial).abs() < 1e-5 * steps.rows.len() as f64, "{ratio} vs {per_trial}");
    let expected = per_trial * 20000.0 / secs;
    assert!((events_s - expected).abs() <= 1e-6 * expected, "{events_s} vs {expected}");
    // The summary line shows the same rates.
    assert!(stdout.contains(&format!("{events_s:.0} events/s")), "{stdout}");
    assert!(stdout.contains(&format!("{trials_s:.0} trials/s")), "{stdout}");
}

/// In a build without the `serve` feature (the README's set-up), `brink serve` says how to
/// build the page instead of "unrecognized subcommand", and exits 2.
#[cfg(not(feature = "serve"))]
#[test]
fn serve_without_the_feature_says_how_to_build_it() {
    let out = brink().args(["serve", "scenarios/baghdad-2020.toml", "--port", "0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cargo build --release --features serve"), "{err}");
}
