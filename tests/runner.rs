//! The runner's generic part (issue 13, "one runner"): whatever an accumulator collects,
//! chunks are merged in trial order, the result does not depend on the thread count, a
//! watching accumulator sees each trial it is given, and a failed merge ends the run.

use crate::util::{bundled, model};
use brink::sim::accumulate::Accumulate;
use brink::sim::engine::{Observer, Outcome};
use brink::sim::runner::{run_set, RunError, RunSpec, CHUNK};

/// Records every call, in order: (model, trial, first model's trial) per outcome and
/// (model, trial) per watched trial start; merges by appending.
#[derive(Debug, Default, PartialEq)]
struct Log {
    added: Vec<(usize, u64, u64)>,
    watched: Vec<(usize, u64)>,
    merges: usize,
}

struct Starts<'a> {
    model: usize,
    log: &'a mut Vec<(usize, u64)>,
}

impl Observer for Starts<'_> {
    fn on_start(&mut self, trial: u64) {
        self.log.push((self.model, trial));
    }
}

impl Accumulate for Log {
    fn watch(&mut self, model: usize) -> impl Observer + '_ {
        Starts { model, log: &mut self.watched }
    }

    fn add(&mut self, model: usize, outcome: &Outcome<'_>, first: &Outcome<'_>) {
        // The first chunk is the slowest: on several threads, later chunks arrive first.
        if outcome.trial == SLOW {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        self.added.push((model, outcome.trial, first.trial));
    }

    fn merge(&mut self, later: Self) -> std::io::Result<()> {
        self.added.extend(later.added);
        self.watched.extend(later.watched);
        self.merges += 1;
        Ok(())
    }
}

/// The first trial run below.
const SLOW: u64 = 100;

fn minimal() -> brink::sim::model::Model {
    model(&std::fs::read_to_string(bundled("minimal.toml")).unwrap())
}

fn spec(threads: usize) -> RunSpec {
    RunSpec { trials: 0, seed: 3, threads, max_events: 1000 }
}

#[test]
fn chunks_merge_in_trial_order_on_any_number_of_threads() {
    let m = minimal();
    let models = [&m, &m, &m];
    // Not aligned to chunks at either end: the first and last chunks are partial.
    let range = SLOW..5 * CHUNK + 17;
    let mut expected_added = Vec::new();
    let mut expected_watched = Vec::new();
    for t in range.clone() {
        for k in 0..models.len() {
            expected_added.push((k, t, t));
            expected_watched.push((k, t));
        }
    }
    for threads in [1, 2, 7] {
        let mut log = Log::default();
        let mut seen = Vec::new();
        run_set(&models, &spec(threads), range.clone(), &Log::default, &mut log, &mut |n| seen.push(n))
            .unwrap();
        assert!(log.added == expected_added, "{threads} threads: outcomes out of trial order");
        assert!(log.watched == expected_watched, "{threads} threads: watched trials out of order");
        assert_eq!(log.merges, 6, "{threads} threads: one merge per chunk touched");
        assert_eq!(seen.last(), Some(&(range.end - range.start)), "{threads} threads: progress {seen:?}");
    }
}

#[test]
fn an_empty_range_or_no_models_runs_nothing() {
    let m = minimal();
    let mut log = Log::default();
    run_set(&[&m], &spec(2), 7..7, &Log::default, &mut log, &mut |_| {}).unwrap();
    run_set(&[], &spec(2), 0..10, &Log::default, &mut log, &mut |_| {}).unwrap();
    assert_eq!(log, Log::default());
}

/// A total that cannot take a chunk (a full disk under trials.csv) ends the run with that
/// error, and the workers running ahead are released instead of left waiting.
#[test]
fn a_failing_merge_ends_the_run() {
    struct Full(usize);
    impl Accumulate for Full {
        fn add(&mut self, _: usize, _: &Outcome<'_>, _: &Outcome<'_>) {}
        fn merge(&mut self, _: Self) -> std::io::Result<()> {
            self.0 += 1;
            if self.0 == 3 {
                return Err(std::io::Error::other("disk full"));
            }
            Ok(())
        }
    }
    let m = minimal();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut total = Full(0);
        let r = run_set(&[&m], &spec(2), 0..200 * CHUNK, &|| Full(0), &mut total, &mut |_| {});
        let _ =
            done_tx.send((matches!(r, Err(RunError::Io(ref e)) if e.to_string() == "disk full"), total.0));
    });
    let (io_error, merges) =
        done_rx.recv_timeout(std::time::Duration::from_secs(120)).expect("the run ended");
    assert!(io_error, "the merge's error is the run's");
    assert_eq!(merges, 3, "no chunk is merged after the failure");
}

/// A chunk whose accumulator has another shape than the total (a caller's `empty()` that
/// leaves out the rows the total writes) ends the run with an error instead of silently
/// losing the rows.
#[test]
fn a_chunk_of_another_shape_than_the_total_is_an_error() {
    use brink::sim::stats::Aggregate;
    let m = minimal();
    let s = RunSpec { trials: 3 * CHUNK, ..spec(2) };
    let mut total = Some(Aggregate::new(&m));
    let r = run_set(&[&m], &s, 0..s.trials, &|| None::<Aggregate>, &mut total, &mut |_| {});
    match r {
        Err(RunError::Io(e)) => assert!(e.to_string().contains("does not have the total's shape"), "{e}"),
        other => panic!("expected a shape error, got {other:?}"),
    }
    // One model, one aggregate in the total, two in each chunk: the merge would drop one.
    let mut lists = vec![Aggregate::new(&m)];
    let r = run_set(
        &[&m],
        &s,
        0..s.trials,
        &|| vec![Aggregate::new(&m), Aggregate::new(&m)],
        &mut lists,
        &mut |_| {},
    );
    assert!(matches!(r, Err(RunError::Io(_))), "{r:?}");
}
