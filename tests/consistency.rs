//! trials.csv agrees with the aggregate files: every number of levels.csv, tallies.csv,
//! steps.csv, paths.csv and daily.csv is recomputed here from the per-trial rows of the
//! same run (baghdad-2020, 20,000 trials) and compared at the printed precision. The run
//! switches baghdad-2020's two off-ramps off (`--set rate_truce=0 --set p_iraqi_arrests=0`),
//! so that its level only rises and each trial's level history follows from trials.csv.

use crate::util::{brink, bundled, model, Table, SMALL_SPREAD};
use brink::sim::model::{LevelChange, Model};
use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

const N: usize = 20_000;

/// The only steps of baghdad-2020 that lower the level, switched off.
const NO_OFF_RAMPS: [&str; 4] = ["--set", "rate_truce=0", "--set", "p_iraqi_arrests=0"];

/// The run every test here reads: its folder stays alive for the whole test binary.
struct Run {
    _tmp: tempfile::TempDir,
    model: Model,
    trials: Table,
    dir: std::path::PathBuf,
}

fn the_run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("res");
        let path = bundled("baghdad-2020.toml");
        let assert = brink()
            .arg("run")
            .arg(&path)
            .args(["--trials", &N.to_string(), "--seed", "11", "--threads", "2"])
            .args(NO_OFF_RAMPS)
            .args(SMALL_SPREAD)
            .arg("--quiet")
            .arg("--out")
            .arg(&dir)
            .assert();
        let o = assert.get_output();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let model = model(&std::fs::read_to_string(&path).unwrap());
        let trials = Table::read(&dir.join("trials.csv"));
        Run { _tmp: tmp, model, trials, dir }
    })
}

impl Run {
    fn table(&self, name: &str) -> Table {
        Table::read(&self.dir.join(name))
    }

    /// The first-reached day of each level, per trial (None: never).
    fn reached(&self) -> Vec<Vec<Option<f64>>> {
        let cols: Vec<usize> =
            self.model.levels.iter().map(|l| self.trials.col(&format!("reached_{}_day", l.id))).collect();
        self.trials
            .rows
            .iter()
            .map(|r| cols.iter().map(|&c| (!r[c].is_empty()).then(|| r[c].parse().unwrap())).collect())
            .collect()
    }

    fn column_u64(&self, name: &str) -> Vec<u64> {
        let c = self.trials.col(name);
        self.trials
            .rows
            .iter()
            .map(|r| r[c].parse().unwrap_or_else(|_| panic!("{name}: `{}` is not a count", r[c])))
            .collect()
    }
}

/// A printed 6-decimal number against the value it should show.
#[track_caller]
fn close6(printed: f64, exact: f64, what: &str) {
    assert!(
        (printed - exact).abs() <= 5.1e-7 + 1e-12 * exact.abs(),
        "{what}: printed {printed}, recomputed {exact}"
    );
}

fn ratio(k: usize) -> f64 {
    k as f64 / N as f64
}

/// Nearest-rank percentile (the smallest value with at least ceil(q n) values <= it).
fn nearest_rank<T: Copy>(sorted: &[T], q: f64) -> T {
    let n = sorted.len();
    let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
    sorted[rank - 1]
}

/// Wilson score interval, written out independently of brink::sim::stats.
fn wilson95(k: usize, n: usize) -> (f64, f64) {
    let z = 1.959_963_984_540_054_f64;
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let centre = (k + z * z / 2.0) / (n + z * z);
    let half = z * n.sqrt() / (n + z * z) * (p * (1.0 - p) + z * z / (4.0 * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

#[test]
fn trials_csv_has_the_documented_columns_and_one_row_per_trial() {
    let run = the_run();
    let m = &run.model;
    let mut expected: Vec<String> =
        ["trial", "end_day", "end_reason", "final_level", "max_level"].map(String::from).to_vec();
    expected.extend(m.levels.iter().map(|l| format!("reached_{}_day", l.id)));
    expected.extend(m.steps.iter().map(|s| format!("count_{}", s.id)));
    expected.extend(m.tallies.iter().map(|t| t.id.clone()));
    expected.push("path".into());
    assert_eq!(run.trials.headers, expected);
    assert_eq!(run.trials.rows.len(), N);
    for (i, t) in run.column_u64("trial").iter().enumerate() {
        assert_eq!(*t, i as u64);
    }
}

#[test]
fn each_trial_row_is_coherent() {
    // Without its off-ramps baghdad-2020 only raises the level, so in every trial the
    // levels reached are exactly those up to the highest, in order, and the final level
    // is the highest. The off-ramps are the only steps that lower it.
    let run = the_run();
    let m = &run.model;
    let lowering: Vec<&str> = m
        .steps
        .iter()
        .filter(|s| s.branches.iter().any(|b| matches!(b.level, LevelChange::LowerTo(_))))
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(lowering, ["militia_truce", "iraqi_arrests"]);
    let t = &run.trials;
    let level_ix: HashMap<&str, usize> =
        m.levels.iter().enumerate().map(|(i, l)| (l.id.as_str(), i)).collect();
    let reached = run.reached();
    let war = m.levels.len() - 1;
    assert!(m.levels[war].terminal);
    let mut terminal = 0;
    for (row, days) in t.rows.iter().zip(&reached) {
        let max = level_ix[row[t.col("max_level")].as_str()];
        let fin = level_ix[row[t.col("final_level")].as_str()];
        assert_eq!(max, fin, "trial {}", row[0]);
        for (l, d) in days.iter().enumerate() {
            assert_eq!(d.is_some(), l <= max, "trial {} level {l}", row[0]);
        }
        let got: Vec<f64> = days.iter().flatten().copied().collect();
        assert!(got.windows(2).all(|w| w[0] <= w[1]), "trial {}", row[0]);
        assert_eq!(days[0], Some(0.0));
        let end: f64 = row[t.col("end_day")].parse().unwrap();
        match row[t.col("end_reason")].as_str() {
            "terminal" => {
                terminal += 1;
                assert_eq!(fin, war);
                assert_eq!(Some(end), days[war], "trial {}", row[0]);
            }
            "horizon" => {
                assert_ne!(fin, war);
                assert_eq!(end, 90.0);
            }
            other => panic!("end_reason `{other}`"),
        }
        // The path has one step per level raise, so it is never longer than the ladder.
        let path = &row[t.col("path")];
        let steps = if path.is_empty() { 0 } else { path.split('>').count() };
        assert!(steps <= max, "trial {}: path `{path}` for level {max}", row[0]);
        assert_eq!(steps == 0, max == 0, "trial {}", row[0]);
    }
    assert!(terminal > 0, "no trial reached war: the check above was empty");
}

#[test]
fn levels_csv_matches_trials_csv() {
    let run = the_run();
    let m = &run.model;
    let levels = run.table("levels.csv");
    let reached = run.reached();
    let t = &run.trials;
    assert_eq!(levels.rows.len(), m.levels.len());
    for (l, level) in m.levels.iter().enumerate() {
        let row = levels.row("level", &level.id);
        assert_eq!(row, &levels.rows[l], "levels in ladder order");
        let mut days: Vec<f64> = reached.iter().filter_map(|d| d[l]).collect();
        let k = days.len();
        assert_eq!(row[levels.col("trials_reached")], k.to_string(), "{}", level.id);
        close6(levels.num(row, "p_reached"), ratio(k), &level.id);
        let (lo, hi) = wilson95(k, N);
        close6(levels.num(row, "p_low"), lo, &level.id);
        close6(levels.num(row, "p_high"), hi, &level.id);
        assert_eq!(row[levels.col("terminal")], level.terminal.to_string());
        let highest = t.find("max_level", &level.id).len();
        let last = t.find("final_level", &level.id).len();
        close6(levels.num(row, "p_highest"), ratio(highest), &level.id);
        close6(levels.num(row, "p_final"), ratio(last), &level.id);

        // Percentiles: binned to 0.01 day, reported as the lower edge of the bin.
        days.sort_by(f64::total_cmp);
        for (q, name) in [(0.1, "day_p10"), (0.5, "day_p50"), (0.9, "day_p90")] {
            let printed = &row[levels.col(name)];
            if k == 0 {
                assert_eq!(printed, "", "{} {name}", level.id);
                continue;
            }
            let p: f64 = printed.parse().unwrap();
            let exact = nearest_rank(&days, q);
            // trials.csv rounds days to 4 decimals.
            assert!(
                exact - p >= -1e-4 && exact - p < 0.01 + 1e-4,
                "{} {name}: printed {p}, nearest-rank value {exact}",
                level.id
            );
        }
    }
    // The levels that matter are not trivial: the checks above compared real numbers.
    let lethal = levels.row("level", "lethal");
    assert!(levels.num(lethal, "p_reached") > 0.1);
    assert!(levels.num(lethal, "day_p50") > 1.0);
}

#[test]
fn tallies_csv_matches_trials_csv() {
    let run = the_run();
    let tallies = run.table("tallies.csv");
    assert_eq!(tallies.rows.len(), run.model.tallies.len());
    let mut any_sd = false;
    for tally in &run.model.tallies {
        let row = tallies.row("tally", &tally.id);
        let mut xs = run.column_u64(&tally.id);
        let sum: u128 = xs.iter().map(|&x| x as u128).sum();
        let mean = sum as f64 / N as f64;
        let var = xs.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / (N - 1) as f64;
        close6(tallies.num(row, "mean"), mean, &tally.id);
        let sd = tallies.num(row, "sd");
        assert!((sd - var.sqrt()).abs() <= 5.1e-7 + 1e-9 * sd, "{}: sd {sd} vs {}", tally.id, var.sqrt());
        any_sd |= sd > 0.0;
        let positive = xs.iter().filter(|&&x| x > 0).count();
        close6(tallies.num(row, "p_positive"), ratio(positive), &tally.id);
        xs.sort_unstable();
        for (q, name) in [(0.05, "p5"), (0.5, "p50"), (0.95, "p95")] {
            assert_eq!(row[tallies.col(name)], nearest_rank(&xs, q).to_string(), "{} {name}", tally.id);
        }
        assert_eq!(row[tallies.col("max")], xs.last().unwrap().to_string(), "{}", tally.id);
        assert_eq!(row[tallies.col("label")], tally.label);
    }
    assert!(any_sd);
}

#[test]
fn steps_csv_matches_trials_csv() {
    let run = the_run();
    let steps = run.table("steps.csv");
    assert_eq!(steps.rows.len(), run.model.steps.len());
    for step in &run.model.steps {
        let row = steps.row("step", &step.id);
        let counts = run.column_u64(&format!("count_{}", step.id));
        let total: u64 = counts.iter().sum();
        let fired = counts.iter().filter(|&&c| c > 0).count();
        close6(steps.num(row, "mean_count"), total as f64 / N as f64, &step.id);
        close6(steps.num(row, "p_fired"), ratio(fired), &step.id);
        assert_eq!(row[steps.col("actor")], step.actor);
    }
}

#[test]
fn paths_csv_matches_trials_csv() {
    let run = the_run();
    let paths = run.table("paths.csv");
    let t = &run.trials;
    let mut counts: HashMap<String, usize> = HashMap::new();
    for row in &t.rows {
        let p = &row[t.col("path")];
        let key = if p.is_empty() { "(none)" } else { p.as_str() };
        *counts.entry(key.to_owned()).or_default() += 1;
    }
    let mut by_count: Vec<(&String, &usize)> = counts.iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    assert_eq!(paths.rows.len(), counts.len().min(100));
    let mut previous = usize::MAX;
    for (i, row) in paths.rows.iter().enumerate() {
        assert_eq!(row[paths.col("rank")], (i + 1).to_string());
        let path = &row[paths.col("path")];
        let n: usize = row[paths.col("trials")].parse().unwrap();
        assert_eq!(Some(&n), counts.get(path), "path `{path}`");
        assert!(n <= previous, "paths sorted by count");
        previous = n;
        close6(paths.num(row, "share"), ratio(n), path);
        // The top paths are the most frequent ones.
        assert_eq!(n, *by_count[i].1, "rank {}", i + 1);
    }
    // Every path names steps of the model.
    for p in counts.keys().filter(|p| *p != "(none)") {
        for s in p.split('>') {
            assert!(run.model.step_ix(s).is_some(), "unknown step `{s}` in `{p}`");
        }
    }
    let none = paths.row("path", "(none)");
    let harassment = t.find("max_level", "harassment").len();
    assert_eq!(none[paths.col("trials")], harassment.to_string());
}

#[test]
fn daily_csv_matches_trials_csv() {
    let run = the_run();
    let m = &run.model;
    let daily = run.table("daily.csv");
    let levels = run.table("levels.csv");
    let h = m.horizon_days as usize;
    let nl = m.levels.len();
    assert_eq!(daily.rows.len(), h * nl);
    let reached = run.reached();
    let start = m.start.expect("baghdad-2020 has a start date");

    // Count, for each day, the trials at each level at the end of the day and the
    // trials that had reached each level by then. Without lower_to, the level at the
    // end of day d is the highest level first reached before d + 1.
    let mut at = vec![vec![0usize; nl]; h];
    let mut by = vec![vec![0usize; nl]; h];
    for days in &reached {
        for d in 0..h {
            let end = (d + 1) as f64;
            let mut level = 0;
            for (l, r) in days.iter().enumerate() {
                if r.is_some_and(|r| r < end) {
                    by[d][l] += 1;
                    level = l;
                }
            }
            at[d][level] += 1;
        }
    }

    let mut worst = 0.0f64;
    for (i, row) in daily.rows.iter().enumerate() {
        let (d, l) = (i / nl, i % nl);
        assert_eq!(row[daily.col("day")], d.to_string());
        assert_eq!(row[daily.col("level")], m.levels[l].id);
        assert_eq!(row[daily.col("date")], start.plus_days(d as i64).to_string());
        // trials.csv rounds days to 1e-4, so a trial first reaching a level within
        // 1e-4 day of midnight may count on the neighbouring day: allow 2 such trials.
        for (name, count) in [("share", at[d][l]), ("p_reached", by[d][l])] {
            let printed = daily.num(row, name) * N as f64;
            let diff = (printed - count as f64).abs();
            worst = worst.max(diff);
            assert!(
                diff <= 2.02,
                "day {d} level {} {name}: {printed} trials vs {count} from trials.csv",
                m.levels[l].id
            );
        }
    }
    eprintln!("daily.csv: largest difference {worst:.2} trials");
    assert_eq!(daily.rows[0][daily.col("date")], "2020-12-20");
    assert_eq!(daily.rows[h * nl - 1][daily.col("date")], "2021-03-19");

    // Shares of a day sum to 1; on the last day, p_reached is levels.csv's p_reached.
    for d in 0..h {
        let sum: f64 = (0..nl).map(|l| daily.num(&daily.rows[d * nl + l], "share")).sum();
        assert!((sum - 1.0).abs() <= nl as f64 * 5.1e-7, "day {d}: {sum}");
    }
    for (l, level) in m.levels.iter().enumerate() {
        let last = &daily.rows[(h - 1) * nl + l];
        assert_eq!(
            last[daily.col("p_reached")],
            levels.row("level", &level.id)[levels.col("p_reached")],
            "{}",
            level.id
        );
        // Cumulative probabilities never decrease.
        let series: Vec<f64> = (0..h).map(|d| daily.num(&daily.rows[d * nl + l], "p_reached")).collect();
        assert!(series.windows(2).all(|w| w[0] <= w[1]), "{}", level.id);
    }
    // Shares move: the share at the lowest level falls over the horizon.
    let first = daily.num(&daily.rows[0], "share");
    let last = daily.num(&daily.rows[(h - 1) * nl], "share");
    assert!(first > last + 0.1, "{first} -> {last}");
}

#[test]
fn aggregate_files_do_not_depend_on_trials_csv_being_written() {
    // The same run without trials.csv gives byte-identical aggregates.
    let run = the_run();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("res");
    brink()
        .arg("run")
        .arg(bundled("baghdad-2020.toml"))
        .args(["--trials", &N.to_string(), "--seed", "11", "--threads", "1"])
        .args(NO_OFF_RAMPS)
        .args(SMALL_SPREAD)
        .args(["--quiet", "--no-trials-csv", "--out"])
        .arg(&dir)
        .assert()
        .success();
    for f in ["levels.csv", "tallies.csv", "steps.csv", "daily.csv", "paths.csv"] {
        let a = std::fs::read(run.dir.join(f)).unwrap();
        let b = std::fs::read(Path::new(&dir).join(f)).unwrap();
        assert!(a == b, "{f} differs");
    }
}

#[test]
fn tally_distribution_csv_matches_trials_csv_when_written() {
    // A newer output: checked whenever a run writes it.
    let run = the_run();
    let path = run.dir.join("tally_distribution.csv");
    if !path.exists() {
        return;
    }
    let dist = Table::read(&path);
    let mut rows = dist.rows.iter();
    for tally in &run.model.tallies {
        let mut counts: std::collections::BTreeMap<u64, usize> = Default::default();
        for x in run.column_u64(&tally.id) {
            *counts.entry(x).or_default() += 1;
        }
        for (x, n) in counts {
            let row = rows.next().expect("a row per (tally, value)");
            assert_eq!(row[dist.col("tally")], tally.id);
            assert_eq!(row[dist.col("value")], x.to_string(), "{}", tally.id);
            assert_eq!(row[dist.col("trials")], n.to_string(), "{} = {x}", tally.id);
            close6(dist.num(row, "share"), ratio(n), &tally.id);
        }
    }
    assert!(rows.next().is_none(), "extra rows in tally_distribution.csv");
}

/// Runs a scenario where every trial reaches level `tense` exactly on `day`, and returns
/// levels.csv's row for it.
fn percentiles_of_a_fixed_day(day: &str) -> (String, Vec<String>) {
    let src = format!(
        "[scenario]
name = \"bins\"
horizon_days = 10

[[levels]]
id = \"calm\"
[[levels]]
id = \"tense\"

[[steps]]
id = \"s\"
  [[steps.branches]]
  id = \"b\"
  p = 1
  raise_to = \"tense\"

[[schedule]]
step = \"s\"
day = {day}
"
    );
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bins.toml");
    std::fs::write(&path, src).unwrap();
    let out = tmp.path().join("res");
    brink().arg("run").arg(&path).args(["--trials", "10", "-q", "--out"]).arg(&out).assert().success();
    let trials = Table::read(&out.join("trials.csv"));
    let levels = Table::read(&out.join("levels.csv"));
    let reached = trials.rows[0][trials.col("reached_tense_day")].clone();
    let row = levels.row("level", "tense");
    let pct = ["day_p10", "day_p50", "day_p90"].iter().map(|c| row[levels.col(c)].clone()).collect();
    (reached, pct)
}

#[test]
fn percentiles_of_a_day_on_a_bin_edge() {
    // 0.5 and 3 are exact multiples of the 0.01-day bin in floating point too.
    for (day, shown) in [("0.5", "0.50"), ("3", "3.00"), ("0.25", "0.25")] {
        let (reached, pct) = percentiles_of_a_fixed_day(day);
        assert_eq!(reached.parse::<f64>().unwrap(), day.parse::<f64>().unwrap());
        assert_eq!(pct, vec![shown; 3], "day {day}");
    }
}

#[test]
fn percentiles_of_a_two_decimal_day_are_that_day() {
    for day in ["0.29", "0.57", "1.15"] {
        let (reached, pct) = percentiles_of_a_fixed_day(day);
        assert_eq!(reached, format!("{day}00"));
        assert_eq!(pct, vec![day; 3], "every trial reached the level on day {day}");
    }
}
