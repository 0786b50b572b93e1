//! The event queue of one trial: events in the order of (time, sequence number), where the
//! sequence number grows with every scheduling, so that events at the same time fire first
//! scheduled, first fired (as in nexosim's priority queue). Times are compared with
//! `total_cmp`, so the order is total and never depends on how the heap is laid out.
//!
//! The engine keeps its pending spontaneous arrivals in a per-step table beside the queue
//! (replacing one is then an overwrite, not a stale entry to pop later); they take their
//! sequence numbers from the same counter ([`EventQueue::stamp`]) and compare by the same
//! [`Key`], so together they fire in the order one queue would give.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Where an event stands in a trial's order: its time, then the number it was scheduled
/// with.
///
/// The time is kept as its rank: the bits of the f64 mapped so that unsigned order is
/// `f64::total_cmp`'s order (negative numbers' bits flipped, the sign bit set on the
/// others). Comparing two keys is then one 128-bit comparison, not two `total_cmp`s; the
/// engine compares keys at every event (the queue's sift, the earliest arrival). The
/// mapping is a bijection, so [`Key::time`] gives back the very f64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    rank: u64,
    /// Sequence number: the order in which events were scheduled.
    pub seq: u64,
}

/// The rank of a time: unsigned order of ranks is `total_cmp`'s order of times.
#[inline(always)]
const fn rank_of(time: f64) -> u64 {
    let bits = time.to_bits();
    // Negative: flip every bit (larger magnitude ranks lower); otherwise set the sign bit.
    bits ^ ((((bits as i64) >> 63) as u64) | (1 << 63))
}

/// The time of a rank ([`rank_of`] undone).
#[inline(always)]
fn time_of(rank: u64) -> f64 {
    let negative = rank >> 63 == 0;
    f64::from_bits(if negative { !rank } else { rank ^ (1 << 63) })
}

impl Key {
    /// Later than any event: no event.
    pub(crate) const NEVER: Key = Key { rank: rank_of(f64::INFINITY), seq: u64::MAX };

    /// The key of an event at `time` scheduled with number `seq`.
    #[inline]
    pub(crate) fn new(time: f64, seq: u64) -> Key {
        Key { rank: rank_of(time), seq }
    }

    /// Time of the event (days).
    #[inline]
    pub(crate) fn time(self) -> f64 {
        time_of(self.rank)
    }

    /// Both parts as one number, in the keys' order.
    #[inline(always)]
    fn whole(self) -> u128 {
        (u128::from(self.rank) << 64) | u128::from(self.seq)
    }

    /// The order of two keys: by time (`total_cmp`), then by sequence number.
    #[inline]
    pub(crate) fn order(self, other: Key) -> Ordering {
        self.whole().cmp(&other.whole())
    }

    /// Whether this key comes strictly before `other`.
    #[inline]
    pub(crate) fn before(self, other: Key) -> bool {
        self.whole() < other.whole()
    }
}

/// A queued event.
#[derive(Debug, Clone, Copy)]
struct Entry<T> {
    key: Key,
    item: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.key.order(other.key) == Ordering::Equal
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Entry<T> {
    /// Reversed, so that the max-heap pops the earliest key first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.order(self.key)
    }
}

/// Events of one trial, earliest (time, sequence number) first. Cleared, not dropped,
/// between trials, so that a reused queue allocates nothing once it has grown.
#[derive(Debug, Clone)]
pub(crate) struct EventQueue<T> {
    heap: BinaryHeap<Entry<T>>,
    /// The last sequence number handed out (0: none yet).
    seq: u64,
}

impl<T> EventQueue<T> {
    /// An empty queue with room for `capacity` events.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        EventQueue { heap: BinaryHeap::with_capacity(capacity), seq: 0 }
    }

    /// Takes the next sequence number for an event at `time` without queueing it: for an
    /// event the caller keeps elsewhere, which must still order with the queued ones.
    #[inline]
    pub(crate) fn stamp(&mut self, time: f64) -> Key {
        self.seq += 1;
        Key::new(time, self.seq)
    }

    /// Schedules `item` at `time`, after every event already scheduled at that time.
    #[inline]
    pub(crate) fn push(&mut self, time: f64, item: T) -> Key {
        let key = self.stamp(time);
        self.heap.push(Entry { key, item });
        key
    }

    /// The key of the earliest event.
    #[inline]
    pub(crate) fn peek_key(&self) -> Option<Key> {
        self.heap.peek().map(|e| e.key)
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<(Key, T)> {
        self.heap.pop().map(|e| (e.key, e.item))
    }

    /// Moves every queued event into `out` (emptied first), earliest first; the sequence
    /// numbers go on from where they were.
    pub(crate) fn drain_into(&mut self, out: &mut Vec<(Key, T)>) {
        out.clear();
        out.extend(self.heap.drain().map(|e| (e.key, e.item)));
        out.sort_by(|a, b| a.0.order(b.0));
    }

    /// Forgets every event and restarts the sequence numbers (a new trial); the memory
    /// stays.
    pub(crate) fn clear(&mut self) {
        self.heap.clear();
        self.seq = 0;
    }

    /// Number of queued events.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no event is queued.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Events the queue holds without allocating.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.heap.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64: a small deterministic generator for random inputs.
    fn rng(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    /// Ranks order as `total_cmp` orders times (signed zeros, infinities, NaNs and
    /// subnormals included) and give the very time back.
    #[test]
    fn ranks_order_as_total_cmp_and_invert() {
        let special = [
            0.0,
            -0.0,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
            1.0,
            -1.0,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -f64::NAN,
        ];
        let mut next = rng(0x5EED);
        let times: Vec<f64> = special.into_iter().chain((0..2000).map(|_| f64::from_bits(next()))).collect();
        for &a in &times {
            assert_eq!(Key::new(a, 0).time().to_bits(), a.to_bits(), "{a:e} comes back");
            for &b in &times[..200] {
                assert_eq!(rank_of(a).cmp(&rank_of(b)), a.total_cmp(&b), "{a:e} against {b:e}");
            }
        }
        assert_eq!(Key::NEVER.time(), f64::INFINITY);
        assert!(Key::new(f64::MAX, u64::MAX - 1).before(Key::NEVER));
    }

    #[test]
    fn ties_fire_first_scheduled_first() {
        let mut q = EventQueue::with_capacity(4);
        q.push(2.0, "late");
        q.push(1.0, "a");
        q.push(1.0, "b");
        q.push(0.5, "early");
        q.push(1.0, "c");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, x)| x)).collect();
        assert_eq!(order, ["early", "a", "b", "c", "late"]);
    }

    /// A stamped key (an event kept outside the queue) orders with the queued ones as if
    /// it had been pushed at that moment.
    #[test]
    fn stamps_share_the_counter() {
        let mut q = EventQueue::with_capacity(4);
        let a = q.push(1.0, 'a');
        let s = q.stamp(1.0);
        let b = q.push(1.0, 'b');
        assert!(a.before(s) && s.before(b));
        assert!(q.stamp(0.5).before(a), "an earlier time comes first whatever its number");
        assert!(!Key::NEVER.before(q.stamp(f64::MAX)));
    }

    /// Random pushes (many at equal times) interleaved with pops: every pop returns the
    /// least (time, seq) of a plain list that holds the same events.
    #[test]
    fn interleaved_pushes_and_pops_follow_a_sorted_reference() {
        for seed in 1..=20u64 {
            let mut next = rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut q = EventQueue::with_capacity(0);
            let mut reference: Vec<(f64, u64, u32)> = Vec::new();
            let mut seq = 0u64;
            for id in 0..5_000u32 {
                if next() % 3 != 0 {
                    // Few distinct times, so that ties are common.
                    let time = (next() % 40) as f64 * 0.25;
                    seq += 1;
                    let key = q.push(time, id);
                    assert_eq!((key.time(), key.seq), (time, seq));
                    reference.push((time, seq, id));
                } else {
                    reference.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
                    let want = reference.pop();
                    let got = q.pop().map(|(k, id)| (k.time(), k.seq, id));
                    assert_eq!(got, want, "seed {seed}, step {id}");
                }
                assert_eq!(q.len(), reference.len());
                assert_eq!(
                    q.peek_key().map(|k| (k.time(), k.seq)),
                    reference
                        .iter()
                        .map(|r| (r.0, r.1))
                        .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
                );
            }
            reference.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let rest: Vec<_> = std::iter::from_fn(|| q.pop().map(|(k, id)| (k.time(), k.seq, id))).collect();
            assert_eq!(rest, reference, "seed {seed}: the rest drains in order");
            assert!(q.is_empty());
        }
    }

    /// A cleared queue starts its numbers again, and refilling it to its former size
    /// allocates nothing (its capacity does not change).
    #[test]
    fn clear_keeps_the_memory_and_restarts_the_numbers() {
        let mut q = EventQueue::with_capacity(1);
        for i in 0..1000 {
            q.push(f64::from(i % 7), i);
        }
        let capacity = q.capacity();
        assert!(capacity >= 1000);
        for _ in 0..10 {
            q.clear();
            assert!(q.is_empty());
            assert_eq!(q.capacity(), capacity);
            assert_eq!(q.push(3.0, 0).seq, 1, "numbers restart at 1");
            for i in 1..1000 {
                q.push(f64::from(i % 7), i);
            }
            assert_eq!(q.capacity(), capacity, "no reallocation");
            assert_eq!(
                q.pop().map(|(k, _)| (k.time(), k.seq)),
                Some((0.0, 8)),
                "i = 7 is the first at day 0"
            );
        }
    }
}
