//! `brink score` (docs/score.md): forecasts from a logged past against hand-derived values,
//! and the end-to-end proof that scoring picks the model that made the data.
//!
//! Each statistical test states the value derived by hand and uses a tolerance from the
//! estimate's own sampling error (99.9% normal interval, `util::tol`).

use crate::util::{brink, model, tol, Table};
use brink::analysis::score::{observe, past, simulate, targets, Forecast, Target, WindowCounts};
use brink::sim::engine::{Past, PastFiring};
use brink::sim::model::Model;
use brink::sim::runner::RunSpec;

const LADDER: &str = r#"
[[levels]]
id = "calm"
[[levels]]
id = "clash"
[[levels]]
id = "crisis"
[[levels]]
id = "war"
terminal = true
"#;

fn scenario(horizon: u32, body: &str) -> Model {
    model(&format!(
        "[scenario]\nname = \"t\"\nhorizon_days = {horizon}\nstart = 2021-01-01\n{LADDER}\n{body}"
    ))
}

const TRIALS: u64 = 20_000;

/// Forecasts of `m` from `past` to `until`: the window counts of `TRIALS` trials.
fn forecast(m: &Model, past: &Past, until: f64) -> WindowCounts {
    let spec = RunSpec { trials: TRIALS, seed: 7, threads: 2, max_events: 1_000_000 };
    simulate(&[m], past, until, 0, &spec).expect("runs").remove(0)
}

fn mean(w: &WindowCounts, target: Target) -> f64 {
    match w.forecast(target).expect("a forecast") {
        Forecast::Count(c) => c.mean(),
        Forecast::Binary(p) => p,
    }
}

fn assert_close(what: &str, got: f64, want: f64, tol: f64) {
    assert!((got - want).abs() <= tol, "{what}: got {got}, expected {want} ± {tol}");
}

fn logged(time: f64, step: usize, branch: usize) -> PastFiring {
    PastFiring { time, step, branch, answered_by: Vec::new() }
}

/// Spontaneous arrivals start at the origin, at the rate in force (a window doubles it
/// over days [20, 31), its `to` date included): mean 0.2 x (10 + 2 x 11 + 9) = 8.2 over
/// [10, 40), Poisson variance.
#[test]
fn arrivals_start_at_the_origin() {
    let m = scenario(
        60,
        r#"
[[steps]]
id = "attack"
rate = 0.2
windows = [ { from = 2021-01-21, to = 2021-01-31, rate_x = 2 } ]
  [[steps.branches]]
  id = "hit"
  p = 1
"#,
    );
    let w = forecast(&m, &Past { origin: 10.0, firings: vec![] }, 40.0);
    assert_close("mean firings", mean(&w, Target::Count(0)), 8.2, tol(8.2, TRIALS));
    let p = 1.0 - (-8.2f64).exp();
    assert_close("P(fired)", mean(&w, Target::Fired(0)), p, tol(p * (1.0 - p), TRIALS));
}

/// A modifier that a logged firing started before the origin is still in force after it:
/// `signal` at day 5 triples `attack`'s rate for 10 days, so over [10, 30) the mean is
/// 0.1 x (3 x 5 + 15) = 3.
#[test]
fn a_logged_modifier_runs_on_past_the_origin() {
    let m = scenario(
        60,
        r#"
[[steps]]
id = "attack"
rate = 0.1
  [[steps.branches]]
  id = "hit"
  p = 1

[[steps]]
id = "signal"
  [[steps.branches]]
  id = "go"
  p = 1
  modify = [ { step = "attack", rate_x = 3, days = 10 } ]
"#,
    );
    let w = forecast(&m, &Past { origin: 10.0, firings: vec![logged(5.0, 1, 0)] }, 30.0);
    assert_close("mean attacks", mean(&w, Target::Count(0)), 3.0, tol(3.0, TRIALS));
    assert_eq!(mean(&w, Target::Count(1)), 0.0, "the logged signal is not counted in the window");
}

/// A reaction drawn from a logged firing fires after the origin with its p (delay 5 from
/// day 8: at day 13); one that would have fired before the origin (delay 1) does not,
/// since the log says what happened then; and one the log records as answered is not
/// drawn again.
#[test]
fn reactions_in_flight_at_the_origin() {
    let body = |delay: f64| {
        format!(
            r#"
[[steps]]
id = "hit"
  [[steps.branches]]
  id = "dead"
  p = 1

[[steps]]
id = "strike"
  [[steps.branches]]
  id = "done"
  p = 1
  [[steps.triggers]]
  after = "hit"
  p = 0.6
  delay = {{ fixed = {delay} }}
"#
        )
    };
    let m = scenario(60, &body(5.0));
    let w = forecast(&m, &Past { origin: 10.0, firings: vec![logged(8.0, 0, 0)] }, 20.0);
    assert_close("P(strike)", mean(&w, Target::Fired(1)), 0.6, tol(0.24, TRIALS));
    let answered = PastFiring { answered_by: vec![1], ..logged(8.0, 0, 0) };
    let w = forecast(&m, &Past { origin: 10.0, firings: vec![answered, logged(9.0, 1, 0)] }, 20.0);
    assert_eq!(mean(&w, Target::Fired(1)), 0.0, "an answered firing is not answered twice");
    let m = scenario(60, &body(1.0));
    let w = forecast(&m, &Past { origin: 10.0, firings: vec![logged(8.0, 0, 0)] }, 20.0);
    assert_eq!(mean(&w, Target::Fired(1)), 0.0, "a reaction due before the origin did not happen");
}

/// Self-excitation from the logged past (Hawkes, cluster form): a firing at day 0 with
/// n = 2 offspring at exponential delays of mean 10 days leaves 2 (e^-1 - e^-5) expected
/// offspring in [10, 50); each offspring may itself excite (n = 2 from `spark` only, and
/// `ember` excites nothing), so the count is Poisson.
#[test]
fn excitation_from_the_logged_past() {
    let m = scenario(
        100,
        r#"
[[steps]]
id = "spark"
  [[steps.branches]]
  id = "lit"
  p = 1
  excite = [ { step = "ember", n = 2, decay_days = 10 } ]

[[steps]]
id = "ember"
  [[steps.branches]]
  id = "glow"
  p = 1
"#,
    );
    let want = 2.0 * ((-1.0f64).exp() - (-5.0f64).exp());
    let w = forecast(&m, &Past { origin: 10.0, firings: vec![logged(0.0, 0, 0)] }, 50.0);
    assert_close("mean offspring in the window", mean(&w, Target::Count(1)), want, tol(want, TRIALS));
}

/// The level and the `max` caps at the origin are the log's: a logged clash leaves level
/// targets above clash only, and a step capped at 2 firings that fired twice is done;
/// capped at 3, it fires at most once more: P = 1 - exp(-1 x 0.5).
#[test]
fn level_and_caps_from_the_log() {
    let src = |cap: u32| {
        format!(
            r#"
[[steps]]
id = "attack"
rate = 0.05
max = {cap}
  [[steps.branches]]
  id = "hit"
  p = 1
  raise_to = "clash"
"#
        )
    };
    let m = scenario(60, &src(2));
    let text = "trial,day,step,branch\n0,1.5,attack,hit\n0,3.5,attack,hit\n0,12.5,attack,hit\n";
    let log = brink::scenario::log::parse("log.csv", text, &m).expect("a log");
    let obs = observe(&m, &log, 0, 10.0, 20.0);
    assert_eq!(obs.level_at_origin, 1);
    assert_eq!(obs.steps, vec![1]);
    let ts = targets(&m, &obs);
    assert!(ts.contains(&(Target::Level(2), 0)) && !ts.iter().any(|t| t.0 == Target::Level(1)), "{ts:?}");
    let p = past(&log, 0, 10.0);
    assert_eq!(p.firings.len(), 2);
    assert_eq!(mean(&forecast(&m, &p, 20.0), Target::Count(0)), 0.0, "the cap is reached");
    let m = scenario(60, &src(3));
    let w = forecast(&m, &p, 20.0);
    let want = 1.0 - (-0.5f64).exp();
    assert_close("P(one more)", mean(&w, Target::Count(0)), want, tol(want * (1.0 - want), TRIALS));
}

/// The end-to-end proof: a long log simulated from scenario S, scored by S and by S with
/// its attack rate doubled and halved. S must win on mean log score and CRPS; the PITs of
/// the wrong models must be far from uniform, S's not.
#[test]
fn the_true_model_wins_and_the_wrong_ones_show_in_the_pit() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.toml");
    std::fs::write(
        &scenario,
        r#"
[scenario]
name = "s"
horizon_days = 3000
start = 2000-01-01
initial_level = "calm"

[params]
rate = 0.2

[[levels]]
id = "calm"
[[levels]]
id = "clash"

[[steps]]
id = "attack"
rate = "rate"
  [[steps.branches]]
  id = "hit"
  p = 0.3
  raise_to = "clash"
  [[steps.branches]]
  id = "miss"
  p = "rest"

[[steps]]
id = "strike"
  [[steps.branches]]
  id = "done"
  p = 1
  [[steps.triggers]]
  after = "attack.hit"
  p = 0.5
  delay = { uniform = [1, 3] }
"#,
    )
    .unwrap();
    let data = dir.path().join("data");
    brink()
        .args(["run", scenario.to_str().unwrap(), "--trials", "1", "--seed", "99", "--events", "1"])
        .args(["--quiet", "--charts", "none"])
        .arg("--out")
        .arg(&data)
        .assert()
        .success();
    let log = data.join("events.csv");
    let mut results = Vec::new();
    for rate in ["0.2", "0.4", "0.1"] {
        let out = dir.path().join(format!("score-{rate}"));
        brink()
            .args(["score", scenario.to_str().unwrap(), "--events", log.to_str().unwrap()])
            .args(["--from", "2000-01-31", "--to", "2008-03-01", "--every", "30", "--lead", "30"])
            .args(["--trials", "2000", "--quiet", "--set", &format!("rate={rate}")])
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        let scores = Table::read(&out.join("scores.csv"));
        let mean = |rule: &str| {
            let rows: Vec<_> = scores
                .rows
                .iter()
                .filter(|r| r[0] == "all count" && r[1] == rule && r[2] == "brink")
                .collect();
            scores.num(rows[0], "mean")
        };
        let pit = Table::read(&out.join("pit.csv"));
        let p = pit.num(pit.row("forecaster", "brink"), "p_value");
        results.push((rate, mean("crps"), mean("log_score"), p));
    }
    let (truth, others) = results.split_first().unwrap();
    // About 100 origins of 30 days: the wrong models lose by about 1 nat per window
    // (KL(Poisson(6) || Poisson(12)) = 1.84, to Poisson(3) 1.16) on attacks alone.
    for o in others {
        assert!(truth.1 < o.1 && truth.2 < o.2, "S {truth:?} does not beat {o:?}");
        assert!(o.3 < 1e-4, "the PIT of rate x{} looks uniform: {o:?}", o.0);
    }
    assert!(truth.3 > 1e-3, "S's own PIT is not uniform: {truth:?}");
}

/// The hindcast's score folder: byte-identical files on 1 and 2 threads.
#[test]
fn score_files_do_not_depend_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("t{threads}"));
        brink()
            .args([
                "score",
                "scenarios/hindcast-2019-2021.toml",
                "--events",
                "data/events-iraq-2019-2021.csv",
            ])
            .args(["--from", "2020-07-01", "--to", "2021-01-01", "--refit", "--trials", "3000", "--quiet"])
            .args(["--threads", threads, "--out"])
            .arg(&out)
            .assert()
            .success();
        outs.push(out);
    }
    for f in ["score.csv", "scores.csv", "pit.csv"] {
        let a = std::fs::read(outs[0].join(f)).unwrap();
        assert!(!a.is_empty());
        assert_eq!(a, std::fs::read(outs[1].join(f)).unwrap(), "{f} differs between 1 and 2 threads");
    }
}

/// Bad options are usage errors (exit 2) that say what would be right.
#[test]
fn bad_options_are_explained() {
    let base = ["score", "scenarios/hindcast-2019-2021.toml", "--events", "data/events-iraq-2019-2021.csv"];
    let cases: [(&[&str], &str); 4] = [
        (
            &["--from", "2021-07-20", "--to", "2021-07-31"],
            "no forecast fits between --from 2021-07-20 and --to 2021-07-31",
        ),
        (
            &["--from", "2020-07-01", "--to", "2021-07-31", "--every", "0"],
            "--every 0: give a positive number of days",
        ),
        (&["--from", "2020-07-01", "--to", "2025-01-01"], "lies outside the scenario's window"),
        (
            &["--from", "2020-07-01", "--to", "2021-07-31", "--refit", "--fit-from", "2020-08-01"],
            "must come before the first origin",
        ),
    ];
    for (args, want) in cases {
        let out = brink().args(base).args(args).arg("--out").arg("/nonexistent/never").output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}
