//! The record of June 2025 (issue 16, item 1) and the scenario it is read against
//! (item 2): `data/events-2025.csv` parses against `scenarios/exchange-2025.toml`, every
//! row cites keys of `data/sources.csv` with a publication date, `brink check --as-of
//! 2025-06-22` finds no hindsight, the 2019-21 fit applies, `brink score` replays the
//! record, and the chain of day 0 gives the probabilities derived by hand from its params.

use crate::util::{brink, bundled, tol, Table};
use brink::scenario::{load, log, sources, Overrides};
use brink::sim::model::Model;
use std::path::PathBuf;

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn exchange() -> Model {
    load(&bundled("exchange-2025.toml"), &Overrides::default())
        .unwrap_or_else(|e| panic!("exchange-2025: {e}"))
        .0
}

/// The record reads against the scenario and holds what docs/data.md says: the strikes
/// of day 0, Iran's answer on Al Udeid with no one hurt, and the ceasefire, each linked
/// to the row before it; no militia attack and no US strike after day 0.
#[test]
fn the_2025_record_parses_against_its_scenario() {
    let model = exchange();
    assert_eq!(model.horizon_days, 30, "22 Jun - 21 Jul 2025");
    let log = log::read(&repo("data/events-2025.csv"), &model).unwrap_or_else(|e| panic!("{e}"));
    assert!(log.source_column && log.cause_column);
    assert!(log.warnings.is_empty(), "{:?}", log.warnings);
    let rows: Vec<(String, String, f64)> = log
        .events
        .iter()
        .map(|e| {
            let s = &model.steps[e.step];
            (s.id.clone(), s.branches[e.branch].id.clone(), e.day)
        })
        .collect();
    let want = [
        ("us_nuclear_strike", "struck", 0.5),
        ("iran_missile_strike", "no_us_killed", 1.5),
        ("ceasefire", "agreed", 2.5),
    ];
    assert_eq!(rows.len(), want.len(), "{rows:?}");
    for ((step, branch, day), (s, b, d)) in rows.iter().zip(want) {
        assert_eq!((step.as_str(), branch.as_str(), *day), (s, b, d));
    }
    // Each reaction names the row before it as its cause.
    assert_eq!(log.events[1].cause, Some(0));
    assert_eq!(log.events[2].cause, Some(1));
    // Nobody was killed or hurt, and the tallies of the questions stay at 0.
    for tally in ["us_killed", "us_wounded", "us_tbi", "us_strikes_on_iran", "attacks_on_us"] {
        let t = model.tallies.iter().position(|x| x.id == tally).expect(tally);
        let sum: u64 = log.events.iter().filter_map(|e| e.tallies[t]).sum();
        assert_eq!(sum, 0, "{tally}");
    }
}

/// Every row cites at least one source, and every key is a row of data/sources.csv
/// published between the eve of day 0 and a month after the window.
#[test]
fn every_source_of_the_2025_record_exists_with_a_date() {
    let model = exchange();
    let log = log::read(&repo("data/events-2025.csv"), &model).unwrap_or_else(|e| panic!("{e}"));
    let list = sources::read(&repo("data/sources.csv")).unwrap_or_else(|e| panic!("{e}"));
    let first = log::parse_date("2025-06-21").expect("date");
    let last = log::parse_date("2025-08-31").expect("date");
    for e in &log.events {
        assert!(!e.sources.is_empty(), "line {} cites no source", e.line);
        for key in &e.sources {
            let s =
                list.get(key).unwrap_or_else(|| panic!("line {}: {key} is not in data/sources.csv", e.line));
            assert!(s.published_by >= first && s.published_by <= last, "{key}: published {}", s.published);
        }
    }
}

/// The scenario cites nothing published after its day 0, and both the 2019-21 fit and
/// the scoring command of the issue run on it.
#[test]
fn the_exchange_scenario_is_clean_as_of_day_0_and_replays_the_record() {
    let o = brink()
        .arg("check")
        .arg(bundled("exchange-2025.toml"))
        .args(["--as-of", "2025-06-22"])
        .output()
        .expect("brink runs");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("0 citations of 0 sources published after 2025-06-22"), "{out}");
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));

    let tmp = tempfile::tempdir().expect("temp dir");
    let o = brink()
        .current_dir(repo(""))
        .args(["run", "scenarios/exchange-2025.toml", "--params", "data/hindcast-fit-2019-2021.toml"])
        .args(["--trials", "200", "--quiet", "--charts", "none", "--out"])
        .arg(tmp.path().join("run"))
        .output()
        .expect("brink runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let o = brink()
        .current_dir(repo(""))
        .args(["score", "scenarios/exchange-2025.toml", "--events", "data/events-2025.csv"])
        .args(["--params", "data/hindcast-fit-2019-2021.toml", "--from", "2025-06-23", "--to", "2025-07-22"])
        .args(["--every", "7", "--lead", "7", "--trials", "500", "--out"])
        .arg(tmp.path().join("score"))
        .output()
        .expect("brink runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("4 origins, 2025-06-23 to 2025-07-14"), "{out}");
}

/// With the militias switched off (`--set militia_rate_x=0`), only the chain of day 0
/// is left, and its probabilities follow from the params by hand:
/// - Iran strikes with p = 0.75 after a triangular(0.25, 3, 14) delay, so
///   P(strike within 7 days) = 0.75 (1 - (14 - 7)² / ((14 - 0.25)(14 - 3)));
/// - the strike kills Americans with p = 0.1, so P(us_killed > 0) = 0.75 x 0.1;
/// - the US answers (war) with p 0.7 after deaths and 0.1 otherwise, decided when Iran
///   strikes (before the ceasefire, whose delay has no atom at 0) and due by day 17, so
///   P(war) = 0.75 (0.1 x 0.7 + 0.9 x 0.1).
#[test]
fn the_chain_of_day_0_gives_the_probabilities_derived_by_hand() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let n = 20_000u64;
    let o = brink()
        .current_dir(repo(""))
        .args(["run", "scenarios/exchange-2025.toml", "--params", "data/hindcast-fit-2019-2021.toml"])
        .args(["--set", "militia_rate_x=0", "--trials", &n.to_string(), "--seed", "16", "--threads", "2"])
        .args(["--quiet", "--charts", "none", "--out"])
        .arg(tmp.path().join("run"))
        .output()
        .expect("brink runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = Table::read(&tmp.path().join("run/trials.csv"));
    let col = |name: &str| t.headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("{name}"));
    let (strike, war, killed) = (col("reached_iran_strike_day"), col("reached_war_day"), col("us_killed"));
    let share = |f: &dyn Fn(&Vec<String>) -> bool| t.rows.iter().filter(|r| f(r)).count() as f64 / n as f64;
    let within_7 = share(&|r| !r[strike].is_empty() && r[strike].parse::<f64>().expect("day") < 7.0);
    let at_war = share(&|r| !r[war].is_empty());
    let deaths = share(&|r| r[killed] != "0");

    let f7 = 1.0 - (14.0 - 7.0_f64).powi(2) / ((14.0 - 0.25) * (14.0 - 3.0));
    for (what, got, want) in [
        ("P(Iranian strike within 7 days)", within_7, 0.75 * f7),
        ("P(war)", at_war, 0.75 * (0.1 * 0.7 + 0.9 * 0.1)),
        ("P(US deaths)", deaths, 0.75 * 0.1),
    ] {
        let eps = tol(want * (1.0 - want), n);
        assert!((got - want).abs() <= eps, "{what}: {got} against {want} +- {eps}");
    }
}
