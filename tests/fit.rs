//! The estimators of `brink fit` (issue 14) on histories that brink simulates from known
//! params: each trial of a run is one history, and the 95% intervals must cover the true
//! value as often as their exact coverage, worked out from the Poisson and binomial laws,
//! says they do.

use crate::util::model;
use brink::analysis::estimate::{poisson_rate, proportion, Baseline};
use brink::sim::engine::Engine;

const SCENARIO: &str = r#"
[scenario]
name = "fit"
horizon_days = 100
[[levels]]
id = "calm"
[[steps]]
id = "attack"
rate = 0.2
windows = [ { from_day = 10, to_day = 20, rate_x = 3 } ]
  [[steps.branches]]
  id = "lethal"
  p = 0.3
  [[steps.branches]]
  id = "harmless"
  p = "rest"
"#;

const TRIALS: u64 = 2000;

/// Poisson(mu) probabilities of 0..=max, by the recursion p(k) = p(k-1) mu / k.
fn poisson_pmf(mu: f64, max: usize) -> Vec<f64> {
    let mut p = vec![(-mu).exp()];
    for k in 1..=max {
        p.push(p[k - 1] * mu / k as f64);
    }
    p
}

/// Binomial(n, p) probabilities of 0..=n.
fn binomial_pmf(n: u64, p: f64) -> Vec<f64> {
    let mut out = vec![(1.0 - p).powi(n as i32)];
    for k in 1..=n {
        out.push(out[k as usize - 1] * (n - k + 1) as f64 / k as f64 * p / (1.0 - p));
    }
    out
}

/// Checks that `hits` of `TRIALS` lies within 3.29 standard errors (99.9%) of the expected
/// coverage, given as the sum of each trial's exact coverage and of its variance.
fn assert_coverage(what: &str, hits: u64, expected: f64, variance: f64) {
    let n = TRIALS as f64;
    let tol = 3.29 * variance.sqrt() / n;
    let got = hits as f64 / n;
    let want = expected / n;
    assert!((got - want).abs() <= tol, "{what}: coverage {got:.4}, exact {want:.4} +- {tol:.4}");
}

#[test]
fn rate_intervals_cover_the_true_rate_as_often_as_the_poisson_law_says() {
    let m = model(SCENARIO);
    let rate = 0.2;
    // Ten days at x3 add twenty days of exposure: 120 days in all, 24 attacks expected.
    let exposure = Baseline::of_windows(&m.steps[0].windows, 0.0, 100.0).exposure();
    assert_eq!(exposure, 120.0);
    let mu = rate * exposure;
    // Exact coverage of Garwood's interval at this mean: the Poisson probability of the
    // counts whose interval holds the true rate. It is at least 95% by construction.
    let pmf = poisson_pmf(mu, 200);
    let covers = |k: u64| {
        let f = poisson_rate(k, exposure);
        f.rate.low <= rate && rate <= f.rate.high
    };
    let exact: f64 = pmf.iter().enumerate().filter(|(k, _)| covers(*k as u64)).map(|(_, p)| p).sum();
    assert!((0.95..0.975).contains(&exact), "exact coverage {exact}");
    let mut e = Engine::new(&m, 7);
    let mut hits = 0;
    let mut total = 0;
    for trial in 0..TRIALS {
        e.run(trial).unwrap();
        let k = e.outcome().counts[0] as u64;
        total += k;
        hits += u64::from(covers(k));
    }
    assert_coverage("Garwood", hits, exact * TRIALS as f64, exact * (1.0 - exact) * TRIALS as f64);
    // The pooled estimate over all histories: 2000 x 24 attacks, sd of the mean 0.11.
    let pooled = poisson_rate(total, exposure * TRIALS as f64);
    assert!(pooled.rate.low <= rate && rate <= pooled.rate.high, "{pooled:?}");
}

#[test]
fn branch_intervals_cover_the_true_probability_as_often_as_the_binomial_law_says() {
    let m = model(SCENARIO);
    let p = 0.3;
    let covers = |k: u64, n: u64| {
        let f = proportion(k, n, (0.5, 0.5));
        f.p.low <= p && p <= f.p.high
    };
    let mut e = Engine::new(&m, 11);
    let (mut hits, mut expected, mut variance) = (0, 0.0, 0.0);
    let lethal = m.steps[0].branches.iter().position(|b| b.id == "lethal").unwrap();
    let mut lethal_firings = vec![0u64; TRIALS as usize];
    for trial in 0..TRIALS {
        // An outcome counts a step's firings, not its branches: count those by observing.
        struct Branches<'a>(&'a mut u64, usize);
        impl brink::sim::engine::Observer for Branches<'_> {
            fn on_fire(&mut self, f: &brink::sim::engine::Firing) {
                if f.branch == self.1 {
                    *self.0 += 1;
                }
            }
        }
        e.run_observed(trial, &mut Branches(&mut lethal_firings[trial as usize], lethal)).unwrap();
        let n = e.outcome().counts[0] as u64;
        let k = lethal_firings[trial as usize];
        hits += u64::from(covers(k, n));
        // This history's exact coverage, given its number of firings n.
        let c: f64 =
            binomial_pmf(n, p).iter().enumerate().filter(|(k, _)| covers(*k as u64, n)).map(|(_, q)| q).sum();
        expected += c;
        variance += c * (1.0 - c);
    }
    assert_coverage("Jeffreys", hits, expected, variance);
    let mean = expected / TRIALS as f64;
    assert!((0.93..0.97).contains(&mean), "mean exact coverage {mean}");
}

/// A self-exciting step: base rate 0.4 per day, each firing adds n = 0.5 firings on average
/// with a mean delay of 2 days (branching ratio 0.5, so 0.4 x 300 / (1 - 0.5) = 240
/// firings expected per history).
const HAWKES: &str = r#"
[scenario]
name = "hawkes"
horizon_days = 300
[params]
rate_incident = 0.4
n_incident = 0.5
decay_incident = 2
[[levels]]
id = "calm"
[[steps]]
id = "incident"
rate = "rate_incident"
  [[steps.branches]]
  id = "any"
  p = 1
  excite = [ { step = "incident", n = "n_incident", decay_days = "decay_incident" } ]
"#;

/// The firing times of each history of `m`, by the engine (exciting firings included).
fn histories(m: &brink::sim::model::Model, seed: u64, count: u64) -> Vec<Vec<f64>> {
    struct Times<'a>(&'a mut Vec<f64>);
    impl brink::sim::engine::Observer for Times<'_> {
        fn on_fire(&mut self, f: &brink::sim::engine::Firing) {
            self.0.push(f.time);
        }
    }
    let mut e = Engine::new(m, seed);
    (0..count)
        .map(|trial| {
            let mut t = Vec::new();
            e.run_observed(trial, &mut Times(&mut t)).unwrap();
            t
        })
        .collect()
}

#[test]
fn hawkes_intervals_cover_the_true_branching_ratio() {
    use brink::analysis::estimate::{fit_hawkes, HawkesData};
    let m = model(HAWKES);
    const REPS: u64 = 200;
    let logs = histories(&m, 5, REPS);
    let total: usize = logs.iter().map(Vec::len).sum();
    // Two threads, each fitting half of the histories (the fits are independent).
    let covered = |part: &[Vec<f64>]| -> (u64, u64) {
        let (mut n_hits, mut mu_hits) = (0, 0);
        for times in part {
            let d = HawkesData {
                targets: times.clone(),
                exciters: times.clone(),
                baseline: Baseline::flat(0.0, 300.0),
                until: f64::INFINITY,
            };
            let f = fit_hawkes(&[d]).unwrap();
            n_hits += u64::from(f.n.low <= 0.5 && 0.5 <= f.n.high);
            mu_hits += u64::from(f.mu.low <= 0.4 && 0.4 <= f.mu.high);
        }
        (n_hits, mu_hits)
    };
    let (a, b) = logs.split_at(logs.len() / 2);
    let ((n1, m1), (n2, m2)) = std::thread::scope(|s| {
        let h = s.spawn(|| covered(a));
        (covered(b), h.join().unwrap())
    });
    let (n_hits, mu_hits) = (n1 + n2, m1 + m2);
    // The mean count is 240 by the cluster representation; sd of the mean of 200 is
    // about sqrt(240 / (1 - 0.5)^2 / 200) = 2.2 (the variance of a Hawkes count over a
    // long window is mu T / (1 - n)^3).
    let mean = total as f64 / REPS as f64;
    assert!((mean - 240.0).abs() < 4.0 * 2.2, "mean firings {mean}");
    // Profile-likelihood intervals are asymptotically 95%; over 200 histories of ~240
    // firings the coverage must lie within 3.29 binomial sd (5.1 points) of it.
    let tol = 3.29 * (0.95f64 * 0.05 / REPS as f64).sqrt();
    for (what, hits) in [("branching ratio", n_hits), ("base rate", mu_hits)] {
        let c = hits as f64 / REPS as f64;
        eprintln!("{what}: {hits} of {REPS} intervals cover the truth ({:.1}%)", 100.0 * c);
        assert!((c - 0.95).abs() <= tol, "{what}: coverage {c:.3}, want 0.95 +- {tol:.3}");
    }
}
