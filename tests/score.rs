//! `brink score` (docs/score.md): forecasts from a logged past against hand-derived values,
//! and the end-to-end proof that scoring picks the model that made the data.
//!
//! Each statistical test states the value derived by hand and uses a tolerance from the
//! estimate's own sampling error (99.9% normal interval, `util::tol`).

use crate::util::{brink, ladder_model, tol, Table};
use brink::analysis::score::{
    block_length, climate, observe, origin_count, past, pit_uniformity, score, simulate, summarize, targets,
    Forecast, Group, Row, Rule, Target, WindowCounts, BOOTSTRAP,
};
use brink::sim::engine::{Past, PastFiring};
use brink::sim::model::Model;
use brink::sim::runner::RunSpec;

fn scenario(horizon: u32, body: &str) -> Model {
    ladder_model(horizon, body)
}

const TRIALS: u64 = 20_000;

/// Forecasts of `m` from `past` to `until`: the window counts of `TRIALS` trials.
fn forecast(m: &Model, past: &Past, until: f64) -> WindowCounts {
    let spec = RunSpec { trials: TRIALS, seed: 7, threads: 2, max_events: 1_000_000 };
    simulate(&[m], past, until, 0, &spec).expect("runs").remove(0)
}

fn mean(w: &WindowCounts, target: Target) -> f64 {
    w.forecast(target).expect("a forecast").mean()
}

/// A `hit` that a `strike` answers with p = 0.6 after `delay`, and `more` (a schedule).
fn hit_and_strike(delay: &str, more: &str) -> Model {
    scenario(60, &format!("{HIT_AND_STRIKE}  delay = {delay}\n\n{more}"))
}

const HIT_AND_STRIKE: &str = r#"
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
"#;

fn assert_close(what: &str, got: f64, want: f64, tol: f64) {
    assert!((got - want).abs() <= tol, "{what}: got {got}, expected {want} ± {tol}");
}

fn logged(time: f64, step: usize, branch: usize) -> PastFiring {
    PastFiring { time, step, branch: Some(branch), answered_by: Vec::new() }
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
    let m = hit_and_strike("{ fixed = 5 }", "");
    let w = forecast(&m, &Past { origin: 10.0, firings: vec![logged(8.0, 0, 0)] }, 20.0);
    assert_close("P(strike)", mean(&w, Target::Fired(1)), 0.6, tol(0.24, TRIALS));
    let answered = PastFiring { answered_by: vec![1], ..logged(8.0, 0, 0) };
    let w = forecast(&m, &Past { origin: 10.0, firings: vec![answered, logged(9.0, 1, 0)] }, 20.0);
    assert_eq!(mean(&w, Target::Fired(1)), 0.0, "an answered firing is not answered twice");
    let m = hit_and_strike("{ fixed = 1 }", "");
    let w = forecast(&m, &Past { origin: 10.0, firings: vec![logged(8.0, 0, 0)] }, 20.0);
    assert_eq!(mean(&w, Target::Fired(1)), 0.0, "a reaction due before the origin did not happen");
}

/// A reaction pending at the origin is conditioned on not having come yet: after a hit on
/// day 8, a strike with p = 0.6 and a delay uniform on [1, 5] had a chance F(2) = 1/4 to
/// come before the origin (day 10) and did not, so it comes with probability
/// 0.6 x 3/4 / (1 - 0.6 x 1/4) = 0.45 / 0.85 = 9/17, at a day uniform on [10, 13].
#[test]
fn a_pending_reaction_is_conditioned_on_the_days_elapsed() {
    let m = hit_and_strike("{ uniform = [1, 5] }", "");
    let past = Past { origin: 10.0, firings: vec![logged(8.0, 0, 0)] };
    let want = 9.0 / 17.0;
    let w = forecast(&m, &past, 20.0);
    assert_close("P(strike)", mean(&w, Target::Fired(1)), want, tol(want * (1.0 - want), TRIALS));
    // Its day: uniform on [10, 13], so by day 11.5 half of the strikes have come.
    let half = forecast(&m, &past, 11.5);
    let p = mean(&half, Target::Fired(1)) / mean(&w, Target::Fired(1));
    assert_close("share by day 11.5", p, 0.5, 4.0 * (0.25 / (want * TRIALS as f64)).sqrt());
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
    let p = past(&m, &log, 0, 10.0);
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
            .args(["--trials", "500", "--quiet", "--set", &format!("rate={rate}")])
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
        let all: Vec<_> = pit
            .rows
            .iter()
            .filter(|r| r[pit.col("forecaster")] == "brink" && r[pit.col("target")] == "all count")
            .collect();
        let p = pit.num(all[0], "p_value");
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
    let cases: [(&[&str], &str); 6] = [
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
            &["--from", "2020-07-01", "--to", "2021-07-31", "--lead", "-5"],
            "--lead -5: give a positive number of days",
        ),
        (
            &["--from", "2021-07-01", "--to", "2020-07-01"],
            "--from (2021-07-01) must come before --to (2020-07-01)",
        ),
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

/// The means, events and skills of `summarize` on a toy whose values are worked by hand:
/// four origins, one count target, brink scoring 1, 1, 1, 1 and the baseline 2, 2, 2, 6.
/// Skill = 1 - 4 / 12 = 2/3 and improvement (12 - 4) / 4 = 2. Every bootstrap resample
/// keeps brink at 1 per row and the baseline between 2 and 6, so the skill interval lies
/// within [1/2, 5/6] and the improvement's within [1, 5].
#[test]
fn summaries_are_worked_by_hand() {
    let scored = |crps: f64| {
        Some(score(&Forecast::Sampled(brink::analysis::score::CountForecast { pmf: vec![1.0] }, 10), 0, 0.5))
            .map(|s| brink::analysis::score::Scored { crps: Some(crps), ..s })
    };
    let rows: Vec<Row> = [2.0, 2.0, 2.0, 6.0]
        .iter()
        .enumerate()
        .map(|(o, &b)| Row {
            origin: o,
            target: Target::Count(0),
            observed: o as u64,
            scores: vec![scored(1.0), scored(b)],
        })
        .collect();
    let sums = summarize(&rows, 4, 2, &[1], 1, 7);
    let s = sums
        .iter()
        .find(|s| s.group == Group::One(Target::Count(0)) && s.rule == Rule::Crps && s.forecaster == 0)
        .unwrap();
    assert_eq!((s.origins, s.rows, s.events, s.mean), (4, 4, 6, 1.0));
    let v = s.versus[0];
    let k = v.skill.unwrap();
    assert!((k.value - 2.0 / 3.0).abs() < 1e-12 && (v.diff.value - 2.0).abs() < 1e-12, "{v:?}");
    assert!(k.low >= 0.5 - 1e-12 && k.high <= 5.0 / 6.0 + 1e-12 && k.low < k.high, "{k:?}");
    assert!(v.diff.low >= 1.0 - 1e-12 && v.diff.high <= 5.0 + 1e-12, "{v:?}");
    // The baseline has no row after it to be compared with.
    let b = sums
        .iter()
        .find(|s| s.rule == Rule::Crps && s.forecaster == 1 && s.group == Group::One(Target::Count(0)));
    assert!(b.unwrap().versus.is_empty());
    assert_eq!(BOOTSTRAP, 2000);
    // Blocks: at least the windows one overlaps, at least the cube root of the origins.
    assert_eq!(
        (block_length(13, 30.0, 30.0), block_length(13, 10.0, 30.0), block_length(1, 30.0, 30.0)),
        (3, 3, 1)
    );
    assert_eq!((block_length(1000, 30.0, 30.0), block_length(8, 7.0, 30.0)), (10, 5));
}

/// Pearson's chi-square of PIT values against uniform, with 3 bins (2 degrees of
/// freedom, whose tail is exactly e^(-x/2)): counts 20, 5, 5 of 30 give
/// (100 + 25 + 25) / 10 = 15 and p = e^-7.5.
#[test]
fn pit_uniformity_against_the_two_degree_tail() {
    let mut pits = vec![0.1; 20];
    pits.extend([0.5; 5]);
    pits.extend([0.9; 5]);
    let (chi2, p) = pit_uniformity(&pits, 3);
    assert!((chi2 - 15.0).abs() < 1e-12, "{chi2}");
    assert!((p - (-7.5f64).exp()).abs() < 1e-9, "{p}");
}

/// The climatology of a toy log: 40 days looked back, 2 firings of the step, a raise to
/// clash; its Poisson for a 10-day window has mean 10 (2 + 1/2) / 40 = 0.625, and a
/// tally's look-back windows are the 31 windows of 10 days starting on days 0 to 30.
#[test]
fn the_climatology_of_a_toy_log() {
    let m = scenario(
        60,
        r#"
[tallies]
hurt = "people hurt"

[[steps]]
id = "attack"
rate = 0.05
  [[steps.branches]]
  id = "hit"
  p = 0.5
  tally = { hurt = { fixed = 3 } }
  raise_to = "clash"
  [[steps.branches]]
  id = "miss"
  p = "rest"
"#,
    );
    let text = "trial,day,step,branch,hurt\n0,4.5,attack,hit,3\n0,20.5,attack,miss,0\n";
    let log = brink::scenario::log::parse("log.csv", text, &m).expect("a log");
    let c = climate(&m, &log, 0, 0.0, 40.0, 10.0);
    assert_eq!((c.days, c.steps.clone(), c.raises.clone()), (40.0, vec![2], vec![0, 1, 0, 0]));
    let mean = brink::analysis::score::climate_forecast(&c, Target::Count(0), 10.0).unwrap().mean();
    assert!((mean - 0.625).abs() < 1e-12, "{mean}");
    let sums = c.tally_windows[0].as_ref().unwrap();
    // Windows [s, s + 10) for s = 0..=30: those holding day 4.5 (s = 0..=4) sum to 3.
    assert_eq!((sums.len(), sums.iter().filter(|&&x| x == 3).count()), (31, 5));
    // A huge tally cell is not a count a forecast can be scored on.
    let text = "trial,day,step,branch,hurt\n0,4.5,attack,hit,1000000000000\n";
    let log = brink::scenario::log::parse("log.csv", text, &m).expect("a log");
    assert_eq!(observe(&m, &log, 0, 0.0, 10.0).tallies, vec![None]);
    assert!(climate(&m, &log, 0, 0.0, 40.0, 10.0).tally_windows[0]
        .as_ref()
        .is_some_and(|w| w.iter().all(|&x| x == 0)));
}

/// The logged past: a row names its cause, so the trigger it answers is settled; a
/// scheduled entry the log does not list is replayed, one it lists is not doubled.
#[test]
fn the_past_from_a_log_with_causes_and_a_schedule() {
    let m = hit_and_strike(
        "{ fixed = 2 }",
        "[[schedule]]\nday = 3\nstep = \"hit\"\n\n[[schedule]]\nday = 5\nstep = \"strike\"\n",
    );
    let text = "id,trial,day,step,branch,cause\na,0,1.5,hit,dead,\nb,0,3.5,strike,done,a\n";
    let log = brink::scenario::log::parse("log.csv", text, &m).expect("a log");
    let p = past(&m, &log, 0, 10.0);
    let shown: Vec<(f64, usize, Option<usize>, Vec<usize>)> =
        p.firings.iter().map(|f| (f.time, f.step, f.branch, f.answered_by.clone())).collect();
    // Day 3's scheduled hit is not in the log: replayed; day 5's strike neither; the
    // logged strike of day 3.5 answers the hit of day 1.5.
    assert_eq!(
        shown,
        vec![
            (1.5, 0, Some(0), vec![1]),
            (3.0, 0, None, vec![]),
            (3.5, 1, Some(0), vec![]),
            (5.0, 1, None, vec![])
        ]
    );
}

/// Inputs that would hang, crash or mislead are refused: too many origins, a log that
/// reaches a terminal level before the last origin, an empty log.
#[test]
fn score_refuses_what_it_cannot_score() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.csv");
    let run = |log_text: &str, extra: &[&str]| {
        std::fs::write(&log, log_text).unwrap();
        let out = brink()
            .args(["score", "scenarios/minimal.toml", "--events", log.to_str().unwrap(), "--quiet"])
            .args(extra)
            .arg("--out")
            .arg(dir.path().join("never"))
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = run(
        "trial,day,step,branch\n0,2.5,border_incident,harmless\n",
        &["--from", "5", "--to", "30", "--every", "1e-9", "--lead", "1"],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("brink score takes at most 10000"), "{err}");
    let (code, err) = run(
        "trial,day,step,branch\n0,2.5,border_incident,clash\n0,3.5,retaliation,strike\n",
        &["--from", "5", "--to", "30", "--every", "5", "--lead", "5"],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("reaches the terminal level `war`"), "{err}");
    let (code, err) = run("trial,day,step,branch\n", &["--from", "5", "--to", "30", "--lead", "5"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("the log has no rows"), "{err}");
    assert_eq!(origin_count(5.0, 30.0, 5.0, 5.0), 5);
}
