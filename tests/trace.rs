//! `brink trace`, `events.csv` and the engine observer behind them.
//!
//! The promise is that a traced trial *is* the trial `brink run` computed: trace
//! outcome rows are compared with `trials.csv` rows (runs on 1 and 2 threads), and
//! `events.csv` is recomputed into each trial's counts, tallies, levels and path. The
//! observer is checked on a scenario whose every firing is known by hand, and `--find`
//! and `--path` against a scan of `trials.csv`.

use crate::util::{brink, bundled, model, Table};
use brink::present::trace::{self, Entry, PathPattern};
use brink::sim::engine::{Cause, Engine, Firing, Observer, TriggerCheck};
use std::collections::BTreeMap;
use std::path::Path;
use tempfile::TempDir;

/// `brink run` into `dir/name` with `--charts none`; returns the folder.
fn run(dir: &Path, name: &str, args: &[&str]) -> std::path::PathBuf {
    let out = dir.join(name);
    let mut cmd = brink();
    cmd.arg("run").args(args).arg("--out").arg(&out).args(["--charts", "none", "--quiet"]);
    cmd.assert().success();
    out
}

/// `brink trace` with these arguments; returns stdout (asserting success).
fn trace_out(args: &[&str]) -> String {
    let out = brink().arg("trace").args(args).output().expect("brink runs");
    assert!(out.status.success(), "brink trace {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The `trials.csv` rows of a results folder, as lines without the header.
fn trial_lines(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("trials.csv")).expect("trials.csv");
    text.lines().skip(1).map(str::to_owned).collect()
}

/// The stories of a `--format json` trace: (trial, trials_csv_row).
fn json_rows(text: &str) -> Vec<(u64, String)> {
    let v: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
    v["stories"]
        .as_array()
        .expect("stories")
        .iter()
        .map(|s| (s["trial"].as_u64().unwrap(), s["trials_csv_row"].as_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn trace_outcome_rows_equal_trials_csv_on_one_and_two_threads() {
    let tmp = TempDir::new().unwrap();
    let scen = bundled("baghdad-2020.toml");
    let s = scen.to_str().unwrap();
    let two = run(tmp.path(), "two", &[s, "--trials", "300", "--threads", "2"]);
    let one = run(tmp.path(), "one", &[s, "--trials", "300", "--threads", "1"]);
    let rows = trial_lines(&two);
    assert_eq!(rows, trial_lines(&one));
    assert_eq!(rows.len(), 300);

    // `--path "*"` matches every trial: all 300 stories in one process.
    let traced = json_rows(&trace_out(&[s, "--path", "*", "--count", "300", "--format", "json"]));
    assert_eq!(traced.len(), 300);
    for (i, (trial, row)) in traced.iter().enumerate() {
        assert_eq!(*trial, i as u64);
        assert_eq!(row, &rows[i], "trial {i}");
    }

    // Text output ends with the header and the row, for trials picked by index.
    let header = std::fs::read_to_string(two.join("trials.csv")).unwrap().lines().next().unwrap().to_owned();
    for t in [0usize, 17, 142, 299] {
        let text = trace_out(&[s, "--trial", &t.to_string()]);
        let last: Vec<&str> = text.lines().rev().take(2).collect();
        assert_eq!(last[0], rows[t], "trial {t}");
        assert_eq!(last[1], header);
    }
}

#[test]
fn trace_honours_seed_variant_and_set_as_run_does() {
    let tmp = TempDir::new().unwrap();
    let scen = bundled("baghdad-2020.toml");
    let s = scen.to_str().unwrap();
    let flags = ["--seed", "7", "--variant", "direct_warning", "--set", "p_targeted_killing=0.9"];
    let mut args = vec![s, "--trials", "120", "--threads", "2"];
    args.extend(flags);
    let rows = trial_lines(&run(tmp.path(), "r", &args));
    let mut targs = vec![s, "--path", "*", "--count", "120", "--format", "json"];
    targs.extend(flags);
    let traced = json_rows(&trace_out(&targs));
    assert_eq!(traced.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(), rows);
    // And a different seed gives different trials, so the comparison above can fail.
    let other =
        json_rows(&trace_out(&[s, "--path", "*", "--count", "120", "--format", "json", "--seed", "8"]));
    assert_ne!(other.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(), rows);
}

/// Recomputes each trial's counts, tally totals, final and highest level, end and path
/// from its `events.csv` rows and compares them with its `trials.csv` row.
fn check_events_against_trials(m: &brink::sim::model::Model, dir: &Path, k: usize) {
    let events = Table::read(&dir.join("events.csv"));
    let trials = Table::read(&dir.join("trials.csv"));
    let mut by_trial: BTreeMap<u64, Vec<&Vec<String>>> = BTreeMap::new();
    for r in &events.rows {
        by_trial.entry(r[0].parse().unwrap()).or_default().push(r);
    }
    assert!(by_trial.keys().all(|&t| t < k as u64), "rows only for the first {k} trials");
    let level_ix = |id: &str| m.level_ix(id).unwrap_or_else(|| panic!("unknown level {id}"));
    let mut raised = 0;
    for t in 0..k {
        let row = &trials.rows[t];
        assert_eq!(row[0], t.to_string());
        let evs = by_trial.get(&(t as u64)).cloned().unwrap_or_default();
        // Counts per step.
        for st in &m.steps {
            let n = evs.iter().filter(|r| r[events.col("step")] == st.id).count();
            assert_eq!(n.to_string(), row[trials.col(&format!("count_{}", st.id))], "trial {t} {}", st.id);
        }
        // Tally totals.
        for ta in &m.tallies {
            let c = events.col(&ta.id);
            let sum: u64 = evs.iter().map(|r| r[c].parse::<u64>().unwrap()).sum();
            assert_eq!(sum.to_string(), row[trials.col(&ta.id)], "trial {t} {}", ta.id);
        }
        // Levels chain from row to row, starting at the initial level.
        let mut level = m.initial_level;
        let mut max = level;
        let mut path = Vec::new();
        let mut last_day = 0.0;
        for r in &evs {
            let before = level_ix(&r[events.col("level_before")]);
            let after = level_ix(&r[events.col("level_after")]);
            assert_eq!(before, level, "trial {t}: level_before follows the previous row");
            if after > before {
                path.push(r[events.col("step")].clone());
            }
            level = after;
            max = max.max(after);
            let day: f64 = r[events.col("day")].parse().unwrap();
            assert!(day >= last_day && day < m.horizon_days as f64, "trial {t}: days in order");
            last_day = day;
            if let Some(start) = m.start {
                // The date is that of the exact day; the printed day is rounded to 4
                // decimals, so 21.99996 shows as 22.0000 on the date of day 21.
                let want: Vec<String> = [day - 5e-5, day + 5e-5]
                    .iter()
                    .map(|d| start.plus_days(d.floor() as i64).to_string())
                    .collect();
                assert!(want.contains(&r[events.col("date")]), "trial {t}: day {day}, {want:?}");
            }
        }
        assert_eq!(m.levels[level].id, row[trials.col("final_level")], "trial {t}");
        assert_eq!(m.levels[max].id, row[trials.col("max_level")], "trial {t}");
        assert_eq!(path.join(">"), row[trials.col("path")], "trial {t}");
        raised += usize::from(!path.is_empty());
        if row[trials.col("end_reason")] == "terminal" {
            assert_eq!(evs.last().unwrap()[events.col("day")], row[trials.col("end_day")], "trial {t}");
        }
    }
    assert!(raised > 0, "some trial must escalate, or the path check proves nothing");
}

#[test]
fn events_csv_sums_per_trial_equal_trials_csv() {
    let tmp = TempDir::new().unwrap();
    for (name, trials, k) in [("baghdad-2020.toml", "400", 300), ("chain-2019.toml", "200", 200)] {
        let scen = bundled(name);
        let s = scen.to_str().unwrap();
        let dir =
            run(tmp.path(), name, &[s, "--trials", trials, "--threads", "2", "--events", &k.to_string()]);
        let m = brink::scenario::load(&scen, &Default::default()).unwrap().0;
        check_events_against_trials(&m, &dir, k);
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
        let files: Vec<&str> =
            manifest["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
        assert!(files.contains(&"events.csv"), "{files:?}");
    }
}

#[test]
fn events_csv_equals_trace_csv_and_k_is_capped_by_trials() {
    let tmp = TempDir::new().unwrap();
    let scen = bundled("baghdad-2020.toml");
    let s = scen.to_str().unwrap();
    let dir = run(tmp.path(), "r", &[s, "--trials", "50", "--threads", "2", "--events", "1000"]);
    let events = std::fs::read_to_string(dir.join("events.csv")).unwrap();
    let traced = trace_out(&[s, "--path", "*", "--count", "50", "--format", "csv"]);
    assert_eq!(events, traced);
    let last_trial: u64 = events.lines().last().unwrap().split(',').next().unwrap().parse().unwrap();
    assert_eq!(last_trial, 49, "--events beyond --trials stops at the last trial");
    // Without --events there is no events.csv.
    let plain = run(tmp.path(), "plain", &[s, "--trials", "50"]);
    assert!(!plain.join("events.csv").exists());
}

#[test]
fn find_returns_the_first_trials_that_reach_the_level_in_trial_order() {
    let tmp = TempDir::new().unwrap();
    let scen = bundled("baghdad-2020.toml");
    let s = scen.to_str().unwrap();
    // War is rare in baghdad-2020 (about 0.03 %): make its steps likely, so that 3000
    // trials hold enough of every level and path looked for.
    let likely = [
        "--set",
        "p_us_hits_iran_after_strike_no_us_killed=0.9",
        "--set",
        "p_exchange_sustained=0.9",
        "--set",
        "p_targeted_killing=0.9",
        "--set",
        "p_embassy_storming=0.9",
    ];
    let mut args = vec![s, "--trials", "3000"];
    args.extend(likely);
    let dir = run(tmp.path(), "r", &args);
    let trials = Table::read(&dir.join("trials.csv"));
    let m = brink::scenario::load(&scen, &Default::default()).unwrap().0;
    let traced = |extra: &[&str]| {
        let mut a = vec![s];
        a.extend(extra);
        a.extend(likely);
        json_rows(&trace_out(&a))
    };

    for level in ["iran_strike", "war", "lethal"] {
        let l = m.level_ix(level).unwrap();
        let want: Vec<u64> = trials
            .rows
            .iter()
            .filter(|r| m.level_ix(&r[trials.col("max_level")]).unwrap() >= l)
            .take(4)
            .map(|r| r[0].parse().unwrap())
            .collect();
        assert_eq!(want.len(), 4, "3000 trials hold at least 4 that reach {level}");
        let got = traced(&["--find", level, "--count", "4", "--format", "json"]);
        assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), want, "{level}");
        for (t, row) in &got {
            assert_eq!(row, &trials.rows[*t as usize].join(","));
        }
    }

    // Paths: exact, and with `*`; combined with --find both must hold.
    let path_of = |r: &Vec<String>| r[trials.col("path")].clone();
    type Keep<'a> = Box<dyn Fn(&Vec<String>) -> bool + 'a>;
    let cases: [(&str, Option<&str>, Keep); 4] = [
        (
            "kh_rocket_salvo>us_strike_militia",
            None,
            Box::new(|r| path_of(r) == "kh_rocket_salvo>us_strike_militia"),
        ),
        ("*>war_outbreak", None, Box::new(|r| path_of(r).ends_with(">war_outbreak"))),
        ("(none)", None, Box::new(|r| path_of(r).is_empty())),
        (
            "kh_rocket_salvo>*",
            Some("embassy_crisis"),
            Box::new(|r| {
                path_of(r).starts_with("kh_rocket_salvo")
                    && m.level_ix(&r[trials.col("max_level")]).unwrap()
                        >= m.level_ix("embassy_crisis").unwrap()
            }),
        ),
    ];
    for (pat, find, keep) in &cases {
        let want: Vec<u64> =
            trials.rows.iter().filter(|r| keep(r)).take(3).map(|r| r[0].parse().unwrap()).collect();
        assert_eq!(want.len(), 3, "{pat}");
        let mut args = vec!["--path", *pat, "--count", "3", "--format", "json"];
        if let Some(f) = find {
            args.extend(["--find", f]);
        }
        let got: Vec<u64> = traced(&args).iter().map(|g| g.0).collect();
        assert_eq!(got, want, "--path {pat} --find {find:?}");
    }
}

#[test]
fn find_reports_when_fewer_trials_match_than_asked() {
    let scen = bundled("baghdad-2020.toml");
    let out = brink()
        .args(["trace", scen.to_str().unwrap(), "--find", "war", "--count", "3", "--trials", "20"])
        .output()
        .unwrap();
    // P(war) is about 0.03 %: the first 20 trials of this seed hold none.
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("found 0 of 3 trials asked for among trials 0-19"), "{err}");
}

#[test]
fn bad_trace_input_is_exit_code_2_with_a_suggestion() {
    let scen = bundled("baghdad-2020.toml");
    let s = scen.to_str().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (&["--find", "warr"], "unknown level `warr` in --find; did you mean `war`?"),
        (&["--path", "kh_rocket_salvo>>us_strike_militia"], "has an empty step"),
        (&["--path", "kh_rocket_salvo>us_strike_militai"], "did you mean `us_strike_militia`?"),
        (&["--trial", "3", "--find", "war"], "cannot be used with"),
        (&[], "required arguments were not provided"),
        (&["--find", "war", "--count", "0"], "--count"),
    ];
    for (args, msg) in cases {
        let out = brink().arg("trace").arg(s).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(msg), "{args:?}: {err}");
    }
}

/// A scenario whose every firing is known by hand:
///
/// - day 1: `a` is scheduled with branch `hit` forced: killed += 2, level calm -> tense,
///   and a modifier on `b` (p x2 for 3 days, so until day 4);
/// - its reactions, in file order: `b` after `a.hit` (p 0.5 x 2 = 1, fixed delay 2, so
///   scheduled for day 3); `c` after `a` guarded by `min_level = "war"` (guard fails);
///   `d` after `a` with p 0 (drawn, never scheduled);
/// - day 3: `b` fires (its only branch), level tense -> war (terminal), the trial ends.
const KNOWN: &str = r#"
[scenario]
name = "known"
horizon_days = 10
start = 2024-02-28

[[levels]]
id = "calm"
[[levels]]
id = "tense"
[[levels]]
id = "war"
terminal = true

[tallies]
killed = "killed"

[[steps]]
id = "a"
actor = "red"
  [[steps.branches]]
  id = "hit"
  p = 0.5
  tally = { killed = { fixed = 2 } }
  raise_to = "tense"
  modify = [ { step = "b", p_x = 2, days = 3 } ]
  [[steps.branches]]
  id = "miss"
  p = "rest"

[[steps]]
id = "b"
actor = "blue"
  [[steps.triggers]]
  after = "a.hit"
  p = 0.5
  delay = { fixed = 2 }
  [[steps.branches]]
  id = "strike"
  p = 1
  raise_to = "war"

[[steps]]
id = "c"
  [[steps.triggers]]
  after = "a"
  min_level = "war"

[[steps]]
id = "d"
  [[steps.triggers]]
  after = "a"
  p = 0

[[schedule]]
step = "a"
branch = "hit"
day = 1
"#;

#[test]
fn the_observer_sees_every_firing_of_a_trial_known_by_hand() {
    let m = model(KNOWN);
    let mut e = Engine::new(&m, 3);
    let story = trace::record(&mut e, &m, 0).unwrap();
    assert_eq!(story.entries.len(), 2, "{:#?}", story.entries);
    let Entry::Fire(a) = &story.entries[0] else { panic!("a fires first") };
    assert_eq!(
        a.firing,
        Firing { time: 1.0, step: 0, branch: 0, cause: Cause::Scheduled { forced: true }, level: 0 }
    );
    assert_eq!(a.level_after, 1);
    assert_eq!(a.tallies, vec![(0, 2)]);
    assert_eq!(a.modifiers.len(), 1);
    assert_eq!((a.modifiers[0].0.step, a.modifiers[0].0.p_x, a.modifiers[0].1), (1, 2.0, 4.0));
    assert_eq!(a.triggers.len(), 3);
    assert!(
        matches!(a.triggers[0], (0, TriggerCheck::Drawn { p, at: Some(at), .. }) if p == 1.0 && at == 3.0)
    );
    assert_eq!(a.triggers[1], (1, TriggerCheck::Guarded));
    assert!(matches!(a.triggers[2], (2, TriggerCheck::Drawn { p, at: None, .. }) if p == 0.0));
    let Entry::Fire(b) = &story.entries[1] else { panic!("b fires second") };
    assert_eq!(
        b.firing,
        Firing { time: 3.0, step: 1, branch: 0, cause: Cause::Triggered { trigger: 0 }, level: 1 }
    );
    assert_eq!(b.level_after, 2);
    assert_eq!((story.end_day, story.end_reason.as_str()), (3.0, "terminal"));
    assert_eq!(story.outcome_row, "0,3.0000,terminal,war,war,0.0000,1.0000,3.0000,1,1,0,0,2,a>b");

    // The text names all of it, with dates (2024 is a leap year: day 1 is 29 Feb).
    let text = trace::text(&m, &story, 3);
    for needle in [
        "1.0000  2024-02-29  red    a.hit [scheduled, branch set]; killed +2; level calm -> tense (tense); modifier b trigger p x2 until day 4.0000",
        "b scheduled for day 3.0000, 2024-03-02 (p 1, drew",
        "c not considered (level >= war fails)",
        "d not scheduled (p 0, drew",
        "3.0000  2024-03-02  blue   b.strike [reaction to a.hit]; level tense -> war (war)",
        "(end: level war is terminal)",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in\n{text}");
    }
}

/// Counts every observer call, to check the hooks against the outcome.
#[derive(Default)]
struct Counter {
    fires: Vec<u32>,
    tallies: Vec<u64>,
    level: usize,
    started: u32,
    ended: u32,
    ends: f64,
}

impl Observer for Counter {
    fn on_start(&mut self, _trial: u64) {
        self.started += 1;
    }
    fn on_fire(&mut self, f: &Firing) {
        self.fires[f.step] += 1;
        assert_eq!(f.level, self.level, "on_fire sees the level before the firing");
    }
    fn on_tally(&mut self, t: usize, x: u64) {
        self.tallies[t] += x;
    }
    fn on_level(&mut self, from: usize, to: usize) {
        assert_eq!(from, self.level);
        self.level = to;
    }
    fn on_end(&mut self, t: f64, _r: brink::sim::engine::EndReason) {
        self.ended += 1;
        self.ends = t;
    }
}

#[test]
fn observing_changes_nothing_and_sees_every_count_and_tally() {
    for name in ["baghdad-2020.toml", "chain-2019.toml", "minimal.toml"] {
        let m = brink::scenario::load(&bundled(name), &Default::default()).unwrap().0;
        let mut plain = Engine::new(&m, 11);
        let mut seen = Engine::new(&m, 11);
        for t in 0..400 {
            plain.run(t).unwrap();
            let mut c = Counter {
                fires: vec![0; m.steps.len()],
                tallies: vec![0; m.tallies.len()],
                level: m.initial_level,
                ..Counter::default()
            };
            seen.run_observed(t, &mut c).unwrap();
            let (a, b) = (plain.outcome(), seen.outcome());
            assert_eq!((a.end_day, a.final_level, a.max_level), (b.end_day, b.final_level, b.max_level));
            assert_eq!((a.counts, a.tallies, a.path), (b.counts, b.tallies, b.path), "{name} trial {t}");
            assert_eq!(c.fires, b.counts, "{name} trial {t}");
            assert_eq!(c.tallies, b.tallies, "{name} trial {t}");
            assert_eq!(c.level, b.final_level);
            assert_eq!((c.started, c.ended, c.ends), (1, 1, b.end_day));
        }
    }
}

#[test]
fn path_patterns_reject_unknown_steps() {
    let m = model(KNOWN);
    assert!(PathPattern::parse(&m, "a>b").unwrap().matches(&[0, 1]));
    let e = PathPattern::parse(&m, "a>e").unwrap_err();
    assert!(e.contains("unknown step `e`"), "{e}");
}

/// Trigger draws are uniform: among many firings of `a` in the tutorial scenario, the
/// share of reactions scheduled matches p, and the drawn `u` of the scheduled ones
/// lies below p. `retaliation` reacts to `border_incident.clash` with p = 0.3.
#[test]
fn recorded_trigger_draws_match_their_probability() {
    let m = brink::scenario::load(&bundled("minimal.toml"), &Default::default()).unwrap().0;
    let mut e = Engine::new(&m, 5);
    let (mut drawn, mut scheduled) = (0u64, 0u64);
    for t in 0..4000 {
        let story = trace::record(&mut e, &m, t).unwrap();
        for en in &story.entries {
            if let Entry::Fire(f) = en {
                for (_, check) in &f.triggers {
                    if let TriggerCheck::Drawn { u, p, at } = check {
                        assert_eq!(*p, 0.3);
                        assert_eq!(at.is_some(), u < p);
                        drawn += 1;
                        scheduled += u64::from(at.is_some());
                    }
                }
            }
        }
    }
    // Each draw is Bernoulli(0.3): variance 0.21.
    let share = scheduled as f64 / drawn as f64;
    assert!(drawn > 1000, "{drawn}");
    assert!((share - 0.3).abs() < crate::util::tol(0.21, drawn), "{share} over {drawn} draws");
}
