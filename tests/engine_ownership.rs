//! Who owns what in the engine (issue 13, item 3): an engine borrows its model and keeps a
//! copy only to write uncertain params into, it can be made on one thread and run on
//! another, and a trial allocates nothing once its buffers have grown.
//!
//! Allocations are counted by a global allocator that counts only on a thread that asked
//! it to, so the other tests of this binary, running in parallel, neither pay nor
//! disturb the counts.

use crate::util::bundled;
use brink::scenario::{load, Overrides};
use brink::sim::engine::Engine;
use brink::sim::model::Model;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: every call is passed on to the system allocator unchanged; counting touches
// only const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations (and reallocations) made by `f` on this thread.
fn allocations<R>(f: impl FnOnce() -> R) -> (u64, R) {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|on| on.set(true));
    let r = f();
    COUNTING.with(|on| on.set(false));
    (ALLOCATIONS.with(Cell::get), r)
}

fn bundled_model(name: &str) -> Model {
    load(&bundled(name), &Overrides::default()).unwrap_or_else(|e| panic!("{name}: {e}")).0
}

/// An engine built on one thread runs on another (it used to hold an `Rc` of its model,
/// which made it `!Send`), and gives the trial an engine built there gives.
#[test]
fn an_engine_moves_to_another_thread() {
    let model = bundled_model("baghdad-2020.toml");
    let mut here = Engine::new(&model, 4);
    let moved = Engine::new(&model, 4);
    let there = std::thread::scope(|s| {
        s.spawn(move || {
            let mut e = moved;
            e.run(17).expect("no runaway");
            (e.outcome().counts.to_vec(), e.param_values().to_vec())
        })
        .join()
        .expect("the worker")
    });
    here.run(17).expect("no runaway");
    assert_eq!(there, (here.outcome().counts.to_vec(), here.param_values().to_vec()));
}

/// A model without uncertain params is borrowed: making an engine allocates its buffers,
/// fewer allocations than copying the model would take (the engine used to copy it
/// always).
#[test]
fn a_model_without_uncertain_params_is_not_copied() {
    let mut model = bundled_model("baghdad-2020.toml");
    model.uncertain.clear();
    model.uncertain_fields.clear();
    let (copy, _) = allocations(|| model.clone());
    let (engine, _) = allocations(|| Engine::new(&model, 1));
    assert!(engine < copy, "making an engine took {engine} allocations, copying the model {copy}");
}

/// Once the buffers have grown (warm-up trials), thousands of trials with tens of
/// thousands of firings allocate nothing: not per firing, not per trial, not to write
/// the uncertain params of predictive mode into the engine's copy of the model.
#[test]
fn steady_state_trials_allocate_nothing() {
    for name in ["minimal.toml", "baghdad-2020.toml", "chain-2019.toml"] {
        let model = bundled_model(name);
        let mut engine = Engine::new(&model, 1);
        for trial in 0..3000 {
            engine.run(trial).expect("no runaway");
        }
        let (n, fired) = allocations(|| {
            let mut fired = 0u64;
            for trial in 3000..5000 {
                engine.run(trial).expect("no runaway");
                fired += engine.outcome().counts.iter().map(|&c| u64::from(c)).sum::<u64>();
            }
            fired
        });
        assert!(fired > 2000, "{name}: only {fired} firings");
        assert_eq!(n, 0, "{name}: {n} allocations in 2000 trials ({fired} firings)");
    }
}

/// Forecasting from a logged past (`brink score`) allocates nothing in steady state
/// either: the hindcast replays the bundled log's first year into every trial.
#[test]
fn steady_state_forecasts_from_a_logged_past_allocate_nothing() {
    let model = bundled_model("hindcast-2019-2021.toml");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/events-iraq-2019-2021.csv");
    let log = brink::scenario::log::read(&path, &model).expect("the bundled log");
    let past = brink::analysis::score::past(&model, &log, 0, 365.0);
    assert!(past.firings.len() > 40, "{} logged firings", past.firings.len());
    let mut engine = Engine::new(&model, 1);
    struct Quiet;
    impl brink::sim::engine::Observer for Quiet {}
    let mut obs = Quiet;
    for trial in 0..500 {
        engine.run_from(trial, &past, 395.0, &mut obs).expect("no runaway");
    }
    let (n, fired) = allocations(|| {
        let mut fired = 0u64;
        for trial in 500..1500 {
            engine.run_from(trial, &past, 395.0, &mut obs).expect("no runaway");
            fired += engine.outcome().counts.iter().map(|&c| u64::from(c)).sum::<u64>();
        }
        fired
    });
    assert!(fired > 40_000, "only {fired} firings");
    assert_eq!(n, 0, "{n} allocations in 1000 forecasts ({fired} firings)");
}
