//! The engine against closed forms and hand-worked cases (docs/scenario-language.md, "What
//! firing a step means" and "Time, ties and the horizon").
//!
//! Each statistical test states the value derived by hand and uses a tolerance from the
//! estimate's own sampling error (99.9% normal interval, see `util::tol`).

use crate::util::{ladder_model, model, tol, LADDER};
use brink::sim::engine::{EndReason, Engine};
use brink::sim::model::Model;
use brink::sim::runner::{run, RunSpec};
use brink::sim::stats::Aggregate;

fn scenario(horizon: u32, body: &str) -> Model {
    ladder_model(horizon, body)
}

fn aggregate(m: &Model, trials: u64, seed: u64) -> Aggregate {
    let spec = RunSpec { trials, seed, threads: 2, max_events: 1_000_000 };
    run(m, &spec, &mut |_| {}).expect("run")
}

fn p_reached(a: &Aggregate, level: usize) -> f64 {
    a.levels[level].reached as f64 / a.trials as f64
}

fn mean_count(a: &Aggregate, step: usize) -> f64 {
    a.steps[step].sum as f64 / a.trials as f64
}

fn assert_close(what: &str, got: f64, want: f64, tol: f64) {
    assert!((got - want).abs() <= tol, "{what}: got {got}, expected {want} ± {tol}");
}

/// P(terminal by T) for a Poisson step whose branch (p) is terminal: 1 - exp(-rate p T).
#[test]
fn terminal_probability_of_a_thinned_poisson_step() {
    let m = scenario(
        20,
        r#"
[[steps]]
id = "attack"
rate = 0.1
  [[steps.branches]]
  id = "war"
  p = 0.3
  raise_to = "war"
  [[steps.branches]]
  id = "miss"
  p = "rest"
"#,
    );
    let n = 40_000;
    let a = aggregate(&m, n, 11);
    let want = 1.0 - (-0.1f64 * 0.3 * 20.0).exp();
    assert_close("P(war)", p_reached(&a, 3), want, tol(want * (1.0 - want), n));
    assert_eq!(a.terminal, a.levels[3].reached, "terminal trials are the ones that reached war");
    // Median first-reached day among those reaching it: the time to the first event of a
    // rate-0.03 process, conditioned on <= 20: F(t) = (1 - e^{-0.03 t}) / (1 - e^{-0.6}).
    let med = -(1.0 - 0.5 * (1.0 - (-0.6f64).exp())).ln() / 0.03;
    let got = a.first_day_percentile(3, 0.5).unwrap();
    // sd of a sample median ~ 1 / (2 f(med) sqrt(k)), f the conditional density.
    let k = a.levels[3].reached as f64;
    let f = 0.03 * (-0.03 * med).exp() / (1.0 - (-0.6f64).exp());
    assert_close("median day", got, med, 3.29 / (2.0 * f * k.sqrt()) + 0.01);
}

/// A scheduled step triggers another after a fixed delay: it fires exactly then.
#[test]
fn a_chain_with_a_fixed_delay_fires_on_time() {
    let m = scenario(
        30,
        r#"
[[steps]]
id = "spark"
  [[steps.branches]]
  id = "hit"
  p = 1
  raise_to = "clash"
[[steps]]
id = "reply"
  [[steps.triggers]]
  after = "spark.hit"
  delay = { fixed = 2.5 }
  [[steps.branches]]
  id = "strike"
  p = 1
  raise_to = "crisis"
[[steps]]
id = "maybe"
  [[steps.triggers]]
  after = "reply"
  p = 0.4
  delay = { fixed = 1 }
[[schedule]]
step = "spark"
day = 3
"#,
    );
    let mut e = Engine::new(&m, 5);
    let mut fired = 0;
    for trial in 0..2000 {
        e.run(trial).unwrap();
        let o = e.outcome();
        assert_eq!(o.reached[1], 3.0);
        assert_eq!(o.reached[2], 5.5);
        assert_eq!(o.counts[1], 1);
        assert_eq!(o.path, &[0, 1]);
        fired += o.counts[2] as u64;
    }
    // Binomial(2000, 0.4): mean 800, sd 21.9.
    assert_close("P(maybe)", fired as f64 / 2000.0, 0.4, tol(0.24, 2000));
}

/// A window multiplies the rate on [from, to): E[count] = rate (T - w + w x).
#[test]
fn windows_scale_expected_counts() {
    // Days 10..20 by day numbers, and the same window by dates (to inclusive).
    for window in [
        "{ from_day = 10, to_day = 20, rate_x = 3.0 }",
        "{ from = 2021-01-11, to = 2021-01-20, rate_x = 3.0 }",
    ] {
        let m = scenario(30, &format!("[[steps]]\nid = \"attack\"\nrate = 0.5\nwindows = [ {window} ]\n"));
        assert_eq!(m.steps[0].windows[0].from, 10.0);
        assert_eq!(m.steps[0].windows[0].to, 20.0);
        let n = 4000;
        let a = aggregate(&m, n, 3);
        let want = 0.5 * (20.0 + 10.0 * 3.0); // Poisson: variance = mean
        assert_close("E[count]", mean_count(&a, 0), want, tol(want, n));
    }
}

/// Arrivals move by a change of clock when the rate changes (switched off over days
/// 5..15, doubled over 20..25): the count over 30 days is still Poisson with mean the
/// integrated rate, 0.05 x (5 + 0 + 5 + 2 x 5 + 5) = 1.25, so P(N = k) = e^-1.25 1.25^k / k!,
/// and the count over days 15..20 alone is Poisson(0.25), whatever hazard the pause kept.
#[test]
fn a_rate_switched_off_and_raised_stays_poisson() {
    let m = scenario(
        30,
        "[[steps]]\nid = \"attack\"\nrate = 0.05\nwindows = [ { from_day = 5, to_day = 15, rate_x = 0 }, { from_day = 20, to_day = 25, rate_x = 2 } ]\n",
    );
    let n = 40_000u64;
    let mut e = Engine::new(&m, 11);
    let mut by_count = [0u64; 4];
    let mut in_window = 0u64;
    for trial in 0..n {
        let mut firings = Firings::default();
        e.run_observed(trial, &mut firings).unwrap();
        by_count[firings.0.len().min(3)] += 1;
        in_window += firings.0.iter().filter(|&&t| (15.0..20.0).contains(&t)).count() as u64;
        assert!(firings.0.iter().all(|&t| !(5.0..15.0).contains(&t)), "no firing while the rate is 0");
    }
    let lambda: f64 = 1.25;
    let mut pk = (-lambda).exp();
    let mut below = 0.0;
    for (k, &got) in by_count.iter().enumerate() {
        let want = if k < 3 { pk } else { 1.0 - below };
        let share = got as f64 / n as f64;
        assert_close(&format!("P(N = {k})"), share, want, tol(want * (1.0 - want), n));
        below += pk;
        pk *= lambda / (k + 1) as f64;
    }
    assert_close("E[N in 15..20]", in_window as f64 / n as f64, 0.25, tol(0.25, n));
}

/// The days of a trial's firings.
#[derive(Default)]
struct Firings(Vec<f64>);

impl brink::sim::engine::Observer for Firings {
    fn on_fire(&mut self, f: &brink::sim::engine::Firing) {
        self.0.push(f.time);
    }
}

/// `max` caps the firings: E[min(N, 2)] for N ~ Poisson(2) is 2 - 4 e^-2.
#[test]
fn caps_limit_firings() {
    let m = scenario(10, "[[steps]]\nid = \"attack\"\nrate = 0.2\nmax = 2\n");
    let n = 20_000;
    let a = aggregate(&m, n, 4);
    let e2 = (-2.0f64).exp();
    let mean = 2.0 - 4.0 * e2;
    let var = (4.0 - 10.0 * e2) - mean * mean;
    assert_close("E[min(N,2)]", mean_count(&a, 0), mean, tol(var, n));
    // A triggered step with a cap: 5 scheduled firings trigger it, it fires twice.
    let m = scenario(
        10,
        r#"
[[steps]]
id = "a"
[[steps]]
id = "b"
max = 2
  [[steps.triggers]]
  after = "a"
[[schedule]]
step = "a"
day = 1
[[schedule]]
step = "a"
day = 2
[[schedule]]
step = "a"
day = 3
"#,
    );
    let mut e = Engine::new(&m, 1);
    e.run(0).unwrap();
    assert_eq!(e.outcome().counts, &[3, 2]);
}

/// Modifiers multiply the rate for their duration and stack multiplicatively:
/// two x0.5 modifiers over days 0..10 then none: E = 1 x 0.25 x 10 + 1 x 10.
#[test]
fn modifiers_stack_and_expire() {
    let m = scenario(
        20,
        r#"
[[steps]]
id = "attack"
rate = 1.0
[[steps]]
id = "deter"
  [[steps.branches]]
  id = "x"
  p = 1
  modify = [ { step = "attack", rate_x = 0.5, days = 10 } ]
[[schedule]]
step = "deter"
day = 0
[[schedule]]
step = "deter"
day = 0
"#,
    );
    let n = 4000;
    let a = aggregate(&m, n, 8);
    let want = 0.25 * 10.0 + 10.0;
    assert_close("E[attacks]", mean_count(&a, 0), want, tol(want, n));
}

/// The non-homogeneous process is exact when the rate changes at every arrival: each
/// arrival switches its own rate off for one day (rate_x = 0), so inter-arrival times
/// are 1 + Exp(1) after the first, which is Exp(1). Renewal theory for a delayed
/// renewal process with mean interval mu = 2, variance 1, first mean 1:
/// E[N(T)] = T/mu + (var + mu^2)/(2 mu^2) - mu_1/mu = T/2 + 5/8 - 1/2; Var ~ T var/mu^3.
#[test]
fn refractory_process_matches_renewal_theory() {
    let m = scenario(
        1000,
        r#"
[[steps]]
id = "attack"
rate = 1.0
  [[steps.branches]]
  id = "x"
  p = 1
  modify = [ { step = "attack", rate_x = 0.0, days = 1 } ]
"#,
    );
    let n = 2000;
    let a = aggregate(&m, n, 9);
    let want = 500.0 + 0.125;
    assert_close("E[N(1000)]", mean_count(&a, 0), want, tol(1000.0 / 8.0, n));
}

/// p_x multiplies a trigger's p, capped at 1; guards block triggers outside their levels.
#[test]
fn p_x_caps_at_one_and_guards_block() {
    let m = scenario(
        30,
        r#"
[[steps]]
id = "spark"
  [[steps.branches]]
  id = "x"
  p = 1
  modify = [ { step = "reply", p_x = 4.0, days = 5 } ]
[[steps]]
id = "reply"
  [[steps.triggers]]
  after = "spark"
  p = 0.5
  delay = { fixed = 1 }
[[steps]]
id = "guarded"
  [[steps.triggers]]
  after = "spark"
  min_level = "clash"
[[steps]]
id = "late"
  [[steps.triggers]]
  after = "spark"
  delay = { fixed = 10 }
[[steps]]
id = "late_reply"
  [[steps.triggers]]
  after = "late"
  p = 0.5
[[schedule]]
step = "spark"
day = 0
"#,
    );
    let mut e = Engine::new(&m, 2);
    let mut late = 0u64;
    let n = 4000;
    for t in 0..n {
        e.run(t).unwrap();
        let o = e.outcome();
        assert_eq!(o.counts[1], 1, "p 0.5 x 4 is capped at 1");
        assert_eq!(o.counts[2], 0, "the level is calm, below min_level clash");
        late += o.counts[4] as u64;
    }
    // After the modifier expired (day 5), late_reply's p is its own 0.5.
    assert_close("P(late_reply)", late as f64 / n as f64, 0.5, tol(0.25, n));
}

/// Reaching a level reaches every level below it at that moment; lower_to lowers;
/// a terminal level ends the trial at once.
#[test]
fn levels_jump_lower_and_end() {
    let m = scenario(
        30,
        r#"
[[steps]]
id = "jump"
  [[steps.branches]]
  id = "x"
  p = 1
  raise_to = "crisis"
[[steps]]
id = "calm_down"
  [[steps.branches]]
  id = "x"
  p = 1
  lower_to = "clash"
[[steps]]
id = "end"
  [[steps.branches]]
  id = "x"
  p = 1
  raise_to = "war"
[[steps]]
id = "after_end"
[[schedule]]
step = "jump"
day = 2
[[schedule]]
step = "calm_down"
day = 4
[[schedule]]
step = "end"
day = 7.5
[[schedule]]
step = "after_end"
day = 8
"#,
    );
    let mut e = Engine::new(&m, 1);
    e.run(0).unwrap();
    let o = e.outcome();
    assert_eq!(o.reached, &[0.0, 2.0, 2.0, 7.5]);
    assert_eq!(o.changes, &[(0.0, 0), (2.0, 2), (4.0, 1), (7.5, 3)]);
    assert_eq!(o.end_reason, EndReason::Terminal);
    assert_eq!(o.end_day, 7.5);
    assert_eq!(o.counts, &[1, 1, 1, 0], "nothing fires after a terminal level");
    assert_eq!(o.path, &[0, 2], "lowering is not part of the escalation path");

    // Daily occupancy: end of day d = after changes with time < d + 1.
    let spec = RunSpec { trials: 1, seed: 1, threads: 1, max_events: 100 };
    let a = run(&m, &spec, &mut |_| {}).unwrap();
    let at = |l: usize| a.occupancy(l);
    assert_eq!(&at(0)[..3], &[1, 1, 0]); // calm through the end of day 1
    assert_eq!(&at(2)[2..5], &[1, 1, 0]); // crisis on days 2 and 3
    assert_eq!(&at(1)[4..8], &[1, 1, 1, 0]); // clash on days 4-6
    assert!(at(3)[7..].iter().all(|&x| x == 1), "war stays to the horizon");
}

/// Simultaneous events fire in the order they were scheduled.
#[test]
fn ties_fire_first_scheduled_first() {
    let body = |first: &str, second: &str| {
        format!(
            r#"
[[steps]]
id = "up"
  [[steps.branches]]
  id = "x"
  p = 1
  raise_to = "crisis"
[[steps]]
id = "down"
  [[steps.branches]]
  id = "x"
  p = 1
  lower_to = "calm"
[[schedule]]
step = "{first}"
day = 5
[[schedule]]
step = "{second}"
day = 5
"#
        )
    };
    let final_level = |src: String| {
        let m = scenario(10, &src);
        let mut e = Engine::new(&m, 1);
        e.run(0).unwrap();
        e.outcome().final_level
    };
    assert_eq!(final_level(body("up", "down")), 0);
    assert_eq!(final_level(body("down", "up")), 2);
}

/// A zero-delay trigger is scheduled behind events already queued for the same instant.
#[test]
fn zero_delay_reactions_queue_behind_same_time_events() {
    let m = scenario(
        10,
        r#"
[[steps]]
id = "a"
[[steps]]
id = "up"
  [[steps.triggers]]
  after = "a"
  [[steps.branches]]
  id = "x"
  p = 1
  raise_to = "crisis"
[[steps]]
id = "down"
  [[steps.branches]]
  id = "x"
  p = 1
  lower_to = "calm"
[[schedule]]
step = "a"
day = 5
[[schedule]]
step = "down"
day = 5
"#,
    );
    let mut e = Engine::new(&m, 1);
    e.run(0).unwrap();
    // a fires, schedules up at t = 5 (behind down), down fires, then up: crisis.
    assert_eq!(e.outcome().final_level, 2);
}

/// A trial that loops is stopped with an error naming the looping step.
#[test]
fn runaway_trials_name_the_step() {
    let m = scenario(
        10,
        r#"
[[steps]]
id = "quiet"
[[steps]]
id = "echo"
  [[steps.triggers]]
  after = "echo"
  delay = { exponential = 0.000001 }
[[schedule]]
step = "echo"
day = 1
"#,
    );
    let mut e = Engine::new(&m, 1);
    e.set_max_events(500);
    let err = e.run(0).unwrap_err();
    assert_eq!(err.step, "echo");
    assert!(err.to_string().contains("`echo`"), "{err}");
}

/// Tallies add per firing: E[total] = E[firings] x E[amount] = rate T x mean.
#[test]
fn tallies_accumulate() {
    let m = scenario(
        50,
        r#"
[tallies]
dead = "killed"
[[steps]]
id = "attack"
rate = 0.2
  [[steps.branches]]
  id = "x"
  p = 1
  tally = { dead = { poisson_at_least_one = 2.5 } }
"#,
    );
    let n = 10_000;
    let a = aggregate(&m, n, 6);
    let (mean, _) = a.tally_mean_sd(0);
    // Compound Poisson: mean lambda E[X], variance lambda E[X^2] = 10 (1.5 + 6.25).
    assert_close("E[dead]", mean, 10.0 * 2.5, tol(10.0 * (1.5 + 6.25), n));
    // P(total > 0) = P(at least one firing) = 1 - e^-10.
    assert!(a.tallies[0].positive >= n - 5);
}

/// Share at a level by the end of day d for a one-way jump at rate r: 1 - e^{-r (d+1)}.
#[test]
fn daily_cumulative_probability_follows_the_exponential_cdf() {
    let m = scenario(
        20,
        r#"
[[steps]]
id = "attack"
rate = 0.1
max = 1
  [[steps.branches]]
  id = "x"
  p = 1
  raise_to = "clash"
"#,
    );
    let n = 20_000;
    let a = aggregate(&m, n, 12);
    let occ = a.occupancy(1);
    let by = a.reached_by(1);
    for d in [0usize, 4, 9, 19] {
        let want = 1.0 - (-0.1 * (d as f64 + 1.0)).exp();
        let got = by[d] as f64 / n as f64;
        assert_close(&format!("P(reached by end of day {d})"), got, want, tol(want * (1.0 - want), n));
        assert_eq!(occ[d], by[d], "nothing lowers the level, so at = reached");
    }
}

/// Common random numbers: editing one step does not change another step's draws.
#[test]
fn steps_draw_from_their_own_streams() {
    let base = r#"
[[steps]]
id = "attack"
rate = 0.3
  [[steps.branches]]
  id = "x"
  p = 0.5
  raise_to = "clash"
  [[steps.branches]]
  id = "y"
  p = "rest"
"#;
    let other = |rate: f64| format!("{base}\n[[steps]]\nid = \"other\"\nrate = {rate}\n");
    let a = scenario(60, &other(0.1));
    let b = scenario(60, &format!("[[steps]]\nid = \"first\"\nrate = 2.0\n{}", other(0.9)));
    let mut ea = Engine::new(&a, 77);
    let mut eb = Engine::new(&b, 77);
    for t in 0..500 {
        ea.run(t).unwrap();
        eb.run(t).unwrap();
        assert_eq!(ea.outcome().counts[0], eb.outcome().counts[1], "attack's firings, trial {t}");
        let bits = |r: &[f64]| r.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(ea.outcome().reached), bits(eb.outcome().reached), "trial {t}");
    }
}

/// Jumping over a terminal level reaches it, so the trial ends there and then.
#[test]
fn jumping_over_a_terminal_level_ends_the_trial() {
    let m = model(
        r#"
[scenario]
name = "t"
horizon_days = 30
[[levels]]
id = "calm"
[[levels]]
id = "war"
terminal = true
[[levels]]
id = "nuclear"
[[steps]]
id = "jump"
  [[steps.branches]]
  id = "x"
  p = 1
  raise_to = "nuclear"
[[steps]]
id = "later"
[[schedule]]
step = "jump"
day = 4
[[schedule]]
step = "later"
day = 5
"#,
    );
    let mut e = Engine::new(&m, 1);
    e.run(0).unwrap();
    let o = e.outcome();
    assert_eq!(o.end_reason, EndReason::Terminal);
    assert_eq!(o.end_day, 4.0);
    assert_eq!(o.counts, &[1, 0]);
}

/// A Hawkes process from empty history: base rate mu, self-excitation n with kernel
/// decay tau. The mean intensity solves m(t) = mu + n int m(s) e^{-(t-s)/tau}/tau ds,
/// so m(t) = mu/(1-n) - mu n/(1-n) e^{-(1-n)t/tau}, and
/// E[N(T)] = mu T/(1-n) - mu n tau/(1-n)^2 (1 - e^{-(1-n)T/tau}): the stationary rate
/// mu/(1-n) less a start-up deficit. Var N(T) ~ mu T/(1-n)^3 for T >> tau.
#[test]
fn hawkes_self_excitation_matches_the_stationary_rate() {
    let (mu, n, tau, t) = (0.5f64, 0.4f64, 2.0f64, 200.0f64);
    let m = scenario(
        200,
        &format!(
            r#"
[[steps]]
id = "attack"
rate = {mu}
  [[steps.branches]]
  id = "x"
  p = 1
  excite = [ {{ step = "attack", n = {n}, decay_days = {tau} }} ]
"#
        ),
    );
    let trials = 2000;
    let a = aggregate(&m, trials, 21);
    let want = mu * t / (1.0 - n) - mu * n * tau / (1.0 - n).powi(2) * (1.0 - (-(1.0 - n) * t / tau).exp());
    let var = mu * t / (1.0 - n).powi(3);
    assert_close("E[N(T)] of a Hawkes process", mean_count(&a, 0), want, tol(var, trials));
    // Without excitation the same seed gives the plain Poisson count mu T.
    let plain = scenario(200, &format!("[[steps]]\nid = \"attack\"\nrate = {mu}\n"));
    let b = aggregate(&plain, trials, 21);
    assert_close("E[N(T)] without excitation", mean_count(&b, 0), mu * t, tol(mu * t, trials));
}

/// One step exciting another: each A firing causes n B firings on average, B has no
/// rate of its own: E[B] = n E[A] (offspring landing after the horizon are lost:
/// A at rate r over T, offspring delays Exp(tau): E[B] = n r (T - tau (1 - e^{-T/tau}))).
#[test]
fn cross_excitation_counts_offspring() {
    let (r, n, tau, t) = (0.3f64, 0.7f64, 5.0f64, 100.0f64);
    let m = scenario(
        100,
        &format!(
            r#"
[[steps]]
id = "a"
rate = {r}
  [[steps.branches]]
  id = "x"
  p = 1
  excite = [ {{ step = "b", n = {n}, decay_days = {tau} }} ]
[[steps]]
id = "b"
"#
        ),
    );
    let trials = 4000;
    let agg = aggregate(&m, trials, 4);
    let want = n * r * (t - tau * (1.0 - (-t / tau).exp()));
    // Var B = E[var | A] + var E[.|A] <= n(1+n) r T (compound Poisson bound).
    assert_close("E[B]", mean_count(&agg, 1), want, tol(n * (1.0 + n) * r * t, trials));
}

#[test]
fn explosive_excitation_is_refused() {
    let src = |na: f64, nb: f64| {
        format!(
            "[scenario]\nname = \"t\"\nhorizon_days = 10\n{LADDER}\n[[steps]]\nid = \"a\"\nrate = 1\n  [[steps.branches]]\n  id = \"x\"\n  p = 1\n  excite = [ {{ step = \"b\", n = {na}, decay_days = 1 }} ]\n[[steps]]\nid = \"b\"\n  [[steps.branches]]\n  id = \"y\"\n  p = 0.5\n  excite = [ {{ step = \"a\", n = {nb}, decay_days = 1 }} ]\n  [[steps.branches]]\n  id = \"z\"\n  p = \"rest\"\n"
        )
    };
    // Cycle a -> b -> a multiplies to na x 0.5 nb: rho = sqrt(na x 0.5 nb).
    let ok = brink::scenario::compile_str("t.toml", &src(0.8, 1.6), &Default::default());
    assert!(ok.is_ok(), "rho = sqrt(0.64) = 0.8 is stable");
    let err = crate::util::errors(&src(1.0, 2.5));
    assert!(err.contains("self-excitation explodes"), "{err}");
    assert!(err.contains("1.118"), "rho = sqrt(1.25) = 1.118: {err}");
    assert!(err.contains("test.toml:"), "{err}");
    let selfx = format!(
        "[scenario]\nname = \"t\"\nhorizon_days = 10\n{LADDER}\n[[steps]]\nid = \"a\"\nrate = 1\n  [[steps.branches]]\n  id = \"x\"\n  p = 1\n  excite = [ {{ step = \"a\", n = 1.0, decay_days = 3 }} ]\n"
    );
    assert!(crate::util::errors(&selfx).contains("is 1.000, not below 1"));
}

/// A run whose trials loop now and then stops with the first looping trial in trial
/// order, whatever the thread count and however far other workers had run ahead, and
/// does not hang waiting for them.
#[test]
fn a_run_reports_its_first_runaway_trial_whatever_the_threads() {
    let m = scenario(
        10,
        r#"
[[steps]]
id = "spark"
rate = 0.00005
max = 1
[[steps]]
id = "echo"
  [[steps.triggers]]
  after = "spark"
  [[steps.triggers]]
  after = "echo"
  delay = { exponential = 0.000001 }
"#,
    );
    // P(spark in a trial) = 1 - exp(-0.0005): about 1 trial in 2,000 loops, so a
    // 40-chunk run has dozens of looping trials in many chunks. With seed 296 the first
    // is in chunk 5, so workers on 2 and 4 threads meet later ones first.
    let (seed, chunk) = (296, brink::sim::runner::CHUNK);
    let loops = |t: u64| {
        let mut e = Engine::new(&m, seed);
        e.set_max_events(200);
        e.run(t).is_err()
    };
    let first_looping = (0..40 * chunk).find(|&t| loops(t)).expect("a looping trial");
    assert!(first_looping > 5 * chunk, "first looping trial {first_looping}");
    assert!((first_looping..40 * chunk).filter(|&t| loops(t)).count() > 10, "many looping chunks");
    for threads in [1, 2, 4] {
        let spec = RunSpec { trials: 40 * chunk, seed, threads, max_events: 200 };
        match run(&m, &spec, &mut |_| {}) {
            Err(brink::sim::runner::RunError::Runaway(r)) => {
                assert_eq!(r.trial, first_looping, "{threads} threads");
                assert_eq!(r.step, "echo");
            }
            other => panic!("expected a runaway, got {other:?}"),
        }
    }
}

/// A panic in the caller's row writer (or progress callback) while workers run ahead
/// must come out as a panic, not leave the workers waiting for a merge that never comes.
#[test]
fn a_panicking_row_writer_fails_the_run_instead_of_hanging() {
    struct Boom(usize);
    impl std::io::Write for Boom {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += 1;
            assert!(self.0 < 3, "the writer gives up");
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let m = model(&std::fs::read_to_string(crate::util::bundled("minimal.toml")).unwrap());
        let spec = RunSpec { trials: 200 * brink::sim::runner::CHUNK, seed: 1, threads: 2, max_events: 1000 };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut w = Boom(0);
            let _ = crate::util::run_with_rows(&m, &spec, &mut w, &mut |_| {});
        }));
        let _ = done_tx.send(outcome.is_err());
    });
    let panicked = done_rx.recv_timeout(std::time::Duration::from_secs(120)).expect("the run ended");
    assert!(panicked, "the writer's panic reached the caller");
}
