//! Params as distributions (predictive mode): samplers, supports, and the mixture they
//! imply, against hand-derived values.

use crate::util::{model, tol};
use brink::scenario::{compile_str, Overrides};
use brink::sim::params::ParamDist;
use brink::sim::rng::{stream, stream_key, Purpose};
use brink::sim::runner::{run, RunSpec};

fn dist(src: &str) -> ParamDist {
    ParamDist::from_value(&src.parse::<toml::Table>().unwrap()["d"]).unwrap()
}

#[test]
fn param_distributions_have_their_moments() {
    let cases = [
        ("d = { beta = [2, 6] }", 0.25, 2.0 * 6.0 / (64.0 * 9.0)),
        ("d = { gamma = { mean = 3, shape = 4 } }", 3.0, 9.0 / 4.0),
        ("d = { uniform = [1, 5] }", 3.0, 16.0 / 12.0),
        ("d = { triangular = [0, 1, 5] }", 2.0, (0.0 + 1.0 + 25.0 - 0.0 - 0.0 - 5.0) / 18.0),
        // PERT(0, 1, 5): alpha = 1 + 4/5, beta = 1 + 16/5; mean (0 + 4 + 5)/6 = 1.5.
        ("d = { pert = [0, 1, 5] }", 1.5, 1.8 * 4.2 / (36.0 * 7.0) * 25.0),
        (
            "d = { lognormal = { median = 2, sigma = 0.5 } }",
            2.0 * 0.125f64.exp(),
            (0.25f64.exp() - 1.0) * 4.0 * 0.25f64.exp(),
        ),
    ];
    let n = 100_000;
    for (src, mean, var) in cases {
        let d = dist(src);
        assert!((d.mean() - mean).abs() < 1e-12, "{src}: mean formula");
        assert!((d.variance() - var).abs() < 1e-9, "{src}: variance formula {} vs {var}", d.variance());
        let mut s = stream(&stream_key(1, src), 0, Purpose::Arrival);
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut s)).collect();
        let (lo, hi) = d.support();
        assert!(xs.iter().all(|&x| x >= lo && x <= hi), "{src}: outside the support");
        let m = xs.iter().sum::<f64>() / n as f64;
        assert!((m - mean).abs() < tol(var, n), "{src}: sample mean {m} vs {mean}");
    }
    for bad in [
        "d = { beta = [0, 1] }",
        "d = { uniform = [2, 1] }",
        "d = { normal = [0, 1] }",
        "d = { gamma = { mean = 1 } }",
    ] {
        assert!(ParamDist::from_value(&bad.parse::<toml::Table>().unwrap()["d"]).is_err(), "{bad}");
    }
}

const ONE_SHOT: &str = r#"
[scenario]
name = "shot"
horizon_days = 5
[params]
p_hit = { beta = [2, 6] }
[[levels]]
id = "calm"
[[levels]]
id = "war"
terminal = true
[[steps]]
id = "shot"
  [[steps.branches]]
  id = "hit"
  p = "p_hit"
  raise_to = "war"
  [[steps.branches]]
  id = "miss"
  p = "rest"
[[schedule]]
step = "shot"
day = 0
"#;

/// Each trial draws p ~ Beta(2, 6) and then hits with probability p: the mixture hits
/// with probability E[p] = 2 / 8.
#[test]
fn a_beta_probability_mixes_to_its_mean() {
    let m = model(ONE_SHOT);
    assert_eq!(m.uncertain.len(), 1);
    assert!(!m.uncertain[0].fields.is_empty(), "the compiler found the field p_hit feeds");
    let n = 20_000;
    let agg = run(&m, &RunSpec { trials: n, seed: 2, threads: 2, max_events: 100 }, &mut |_| {}).unwrap();
    let p = agg.levels[1].reached as f64 / n as f64;
    assert!((p - 0.25).abs() < tol(0.25 * 0.75, n), "P(war) {p}");
    // Same draws whatever the thread count.
    let one = run(&m, &RunSpec { trials: n, seed: 2, threads: 1, max_events: 100 }, &mut |_| {}).unwrap();
    assert_eq!(one, agg);
    // --set fixes the param: no longer drawn.
    let fixed = compile_str(
        "t.toml",
        ONE_SHOT,
        &Overrides { variant: None, sets: vec![("p_hit".into(), 0.5)], params: None, ..Default::default() },
    )
    .unwrap();
    assert!(fixed.uncertain.is_empty());
}

/// An uncertain rate over-disperses counts: with rate ~ Gamma(mean m, shape k) per trial
/// and N | rate ~ Poisson(rate T): E[N] = m T, Var N = m T + (m T)^2 / k.
#[test]
fn a_gamma_rate_overdisperses_counts() {
    let src = r#"
[scenario]
name = "g"
horizon_days = 20
[params]
rate = { value = { gamma = { mean = 0.5, shape = 2 } }, source = "assumption", note = "wide" }
[[levels]]
id = "calm"
[[steps]]
id = "attack"
rate = "rate"
"#;
    let m = model(src);
    assert_eq!(m.provenance[0].source.as_deref(), Some("assumption"));
    let n = 20_000u64;
    let mut e = brink::sim::engine::Engine::new(&m, 9);
    let xs: Vec<f64> = (0..n)
        .map(|t| {
            e.run(t).unwrap();
            e.outcome().counts[0] as f64
        })
        .collect();
    let mean = xs.iter().sum::<f64>() / n as f64;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let (mt, k) = (10.0, 2.0);
    let want_var = mt + mt * mt / k;
    assert!((mean - mt).abs() < tol(want_var, n), "mean {mean}");
    // The variance of a sample variance ~ (mu4 - sigma^4)/n; a 10% band is > 5 sd here.
    assert!((var - want_var).abs() < 0.1 * want_var, "variance {var} vs {want_var}");
}

#[test]
fn supports_are_checked_where_params_are_used() {
    let gamma_p = ONE_SHOT.replace("{ beta = [2, 6] }", "{ gamma = { mean = 0.3, shape = 2 } }");
    let err = crate::util::errors(&gamma_p);
    assert!(err.contains("can take the value 1000000000"), "{err}");
    assert!(err.contains("probability"), "{err}");
    assert!(err.contains("test.toml:6:9"), "points at the param: {err}");
    assert!(!err.contains("--set"), "the probe is not the user's --set: {err}");
    let whole = r#"
[scenario]
name = "w"
horizon_days = 5
[params]
cap = { uniform = [1, 3] }
[[levels]]
id = "calm"
[[steps]]
id = "s"
max = "cap"
"#;
    assert!(crate::util::errors(whole).contains("whole number"));
}

/// Two-loop mode on the one-shot scenario: draw k fixes p_hit = p_k ~ Beta(2, 6), so
/// P(war | draw k) is a binomial estimate of p_k. Across draws P follows Beta(2, 6): its
/// quantiles are found by bisection on I_x(2, 6) = P(Binomial(7, x) >= 2). The pooled
/// estimate is E[p] = 0.25, and p_hit's rank correlation with P(war) is near 1.
#[test]
fn two_loop_spread_follows_the_param_distribution() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shot.toml");
    std::fs::write(&file, ONE_SHOT).unwrap();
    let mut bytes = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("e{threads}"));
        assert_cmd::Command::cargo_bin("brink")
            .unwrap()
            .args([
                "run",
                "--epistemic",
                "200",
                "--trials",
                "2000",
                "--seed",
                "4",
                "--quiet",
                "--threads",
                threads,
            ])
            .arg("--out")
            .arg(&out)
            .arg(&file)
            .assert()
            .success();
        bytes.push((
            std::fs::read(out.join("epistemic.csv")).unwrap(),
            std::fs::read(out.join("params.csv")).unwrap(),
            std::fs::read(out.join("levels.csv")).unwrap(),
        ));
    }
    assert_eq!(bytes[0], bytes[1], "identical whatever the thread count");
    let report = std::fs::read_to_string(dir.path().join("e1").join("report.html")).unwrap();
    assert!(report.contains("Parameter uncertainty (two-loop run)"), "the report shows the two-loop results");
    assert!(report.contains("<td>beta(2, 6)</td>"), "the report's provenance table shows the distribution");
    let text = String::from_utf8(bytes[0].0.clone()).unwrap();
    let war = text.lines().find(|l| l.starts_with("war,0")).unwrap();
    let f: Vec<f64> = war.split(',').skip(1).take(4).map(|x| x.parse().unwrap()).collect();
    let (pooled, _median, p5, p95) = (f[0], f[1], f[2], f[3]);
    assert!((pooled - 0.25).abs() < 0.02, "pooled {pooled}");
    let cdf = |x: f64| {
        // P(Binomial(7, x) >= 2) = 1 - (1-x)^7 - 7 x (1-x)^6
        1.0 - (1.0 - x).powi(7) - 7.0 * x * (1.0 - x).powi(6)
    };
    let quantile = |q: f64| {
        let (mut lo, mut hi) = (0.0, 1.0);
        for _ in 0..60 {
            let mid = (lo + hi) / 2.0;
            if cdf(mid) < q {
                lo = mid
            } else {
                hi = mid
            }
        }
        lo
    };
    assert!((p5 - quantile(0.05)).abs() < 0.03, "p5 {p5} vs {}", quantile(0.05));
    assert!((p95 - quantile(0.95)).abs() < 0.06, "p95 {p95} vs {}", quantile(0.95));
    let rho: f64 = text
        .lines()
        .find(|l| l.starts_with("war,,,,,p_hit,"))
        .unwrap()
        .rsplit(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(rho > 0.95, "rank correlation {rho}");
}

#[test]
fn a_distribution_may_not_be_a_scheduled_day_but_may_be_a_decay() {
    let src = ONE_SHOT
        .replace("[params]\n", "[params]\nday0 = { uniform = [0, 3] }\n")
        .replace("day = 0", "day = \"day0\"");
    assert!(crate::util::errors(&src).contains("used as a [[schedule]] day"));
    // decay_days must be > 0: a gamma never takes 0, so it is accepted.
    let decay = r#"
[scenario]
name = "d"
horizon_days = 5
[params]
d = { gamma = { mean = 2, shape = 3 } }
[[levels]]
id = "calm"
[[steps]]
id = "a"
rate = 0.5
  [[steps.branches]]
  id = "x"
  p = 1
  excite = [ { step = "a", n = 0.2, decay_days = "d" } ]
"#;
    let m = model(decay);
    assert_eq!(m.uncertain.len(), 1);
    assert_eq!(m.uncertain[0].fields.len(), 1, "decay_days of the one excitation");
}

/// `brink check` shows what a run will draw and excite, not just the point values.
#[test]
fn check_shows_distributions_sources_and_excitations() {
    let src = ONE_SHOT.replace(
        "p_hit = { beta = [2, 6] }",
        "p_hit = { value = { beta = [2, 6] }, source = \"S30: 3 of 3\" }",
    ) + r#"
[[steps]]
id = "salvo"
rate = 0.1
  [[steps.branches]]
  id = "fired"
  p = 1
  excite = [ { step = "salvo", n = 0.4, decay_days = 14 } ]
"#;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shot.toml");
    std::fs::write(&file, src).unwrap();
    let a = assert_cmd::Command::cargo_bin("brink").unwrap().arg("check").arg(&file).assert().success();
    let text = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(text.contains("Params (1 drawn anew in every trial"), "{text}");
    assert!(text.contains("p_hit") && text.contains("~ beta(2, 6)"), "{text}");
    assert!(text.contains("source: S30: 3 of 3"), "{text}");
    assert!(text.contains("excite salvo (n 0.4, decay 14 d)"), "{text}");
}

/// A plain `brink run` of the one-shot scenario leads with the spread of P(war) across
/// parameter draws. Draw k fixes p_hit = θ_k ~ Beta(2, 6) and runs the same N trials, so
/// P(war | draw k) = F̂(θ_k), the share of N trial uniforms below θ_k; the 5th and 95th
/// percentiles across K draws must be Beta(2, 6)'s (I_x(2, 6) = P(Binomial(7, x) >= 2)),
/// within 4 standard deviations of two errors: the nearest-rank order statistic of K
/// draws (sd sqrt(q (1 - q) / K) / f(x_q) on the P scale, f the Beta(2, 6) density
/// 42 x (1 - x)^5) and the Monte Carlo error of one draw (sd sqrt(x_q (1 - x_q) / N)).
/// The predictive P(war) is E[θ] = 0.25, with its Wilson interval second; the output is
/// identical on 1 and 2 threads.
#[test]
fn a_predictive_run_leads_with_the_beta_quantiles_of_its_param() {
    let (k, n) = (1000u64, 4000u64);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shot.toml");
    std::fs::write(&file, ONE_SHOT).unwrap();
    let mut runs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("r{threads}"));
        let o = crate::util::brink()
            .args(["run", "--trials", "20000", "--seed", "11", "--threads", threads, "--charts", "none"])
            .args(["--draws", &k.to_string(), "--draw-trials", &n.to_string(), "--out"])
            .arg(&out)
            .arg(&file)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8(o.stdout).unwrap();
        let files = ["epistemic.csv", "params.csv", "levels.csv", "report.html"]
            .map(|f| std::fs::read(out.join(f)).unwrap());
        runs.push((text, files));
    }
    assert_eq!(runs[0].1, runs[1].1, "identical whatever the thread count");
    let text = &runs[0].0;
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        "shot: 1 uncertain param; first interval: P across draws of it, second: Monte Carlo error only"
    );
    assert!(text.contains(&format!("  spread: {k} draws of the params x {n} trials each")), "{text}");
    let epistemic = String::from_utf8(runs[0].1[0].clone()).unwrap();
    let war = epistemic.lines().find(|l| l.starts_with("war,0")).unwrap();
    let f: Vec<f64> = war.split(',').skip(1).take(4).map(|x| x.parse().unwrap()).collect();
    let (p5, p95) = (f[2], f[3]);
    let cdf = |x: f64| 1.0 - (1.0 - x).powi(7) - 7.0 * x * (1.0 - x).powi(6);
    let quantile = |q: f64| {
        let (mut lo, mut hi) = (0.0, 1.0);
        for _ in 0..60 {
            let mid = (lo + hi) / 2.0;
            if cdf(mid) < q {
                lo = mid
            } else {
                hi = mid
            }
        }
        lo
    };
    for (q, got) in [(0.05, p5), (0.95, p95)] {
        let x = quantile(q);
        let density = 42.0 * x * (1.0 - x).powi(5);
        let order = (q * (1.0 - q) / k as f64).sqrt() / density;
        let mc = (x * (1.0 - x) / n as f64).sqrt();
        let tol = 4.0 * (order * order + mc * mc).sqrt();
        assert!((got - x).abs() < tol, "{q}: {got} vs Beta(2, 6) {x} (tolerance {tol})");
        // Not merely loose: the tolerance is a fraction of the spread itself.
        assert!(tol < 0.25 * x.max(0.1), "{q}: tolerance {tol}");
    }
    // The summary row: predictive P, the spread (as epistemic.csv), then Wilson.
    let levels = String::from_utf8(runs[0].1[2].clone()).unwrap();
    let row: Vec<&str> = levels.lines().find(|l| l.starts_with("war,")).unwrap().split(',').collect();
    let p: f64 = row[3].parse().unwrap();
    assert!((p - 0.25).abs() < 4.0 * (0.25f64 * 0.75 / 20000.0).sqrt(), "predictive P {p}");
    let pct = |x: f64| format!("{:.1}%", 100.0 * x);
    let line = text.lines().find(|l| l.trim_start().starts_with("war ")).unwrap();
    let cols: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(cols[1], pct(p), "{line}");
    assert_eq!(format!("{} {}", cols[2], cols[3]), format!("[{}, {}]", pct(p5), pct(p95)), "{line}");
    let (lo, hi): (f64, f64) = (row[4].parse().unwrap(), row[5].parse().unwrap());
    assert_eq!(format!("{} {}", cols[4], cols[5]), format!("[{}, {}]", pct(lo), pct(hi)), "{line}");
    let report = String::from_utf8(runs[0].1[3].clone()).unwrap();
    assert!(report.contains("<th class=\"n\">90% across draws</th><th class=\"n\">95% Monte Carlo</th>"));
    assert!(report.contains("This scenario has 1 param given as a distribution"), "the report says so first");
    // About 1,000 of each draw's 4,000 trials reach war: the spread is resolved.
    assert!(!report.contains("Not resolved at this precision"), "{report}");
}

/// Where each parameter draw sees only a handful of trials reach the top level, the card
/// says that its spread across draws is mostly Monte Carlo noise. At 20 trials per draw and
/// P(war) = 1/4 on average (Beta(2, 6)), the events per draw are 20 times the mean of the
/// per-draw P in params.csv, about 5 (the draws share their 20 trials, so the mean moves
/// with those trials' uniforms: between 1 and 12 with certainty here).
#[test]
fn a_spread_of_few_events_per_draw_is_said_to_be_noise() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shot.toml");
    std::fs::write(&file, ONE_SHOT).unwrap();
    let out = dir.path().join("r");
    let o = crate::util::brink()
        .args(["run", "--trials", "2000", "--seed", "11", "--charts", "none", "--quiet"])
        .args(["--draws", "200", "--draw-trials", "20", "--out"])
        .arg(&out)
        .arg(&file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    let at =
        report.find("Not resolved at this precision:").expect("the card says the spread is not resolved");
    let rest = &report[at..];
    let n: f64 =
        rest[rest.find("each draw saw about ").unwrap() + 20..].split(' ').next().unwrap().parse().unwrap();
    let params = crate::util::Table::read(&out.join("params.csv"));
    let mean: f64 =
        params.rows.iter().map(|r| params.num(r, "p_war")).sum::<f64>() / params.rows.len() as f64;
    assert_eq!(params.rows.len(), 200);
    assert!((n - 20.0 * mean).abs() <= 0.05 + 1e-9, "{n} events per draw, 20 x the mean P {mean}");
    assert!((1.0..12.0).contains(&n), "{n}");
    assert!(rest.contains("of its 20 trials reach <code>war</code>"), "{rest}");
}

/// Without uncertain params, --draws and --draw-trials are refused (exit 2).
#[test]
fn draws_need_uncertain_params() {
    let o = crate::util::brink()
        .args(["run", "--draws", "10", "--quiet", "--charts", "none", "--out", "/nonexistent/x"])
        .arg(crate::util::bundled("minimal.toml"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("--draws and --draw-trials need params given as distributions"));
}

/// A param that P(war) does not depend on (the rate of a step that changes nothing) has a
/// rank correlation whose 95% interval holds 0 at K = 20 draws (|r| below
/// tanh(1.96 sqrt(1.06 / 17)) = 0.454): the terminal and the report's drivers table mark
/// it, and not p_hit, whose correlation is near 1.
#[test]
fn drivers_within_noise_are_marked_in_the_terminal_and_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shot.toml");
    let src = ONE_SHOT.replace("[params]\n", "[params]\nr_chatter = { uniform = [0.1, 1] }\n")
        + "[[steps]]\nid = \"chatter\"\nrate = \"r_chatter\"\n";
    std::fs::write(&file, src).unwrap();
    let out = dir.path().join("e");
    let run = assert_cmd::Command::cargo_bin("brink")
        .unwrap()
        .args(["run", "--epistemic", "20", "--trials", "500", "--seed", "4"])
        .arg("--out")
        .arg(&out)
        .arg(&file)
        .assert()
        .success();
    let terminal = String::from_utf8(run.get_output().stdout.clone()).unwrap();
    let line = |name: &str| {
        terminal
            .lines()
            .find(|l| l.ends_with(name) || l.contains(&format!("{name}  (")))
            .unwrap_or_else(|| panic!("{terminal}"))
            .to_owned()
    };
    assert!(line("r_chatter").contains("(95% interval holds 0"), "{terminal}");
    assert!(!line("p_hit").contains("holds 0"), "{terminal}");
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    let row = |name: &str| {
        let i =
            report.find(&format!("<td><code>{name}</code></td>")).unwrap_or_else(|| panic!("no row {name}"));
        report[i..i + report[i..].find("</tr>").unwrap()].to_owned()
    };
    assert!(row("r_chatter").contains("95% interval holds 0"), "{}", row("r_chatter"));
    assert!(!row("p_hit").contains("holds 0"), "{}", row("p_hit"));
    assert!(report.contains("at K = 20 draws |r| must reach 0.45."), "the report states the bound");
}
