//! Issue 12, item 5: no quadratic time or memory. Checking a scenario of 20,000 steps
//! builds the excitation matrix only over the steps that take part in excitations, and
//! modifiers cost O(1) amortised per firing however many are active, so a self-modifying
//! step runs in linear time and an explosive one reaches the event limit at once, with a
//! message that names its real cause.
//!
//! The time bounds are 20 to 50 times what the fixed code needs in the debug build on a
//! loaded 2-core machine, and a tenth or less of what the quadratic code needed, so they
//! separate the two robustly. The modifier test also counts work, which no load can skew.

use crate::util::{brink, model};
use brink::sim::engine::{Engine, Runaway};
use brink::sim::model::Model;
use std::sync::mpsc;
use std::time::Duration;

const LEVELS: &str = r#"
[[levels]]
id = "calm"
[[levels]]
id = "crisis"
"#;

fn scenario(horizon: u32, max_events: Option<u64>, body: &str) -> String {
    let limit = max_events.map_or(String::new(), |m| format!("max_events = {m}\n"));
    format!("[scenario]\nname = \"t\"\nhorizon_days = {horizon}\n{limit}{LEVELS}\n{body}")
}

/// Runs `f` on its own thread and fails the test if it takes longer than `limit`
/// (the thread of a quadratic run is left behind; the test binary exits anyway).
fn within<T: Send + 'static>(limit: Duration, what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawn");
    rx.recv_timeout(limit).unwrap_or_else(|_| panic!("{what} took longer than {limit:?}: quadratic again?"))
}

/// 20,000 steps with rates and triggers, of which five take part in excitations (a cycle
/// of three, and two exciting a fourth and a fifth).
fn twenty_thousand_steps() -> String {
    use std::fmt::Write;
    let mut s = scenario(365, None, "");
    for i in 0..20_000 {
        writeln!(s, "[[steps]]\nid = \"s{i}\"\nrate = 0.0001").unwrap();
        match i {
            100 => s.push_str("  [[steps.branches]]\n  id = \"b\"\n  p = 1\n  excite = [ { step = \"s5000\", n = 0.3, decay_days = 5 } ]\n"),
            5000 => s.push_str("  [[steps.branches]]\n  id = \"b\"\n  p = 0.5\n  excite = [ { step = \"s19999\", n = 0.9, decay_days = 5 } ]\n  [[steps.branches]]\n  id = \"c\"\n  p = \"rest\"\n"),
            19999 => s.push_str("  [[steps.branches]]\n  id = \"b\"\n  p = 1\n  excite = [ { step = \"s100\", n = 0.8, decay_days = 5 }, { step = \"s7\", n = 2, decay_days = 5 } ]\n"),
            3 => s.push_str("  [[steps.branches]]\n  id = \"b\"\n  p = 1\n  excite = [ { step = \"s12000\", n = 0.5, decay_days = 1 } ]\n"),
            _ => {}
        }
        if i % 10 == 1 {
            writeln!(
                s,
                "  [[steps.triggers]]\n  after = \"s{}\"\n  p = 0.1\n  delay = {{ fixed = 1 }}",
                i - 1
            )
            .unwrap();
        }
    }
    s
}

/// `brink check` on 20,000 steps answered in 24 s with 3.2 GB (a 20,000 x 20,000
/// matrix); the matrix now spans only the 6 steps that excite or are excited.
#[test]
fn checking_twenty_thousand_steps_with_a_few_excitations_is_fast() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.toml");
    std::fs::write(&path, twenty_thousand_steps()).unwrap();
    let start = std::time::Instant::now();
    let out = brink().arg("check").arg(&path).timeout(Duration::from_secs(15)).output().unwrap();
    let took = start.elapsed();
    assert!(
        out.status.code() == Some(0),
        "exit {:?} after {took:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(took < Duration::from_secs(15), "brink check took {took:?}");
}

/// The same answer as before: the cycle s100 -> s5000 -> s19999 -> s100 has branching ratio
/// 0.3 x (0.5 x 0.9) x 0.8 = 0.108, stable; raising it above 1 is still refused, naming
/// the exciting steps only.
#[test]
fn an_explosive_excitation_among_twenty_thousand_steps_is_still_refused() {
    let src = twenty_thousand_steps().replace("n = 0.8, decay_days = 5", "n = 8, decay_days = 5");
    let text =
        within(
            Duration::from_secs(60),
            "compiling 20,000 steps",
            move || match brink::scenario::compile_str(
                "big.toml",
                &src,
                &brink::scenario::Overrides::default(),
            ) {
                Ok(_) => panic!("an explosive excitation compiled"),
                Err(d) => d.render(),
            },
        );
    // rho^3 = 0.3 x 0.45 x 8 = 1.08.
    assert!(text.contains("self-excitation explodes"), "{text}");
    assert!(text.contains("among s3, s100, s5000, s19999 is 1.026"), "{text}");
}

/// A step with a rate that modifies its own rate with every firing, the modifiers lasting
/// past the horizon: about `firings` firings, each adding one more active modifier.
fn self_modifying(firings: u32) -> Model {
    // The rate grows by 1e-6 per firing: about e^0.16 (x1.17) over 160,000 firings.
    model(&scenario(
        100,
        Some(10_000_000),
        &format!(
            r#"
[[steps]]
id = "pulse"
rate = {}
  [[steps.branches]]
  id = "beat"
  p = 1
  modify = [ {{ step = "pulse", rate_x = 1.000001, days = 1000 }}, {{ step = "echo", p_x = 1.0000001, days = 1000 }} ]
[[steps]]
id = "echo"
  [[steps.triggers]]
  after = "pulse"
  p = 0.001
  delay = {{ fixed = 200 }}
"#,
            firings as f64 / 100.0 / 1.08
        ),
    ))
}

/// 160,000 firings with all their modifiers still active took 19 s (release) because each
/// firing walked every active modifier; now the trial takes linear time.
#[test]
fn a_self_modifying_step_fires_in_linear_time() {
    let m = self_modifying(160_000);
    let fired = within(Duration::from_secs(20), "160,000 self-modifying firings", move || {
        let mut e = Engine::new(&m, 1);
        e.run(0).expect("no runaway");
        e.outcome().counts[0]
    });
    assert!((140_000..190_000).contains(&fired), "{fired} firings");
}

/// Counted work, immune to the machine's load: the modifier bookkeeping of twice the
/// firings is about twice the work (quadratic work would be four times).
#[test]
fn modifier_work_grows_linearly_with_the_firings() {
    let work = |firings: u32| {
        let m = self_modifying(firings);
        let mut e = Engine::new(&m, 3);
        e.run(0).expect("no runaway");
        let fired = e.outcome().counts[0] as f64;
        (e.modifier_work() as f64, fired)
    };
    let (w1, n1) = work(20_000);
    let (w2, n2) = work(40_000);
    assert!(n2 > 1.8 * n1, "{n1} then {n2} firings");
    let ratio = (w2 / n2) / (w1 / n1);
    assert!(ratio < 1.2, "work per firing grew {ratio}x from {n1} to {n2} firings ({w1}, {w2})");
    assert!(w2 / n2 < 20.0, "{} units of work per firing", w2 / n2);
}

const DOUBLING: &str = r#"
[[steps]]
id = "quiet"
rate = 0.1
[[steps]]
id = "frenzy"
rate = 1
  [[steps.branches]]
  id = "more"
  p = 1
  modify = [ { step = "frenzy", rate_x = 2, days = 30 } ]
"#;

/// Each firing doubles the step's own rate: the process explodes within about two days,
/// so the default limit of 1,000,000 firings must be reached at once (it took 13 minutes).
#[test]
fn an_explosive_self_doubling_step_hits_the_event_limit_fast() {
    let m = model(&scenario(365, None, DOUBLING));
    let err: Runaway = within(Duration::from_secs(30), "a self-doubling step", move || {
        let mut e = Engine::new(&m, 1);
        e.run(0).expect_err("a runaway")
    });
    assert_eq!(err.step, "frenzy");
    assert_eq!(err.limit, 1_000_000);
}

/// The message names the real cause: the step's own firings raise its rate.
#[test]
fn the_runaway_message_names_a_self_modifying_step() {
    let m = model(&scenario(365, Some(5000), DOUBLING));
    let mut e = Engine::new(&m, 1);
    let text = e.run(0).expect_err("a runaway").to_string();
    assert!(text.contains("step `frenzy` fired"), "{text}");
    assert!(text.contains("each of its firings raises its own rate"), "{text}");
    assert!(!text.contains("loop of triggers"), "{text}");
}

/// A rate raised by another step's modifiers, renewed by its own firings through a
/// trigger, is named as such too; a plain loop of triggers keeps its message.
#[test]
fn the_runaway_message_tells_raised_rates_from_loops_of_triggers() {
    let raised = model(&scenario(
        365,
        Some(5000),
        r#"
[[steps]]
id = "rush"
rate = 1
[[steps]]
id = "spur"
  [[steps.branches]]
  id = "on"
  p = 1
  modify = [ { step = "rush", rate_x = 3, days = 100 } ]
  [[steps.triggers]]
  after = "rush"
  p = 1
  delay = { fixed = 0.001 }
"#,
    ));
    let text = Engine::new(&raised, 1).run(0).expect_err("a runaway").to_string();
    assert!(text.contains("step `rush` fired"), "{text}");
    assert!(text.contains("its rate is raised"), "{text}");
    assert!(!text.contains("loop of triggers"), "{text}");

    let looping = model(&scenario(
        365,
        Some(500),
        r#"
[[steps]]
id = "echo"
  [[steps.triggers]]
  after = "echo"
  delay = { exponential = 0.000001 }
[[schedule]]
step = "echo"
day = 1
"#,
    ));
    let text = Engine::new(&looping, 1).run(0).expect_err("a runaway").to_string();
    assert!(text.contains("step `echo` fired") && text.contains("loop of triggers"), "{text}");
}

/// `brink run` stops with exit code 1 and the message on stderr.
#[test]
fn brink_run_reports_the_self_modifying_step() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("frenzy.toml");
    std::fs::write(&path, scenario(365, Some(20_000), DOUBLING)).unwrap();
    let out = brink()
        .args(["run", "--trials", "10", "--charts", "none", "--out"])
        .arg(dir.path().join("out"))
        .arg(&path)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("`frenzy`") && err.contains("raises its own rate"), "{err}");
}
