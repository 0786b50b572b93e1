//! Random streams: where every random number of a run comes from.
//!
//! docs/reproducibility.md promises that trial `i` of a run with seed `s` draw only from streams derived
//! from `(s, i)`, and that within a trial each step draw from its own sub-stream keyed by
//! the *text* of the step's id, so that adding or editing one step leaves the random
//! numbers of every other step untouched (common random numbers across variants).
//!
//! Derivation: once per run, each step gets a ChaCha8 key = SHA-256 of
//! `"brink/v1" ‖ seed (u64 LE) ‖ step id`. Trial `i` selects ChaCha's 64-bit stream `i`,
//! and each use of randomness within the step ([`Purpose`]) starts at its own region of
//! that stream (word position `purpose << 64`), so arrival times, branch draws, tallies,
//! trigger decisions and delays never shift one another either. Deriving a stream is a
//! key copy plus one block computation: no hashing per trial.
//!
//! The generator is ChaCha8 (8 rounds, 64-bit block counter, 64-bit stream id). A stream's
//! first block in a trial is computed alone (most streams yield a few numbers per trial,
//! so deriving one must cost one block, not the buffer of a general-purpose generator);
//! a stream that draws on past it is busy, and gets its next eight blocks at once, side
//! by side in vector lanes where the CPU has AVX2. The bits are exactly those of `rand_chacha`'s `ChaCha8Rng` with the same key,
//! stream and word position (a test compares them), and are pinned by a golden vector
//! computed by an independent Python ChaCha8 (`tests/reference/streams.py`): the same
//! bits on every platform and in every future build.

use sha2::{Digest, Sha256};

mod chacha;

pub use chacha::{prefill, set_portable_blocks};
use chacha::{rounds, wide_blocks};

/// What a step draws random numbers for; each purpose has its own region of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Purpose {
    /// Waiting times of spontaneous arrivals.
    Arrival = 0,
    /// Which branch a firing takes.
    Branch = 1,
    /// Amounts added to tallies.
    Tally = 2,
    /// Whether a trigger of this step schedules it.
    Trigger = 3,
    /// Delays of this step's triggers.
    Delay = 4,
    /// Offspring counts and delays of excitations started by this step's firings.
    Excite = 5,
}

/// Number of [`Purpose`] values.
pub(crate) const PURPOSES: usize = 6;

/// Every [`Purpose`], by its number.
const PURPOSE_OF: [Purpose; PURPOSES] =
    [Purpose::Arrival, Purpose::Branch, Purpose::Tally, Purpose::Trigger, Purpose::Delay, Purpose::Excite];

/// The key of one named stream family for a run: `SHA-256("brink/v1" ‖ seed ‖ name)`.
/// Every name a run draws from is built by one of the functions below ([`step_key`],
/// [`param_key`], [`epistemic_key`], [`score_key`]), so that all stream names live in this file.
pub fn stream_key(seed: u64, name: &str) -> [u8; 32] {
    key_of(seed, &[name])
}

/// Prefix of the streams of uncertain params drawn per trial (predictive mode). `#` cannot
/// start an id, so a param's stream never collides with a step's.
pub(crate) const PARAM_PREFIX: &str = "#param/";

/// Prefix of the streams of the outer draws of a two-loop (epistemic) run.
pub(crate) const EPISTEMIC_PREFIX: &str = "#epistemic/";

/// The key of a step's streams: the text of its id, so that a step's numbers do not depend
/// on its position in the file.
pub(crate) fn step_key(seed: u64, step_id: &str) -> [u8; 32] {
    key_of(seed, &[step_id])
}

/// The key of an uncertain param's per-trial draws (predictive mode): `#param/<name>`.
pub(crate) fn param_key(seed: u64, param: &str) -> [u8; 32] {
    key_of(seed, &[PARAM_PREFIX, param])
}

/// The key of an uncertain param's outer draws in a two-loop run: `#epistemic/<name>`.
pub(crate) fn epistemic_key(seed: u64, param: &str) -> [u8; 32] {
    key_of(seed, &[EPISTEMIC_PREFIX, param])
}

/// The stream of multilevel splitting's choices of which pauses get one continuation
/// more (`#split/allocation`): stream `replication`, region of lineage `stage`.
pub(crate) fn split_stream(seed: u64, replication: u64, stage: u32) -> Stream {
    let mut s = Stream::new(&key_of(seed, &["#split/", "allocation"]));
    s.restart_lineage(replication, Purpose::Arrival, stage);
    s
}

/// Prefix of the streams `brink score` draws outside trials: the randomized PIT
/// (`#score/pit`) and the bootstrap over origins (`#score/bootstrap`).
pub(crate) const SCORE_PREFIX: &str = "#score/";

/// The key of one of `brink score`'s own streams: `#score/<name>`.
pub fn score_key(seed: u64, name: &str) -> [u8; 32] {
    key_of(seed, &[SCORE_PREFIX, name])
}

/// SHA-256 of `"brink/v1" ‖ seed ‖` the parts, one after the other (the bytes of the
/// name they spell).
fn key_of(seed: u64, name: &[&str]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"brink/v1");
    h.update(seed.to_le_bytes());
    for part in name {
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

/// A generator positioned at the start of `(key, trial, purpose)`.
pub fn stream(key: &[u8; 32], trial: u64, purpose: Purpose) -> Stream {
    let mut s = Stream::new(key);
    s.restart(trial, purpose);
    s
}

/// Words per ChaCha block, as u64.
const BLOCK: usize = 8;

/// Blocks a busy stream computes at once (see [`Stream::refill`]).
const WIDE: usize = 8;

/// Words of a stream's buffer: [`WIDE`] blocks. A single block goes in its last
/// [`BLOCK`] words, so that "the buffer is used up" is one test whatever filled it.
const BUFFER: usize = WIDE * BLOCK;

/// The low bits of the block counter that count blocks within one (purpose, lineage)
/// region (see [`Stream::restart_lineage`]): 0 at a stream's first block in a trial.
const BLOCK_INDEX: u64 = (1 << 28) - 1;

/// One random stream (ChaCha8 keystream from a block position), with the few primitive
/// draws the samplers build on.
#[derive(Clone, Debug)]
pub struct Stream {
    key: [u32; 8],
    /// Stream id (ChaCha's nonce words 14-15): the trial.
    nonce: u64,
    /// Block counter of the next block to compute (words 12-13).
    counter: u64,
    /// The current block or blocks, as little-endian u64 pairs of their 32-bit words:
    /// `buf[next..]` is what is left to draw.
    buf: [u64; BUFFER],
    /// Next unread word of `buf`; `BUFFER` when a new block is due.
    next: usize,
}

impl Stream {
    fn new(key: &[u8; 32]) -> Self {
        let mut k = [0u32; 8];
        for (w, b) in k.iter_mut().zip(key.chunks_exact(4)) {
            *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
        Stream { key: k, nonce: 0, counter: 0, buf: [0; BUFFER], next: BUFFER }
    }

    /// Repositions at the start of `(trial, purpose)`; computes nothing until a draw.
    #[inline]
    pub(crate) fn restart(&mut self, trial: u64, purpose: Purpose) {
        self.restart_lineage(trial, purpose, 0);
    }

    /// Repositions at the start of `(trial, purpose)` for the continuation `lineage` of the
    /// trial (multilevel splitting; 0 is the trial itself): word position
    /// `purpose << 64 | lineage << 32`, so each continuation has 2^32 words per purpose
    /// that no other continuation, and not the trial itself, draws.
    #[inline]
    pub(crate) fn restart_lineage(&mut self, trial: u64, purpose: Purpose, lineage: u32) {
        self.nonce = trial;
        // In 16-word blocks.
        self.counter = ((purpose as u64) << 60) | (u64::from(lineage) << 28);
        self.next = BUFFER;
    }

    /// ChaCha's input block at the current position.
    #[inline]
    fn input(&self) -> [u32; 16] {
        const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];
        let k = &self.key;
        let counter = self.counter;
        [
            SIGMA[0],
            SIGMA[1],
            SIGMA[2],
            SIGMA[3],
            k[0],
            k[1],
            k[2],
            k[3],
            k[4],
            k[5],
            k[6],
            k[7],
            counter as u32,
            (counter >> 32) as u32,
            self.nonce as u32,
            (self.nonce >> 32) as u32,
        ]
    }

    /// Takes a computed block (the rounds' output, before the input is added back) as
    /// the current one (the buffer's last block) and advances the counter.
    #[inline]
    fn take_one(&mut self, input: &[u32; 16], x: impl Fn(usize) -> u32) {
        for (i, out) in self.buf[BUFFER - BLOCK..].iter_mut().enumerate() {
            let lo = x(2 * i).wrapping_add(input[2 * i]);
            let hi = x(2 * i + 1).wrapping_add(input[2 * i + 1]);
            *out = u64::from(lo) | (u64::from(hi) << 32);
        }
        self.counter = self.counter.wrapping_add(1);
        self.next = BUFFER - BLOCK;
    }

    /// Whether the next draw computes a block.
    #[inline]
    fn due(&self) -> bool {
        self.next == BUFFER
    }

    /// Whether the stream was drawn from since it was repositioned: not if it computed
    /// nothing, nor if all it computed is a first block left whole (computed in advance,
    /// see [`TrialStreams::begin`]).
    fn drawn(&self) -> bool {
        match self.counter & BLOCK_INDEX {
            0 => false,
            1 => self.next != BUFFER - BLOCK,
            _ => true,
        }
    }

    /// Computes what the stream draws next: its first block in this (trial, purpose,
    /// lineage) alone, or, once it has drawn past that, the next [`WIDE`] blocks at once.
    /// A stream that needs a second block usually needs many (a busy step's arrivals or
    /// branches); one that draws a few numbers a trial never pays for blocks it would not
    /// use. The bits are the same either way: block `counter + i` is the same block.
    #[inline(never)]
    fn refill(&mut self) {
        if self.counter & BLOCK_INDEX == 0 {
            let input = self.input();
            let x = rounds(&input);
            self.take_one(&input, |i| x[i]);
        } else {
            wide_blocks(&self.input(), &mut self.buf);
            self.counter = self.counter.wrapping_add(WIDE as u64);
            self.next = 0;
        }
    }

    /// 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        if self.next == BUFFER {
            self.refill();
        }
        let x = self.buf[self.next];
        self.next += 1;
        x
    }

    /// Uniform on [0, 1), with 53 random bits: `(x >> 11) * 2^-53`.
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform on (0, 1]: safe to take the logarithm of.
    #[inline]
    pub fn uniform_open0(&mut self) -> f64 {
        1.0 - self.uniform()
    }

    /// Uniform integer in [0, n) without modulo bias (Lemire's method); n > 0.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let mut m = (self.next_u64() as u128) * (n as u128);
        if (m as u64) < n {
            let threshold = n.wrapping_neg() % n;
            while (m as u64) < threshold {
                m = (self.next_u64() as u128) * (n as u128);
            }
        }
        (m >> 64) as u64
    }
}

/// The streams of one trial: one lazily created generator per (step, purpose).
///
/// Slots are reused across trials (stamped with the epoch of the trial they were last
/// positioned in), so a worker allocates them once and a trial only pays for the streams
/// it actually touches. The streams the last trial drew from are a good guess at those the
/// next one will: [`TrialStreams::begin`] computes their first blocks at once, eight side
/// by side, instead of one by one at their first draws.
#[derive(Clone)]
pub struct TrialStreams {
    /// One stream per (step, purpose), each keyed once for the run.
    slots: Vec<Stream>,
    /// The epoch (one per `begin`) each slot was last positioned in.
    epochs: Vec<u64>,
    trial: u64,
    /// The continuation of the trial drawn from (0: the trial itself; see
    /// [`Stream::restart_lineage`]).
    lineage: u32,
    epoch: u64,
    /// The slots the last trial drew from, in increasing order once `begin` has run, then
    /// with the ones this trial positions lazily appended.
    warm: Vec<usize>,
}

impl TrialStreams {
    /// Streams for a run with these per-step keys (see [`stream_key`]).
    pub fn new(keys: Vec<[u8; 32]>) -> Self {
        let slots: Vec<Stream> =
            keys.iter().flat_map(|k| std::iter::repeat_n(Stream::new(k), PURPOSES)).collect();
        // Epoch 0 is never current: `begin` starts at 1.
        TrialStreams { epochs: vec![0; slots.len()], slots, trial: 0, lineage: 0, epoch: 0, warm: Vec::new() }
    }

    /// No streams at all: what a paused trial keeps in their place (it draws nothing).
    pub(crate) fn none() -> Self {
        TrialStreams {
            slots: Vec::new(),
            epochs: Vec::new(),
            trial: 0,
            lineage: 0,
            epoch: 0,
            warm: Vec::new(),
        }
    }

    /// Continues trial `trial` with the streams of its continuation `lineage` (every
    /// stream re-derived lazily, as by [`TrialStreams::begin`]).
    pub fn begin_lineage(&mut self, trial: u64, lineage: u32) {
        self.trial = trial;
        self.lineage = lineage;
        self.epoch += 1;
        self.warm_up();
    }

    /// Starts trial `trial`: every stream is (lazily) re-derived for it.
    pub fn begin(&mut self, trial: u64) {
        self.begin_lineage(trial, 0);
    }

    /// Positions the streams the last trial drew from for this one and computes their
    /// first blocks at once. What they yield is unchanged: each block is the one the
    /// stream's first draw would have computed.
    fn warm_up(&mut self) {
        let slots = &self.slots;
        self.warm.retain(|&i| slots[i].drawn());
        if self.warm.len() < 3 {
            // One or two blocks computed now cost about what they cost at their first
            // draws, and a wrong guess costs a block: the slots are positioned lazily,
            // and listed again then.
            self.warm.clear();
            return;
        }
        if !self.warm.is_sorted() {
            self.warm.sort_unstable();
        }
        for &i in &self.warm {
            self.epochs[i] = self.epoch;
            self.slots[i].restart_lineage(self.trial, PURPOSE_OF[i % PURPOSES], self.lineage);
        }
        // The warm slots (increasing) one after the other, each split off what is left.
        let (mut rest, mut base) = (&mut self.slots[..], 0);
        let mut warm = self.warm.iter();
        prefill(std::iter::from_fn(move || {
            let &i = warm.next()?;
            let (slot, tail) = std::mem::take(&mut rest)[i - base..].split_first_mut()?;
            (rest, base) = (tail, i + 1);
            Some(slot)
        }));
    }

    /// Computes at once the first block of the `purpose` streams of `steps` (in increasing
    /// order), which the caller knows are about to draw: see [`prefill`]. What they then
    /// yield is unchanged.
    pub fn prefill(&mut self, purpose: Purpose, steps: &[usize]) {
        debug_assert!(steps.windows(2).all(|w| w[0] < w[1]), "steps in increasing order");
        let p = purpose as usize;
        for &step in steps {
            let i = step * PURPOSES + p;
            if self.epochs[i] != self.epoch {
                self.epochs[i] = self.epoch;
                self.slots[i].restart_lineage(self.trial, purpose, self.lineage);
                self.warm.push(i);
            }
        }
        let mut wanted = steps.iter().copied().peekable();
        prefill(
            self.slots
                .chunks_exact_mut(PURPOSES)
                .enumerate()
                .filter_map(|(step, slots)| (wanted.next_if_eq(&step).is_some()).then(|| &mut slots[p])),
        );
    }

    /// The stream of `step` for `purpose` in the current trial.
    #[inline]
    pub fn get(&mut self, step: usize, purpose: Purpose) -> &mut Stream {
        debug_assert!(self.epoch > 0, "TrialStreams::begin must come first");
        let i = step * PURPOSES + purpose as usize;
        let slot = &mut self.slots[i];
        if self.epochs[i] != self.epoch {
            self.epochs[i] = self.epoch;
            slot.restart_lineage(self.trial, purpose, self.lineage);
            self.warm.push(i);
        }
        slot
    }
}

/// Hex SHA-256 of bytes: how manifests and layered params files name a file's content.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Golden vector: these exact values pin the derivation and the generator. If this
    /// test changes, every result of every scenario changes: bump the stream version.
    #[test]
    fn golden_stream_values() {
        let key = stream_key(20201220, "rocket_attack");
        let mut s = stream(&key, 7, Purpose::Branch);
        let got: Vec<u64> = (0..3).map(|_| s.next_u64()).collect();
        let again: Vec<u64> = {
            let mut s = stream(&key, 7, Purpose::Branch);
            (0..3).map(|_| s.next_u64()).collect()
        };
        assert_eq!(got, again);
        assert_eq!(got, GOLDEN.to_vec(), "stream derivation changed");
    }

    /// Computed independently by tests/reference/streams.py (a Python ChaCha8).
    const GOLDEN: [u64; 3] =
        [9_333_431_666_788_786_455, 7_633_575_014_084_587_887, 3_607_851_777_760_677_411];

    /// The block-at-a-time ChaCha8 gives exactly `rand_chacha`'s bits for the same key,
    /// stream and word position, across block boundaries and for every purpose.
    #[test]
    fn same_bits_as_rand_chacha() {
        use rand_chacha::rand_core::{RngCore, SeedableRng};
        for (i, name) in ["rocket_attack", "a", "#param/p_strike", "war"].iter().enumerate() {
            let key = stream_key(i as u64 * 7919 + 1, name);
            for trial in [0, 1, 2047, 2048, u32::MAX as u64 + 3, u64::MAX] {
                for purpose in [
                    Purpose::Arrival,
                    Purpose::Branch,
                    Purpose::Tally,
                    Purpose::Trigger,
                    Purpose::Delay,
                    Purpose::Excite,
                ] {
                    let mut theirs = rand_chacha::ChaCha8Rng::from_seed(key);
                    theirs.set_stream(trial);
                    theirs.set_word_pos((purpose as u128) << 64);
                    let mut ours = stream(&key, trial, purpose);
                    // Past the first block (alone) and three of the eight-block refills.
                    for k in 0..(BLOCK + 3 * BUFFER + 5) {
                        assert_eq!(
                            ours.next_u64(),
                            theirs.next_u64(),
                            "{name} trial {trial} {purpose:?} draw {k}"
                        );
                    }
                }
            }
        }
    }

    /// Eight blocks at once, by either path (AVX2 where this CPU has it; four lanes twice),
    /// are `rand_chacha`'s eight consecutive blocks, also where the block counter's low
    /// word wraps into its high word part-way.
    #[test]
    fn wide_blocks_are_rand_chachas_across_the_counter_carry() {
        use rand_chacha::rand_core::{RngCore, SeedableRng};
        let key = stream_key(11, "patrol_incident");
        for (trial, counter) in [(0, 1), (3, (1 << 32) - 3), (u64::MAX, u64::MAX - 2), (9, (5 << 60) | 17)] {
            let mut s = stream(&key, trial, Purpose::Arrival);
            s.counter = counter;
            let input = s.input();
            let mut theirs = rand_chacha::ChaCha8Rng::from_seed(key);
            theirs.set_stream(trial);
            theirs.set_word_pos(u128::from(counter) * 16);
            let want: Vec<u64> = (0..BUFFER).map(|_| theirs.next_u64()).collect();
            let mut by_four = [0; BUFFER];
            chacha::wide_blocks_sse2(&input, &mut by_four);
            assert_eq!(by_four.to_vec(), want, "four lanes, counter {counter:#x}");
            let mut dispatched = [0; BUFFER];
            wide_blocks(&input, &mut dispatched);
            assert_eq!(dispatched.to_vec(), want, "dispatched, counter {counter:#x}");
        }
    }

    /// The bytes of every kind of stream key, computed independently (Python's hashlib:
    /// `sha256(b"brink/v1" + (7).to_bytes(8, "little") + name)`): moving the key
    /// builders must not move any stream.
    #[test]
    fn stream_names_keep_their_bytes() {
        let hex = |k: [u8; 32]| k.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(
            hex(step_key(7, "rocket_attack")),
            "a840686cfa9fcd3a4adeb4634df8d5aea2a26779ca4d4a6d4531acb216bc0efb"
        );
        assert_eq!(
            hex(param_key(7, "p_strike")),
            "3ed819df8ec3f08a6c69ebda0f571646cd92e730a0ba20d781b69a4e2476376f"
        );
        assert_eq!(
            hex(epistemic_key(7, "p_strike")),
            "d732530f510b63f94e1482fad8b7a9841d8f7c9b051904f081725ed717b20800"
        );
        assert_eq!(param_key(7, "p_strike"), stream_key(7, "#param/p_strike"));
        assert_eq!(epistemic_key(7, "p_strike"), stream_key(7, "#epistemic/p_strike"));
    }

    #[test]
    fn streams_differ_by_trial_purpose_step_and_seed() {
        let k = stream_key(1, "a");
        let first = |k: &[u8; 32], t, p| stream(k, t, p).next_u64();
        let base = first(&k, 0, Purpose::Arrival);
        assert_ne!(base, first(&k, 1, Purpose::Arrival));
        assert_ne!(base, first(&k, 0, Purpose::Branch));
        assert_ne!(base, first(&stream_key(1, "b"), 0, Purpose::Arrival));
        assert_ne!(base, first(&stream_key(2, "a"), 0, Purpose::Arrival));
    }

    #[test]
    fn below_is_in_range_and_uniform_enough() {
        let mut s = stream(&stream_key(3, "x"), 0, Purpose::Tally);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            counts[s.below(3) as usize] += 1;
        }
        // Each count ~ Binomial(30000, 1/3): sd = 81.6; 5 sd = 408.
        for c in counts {
            assert!((c as i64 - 10_000).abs() < 408, "{counts:?}");
        }
    }

    #[test]
    fn lazy_slots_rederive_per_trial() {
        let mut ts = TrialStreams::new(vec![stream_key(9, "a")]);
        ts.begin(5);
        let a = ts.get(0, Purpose::Arrival).next_u64();
        ts.begin(6);
        let _ = ts.get(0, Purpose::Arrival).next_u64();
        ts.begin(5);
        assert_eq!(a, ts.get(0, Purpose::Arrival).next_u64());
        ts.begin(5);
        assert_eq!(a, ts.get(0, Purpose::Arrival).next_u64(), "begin restarts the trial");
    }

    /// Streams warmed up at `begin` (the ones the last trial drew from, first blocks
    /// computed in advance) yield what fresh streams yield, whatever mix of warm, cold and
    /// warm-but-unused streams a trial draws from, in continuations too; and the warm set
    /// follows what the last trial drew.
    #[test]
    fn warmed_streams_yield_what_fresh_ones_do() {
        let keys: Vec<[u8; 32]> = (0..12).map(|i| stream_key(8, &format!("s{i}"))).collect();
        let mut ts = TrialStreams::new(keys.clone());
        // Per trial: (step, purpose, draws); trial 3 draws from none of trial 2's streams.
        let plan: [&[(usize, Purpose, usize)]; 5] = [
            &[(0, Purpose::Arrival, 3), (4, Purpose::Branch, 1), (11, Purpose::Excite, 20)],
            &[
                (0, Purpose::Arrival, 9),
                (4, Purpose::Branch, 2),
                (7, Purpose::Tally, 1),
                (9, Purpose::Delay, 1),
            ],
            &[(1, Purpose::Trigger, 2), (2, Purpose::Trigger, 70), (3, Purpose::Trigger, 1)],
            &[(0, Purpose::Arrival, 1), (5, Purpose::Branch, 1)],
            &[(0, Purpose::Arrival, 1), (1, Purpose::Trigger, 1), (11, Purpose::Excite, 1)],
        ];
        for (lineage, trial) in [(0u32, 10u64), (0, 11), (3, 11), (0, 12), (1 << 20, 13)] {
            for draws in plan {
                ts.begin_lineage(trial, lineage);
                for &(step, purpose, n) in draws {
                    let mut fresh = stream(&keys[step], trial, purpose);
                    fresh.restart_lineage(trial, purpose, lineage);
                    for k in 0..n {
                        assert_eq!(
                            ts.get(step, purpose).next_u64(),
                            fresh.next_u64(),
                            "{step} {purpose:?} draw {k}"
                        );
                    }
                }
                let mut drawn: Vec<usize> =
                    draws.iter().map(|&(st, p, _)| st * PURPOSES + p as usize).collect();
                drawn.sort_unstable();
                let mut warm = ts.warm.clone();
                warm.retain(|&i| ts.slots[i].drawn());
                warm.sort_unstable();
                assert_eq!(warm, drawn, "what the next trial warms up");
            }
        }
    }

    /// Blocks computed four at a time (`prefill`, `TrialStreams::prefill`) are the bits of
    /// `rand_chacha`, the oracle, whatever mix of keys, trials, purposes and positions the
    /// lanes hold, and for any count of streams (a remainder goes one at a time); a stream
    /// part-way through its block is left alone.
    #[test]
    fn blocks_computed_four_at_a_time_are_rand_chachas() {
        use rand_chacha::rand_core::{RngCore, SeedableRng};
        let purposes = [Purpose::Arrival, Purpose::Branch, Purpose::Tally, Purpose::Excite];
        let trials = [0, 1, 2048, u32::MAX as u64 + 3, u64::MAX];
        // Up to 21 streams: eight lanes twice, then the rest (padded eight lanes, four, or
        // one); and the same through the four-lane path CPUs without AVX2 take.
        for (n, four_only) in (0..22usize).flat_map(|n| [(n, false), (n, true)]) {
            let case = |i: usize| {
                let key = stream_key(i as u64 * 31 + 5, ["x", "rocket_attack", "#param/p"][i % 3]);
                (key, trials[i % trials.len()], purposes[i % purposes.len()])
            };
            let mut ours: Vec<Stream> = (0..n)
                .map(|i| {
                    let (k, t, p) = case(i);
                    stream(&k, t, p)
                })
                .collect();
            // Stream 2 has drawn already: its block is current and must not be recomputed.
            // Streams 5 and 7 have used up their first block: the lanes compute their second.
            if n > 2 {
                ours[2].next_u64();
            }
            for i in [5, 7].into_iter().filter(|&i| i < n) {
                for _ in 0..BLOCK {
                    ours[i].next_u64();
                }
            }
            if four_only {
                chacha::prefill4(ours.iter_mut().filter(|s| s.due()));
            } else {
                prefill(&mut ours);
            }
            for (i, s) in ours.iter_mut().enumerate() {
                let (key, trial, purpose) = case(i);
                let mut theirs = rand_chacha::ChaCha8Rng::from_seed(key);
                theirs.set_stream(trial);
                theirs.set_word_pos((purpose as u128) << 64);
                if i == 2 {
                    theirs.next_u64();
                }
                if i == 5 || i == 7 {
                    for _ in 0..BLOCK {
                        theirs.next_u64();
                    }
                }
                for k in 0..20 {
                    assert_eq!(
                        s.next_u64(),
                        theirs.next_u64(),
                        "{n} streams (four lanes only: {four_only}), stream {i}, draw {k}"
                    );
                }
            }
        }
        // Through TrialStreams: the prefilled streams of some steps draw as lazy ones do.
        let keys: Vec<[u8; 32]> = (0..9).map(|i| stream_key(3, &format!("s{i}"))).collect();
        let (mut lazy, mut pre) = (TrialStreams::new(keys.clone()), TrialStreams::new(keys));
        for trial in [4, 5] {
            lazy.begin(trial);
            pre.begin(trial);
            pre.prefill(Purpose::Arrival, &[0, 2, 3, 5, 6, 8]);
            for step in 0..9 {
                for _ in 0..10 {
                    assert_eq!(
                        pre.get(step, Purpose::Arrival).next_u64(),
                        lazy.get(step, Purpose::Arrival).next_u64()
                    );
                }
            }
        }
    }
}
