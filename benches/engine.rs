//! Benchmarks of the hot paths: one trial of each bundled scenario, stream derivation,
//! aggregation and trials.csv formatting. Run with `cargo bench`; compare medians.

use brink::engine::Engine;
use brink::model::Model;
use brink::output::trials::TrialRows;
use brink::rng::{stream, stream_key, Purpose};
use brink::scenario::{load, Overrides};
use brink::stats::Aggregate;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use std::path::Path;

fn bundled(name: &str) -> Model {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name);
    load(&path, &Overrides::default()).expect("bundled scenario").0
}

fn trials(c: &mut Criterion) {
    let mut g = c.benchmark_group("trial");
    for name in ["minimal.toml", "baghdad-2020.toml", "chain-2019.toml"] {
        let model = bundled(name);
        let mut engine = Engine::new(&model, 1);
        let mut agg = Aggregate::new(&model);
        let mut trial = 0u64;
        g.throughput(Throughput::Elements(1));
        g.bench_function(name.trim_end_matches(".toml"), |b| {
            b.iter(|| {
                engine.run(trial).expect("no runaway");
                agg.add(&engine.outcome());
                trial += 1;
            })
        });
    }
    g.finish();
}

fn streams(c: &mut Criterion) {
    let key = stream_key(1, "rocket_attack");
    let mut trial = 0u64;
    c.bench_function("stream/derive+first draw", |b| {
        b.iter(|| {
            trial += 1;
            black_box(stream(&key, trial, Purpose::Branch).next_u64())
        })
    });
    let mut s = stream(&key, 0, Purpose::Arrival);
    c.bench_function("stream/uniform", |b| b.iter(|| black_box(s.uniform())));
}

fn outputs(c: &mut Criterion) {
    let model = bundled("baghdad-2020.toml");
    let mut engine = Engine::new(&model, 1);
    engine.run(3).expect("no runaway");
    c.bench_function("trials.csv row", |b| {
        b.iter_batched(
            || TrialRows::new(&model),
            |mut rows| {
                rows.push(&engine.outcome());
                black_box(rows.into_bytes())
            },
            BatchSize::SmallInput,
        )
    });
    c.bench_function("aggregate add", |b| {
        let mut agg = Aggregate::new(&model);
        b.iter(|| agg.add(&engine.outcome()))
    });
}

criterion_group!(benches, trials, streams, outputs);
criterion_main!(benches);
