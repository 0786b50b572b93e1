//! `brink fit` end to end (issue 14): logs that `brink run --events` simulated from known
//! params, fitted back; a hand-written log with `cause` links; and bad input.

use crate::util::{brink, tol, Table};
use std::path::Path;

/// Known params: an attack with a x3 window for ten days and a lethal branch; a strike that
/// reacts to lethal attacks; a self-exciting incident (branching ratio 0.5).
const SCENARIO: &str = r#"
[scenario]
name = "fitme"
horizon_days = 100
start = 2020-01-01
[params]
rate_attack = 0.2
window_x = 3
p_lethal = 0.3
p_strike = 0.5
rate_incident = 0.3
n_incident = 0.5
decay_incident = 2
[[levels]]
id = "calm"
[[levels]]
id = "tense"
[[steps]]
id = "attack"
rate = "rate_attack"
windows = [ { from_day = 10, to_day = 20, rate_x = "window_x" } ]
  [[steps.branches]]
  id = "lethal"
  p = "p_lethal"
  [[steps.branches]]
  id = "harmless"
  p = "rest"
[[steps]]
id = "strike"
  [[steps.branches]]
  id = "hit"
  p = 1
  [[steps.triggers]]
  after = "attack.lethal"
  p = "p_strike"
  delay = { fixed = 1 }
[[steps]]
id = "incident"
rate = "rate_incident"
  [[steps.branches]]
  id = "any"
  p = 1
  excite = [ { step = "incident", n = "n_incident", decay_days = "decay_incident" } ]
"#;

fn row<'a>(t: &'a Table, param: &str) -> &'a Vec<String> {
    t.row("param", param)
}

#[test]
fn a_simulated_log_gives_back_the_params_it_was_simulated_from() {
    let dir = tempfile::tempdir().unwrap();
    let scen = dir.path().join("fitme.toml");
    std::fs::write(&scen, SCENARIO).unwrap();
    let run = dir.path().join("run");
    brink()
        .args([
            "run",
            scen.to_str().unwrap(),
            "--trials",
            "100",
            "--seed",
            "3",
            "--events",
            "100",
            "--charts",
            "none",
            "-q",
        ])
        .arg("--out")
        .arg(&run)
        .assert()
        .success();
    let out = dir.path().join("fit");
    brink()
        .args(["fit", scen.to_str().unwrap(), "--pool", "attack,incident", "--events"])
        .arg(run.join("events.csv"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let fit = Table::read(&out.join("fit.csv"));
    assert_eq!(
        fit.headers[..7],
        ["param", "estimate", "low", "high", "method", "n", "exposure_days"].map(String::from)
    );
    // Exposure by hand: 100 days plus ten days at x3 (20 extra) = 120 per history.
    let r = row(&fit, "rate_attack");
    assert_eq!(fit.num(r, "exposure_days"), 12000.0);
    let est = fit.num(r, "estimate");
    assert!((est - 0.2).abs() < tol(0.2 / 12000.0, 1), "rate {est}");
    assert!(fit.num(r, "low") <= 0.2 && 0.2 <= fit.num(r, "high"), "{r:?}");
    // The count is an integer and estimate = n / exposure.
    let n = fit.num(r, "n");
    assert!((est - n / 12000.0).abs() < 1e-5 * est, "6 significant digits");
    // A branch p: about 2,400 attacks, sd of the proportion 0.0094.
    let p = row(&fit, "p_lethal");
    assert!(fit.num(p, "low") <= 0.3 && 0.3 <= fit.num(p, "high"), "{p:?}");
    assert_eq!(p[fit.col("method")], "beta-jeffreys");
    // The self-exciting step: the Hawkes fit recovers n = 0.5 within its interval.
    for (param, truth) in [("n_incident", 0.5), ("rate_incident", 0.3), ("decay_incident", 2.0)] {
        let h = row(&fit, param);
        assert_eq!(h[fit.col("method")], "hawkes-profile", "{param}");
        assert!(fit.num(h, "low") <= truth && truth <= fit.num(h, "high"), "{param}: {h:?}");
    }
    // events.csv has no `cause` column: the trigger p cannot be told from the log.
    let not = Table::read(&out.join("not-fitted.csv"));
    assert!(not.row("param", "p_strike")[not.col("reason")].contains("not identifiable"));
    assert!(not.row("param", "window_x")[not.col("reason")].contains("multiplier"));
    // The Poisson attacks show no self-excitation; pooled with the self-exciting incidents
    // they do (the LR test rejects the Poisson model).
    let se = Table::read(&out.join("self-excitation.csv"));
    let attack = se.row("step", "attack");
    assert!(se.num(attack, "lr") < 10.83, "chi-square(1) 99.9% point: {attack:?}");
    let pooled = se.row("step", "attack+incident");
    assert!(
        se.num(pooled, "lr") > 10.0 && se.num(pooled, "aic") < se.num(pooled, "poisson_aic"),
        "{pooled:?}"
    );
    // params.toml: the Gamma posterior under Jeffreys' prior, shape k + 1/2, rate = exposure.
    let text = std::fs::read_to_string(out.join("params.toml")).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap();
    let g = &doc["params"]["rate_attack"]["gamma"];
    assert_eq!(g["shape"].as_float().unwrap(), n + 0.5);
    assert!((g["mean"].as_float().unwrap() - (n + 0.5) / 12000.0).abs() < 1e-12);
    assert!(text.contains("# rate per day of attack: poisson-garwood"), "{text}");
    // The same inputs give the same bytes.
    let again = dir.path().join("again");
    brink()
        .args(["fit", scen.to_str().unwrap(), "--pool", "attack,incident", "--events"])
        .arg(run.join("events.csv"))
        .arg("--out")
        .arg(&again)
        .arg("-q")
        .assert()
        .success();
    for f in [
        "fit.csv",
        "params.toml",
        "not-fitted.csv",
        "self-excitation.csv",
        "counts.csv",
        "counts.png",
        "counts.svg",
    ] {
        assert_eq!(std::fs::read(out.join(f)).unwrap(), std::fs::read(again.join(f)).unwrap(), "{f}");
    }
}

/// A hand-written log: five lethal attacks, three answered by a strike (by `cause`); the
/// fifth lethal attack on day 99 is too late for its answer (delay 1 day) to fall inside
/// the window, so it does not count as a chance.
const LOG: &str = "\
id,date,step,branch,cause
a1,2020-01-05,attack,lethal,
s1,2020-01-06,strike,hit,a1
a2,2020-01-20,attack,harmless,
a3,2020-02-01,attack,lethal,
a4,2020-02-10,attack,lethal,
s4,2020-02-11,strike,hit,a4
a5,2020-03-01,attack,lethal,
s5,2020-03-02,strike,hit,a5
a6,2020-04-09,attack,lethal,
";

/// `brink fit SCENARIO --events LOG`, ready for more arguments.
fn fit_cmd(scenario: &Path, log: &Path) -> assert_cmd::Command {
    let mut c = brink();
    c.arg("fit").arg(scenario).arg("--events").arg(log);
    c
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn trigger_ps_come_from_the_cause_links_and_the_window_cuts_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let scen = write(dir.path(), "fitme.toml", SCENARIO);
    let log = write(dir.path(), "log.csv", LOG);
    let out = dir.path().join("fit");
    fit_cmd(&scen, &log).arg("--out").arg(&out).assert().success();
    let fit = Table::read(&out.join("fit.csv"));
    // 2020-04-09 is day 99: its strike would come on day 100, the horizon.
    let s = row(&fit, "p_strike");
    assert_eq!((fit.num(s, "estimate"), fit.num(s, "n")), (0.75, 4.0));
    let text = std::fs::read_to_string(out.join("params.toml")).unwrap();
    assert!(text.contains("p_strike = { beta = [3.5, 1.5] }"), "{text}");
    // Two branches (lethal and the rest): Jeffreys' Beta(1/2, 1/2) prior, 5 of 6.
    assert!(text.contains("p_lethal = { beta = [5.5, 1.5] }"), "{text}");
    // Lethal: 5 of 6 attacks.
    let p = row(&fit, "p_lethal");
    assert_eq!(fit.num(p, "n"), 6.0);
    assert!((fit.num(p, "estimate") - 5.0 / 6.0).abs() < 1e-6);
    // --to 2020-02-05 (day 35) keeps a1, s1, a2, a3: strikes 1 of 2.
    let early = dir.path().join("early");
    fit_cmd(&scen, &log).args(["--to", "2020-02-05", "-q", "--out"]).arg(&early).assert().success();
    let fit = Table::read(&early.join("fit.csv"));
    let s = row(&fit, "p_strike");
    assert_eq!((fit.num(s, "estimate"), fit.num(s, "n")), (0.5, 2.0));
    // Attacks: 3 in 35 days of which days 10-20 count three times: exposure 55.
    let r = row(&fit, "rate_attack");
    assert_eq!((fit.num(r, "n"), fit.num(r, "exposure_days")), (3.0, 55.0));
    // A strike that names no cause could answer any lethal attack: k is unknown.
    let unlinked = write(
        dir.path(),
        "unlinked.csv",
        &LOG.replace("s5,2020-03-02,strike,hit,a5", "s5,2020-03-02,strike,hit,"),
    );
    let out = dir.path().join("unlinked");
    fit_cmd(&scen, &unlinked).args(["-q", "--out"]).arg(&out).assert().success();
    let not = Table::read(&out.join("not-fitted.csv"));
    let reason = &not.row("param", "p_strike")[not.col("reason")];
    assert!(reason.contains("a firing of `strike` in the window names no `cause`"), "{reason}");
}

#[test]
fn bad_windows_and_bad_logs_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let scen = write(dir.path(), "fitme.toml", SCENARIO);
    let log = write(dir.path(), "log.csv", LOG);
    let cases: [(&[&str], &str); 6] = [
        (&["--pool", "attack,incidnt"], "no step `incidnt`"),
        (&["--pool", "attack,attack"], "at least two different steps"),
        (&["--from", "2020-03-01", "--to", "2020-02-01"], "must come before --to"),
        (&["--to", "2021-01-01"], "outside the scenario's window"),
        (&["--from", "March"], "not a date (YYYY-MM-DD) or a number of days"),
        (&["--to=-3"], "outside the scenario's window"),
    ];
    for (args, want) in cases {
        let out = fit_cmd(&scen, &log).args(args).arg("--out").arg(dir.path().join("x")).assert().code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!dir.path().join("x").exists(), "no folder on a usage error");
    }
    let bad = write(dir.path(), "bad.csv", "date,step,branch\n2020-01-05,atack,lethal\n");
    let out = fit_cmd(&scen, &bad).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("bad.csv:2") && err.contains("attack"), "{err}");
    // A refused row is one problem: a cause naming it is not a second.
    let typo = write(
        dir.path(),
        "typo.csv",
        "id,date,step,branch,cause\na1,2020-01-05,atack,lethal,\ns1,2020-01-06,strike,hit,a1\n",
    );
    let out = fit_cmd(&scen, &typo).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("typo.csv:2") && !err.contains("typo.csv:3"), "{err}");
    // The log of another period: the first 20 problems, a count of the rest, the dates.
    let mut other = String::from("date,step,branch\n");
    for d in 1..=25 {
        other.push_str(&format!("2019-01-{d:02},attack,lethal\n"));
    }
    let other = write(dir.path(), "other.csv", &other);
    let out = fit_cmd(&scen, &other).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.contains("2020-01-01 to 2020-04-10 exclusive") && err.contains("... and 5 more problems"),
        "{err}"
    );
    // An empty window is nothing to fit.
    let out = fit_cmd(&scen, &log)
        .args(["--from", "2020-04-01", "--to", "2020-04-05", "--out"])
        .arg(dir.path().join("y"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("no event of the log falls in the data window"), "{err}");
}

#[test]
fn a_records_source_keys_must_be_in_the_scenarios_sources_file() {
    let dir = tempfile::tempdir().unwrap();
    let scen = SCENARIO.replace("start = 2020-01-01", "start = 2020-01-01\nsources = \"sources.csv\"");
    let scen = write(dir.path(), "fitme.toml", &scen);
    write(
        dir.path(),
        "sources.csv",
        "key,publisher,title,published,url,supports\nwire-2020-01-05,Wire,Attack,2020-01-05,https://example.org/a,the attack\n",
    );
    let good = "date,step,branch,source\n2020-01-05,attack,lethal,wire-2020-01-05\n";
    let log = write(dir.path(), "good.csv", good);
    let fit = |log: &Path| {
        fit_cmd(&scen, log).arg("--out").arg(dir.path().join("out")).arg("--force").arg("-q").assert()
    };
    fit(&log).success();
    let bad = write(
        dir.path(),
        "bad.csv",
        "date,step,branch,source\n2020-01-05,attack,lethal,wire-2020-01-06\n2020-01-07,attack,lethal,\n",
    );
    let out = fit(&bad).code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("bad.csv:2: source key `wire-2020-01-06` is not in the sources file; did you mean `wire-2020-01-05`?"), "{err}");
    assert!(err.contains("bad.csv:3: the row cites no source"), "{err}");
}

#[test]
fn the_fitted_params_of_the_bundled_record_feed_back_into_the_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fit");
    brink()
        .arg("fit")
        .arg(crate::util::bundled("hindcast-2019-2021.toml"))
        .arg("--events")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/events-iraq-2019-2021.csv"))
        .args(["--to", "2020-07-01", "--charts", "none", "-q", "--out"])
        .arg(&out)
        .assert()
        .success();
    // Every distribution params.toml writes is valid wherever its param is used.
    let check = brink()
        .arg("check")
        .arg(crate::util::bundled("hindcast-2019-2021.toml"))
        .arg("--params")
        .arg(out.join("params.toml"))
        .assert()
        .success();
    let text = String::from_utf8_lossy(&check.get_output().stdout).into_owned();
    // 27 front-group rocket attacks in 304 days of exposure: posterior mean 27.5 / 304.
    assert!(text.contains("rate_front_rockets"), "{text}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["format"], "brink-fit/1");
    assert_eq!(manifest["to"], "2020-07-01");
    let fit = Table::read(&out.join("fit.csv"));
    let r = row(&fit, "rate_front_rockets");
    assert_eq!((fit.num(r, "n"), fit.num(r, "exposure_days")), (27.0, 304.0));
    // A heavy salvo has seven branches: Dirichlet(1/2, ..., 1/2) over them, 2 of 4 salvos
    // killed Americans, so the posterior mean is (2 + 1/2) / (4 + 7/2) = 1/3, written as a
    // number since the other branches share the posterior.
    let params = std::fs::read_to_string(out.join("params.toml")).unwrap();
    let doc: toml::Table = toml::from_str(&params).unwrap();
    assert!((doc["params"]["p_kh_us_killed"].as_float().unwrap() - 1.0 / 3.0).abs() < 1e-15, "{params}");
    assert_eq!(row(&fit, "p_kh_us_killed")[fit.col("method")], "dirichlet-jeffreys");
    // One killing of a commander in two chances (the embassy storming of 31 Dec 2019; the
    // Taji deaths of 11 Mar 2020, with the level still at the embassy crisis or above):
    // Jeffreys gives Beta(1 + 1/2, 1 + 1/2), shown but not applied below 3 chances.
    assert!(params.contains("# p_targeted_killing = { beta = [1.5, 1.5] }   # not applied"), "{params}");
    assert!(doc["params"].get("p_targeted_killing").is_none());
    // 109 brain injuries in one strike are not 2,000 independent trials.
    let not = Table::read(&out.join("not-fitted.csv"));
    assert!(not.row("param", "p_tbi")[not.col("reason")].contains("at least 5 firings"));
}

/// `max` cuts exposure and pre-empts chances; a reacting step that also fires unprovoked
/// leaves a chance ambiguous when one of its firings without a cause falls in the delay.
const EDGES: &str = r#"
[scenario]
name = "edges"
horizon_days = 60
start = 2020-01-01
[params]
rate_attack = 0.2
p_counter = 0.5
p_strike = 0.5
[[levels]]
id = "calm"
[[steps]]
id = "attack"
rate = "rate_attack"
max = 3
  [[steps.branches]]
  id = "lethal"
  p = 0.5
  [[steps.branches]]
  id = "harmless"
  p = "rest"
[[steps]]
id = "counter"
rate = 0.1
  [[steps.branches]]
  id = "fire"
  p = 1
  [[steps.triggers]]
  after = "attack.lethal"
  p = "p_counter"
  delay = { uniform = [1, 5] }
[[steps]]
id = "strike"
max = 1
  [[steps.branches]]
  id = "hit"
  p = 1
  [[steps.triggers]]
  after = "attack.lethal"
  p = "p_strike"
  delay = { uniform = [0.5, 3] }
"#;

#[test]
fn max_cuts_exposure_and_preempts_chances_and_unlinked_reactions_are_ambiguous() {
    let dir = tempfile::tempdir().unwrap();
    let scen = write(dir.path(), "edges.toml", EDGES);
    // Dates sit at mid-day: days 5.5, 6.5, 8.5, 8.5, 19.5.
    let log = write(
        dir.path(),
        "log.csv",
        "id,date,step,branch,cause\n\
         a1,2020-01-06,attack,lethal,\n\
         a2,2020-01-07,attack,lethal,\n\
         s2,2020-01-09,strike,hit,a2\n\
         c1,2020-01-09,counter,fire,\n\
         a3,2020-01-20,attack,harmless,\n",
    );
    let out = dir.path().join("fit");
    fit_cmd(&scen, &log).args(["-q", "--out"]).arg(&out).assert().success();
    let fit = Table::read(&out.join("fit.csv"));
    // The third attack uses up `max` on day 19.5: exposure 19.5 days, not 60.
    let r = row(&fit, "rate_attack");
    assert_eq!((fit.num(r, "n"), fit.num(r, "exposure_days")), (3.0, 19.5));
    // a1's chance of a strike was pre-empted by a2's strike (max 1) on day 8.5, inside a1's
    // delay: one chance, answered.
    let s = row(&fit, "p_strike");
    assert_eq!((fit.num(s, "n"), fit.num(s, "estimate")), (1.0, 1.0));
    // c1 names no cause and falls within 1-5 days of a1 and of a2: 0 to 2 of 2.
    let not = Table::read(&out.join("not-fitted.csv"));
    let reason = &not.row("param", "p_counter")[not.col("reason")];
    assert!(reason.contains("between 0 and 2 of 2 chances"), "{reason}");
}

#[test]
fn hard_cases_give_reasons_not_crashes_or_unusable_params() {
    let dir = tempfile::tempdir().unwrap();
    // Branch ps that sum to 1 without "rest": halving one breaks the sum, a nudge does not.
    let sum = SCENARIO
        .replace(
            "  p = \"rest\"\n[[steps]]\nid = \"strike\"",
            "  p = \"p_harmless\"\n[[steps]]\nid = \"strike\"",
        )
        .replace("p_lethal = 0.3\n", "p_lethal = 0.3\np_harmless = 0.7\n");
    assert!(sum.contains("p_harmless = 0.7") && sum.contains("p = \"p_harmless\""));
    let scen = write(dir.path(), "sum.toml", &sum);
    let log = write(dir.path(), "log.csv", LOG);
    let out = dir.path().join("sum");
    fit_cmd(&scen, &log).args(["-q", "--out"]).arg(&out).assert().success();
    let fit = Table::read(&out.join("fit.csv"));
    assert_eq!(fit.num(row(&fit, "p_harmless"), "n"), 6.0);
    // A trial index far beyond the rows: one stand-in for the empty histories, no huge
    // allocation; an index beyond any run is refused at its line.
    let scen = write(dir.path(), "fitme.toml", SCENARIO);
    let far = write(
        dir.path(),
        "far.csv",
        "trial,day,step,branch\n0,5,attack,lethal\n999999999999,7,attack,lethal\n",
    );
    let out = dir.path().join("far");
    fit_cmd(&scen, &far).args(["-q", "--out"]).arg(&out).assert().success();
    let fit = Table::read(&out.join("fit.csv"));
    // 10^12 histories of 120 days of exposure each.
    assert_eq!(fit.num(row(&fit, "rate_attack"), "exposure_days"), 1.2e14);
    let beyond =
        write(dir.path(), "beyond.csv", "trial,day,step,branch\n18446744073709551615,5,attack,lethal\n");
    let res = fit_cmd(&scen, &beyond).assert().code(2);
    let err = String::from_utf8_lossy(&res.get_output().stderr).into_owned();
    assert!(
        err.contains("beyond.csv:2: trial `18446744073709551615` is beyond the largest trial index"),
        "{err}"
    );
    // An excitation whose fit explodes or outlasts the window is not handed on; every
    // params.toml brink fit writes passes `--params`.
    // Nothing for 40 days, then two a day: a step up that the Hawkes model can only read
    // as an explosion (n above 1).
    let trend: String = std::iter::once("day,step,branch\n".to_owned())
        .chain((40..100).flat_map(|d| [format!("{d}.5,incident,any\n"), format!("{d}.5,incident,any\n")]))
        .collect();
    let trend = write(dir.path(), "trend.csv", &trend);
    let out = dir.path().join("trend");
    fit_cmd(&scen, &trend).args(["-q", "--out"]).arg(&out).assert().success();
    let not = Table::read(&out.join("not-fitted.csv"));
    assert!(not.row("param", "n_incident")[not.col("reason")].contains("not below 1"));
    brink().arg("check").arg(&scen).arg("--params").arg(out.join("params.toml")).assert().success();
}
