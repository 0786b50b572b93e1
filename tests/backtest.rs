//! `brink backtest`: percentiles, intervals and coverage (src/analysis/backtest.rs).

use crate::util::{brink, bundled, model, tol};
use brink::analysis::backtest::{
    columns, compare, coverage, mid_rank, months, parse_mapping, parse_observed, simulate, summarise,
    Observation,
};
use brink::sim::stats::nearest_rank;

const SYNTHETIC: &str = r#"
[scenario]
name = "synthetic"
start = 2021-01-01
horizon_days = 59
[[levels]]
id = "calm"
[[levels]]
id = "war"
terminal = true
[[steps]]
id = "a"
rate = 50
[[steps]]
id = "b"
rate = 30
  [[steps.branches]]
  id = "hit"
  p = 0.5
  [[steps.branches]]
  id = "miss"
  p = "rest"
"#;

const MAPPING: &str = r#"
[[quantity]]
id = "a_monthly"
steps = ["a"]
monthly = true
[[quantity]]
id = "b_hits"
kind = "count"
steps = ["b.hit"]
[[quantity]]
id = "war"
kind = "reached"
level = "war"
"#;

#[test]
fn percentiles_of_a_hand_worked_case() {
    let v = [1.0, 2.0, 2.0, 3.0, 5.0];
    // Nearest rank: the ceil(q N)-th value.
    assert_eq!(nearest_rank(&v, 0.05), 1.0);
    assert_eq!(nearest_rank(&v, 0.25), 2.0);
    assert_eq!(nearest_rank(&v, 0.5), 2.0);
    assert_eq!(nearest_rank(&v, 0.75), 3.0);
    assert_eq!(nearest_rank(&v, 0.95), 5.0);
    // Mid-rank: (below + half the ties) / N.
    assert_eq!(mid_rank(&v, 0.0), 0.0);
    assert_eq!(mid_rank(&v, 2.0), 0.4);
    assert_eq!(mid_rank(&v, 4.0), 0.8);
    assert_eq!(mid_rank(&v, 5.0), 0.9);
    assert_eq!(mid_rank(&v, 9.0), 1.0);
    let s = summarise(&v);
    assert_eq!((s.p5, s.p25, s.median, s.p75, s.p95), (1.0, 2.0, 2.0, 3.0, 5.0));
    assert!((s.mean - 2.6).abs() < 1e-12);
}

#[test]
fn intervals_and_coverage_of_a_hand_worked_case() {
    let m = model(SYNTHETIC);
    let qs = parse_mapping(&m, MAPPING).unwrap();
    let cols = columns(&m, &qs);
    let names: Vec<(String, Option<String>)> =
        cols.iter().map(|c| (qs[c.quantity].id.clone(), c.month.clone())).collect();
    assert_eq!(
        names,
        vec![
            ("a_monthly".into(), Some("2021-01".into())),
            ("a_monthly".into(), Some("2021-02".into())),
            ("b_hits".into(), None),
            ("war".into(), None),
        ]
    );
    // 20 simulated values 1..=20 per column: p25 = 5, p75 = 15, p5 = 1, p95 = 19.
    let sims: Vec<Vec<f64>> = (0..4).map(|_| (1..=20).map(f64::from).collect()).collect();
    let obs = |q: &str, mo: Option<&str>, v: f64| Observation {
        quantity: q.into(),
        month: mo.map(String::from),
        value: v,
        source: "S0".into(),
    };
    let observed = vec![
        obs("a_monthly", Some("2021-01"), 5.0), // inside both (bounds are inclusive)
        obs("a_monthly", Some("2021-02"), 19.0), // inside the 90% only
        obs("b_hits", None, 20.0),              // outside both
        obs("war", None, 10.0),                 // inside both
    ];
    let rows = compare(&qs, &cols, &sims, &observed).unwrap();
    let flags: Vec<(bool, bool)> = rows.iter().map(|r| (r.in_50, r.in_90)).collect();
    assert_eq!(flags, vec![(true, true), (false, true), (false, false), (true, true)]);
    assert_eq!(rows[0].percentile, 0.225);
    assert_eq!(rows[2].percentile, 0.975);
    assert_eq!(coverage(&rows), (0.5, 0.75));
    // An observation the mapping does not simulate is an error.
    assert!(compare(&qs, &cols, &sims, &[obs("a_monthly", Some("2021-03"), 1.0)]).is_err());
    assert!(compare(&qs, &cols, &sims, &[obs("a_monthly", None, 1.0)]).is_err());
    assert!(compare(&qs, &cols, &sims, &[obs("nope", None, 1.0)]).is_err());
}

#[test]
fn months_follow_the_calendar() {
    let m = model(&SYNTHETIC.replace("start = 2021-01-01", "start = 2020-01-15"));
    let ms = months(&m).unwrap();
    let spans: Vec<(String, f64, f64)> = ms.into_iter().map(|m| (m.label, m.from, m.to)).collect();
    // 15 Jan + 59 days: 17 days of Jan, 29 of Feb (leap year), 13 of Mar.
    assert_eq!(
        spans,
        vec![("2020-01".into(), 0.0, 17.0), ("2020-02".into(), 17.0, 46.0), ("2020-03".into(), 46.0, 59.0)]
    );
}

#[test]
fn bad_mappings_are_refused() {
    let m = model(SYNTHETIC);
    for (bad, needle) in [
        ("[[quantity]]\nid = \"x\"\nsteps = [\"zz\"]\n", "unknown step `zz`"),
        ("[[quantity]]\nid = \"x\"\nsteps = [\"b.zz\"]\n", "no branch `zz`"),
        ("[[quantity]]\nid = \"x\"\nkind = \"reached\"\nlevel = \"zz\"\n", "unknown level `zz`"),
        ("[[quantity]]\nid = \"x\"\nsteps = [\"a\"]\ncolour = 1\n", "unknown key `colour`"),
        ("[[quantity]]\nid = \"x\"\nkind = \"sum\"\n", "unknown kind `sum`"),
        ("[[quantity]]\nid = \"x\"\nsteps = [\"a\"]\n[[quantity]]\nid = \"x\"\nsteps = [\"a\"]\n", "twice"),
    ] {
        let e = parse_mapping(&m, bad).unwrap_err().to_string();
        assert!(e.contains(needle), "{e}");
    }
    assert!(parse_observed("quantity,value\nx,1\n").is_err());
    assert!(parse_observed("quantity,month,value,source\nx,,one,S1\n").is_err());
    let o = parse_observed("# comment\nquantity,month,value,source\nx,2021-01,3,\"S1, S2\"\n").unwrap();
    assert_eq!(o[0].month.as_deref(), Some("2021-01"));
    assert_eq!(o[0].source, "S1, S2");
}

/// "Observed" values drawn from the scenario itself (other trials of another seed) fall
/// inside the 50% and 90% intervals about 50% and 90% of the time, and their mid-rank
/// percentiles average 1/2. Counts are large (~900-1,500), so the excess coverage that
/// inclusive bounds give discrete values is small (at most ~2 points).
#[test]
fn coverage_is_near_nominal_when_the_record_is_drawn_from_the_model() {
    let m = model(SYNTHETIC);
    let qs = parse_mapping(&m, MAPPING).unwrap();
    let cols = columns(&m, &qs);
    let sims = simulate(&m, &qs, &cols, &spec(&m, 400, 1, 2), |_| {}).unwrap();
    let draws = 200;
    let records = simulate(&m, &qs, &cols, &spec(&m, draws, 2, 2), |_| {}).unwrap();
    let mut rows = Vec::new();
    for t in 0..draws as usize {
        // The three count columns (the `war` column is constant 0 here).
        let obs: Vec<Observation> = cols
            .iter()
            .zip(&records)
            .filter(|(c, _)| qs[c.quantity].id != "war")
            .map(|(c, v)| Observation {
                quantity: qs[c.quantity].id.clone(),
                month: c.month.clone(),
                value: v[t],
                source: String::new(),
            })
            .collect();
        rows.extend(compare(&qs, &cols, &sims, &obs).unwrap());
    }
    let n = rows.len() as u64;
    assert_eq!(n, 600);
    let (c50, c90) = coverage(&rows);
    let slack = 0.02;
    assert!((c50 - 0.5).abs() < tol(0.25, n) + slack, "50% coverage {c50}");
    assert!((c90 - 0.9).abs() < tol(0.09, n) + slack, "90% coverage {c90}");
    let mean_pct = rows.iter().map(|r| r.percentile).sum::<f64>() / n as f64;
    assert!((mean_pct - 0.5).abs() < tol(1.0 / 12.0, n) + 0.01, "mean percentile {mean_pct}");
    // The simulated means match the rates: 50/day over 31 and 28 days, 30 x 0.5 over 59.
    let means: Vec<f64> = sims.iter().map(|v| v.iter().sum::<f64>() / v.len() as f64).collect();
    for (got, want) in means.iter().zip([1550.0, 1400.0, 885.0, 0.0]) {
        assert!((got - want).abs() <= tol(want, 400) + 1e-9, "mean {got} vs {want}");
    }
}

#[test]
fn the_command_writes_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bt");
    let data = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data");
    let a = brink()
        .arg("backtest")
        .arg(bundled("hindcast-2019-2021.toml"))
        .arg("--observed")
        .arg(data.join("observed-2019-2021.csv"))
        .args(["--trials", "300", "--seed", "7", "--charts", "svg", "--out"])
        .arg(&out)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(text.contains("coverage:"), "{text}");
    assert!(text.lines().all(|l| l == l.trim_end()), "no line ends in spaces:\n{text}");
    let csv = std::fs::read_to_string(out.join("backtest.csv")).unwrap();
    assert!(csv.starts_with(
        "quantity,month,observed,sim_median,p25,p75,p5,p95,sim_mean,percentile,in_50,in_90,source\n"
    ));
    // 22 months of attacks and 5 totals, with the header.
    assert_eq!(csv.lines().count(), 28);
    assert!(out.join("fan.svg").exists() && out.join("manifest.json").exists());
    // The report: coverage counted from the CSV's own in_50/in_90 columns (the 90% one
    // in the headline card), the fan
    // embedded, and the params with their sources.
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    let in_col = |k: usize| csv.lines().skip(1).filter(|l| l.split(',').nth(k) == Some("true")).count();
    let (in50, in90) = (in_col(10), in_col(11));
    assert!(report.contains(&format!("<b>{in50} (")), "50% coverage {in50} in the report");
    let n = csv.lines().count() - 1;
    assert!(
        report.contains(&format!("<span class=\"words\">{in90} of {n};")),
        "90% coverage {in90} of {n} in the report's headline"
    );
    assert!(report.contains("<figure id=\"fan\">\n<svg"), "the fan is inline SVG");
    assert!(report.contains("<h2>Parameters</h2>") && report.contains("<th>source</th>"));
    // Same seed, same bytes.
    let out2 = dir.path().join("bt2");
    brink()
        .arg("backtest")
        .arg(bundled("hindcast-2019-2021.toml"))
        .arg("--observed")
        .arg(data.join("observed-2019-2021.csv"))
        .args(["--trials", "300", "--seed", "7", "--charts", "none", "-q", "--out"])
        .arg(&out2)
        .assert()
        .success();
    assert_eq!(csv, std::fs::read_to_string(out2.join("backtest.csv")).unwrap());
}

/// The simulated values are joined in trial order across chunks, so they do not depend
/// on the thread count (and a chunked run equals trial-by-trial runs of each trial).
#[test]
fn simulated_values_do_not_depend_on_threads() {
    let m = model(&SYNTHETIC.replace("rate = 50", "rate = 0.5").replace("rate = 30", "rate = 0.3"));
    let qs = parse_mapping(&m, MAPPING).unwrap();
    let cols = columns(&m, &qs);
    let trials = 2 * brink::sim::runner::CHUNK + 77;
    let one = simulate(&m, &qs, &cols, &spec(&m, trials, 5, 1), |_| {}).unwrap();
    let two = simulate(&m, &qs, &cols, &spec(&m, trials, 5, 2), |_| {}).unwrap();
    assert_eq!(one, two);
    assert!(one.iter().all(|c| c.len() == trials as usize));
    // Trials are their own: the last trial alone gives the same values.
    let mut engine = brink::sim::engine::Engine::new(&m, 5);
    engine.run(trials - 1).unwrap();
    let b_total = engine.outcome().counts[1] as f64;
    let b_hits = one[2][trials as usize - 1];
    assert!(b_hits <= b_total, "{b_hits} hits of {b_total} firings");
    let a_total = engine.outcome().counts[0] as f64;
    assert_eq!(one[0][trials as usize - 1] + one[1][trials as usize - 1], a_total, "a per month sums");
}

/// The bundled record reads against the hindcast: every row names a step and branch of
/// it, in time order, with causes that point to earlier rows.
#[test]
fn the_bundled_event_log_reads_against_the_hindcast() {
    let (model, _) = brink::scenario::load(&bundled("hindcast-2019-2021.toml"), &Default::default()).unwrap();
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/events-iraq-2019-2021.csv");
    let log = brink::scenario::log::read(&path, &model).unwrap_or_else(|e| panic!("{e}"));
    assert!(log.events.len() >= 100, "{}", log.events.len());
    assert!(log.events.iter().all(|e| !e.sources.is_empty()), "a row without a source");
    let caused = log.events.iter().filter(|e| e.cause.is_some()).count();
    assert!(caused >= 5 && log.warnings.is_empty(), "{caused} causes; {:?}", log.warnings);
}

/// A run of `trials` from `seed` on `threads` workers, with the scenario's firing limit.
fn spec(m: &brink::sim::model::Model, trials: u64, seed: u64, threads: usize) -> brink::sim::runner::RunSpec {
    brink::sim::runner::RunSpec { trials, seed, threads, max_events: m.max_events }
}
