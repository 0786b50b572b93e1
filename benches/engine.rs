//! Benchmarks of the hot paths (issue 8): one trial of minimal, baghdad-2020 and the dense
//! synthetic scenario (engine alone, in step firings per second, and engine plus
//! aggregation, in trials per second); random streams (deriving a key, deriving a per-trial
//! per-step stream, drawing numbers); `Aggregate::add`; `trials.csv` rows.
//!
//! `cargo bench -p brink-benches --bench engine` (add a filter such as `-- engine/dense` for
//! one); compare medians. Whole runs are in `benches/runs.rs`, start-up in `benches/startup.rs`.

mod common;

use brink::output::trials::TrialRows;
use brink::sim::engine::Engine;
use brink::sim::rng::{stream, stream_key, Purpose, TrialStreams};
use brink::sim::stats::Aggregate;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

/// The engine alone, one trial per iteration, trials in sequence from 0. The throughput is
/// the scenario's mean firings per trial (measured once over 2,000 trials), so criterion
/// reports step firings per second.
fn engine(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    for name in common::SCENARIOS {
        let model = common::model(name);
        let firings = common::firings_per_trial(&model, 2000);
        eprintln!("{name}: {firings:.1} firings per trial (mean of trials 0..2000, seed 1)");
        let mut engine = Engine::new(&model, 1);
        let mut trial = 0u64;
        g.throughput(Throughput::Elements(firings.round().max(1.0) as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                engine.run(trial).expect("no runaway");
                trial += 1;
            })
        });
    }
    g.finish();
}

/// The engine and aggregation, as in a run without file output: trials per second.
fn trial(c: &mut Criterion) {
    let mut g = c.benchmark_group("trial");
    g.throughput(Throughput::Elements(1));
    for name in common::SCENARIOS {
        let model = common::model(name);
        let mut engine = Engine::new(&model, 1);
        let mut agg = Aggregate::new(&model);
        let mut trial = 0u64;
        g.bench_function(name, |b| {
            b.iter(|| {
                engine.run(trial).expect("no runaway");
                agg.add(&engine.outcome());
                trial += 1;
            })
        });
    }
    g.finish();
}

/// Random streams: the per-step key (SHA-256, once per step per run), a per-trial
/// per-step stream (derived lazily, once per step and purpose a trial touches), and draws.
fn streams(c: &mut Criterion) {
    let mut g = c.benchmark_group("stream");
    g.bench_function("key (per step per run)", |b| {
        b.iter(|| stream_key(black_box(1), black_box("rocket_attack")))
    });
    let key = stream_key(1, "rocket_attack");
    let mut trial = 0u64;
    g.bench_function("derive + first draw", |b| {
        b.iter(|| {
            trial += 1;
            black_box(stream(&key, trial, Purpose::Branch).next_u64())
        })
    });
    // What a trial of baghdad-2020 pays at least: a new trial, and the first draw of the
    // arrival and branch streams of its 12 steps.
    let keys: Vec<[u8; 32]> = (0..12).map(|s| stream_key(1, &format!("step_{s}"))).collect();
    let mut ts = TrialStreams::new(keys);
    let mut trial = 0u64;
    g.throughput(Throughput::Elements(24));
    g.bench_function("trial streams: begin + 24 first draws", |b| {
        b.iter(|| {
            trial += 1;
            ts.begin(trial);
            for s in 0..12 {
                black_box(ts.get(s, Purpose::Arrival).next_u64());
                black_box(ts.get(s, Purpose::Branch).next_u64());
            }
        })
    });
    g.throughput(Throughput::Elements(1));
    let mut s = stream(&key, 0, Purpose::Arrival);
    g.bench_function("next_u64", |b| b.iter(|| black_box(s.next_u64())));
    g.bench_function("uniform", |b| b.iter(|| black_box(s.uniform())));
    g.bench_function("uniform_open0", |b| b.iter(|| black_box(s.uniform_open0())));
    g.bench_function("below(7)", |b| b.iter(|| black_box(s.below(7))));
    g.finish();
}

/// `Aggregate::add` over 256 recorded trial outcomes: trials per second.
fn aggregate(c: &mut Criterion) {
    let mut g = c.benchmark_group("aggregate");
    for name in common::SCENARIOS {
        let model = common::model(name);
        let outcomes = common::outcomes(&model, 256);
        let mut agg = Aggregate::new(&model);
        g.throughput(Throughput::Elements(outcomes.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                for o in &outcomes {
                    agg.add(&o.outcome());
                }
            })
        });
    }
    g.finish();
}

/// `trials.csv`: formatting 256 rows into bytes (rows per second).
fn trials_csv(c: &mut Criterion) {
    let mut g = c.benchmark_group("trials.csv");
    for name in common::SCENARIOS {
        let model = common::model(name);
        let outcomes = common::outcomes(&model, 256);
        g.throughput(Throughput::Elements(outcomes.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut rows = TrialRows::new(&model);
                for o in &outcomes {
                    rows.push(&o.outcome());
                }
                black_box(rows.into_bytes())
            })
        });
    }
    g.finish();
}

/// Issue 12: a step whose every firing modifies its own rate (and a trigger's p), the
/// modifiers outlasting the horizon, so that all of them stay active: one trial of about
/// 40,000 and 80,000 firings. Linear work gives the same firings per second for both
/// (quadratic work halved it, and took 19 s for 160,000 firings).
fn modifiers(c: &mut Criterion) {
    let mut g = c.benchmark_group("modifiers");
    g.sample_size(10);
    for firings in [40_000u32, 80_000] {
        let model = common::model_from(&format!(
            r#"
[scenario]
name = "modifiers"
horizon_days = 100
max_events = 10000000
[[levels]]
id = "calm"
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
            firings as f64 / 100.0 / 1.04
        ));
        let mut engine = Engine::new(&model, 1);
        engine.run(0).expect("no runaway");
        g.throughput(Throughput::Elements(engine.outcome().counts[0] as u64));
        let mut trial = 0u64;
        g.bench_function(format!("self-modifying, {firings} firings"), |b| {
            b.iter(|| {
                engine.run(trial).expect("no runaway");
                trial += 1;
            })
        });
    }
    g.finish();
}

/// Issue 12: compiling (validating) 20,000 steps with a few excitations and triggers, as
/// `brink check` does. It took 24 s and 3.2 GB with a dense excitation matrix and ids
/// looked up by walking (and copying) the list of steps.
fn check(c: &mut Criterion) {
    use std::fmt::Write;
    let mut src = String::from("[scenario]\nname = \"big\"\nhorizon_days = 365\n[[levels]]\nid = \"calm\"\n");
    for i in 0..20_000 {
        writeln!(src, "[[steps]]\nid = \"s{i}\"\nrate = 0.0001").unwrap();
        if i % 1000 == 0 {
            let to = (i + 500) % 20_000;
            writeln!(src, "  [[steps.branches]]\n  id = \"b\"\n  p = 1\n  excite = [ {{ step = \"s{to}\", n = 0.5, decay_days = 5 }} ]").unwrap();
        }
        if i % 10 == 1 {
            writeln!(
                src,
                "  [[steps.triggers]]\n  after = \"s{}\"\n  p = 0.1\n  delay = {{ fixed = 1 }}",
                i - 1
            )
            .unwrap();
        }
    }
    let mut g = c.benchmark_group("check");
    g.sample_size(10);
    g.bench_function("20,000 steps", |b| b.iter(|| black_box(common::model_from(&src))));
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = engine, trial, streams, aggregate, trials_csv, modifiers, check
}
criterion_main!(benches);
