//! Whole runs (issue 8): `runner::run_set` of 16 chunks (32,768 trials; 4 chunks for dense)
//! with and without `trials.csv` rows (written to a sink, so the disk is not measured), on 1
//! and 2 threads. Whole waves of `4 x threads` chunks, so 2 threads are not left idle at the
//! end. Throughput is in trials per second. `cargo bench -p brink-benches --bench runs`.

mod common;

use brink::output::trials::TrialRows;
use brink::sim::runner::{self, RunSpec, CHUNK};
use brink::sim::stats::Aggregate;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

fn runs(c: &mut Criterion) {
    let mut g = c.benchmark_group("run");
    g.sample_size(10);
    for name in ["minimal", "baghdad-2020", "dense"] {
        let model = common::model(name);
        // dense trials cost ~100x more: fewer of them keep an iteration short.
        let trials = if name == "dense" { 4 * CHUNK } else { 16 * CHUNK };
        g.throughput(Throughput::Elements(trials));
        for threads in [1, 2] {
            let spec = RunSpec { trials, seed: 1, threads, max_events: 1_000_000 };
            for with_rows in [false, true] {
                let id = format!(
                    "{name}/{threads} thread{}/{}",
                    if threads == 1 { "" } else { "s" },
                    if with_rows { "rows" } else { "no rows" }
                );
                g.bench_function(BenchmarkId::from_parameter(id), |b| {
                    b.iter(|| {
                        let mut sink = std::io::sink();
                        let empty = || (Aggregate::new(&model), with_rows.then(|| TrialRows::new(&model)));
                        let rows = with_rows.then(|| TrialRows::to(&model, &mut sink));
                        let mut total = (Aggregate::new(&model), rows);
                        runner::run_set(&[&model], &spec, 0..trials, &empty, &mut total, &mut |_| {})
                            .expect("run");
                        black_box(total.0)
                    })
                });
            }
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = runs
}
criterion_main!(benches);
