//! The record of the 2023-24 militia campaign (issue 16, item 1) and the scenario it is
//! read against (item 2, the skeleton): `data/events-2023-2024.csv` parses against
//! `scenarios/campaign-2023.toml`, every row cites keys of `data/sources.csv` that carry
//! a publication date, `brink check --as-of 2023-10-17` finds no hindsight, and the
//! 2019-21 fit applies to the scenario.

use crate::util::{brink, bundled};
use brink::scenario::{load, log, sources, Overrides};
use brink::sim::model::Model;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn campaign() -> Model {
    load(&bundled("campaign-2023.toml"), &Overrides::default())
        .unwrap_or_else(|e| panic!("campaign-2023: {e}"))
        .0
}

/// Rows per `step.branch`, counted from the log as brink read it.
fn rows_by_branch(model: &Model, log: &log::EventLog) -> BTreeMap<String, usize> {
    let mut n = BTreeMap::new();
    for e in &log.events {
        let s = &model.steps[e.step];
        *n.entry(format!("{}.{}", s.id, s.branches[e.branch].id)).or_insert(0) += 1;
    }
    n
}

/// The record reads against the scenario, holds what docs/data.md says it holds, and
/// gives Tower 22 its three dead.
#[test]
fn the_campaign_record_parses_against_its_scenario() {
    let model = campaign();
    assert_eq!(model.horizon_days, 167, "17 Oct 2023 - 31 Mar 2024");
    let log = log::read(&repo("data/events-2023-2024.csv"), &model).unwrap_or_else(|e| panic!("{e}"));
    assert!(log.source_column && log.cause_column);
    assert!(log.warnings.is_empty(), "{:?}", log.warnings);
    assert_eq!(log.events.len(), 64);
    let n = rows_by_branch(&model, &log);
    let attacks: usize = n
        .iter()
        .filter(|(k, _)| {
            ["drone_attack.", "front_group_rockets.", "kh_rocket_salvo.", "convoy_ied."]
                .iter()
                .any(|p| k.starts_with(p))
        })
        .map(|(_, v)| v)
        .sum();
    assert_eq!(attacks, 52, "{n:?}");
    let strikes = n["us_strike_militia.militia_only"] + n["us_strike_militia.iraqi_forces_hit"];
    assert_eq!(strikes, 11, "{n:?}");
    assert_eq!(n["drone_attack.us_killed"], 1, "Tower 22 is the one deadly attack");
    assert_eq!(n["militia_suspension.suspended"], 1);
    assert!(!n.keys().any(|k| k.starts_with("us_strike_iran") || k.starts_with("war_outbreak")));
    let killed = model.tallies.iter().position(|t| t.id == "us_killed").expect("us_killed");
    let dead: u64 = log.events.iter().filter_map(|e| e.tallies[killed]).sum();
    assert_eq!(dead, 3, "three US soldiers killed at Tower 22");
    // The suspension names Tower 22 as its cause, and Tower 22 is in Jordan.
    let suspension = log.events.iter().find(|e| model.steps[e.step].id == "militia_suspension").expect("row");
    let cause = &log.events[suspension.cause.expect("a cause")];
    assert_eq!(cause.id.as_deref(), Some("2024-01-28-tower-22-drone"));
}

/// Every row cites at least one source, and every key is a row of data/sources.csv
/// with a publication date no later than a month after the campaign's record ends.
#[test]
fn every_source_of_the_campaign_record_exists_with_a_date() {
    let model = campaign();
    let log = log::read(&repo("data/events-2023-2024.csv"), &model).unwrap_or_else(|e| panic!("{e}"));
    let list = sources::read(&repo("data/sources.csv")).unwrap_or_else(|e| panic!("{e}"));
    let day0 = brink::scenario::log::parse_date("2023-10-17").expect("date");
    let last = brink::scenario::log::parse_date("2024-04-30").expect("date");
    for e in &log.events {
        assert!(!e.sources.is_empty(), "line {} cites no source", e.line);
        for key in &e.sources {
            let s =
                list.get(key).unwrap_or_else(|| panic!("line {}: {key} is not in data/sources.csv", e.line));
            assert!(!s.published.is_empty(), "{key}: no publication date");
            assert!(s.published_by >= day0 && s.published_by <= last, "{key}: published {}", s.published);
        }
    }
}

/// The scenario cites nothing published after its day 0, and brink fit reads the record.
#[test]
fn the_campaign_scenario_is_clean_as_of_day_0_and_fit_reads_the_record() {
    let o = brink()
        .arg("check")
        .arg(bundled("campaign-2023.toml"))
        .args(["--as-of", "2023-10-17"])
        .output()
        .expect("brink runs");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("0 citations of 0 sources published after 2023-10-17"), "{out}");
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));

    let tmp = tempfile::tempdir().expect("temp dir");
    let o = brink()
        .current_dir(repo(""))
        .args(["fit", "scenarios/campaign-2023.toml", "--events", "data/events-2023-2024.csv", "--out"])
        .arg(tmp.path().join("fit"))
        .output()
        .expect("brink runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(tmp.path().join("fit/params.toml").exists());
}

/// The params of the 2019-21 fit (data/hindcast-fit-2019-2021.toml) apply to the
/// campaign scenario as they are: it keeps the hindcast's param names.
#[test]
fn the_2019_2021_fit_applies_to_the_campaign_scenario() {
    let text = std::fs::read_to_string(repo("data/hindcast-fit-2019-2021.toml")).expect("fit file");
    assert!(text.starts_with(
        "# Params fitted by: brink fit scenarios/hindcast-2019-2021.toml --events data/events-iraq-2019-2021.csv\n"
    ));
    let tmp = tempfile::tempdir().expect("temp dir");
    let o = brink()
        .current_dir(repo(""))
        .args(["run", "scenarios/campaign-2023.toml", "--params", "data/hindcast-fit-2019-2021.toml"])
        .args(["--trials", "200", "--quiet", "--out"])
        .arg(tmp.path().join("run"))
        .output()
        .expect("brink runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
