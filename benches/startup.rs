//! Start to first trial (issue 8): reading, parsing, validating and compiling each bundled
//! scenario (`scenario::load`), then building the engine (stream keys, queues): what a run
//! pays before its first trial. `cargo bench -p brink-benches --bench startup`.

mod common;

use brink::scenario::{load, Overrides};
use brink::sim::engine::Engine;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn startup(c: &mut Criterion) {
    let mut g = c.benchmark_group("startup");
    for name in ["minimal", "baghdad-2020", "chain-2019", "hindcast-2019-2021", "dense"] {
        let path = common::path(name);
        g.bench_function(name, |b| {
            b.iter(|| {
                let (model, _) = load(&path, &Overrides::default()).expect("valid scenario");
                let engine = Engine::new(&model, 1);
                black_box(&engine);
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = startup
}
criterion_main!(benches);
