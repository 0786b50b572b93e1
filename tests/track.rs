//! Forecast questions (`[[questions]]`) and `brink track-record` (issue 16, item 3):
//! question probabilities against closed forms, answers read from a record by hand,
//! the base rate and the scores against values worked out on paper, bad files refused
//! with their line, and the bundled track record answering its questions as the records
//! say, byte for byte on any number of threads.

use crate::util::{brink, errors, ladder_model, tol, Table};
use brink::analysis::track::{base_rate, forecast, outcome, paired_means, scores, set_priors, Answer};
use brink::scenario::log;
use brink::sim::model::{Asked, Model};
use brink::sim::runner::RunSpec;
use std::path::Path;

const TRIALS: u64 = 20_000;

/// An `attack` at 0.02 a day that raises the level to `clash` and counts one `dead`,
/// with three questions over 30 days.
fn attacks() -> Model {
    ladder_model(
        60,
        r#"
[tallies]
dead = "people killed"

[[steps]]
id = "attack"
rate = 0.02
  [[steps.branches]]
  id = "hit"
  p = 1
  raise_to = "clash"
  tally = { dead = { fixed = 1 } }

[[questions]]
id = "any_attack"
text = "An attack within 30 days?"
target = "fired:attack"
days = 30

[[questions]]
id = "clash"
kind = "escalation"
text = "A clash within 30 days?"
target = "level:clash"
days = 30

[[questions]]
id = "two_dead"
text = "Two dead within 45 days?"
target = "tally:dead"
at_least = 2
days = 45
"#,
    )
}

fn assert_close(what: &str, got: f64, want: f64, tol: f64) {
    assert!((got - want).abs() <= tol, "{what}: got {got}, expected {want} ± {tol}");
}

/// Poisson arrivals at 0.02 a day: P(at least one in 30 days) = 1 - e^-0.6 for the step
/// and the level it raises; P(at least two in 45 days) = 1 - e^-0.9 (1 + 0.9).
#[test]
fn question_probabilities_match_the_poisson_closed_forms() {
    let m = attacks();
    assert_eq!(m.questions.len(), 3);
    assert_eq!(m.questions[0].kind, "any_attack", "kind defaults to the id");
    assert_eq!(m.questions[2].target, Asked::Tally(0, 2));
    let spec = RunSpec { trials: TRIALS, seed: 11, threads: 2, max_events: 1_000_000 };
    let hits = forecast(&m, &spec).expect("runs");
    let one = 1.0 - (-0.6f64).exp();
    let two = 1.0 - (-0.9f64).exp() * 1.9;
    for (i, want) in [(0, one), (1, one), (2, two)] {
        let p = hits[i] as f64 / TRIALS as f64;
        assert_close(&m.questions[i].id, p, want, tol(want * (1.0 - want), TRIALS));
    }
    assert_eq!(hits[0], hits[1], "the step and the level it raises are the same event");
    // One thread or two: the same counts.
    let one_thread = forecast(&m, &RunSpec { threads: 1, ..spec }).expect("runs");
    assert_eq!(hits, one_thread);
}

/// A record answers from its rows in the window: day 29 is in a 30-day window, day 30
/// is not; an empty tally cell leaves a tally question open unless the counted rows
/// already reach it.
#[test]
fn a_record_answers_from_its_rows_in_the_window() {
    let m = attacks();
    let read = |rows: &str| {
        log::parse("r.csv", &format!("day,step,branch,dead\n{rows}"), &m).unwrap_or_else(|e| panic!("{e}"))
    };
    let late = read("30,attack,hit,1\n");
    assert_eq!(outcome(&m, &late, &m.questions[0]), Some(false));
    assert_eq!(outcome(&m, &late, &m.questions[1]), Some(false));
    let early = read("29,attack,hit,1\n");
    assert_eq!(outcome(&m, &early, &m.questions[0]), Some(true));
    assert_eq!(outcome(&m, &early, &m.questions[1]), Some(true));
    assert_eq!(outcome(&m, &early, &m.questions[2]), Some(false), "one dead of two asked");
    assert_eq!(outcome(&m, &read("3,attack,hit,\n"), &m.questions[2]), None, "uncounted");
    assert_eq!(outcome(&m, &read("3,attack,hit,\n5,attack,hit,2\n"), &m.questions[2]), Some(true));
}

/// A longer record is read against a shorter scenario: rows outside the window are left
/// out and counted, a cause naming one is dropped.
#[test]
fn a_longer_record_is_clipped_to_the_window() {
    let m = attacks();
    let text = "id,day,step,branch,dead,cause\na,-3,attack,hit,1,\nb,10,attack,hit,1,a\nc,70,attack,hit,1,\n";
    assert!(log::parse("r.csv", text, &m).is_err(), "the plain reading refuses rows outside the window");
    let l = log::parse_within("r.csv", text, &m).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((l.events.len(), l.outside), (1, 2));
    assert_eq!(l.events[0].cause, None);
}

/// Brier and log scores and the Jeffreys base rate, on paper.
#[test]
fn scores_and_base_rates_match_hand_values() {
    let (b, l) = scores(0.2, true, 0.0);
    assert_close("Brier", b, 0.64, 1e-12);
    assert_close("log", l, -(0.2f64.ln()), 1e-12);
    let (b, l) = scores(0.2, false, 0.0);
    assert_close("Brier", b, 0.04, 1e-12);
    assert_close("log", l, -(0.8f64.ln()), 1e-12);
    assert_close("floored log", scores(0.0, true, 0.5 / 1000.0).1, -(0.0005f64.ln()), 1e-12);
    assert_eq!(base_rate(0, 0), 0.5);
    assert_close("1 of 1", base_rate(1, 1), 0.75, 1e-12);
    assert_close("1 of 3", base_rate(1, 3), 0.375, 1e-12);
}

/// Base rates count only earlier episodes that are not revisions, by kind; a question of
/// the first episode gets one half.
#[test]
fn base_rates_come_from_earlier_episodes_of_the_same_kind() {
    let m = attacks();
    let answer = |day0: &str, q: usize, yes: bool, revised: bool| Answer {
        episode: day0.into(),
        day0: day0.into(),
        question: m.questions[q].clone(),
        target: String::new(),
        trials: 10,
        hits: 5,
        outcome: Some(yes),
        prior: (9, 9),
        revised: revised.then(|| "later".to_owned()),
    };
    let mut a = vec![
        answer("2019-01-01", 0, true, false),
        answer("2019-01-01", 1, false, false),
        answer("2020-01-01", 0, false, false),
        answer("2020-06-01", 0, true, true),
        answer("2021-01-01", 0, true, false),
        answer("2021-01-01", 1, true, false),
    ];
    set_priors(&mut a);
    let priors: Vec<(usize, usize)> = a.iter().map(|x| x.prior).collect();
    assert_eq!(priors, vec![(0, 0), (0, 0), (1, 1), (1, 2), (1, 2), (0, 1)]);
}

/// Two forecasters that score the same gain nothing, exactly; a better one gains by the
/// difference of the means.
#[test]
fn paired_means_of_equal_forecasters_gain_nothing() {
    let m = paired_means(&[(0.1, 0.1), (0.3, 0.3), (0.2, 0.2)], 1, "t").expect("pairs");
    assert_eq!(m.gain, (0.0, 0.0, 0.0));
    let m = paired_means(&[(0.1, 0.2), (0.1, 0.2)], 1, "t").expect("pairs");
    assert_close("gain", m.gain.0, 0.1, 1e-12);
    assert!(m.gain.1 <= m.gain.0 && m.gain.0 <= m.gain.2);
    assert!(paired_means(&[], 1, "t").is_none());
    // By hand: resampling two questions whose gains are 1 and 0 gives means 0, 1/2 and 1
    // with probabilities 1/4, 1/2 and 1/4, so the 2.5% and 97.5% points are 0 and 1.
    let m = paired_means(&[(0.0, 1.0), (0.0, 0.0)], 1, "t").expect("pairs");
    assert_eq!(m.gain, (0.5, 0.0, 1.0));
}

/// The means leave out revised entries and questions the record cannot answer.
#[test]
fn the_means_leave_out_revisions_and_open_questions() {
    let m = attacks();
    let answer = |hits: u64, outcome: Option<bool>, revised: bool| Answer {
        episode: "e".into(),
        day0: "2020-01-01".into(),
        question: m.questions[0].clone(),
        target: String::new(),
        trials: 10,
        hits,
        outcome,
        prior: (0, 0),
        revised: revised.then(|| "later".to_owned()),
    };
    // Counted: p = 0.8 and yes (Brier 0.04), p = 0.2 and no (0.04); the base rate says 1/2
    // (0.25 each). Left out: a revision and an open question, both scored badly if counted.
    let answers = [
        answer(8, Some(true), false),
        answer(2, Some(false), false),
        answer(0, Some(true), true),
        answer(10, None, false),
    ];
    let (brier, log) = brink::analysis::track::summary(&answers);
    let brier = brier.expect("answered questions");
    assert_eq!(brier.n, 2);
    assert_close("brink's Brier", brier.brink, 0.04, 1e-12);
    assert_close("the base rate's Brier", brier.baseline, 0.25, 1e-12);
    assert_close("brink's log", log.expect("log").brink, -(0.8f64.ln()), 1e-12);
}

/// Bad questions are refused at their line, with what would be right.
#[test]
fn bad_questions_are_refused_with_their_line() {
    let base =
        "[scenario]\nname = \"t\"\nhorizon_days = 30\n[[levels]]\nid = \"calm\"\n[[levels]]\nid = \"war\"\n\
                [[steps]]\nid = \"attack\"\nrate = 0.1\n  [[steps.branches]]\n  id = \"hit\"\n  p = 1\n";
    let q = |body: &str| errors(&format!("{base}[[questions]]\nid = \"q\"\ntext = \"?\"\n{body}"));
    let e = q("target = \"fired:atack\"\n");
    assert!(e.contains("unknown step `atack`") && e.contains("attack") && e.contains(":17:"), "{e}");
    let e = q("target = \"level:calm\"\n");
    assert!(e.contains("at or below the initial level"), "{e}");
    let e = q("target = \"fired:attack\"\ndays = 31\n");
    assert!(e.contains("from 1 to the horizon, 30"), "{e}");
    let e = q("target = \"fired:attack\"\nat_least = 2\n");
    assert!(e.contains("at_least belongs to a tally target"), "{e}");
    let e = q("target = \"attack\"\n");
    assert!(e.contains("not of the form KIND:ID") && e.contains("fired:STEP"), "{e}");
    let e = q("target = \"count:attack\"\n");
    assert!(e.contains("`count` is not a kind of target"), "{e}");
    let e = errors(&format!(
        "{base}[[questions]]\nid = \"q\"\ntext = \"?\"\ntarget = \"fired:attack\"\n\
         [[questions]]\nid = \"q\"\ntext = \"?\"\ntarget = \"fired:attack\"\n"
    ));
    assert!(e.contains("question id `q` is used twice"), "{e}");
}

/// The bundled track record answers its questions as the records say (by hand: the US
/// struck the militias on 29 Dec 2019, 26 Feb 2021 and 27 Oct 2023; Iran struck US
/// forces on 8 Jan 2020 and not in Dec 2020 - Mar 2021; no US death in the 90 days from
/// 20 Dec 2020 or 17 Oct 2023 (Tower 22 is day 103); no war; no US strike on Iran; Iran
/// struck Al Udeid on 23 Jun 2025, day 1, killing no one, and no militia attack on US
/// forces is logged in the 30 days after), the same on one thread as on two, and an
/// episode without questions is refused.
#[test]
fn the_bundled_track_record_answers_as_the_records_say() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = root.join("data/track-record.toml");
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("t{threads}"));
        brink()
            .arg("track-record")
            .arg(&file)
            .args(["--trials", "2000", "--threads", threads, "--quiet", "--out"])
            .arg(&out)
            .assert()
            .success();
    }
    for file in ["track-record.csv", "track-summary.csv"] {
        let a = std::fs::read(dir.path().join("t1").join(file)).expect("written");
        assert_eq!(a, std::fs::read(dir.path().join("t2").join(file)).expect("written"), "{file}");
    }
    let t = Table::read(&dir.path().join("t1/track-record.csv"));
    let answer = |episode: &str, question: &str| -> String {
        let row = t
            .rows
            .iter()
            .find(|r| r[t.col("episode")] == episode && r[t.col("question")] == question)
            .unwrap_or_else(|| panic!("no row {episode} {question}"));
        row[t.col("outcome")].clone()
    };
    for (episode, question, want) in [
        ("chain-2019", "us_strike_militia_30d", "yes"),
        ("chain-2019", "iran_strike_on_us_30d", "yes"),
        ("chain-2019", "war_30d", "no"),
        ("baghdad-2020", "us_strike_militia_90d", "yes"),
        ("baghdad-2020", "iran_strike_on_us_90d", "no"),
        ("baghdad-2020", "us_killed_90d", "no"),
        ("baghdad-2020", "war_90d", "no"),
        ("campaign-2023", "us_killed_90d", "no"),
        ("campaign-2023", "us_strike_militia_90d", "yes"),
        ("campaign-2023", "us_strike_iran_territory_90d", "no"),
        ("campaign-2023", "war_90d", "no"),
        ("exchange-2025", "iran_strike_7d", "yes"),
        ("exchange-2025", "us_killed_30d", "no"),
        ("exchange-2025", "war_30d", "no"),
        ("exchange-2025", "us_strike_iran_30d", "no"),
        ("exchange-2025", "militia_attack_30d", "no"),
    ] {
        assert_eq!(answer(episode, question), want, "{episode} {question}");
    }
    // The base rate of baghdad-2020's militia-strike question is that of chain-2019's one
    // yes: (1 + 1/2) / 2.
    let row = t
        .rows
        .iter()
        .find(|r| r[t.col("episode")] == "baghdad-2020" && r[t.col("question")] == "us_strike_militia_90d")
        .expect("row");
    assert_eq!(row[t.col("base_rate")], "0.75");

    // A scenario without questions is refused, naming the file.
    let plain = dir.path().join("plain.toml");
    std::fs::write(
        &plain,
        format!(
            "[[episodes]]\nscenario = \"{}\"\nrecord = \"{}\"\n",
            root.join("scenarios/hindcast-2019-2021.toml").display(),
            root.join("data/events-iraq-2019-2021.csv").display()
        ),
    )
    .expect("write");
    let out =
        brink().arg("track-record").arg(&plain).args(["--out"]).arg(dir.path().join("x")).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("hindcast-2019-2021.toml") && err.contains("asks no [[questions]]"), "{err}");
}

/// A path that cannot be read is named with the line of its entry; a scenario listed twice
/// without `revised` is refused, since its questions would count twice.
#[test]
fn track_record_files_are_checked_before_anything_runs() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let entry = |scenario: &str| {
        format!(
            "[[episodes]]\nscenario = \"{}\"\nrecord = \"{}\"\nparams = \"{}\"\n\n",
            root.join(scenario).display(),
            root.join("data/events-2023-2024.csv").display(),
            root.join("data/hindcast-fit-2019-2021.toml").display()
        )
    };
    let run = |text: &str| {
        let file = dir.path().join("t.toml");
        std::fs::write(&file, text).expect("write");
        let out =
            brink().arg("track-record").arg(&file).arg("--out").arg(dir.path().join("o")).assert().code(2);
        assert!(!dir.path().join("o").exists(), "nothing written");
        String::from_utf8_lossy(&out.get_output().stderr).into_owned()
    };
    let err =
        run(&format!("{}{}", entry("scenarios/campaign-2023.toml"), entry("scenarios/campaign-2023.toml")));
    assert!(
        err.contains("t.toml:7:") && err.contains("already an episode (line 2)") && err.contains("revised"),
        "{err}"
    );
    let err = run(&entry("scenarios/campaign-2032.toml"));
    assert!(
        err.contains("t.toml:2:")
            && err.contains("campaign-2032.toml")
            && err.contains("relative to its own folder"),
        "{err}"
    );
}
