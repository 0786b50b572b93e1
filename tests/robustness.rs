//! Never a panic, whatever the file holds: arbitrary text and randomly damaged copies of
//! the bundled scenarios go through `compile_str`; errors must render with a location,
//! and files that still compile must simulate (or stop with a runaway error) without
//! panicking. Then one test per defect found this way, on a minimal file.

use crate::mutate::{apply, mutation, Mutation};
use crate::util::{bundled, model};
use brink::scenario::{compile_str, Overrides};
use brink::sim::dist::Amount;
use brink::sim::model::Model;
use brink::sim::runner::RunSpec;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use std::sync::OnceLock;

const CASES: u32 = 256;

fn config() -> Config {
    Config {
        cases: CASES,
        // Reproducible: the same cases on every run and machine.
        rng_seed: RngSeed::Fixed(0x000b_714c),
        failure_persistence: None,
        ..Config::default()
    }
}

fn spec() -> RunSpec {
    RunSpec { trials: 20, seed: 1, threads: 1, max_events: 10_000 }
}

/// Whether a model avoids the numeric defects already pinned by the ignored tests at
/// the end of this file (tally amounts so large that totals overflow, and negative
/// binomials whose mean / dispersion is infinite). The properties skip the simulation of
/// such models so they keep testing everything else; `extreme_numbers` does not skip.
fn clear_of_known_defects(m: &Model) -> bool {
    m.steps.iter().flat_map(|s| &s.branches).flat_map(|b| &b.tallies).all(|(_, a)| {
        a.mean() < 1e12
            && match *a {
                Amount::NegativeBinomial { mean, dispersion } => (mean / dispersion).is_finite(),
                _ => true,
            }
    })
}

/// Compiles `src`; if it compiles, runs 20 trials (unless `skip_known` and the model
/// would only hit a known defect). Panics only through brink itself.
fn exercise_with(src: &str, skip_known: bool) -> Result<(), TestCaseError> {
    match compile_str("test.toml", src, &Overrides::default()) {
        Err(d) => {
            prop_assert!(!d.items.is_empty(), "an error without diagnostics");
            let r = d.render();
            prop_assert!(r.contains("test.toml:"), "no file name in:\n{}", r);
            prop_assert!(r.contains("error: "), "{}", r);
        }
        Ok(m) if skip_known && !clear_of_known_defects(&m) => {}
        Ok(m) => match crate::util::chunk(&m, &spec(), 0, 20) {
            Ok((agg, rows)) => {
                prop_assert_eq!(agg.trials, 20);
                prop_assert_eq!(rows.iter().filter(|&&b| b == b'\n').count(), 20);
            }
            Err(runaway) => {
                prop_assert!(m.step_ix(&runaway.step).is_some());
                prop_assert_eq!(runaway.limit, 10_000);
            }
        },
    }
    Ok(())
}

fn exercise(src: &str) -> Result<(), TestCaseError> {
    exercise_with(src, true)
}

fn sources() -> &'static Vec<String> {
    static SOURCES: OnceLock<Vec<String>> = OnceLock::new();
    SOURCES.get_or_init(|| {
        ["minimal.toml", "chain-2019.toml", "baghdad-2020.toml"]
            .iter()
            .map(|f| std::fs::read_to_string(bundled(f)).unwrap())
            .collect()
    })
}

/// Pieces of scenario files, to build text that gets past the TOML parser more often
/// than random characters do.
const FRAGMENTS: &[&str] = &[
    "[scenario]\n",
    "name = \"t\"\n",
    "horizon_days = 10\n",
    "horizon_days = -3\n",
    "start = 2020-01-01\n",
    "initial_level = \"b\"\n",
    "[params]\n",
    "x = 0.5\n",
    "[[levels]]\n",
    "id = \"a\"\n",
    "id = \"b\"\n",
    "terminal = true\n",
    "[tallies]\n",
    "k = \"k\"\n",
    "[[steps]]\n",
    "rate = 1\n",
    "rate = \"x\"\n",
    "max = 2\n",
    "[[steps.branches]]\n",
    "p = \"rest\"\n",
    "p = 0.5\n",
    "raise_to = \"b\"\n",
    "tally = { k = { poisson = 2 } }\n",
    "modify = [ { step = \"a\", rate_x = 2, days = 1 } ]\n",
    "[[steps.triggers]]\n",
    "after = \"a\"\n",
    "after = \"a.x\"\n",
    "delay = { uniform = [1, 2] }\n",
    "[[schedule]]\n",
    "step = \"a\"\n",
    "day = 0\n",
    "[variants.v]\n",
    "windows = [ { from_day = 0, to_day = 3, rate_x = 2 } ]\n",
    "= ",
    "\"",
    "{",
    "}",
    "[",
    "]",
    "\n",
    "nan",
    "1e308",
    "é",
    "\u{0}",
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_text_never_panics(src in any::<String>()) {
        exercise(&src)?;
    }

    #[test]
    fn scenario_like_text_never_panics(
        parts in prop::collection::vec(prop::sample::select(FRAGMENTS), 0..40)
    ) {
        exercise(&parts.concat())?;
    }

    #[test]
    fn damaged_bundled_scenarios_never_panic(
        file in 0usize..3,
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let mut src = sources()[file].clone();
        for m in &mutations {
            src = apply(&src, m);
        }
        exercise(&src)?;
    }
}

/// Numbers that keep most files valid: probabilities, rates, counts, zero.
fn plausible() -> impl Strategy<Value = String> {
    prop_oneof![
        (0.0f64..=1.0).prop_map(|x| format!("{x:?}")),
        (0.0f64..50.0).prop_map(|x| format!("{x:?}")),
        (0u32..100).prop_map(|x| x.to_string()),
        prop::sample::select(vec!["0", "1", "0.0", "1.0", "1e3", "1e6"]).prop_map(str::to_owned),
    ]
}

/// Numbers far outside what a scenario means, but still accepted by validation.
fn extreme() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["1e300", "1e19", "1e15", "1e-300", "4294967296", "0", "1e100"])
        .prop_map(str::to_owned)
}

proptest! {
    #![proptest_config(config())]

    /// Mostly valid files: many of them compile, so the engine runs on odd numbers.
    #[test]
    fn bundled_scenarios_with_other_numbers_never_panic(
        file in 0usize..3,
        changes in prop::collection::vec((any::<usize>(), plausible()), 1..6),
    ) {
        let mut src = sources()[file].clone();
        for (i, x) in changes {
            src = apply(&src, &Mutation::ReplaceNumber(i, x));
        }
        exercise(&src)?;
    }
}

proptest! {
    #![proptest_config(Config { cases: 64, ..config() })]

    #[test]
    fn bundled_scenarios_with_extreme_numbers_never_panic(
        file in 0usize..3,
        changes in prop::collection::vec((any::<usize>(), extreme()), 1..4),
    ) {
        let mut src = sources()[file].clone();
        for (i, x) in changes {
            src = apply(&src, &Mutation::ReplaceNumber(i, x));
        }
        exercise_with(&src, false)?;
    }
}

#[test]
fn undamaged_bundled_scenarios_simulate() {
    // The property above starts from files that compile and run.
    for src in sources() {
        let m = model(src);
        let (agg, _) = crate::util::chunk(&m, &spec(), 0, 20).unwrap();
        assert_eq!(agg.trials, 20);
    }
}

// ---------------------------------------------------------------------------------
// Defects found by the properties, each on a minimal file
// ---------------------------------------------------------------------------------

/// One step at `rate` per day whose only branch adds `amount` to tally `x`, over 30
/// days, optionally fired on day 0 as well.
fn tally_scenario(rate: &str, amount: &str) -> String {
    format!(
        "[scenario]
name = \"big\"
horizon_days = 30

[[levels]]
id = \"calm\"

[tallies]
x = \"x\"

[[steps]]
id = \"s\"
rate = {rate}
  [[steps.branches]]
  id = \"b\"
  p = 1
  tally = {{ x = {amount} }}

[[schedule]]
step = \"s\"
day = 0
"
    )
}

#[test]
fn saturated_tally_totals_do_not_panic() {
    // 100 firings a day of 9e15 each: every trial's total saturates at u64::MAX, whose
    // square alone nearly fills a u128.
    let m = model(&tally_scenario("100", "{ fixed = 9000000000000000 }"));
    let (agg, _) = crate::util::chunk(&m, &spec(), 0, 3).unwrap();
    assert_eq!(agg.trials, 3);
    let (mean, sd) = agg.tally_mean_sd(0);
    assert_eq!(mean, u64::MAX as f64);
    assert_eq!(sd, 0.0);
}

#[test]
fn large_tally_totals_have_a_standard_deviation() {
    // About 30 firings of 1e14 per trial: totals near 3e15, far below u64::MAX.
    let m = model(&tally_scenario("1", "{ fixed = 100000000000000 }"));
    let spec = RunSpec { trials: 20_000, ..spec() };
    let agg = brink::sim::runner::run(&m, &spec, &mut |_| {}).unwrap();
    let (mean, sd) = agg.tally_mean_sd(0);
    // The count of firings is 1 + Poisson(30): mean 31, sd sqrt(30).
    assert!((mean / 1e14 - 31.0).abs() < 0.2, "{mean}");
    assert!((sd / 1e14 - 30f64.sqrt()).abs() < 0.2, "{sd}");
}

#[test]
fn poisson_at_least_one_with_a_huge_mean_does_not_panic() {
    let m = model(&tally_scenario("0", "{ poisson_at_least_one = 1e20 }"));
    let (agg, _) = crate::util::chunk(&m, &spec(), 0, 1).unwrap();
    assert_eq!(agg.trials, 1);
    assert!(agg.tallies[0].sum > 0);
}

#[test]
fn negative_binomial_with_a_tiny_dispersion_terminates() {
    let m = model(&tally_scenario("0", "{ negative_binomial = { mean = 1e200, dispersion = 1e-200 } }"));
    let (tx, rx) = std::sync::mpsc::channel();
    // A hung draw would hang the test binary: run it on a thread we can give up on.
    std::thread::spawn(move || {
        let r = crate::util::chunk(&m, &spec(), 0, 1).map(|(agg, _)| agg.trials);
        let _ = tx.send(r.is_ok());
    });
    let done = rx.recv_timeout(std::time::Duration::from_secs(20));
    assert_eq!(done, Ok(true), "one trial did not finish within 20 s");
}
