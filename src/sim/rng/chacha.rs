//! ChaCha8's block function, computed one block at a time or several side by side in
//! vector lanes: four SSE2 lanes (part of every x86-64), eight AVX2 lanes where the CPU has
//! them (checked at run time). Two uses: the first blocks of many streams at once
//! ([`prefill`]: a trial's params and arrivals, and the streams the last trial drew from),
//! and eight consecutive blocks of one busy stream ([`wide_blocks`]). Every path gives the
//! scalar bits, which are `rand_chacha`'s (the tests in `sim/rng.rs` compare them, and
//! `tests/determinism.rs` runs whole trials through the portable path and the AVX2 one).

use super::{Stream, BLOCK, BUFFER};

/// The ChaCha8 rounds of one block (before the input is added back).
#[inline(always)]
pub(super) fn rounds(input: &[u32; 16]) -> [u32; 16] {
    #[inline(always)]
    fn quarter(x: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
        x[a] = x[a].wrapping_add(x[b]);
        x[d] = (x[d] ^ x[a]).rotate_left(16);
        x[c] = x[c].wrapping_add(x[d]);
        x[b] = (x[b] ^ x[c]).rotate_left(12);
        x[a] = x[a].wrapping_add(x[b]);
        x[d] = (x[d] ^ x[a]).rotate_left(8);
        x[c] = x[c].wrapping_add(x[d]);
        x[b] = (x[b] ^ x[c]).rotate_left(7);
    }
    let mut x = *input;
    chacha8_schedule(&mut x, quarter);
    x
}

/// ChaCha8's eight rounds as four double rounds of quarter-rounds (the columns, then the
/// diagonals), for a state of any word type: one schedule for the scalar and the 4-lane
/// block functions.
#[inline(always)]
fn chacha8_schedule<T>(x: &mut [T; 16], quarter: impl Fn(&mut [T; 16], usize, usize, usize, usize)) {
    for _ in 0..4 {
        quarter(x, 0, 4, 8, 12);
        quarter(x, 1, 5, 9, 13);
        quarter(x, 2, 6, 10, 14);
        quarter(x, 3, 7, 11, 15);
        quarter(x, 0, 5, 10, 15);
        quarter(x, 1, 6, 11, 12);
        quarter(x, 2, 7, 8, 13);
        quarter(x, 3, 4, 9, 14);
    }
}

/// The ChaCha8 rounds of four blocks at once (`x[word][block]`, before the input is added
/// back): the same rounds as [`rounds`], with each state word of the four blocks
/// side by side in one 128-bit register, so that every step of a round is one vector
/// instruction for the four (SSE2, part of every x86-64) instead of four scalar ones. The
/// bits are the scalar ones (tests compare them with `rand_chacha`). Used for the first
/// blocks of four streams known to draw at once (the uncertain params of a predictive
/// trial, the first arrivals of a trial's steps), and for a busy stream's eight blocks
/// where the CPU lacks AVX2 ([`wide_blocks`]). Four consecutive blocks for every refill
/// were tried once: dense scenarios gained 5%, baghdad-2020 lost as much, which is why a
/// stream's first block in a trial is computed alone. Written with plain arrays, the
/// compiler kept the lanes scalar.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
fn rounds4(inputs: &[[u32; 16]; 4]) -> [[u32; 4]; 16] {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi32, _mm_or_si128, _mm_set_epi32, _mm_slli_epi32, _mm_srli_epi32,
        _mm_storeu_si128, _mm_xor_si128,
    };
    let mut out = [[0u32; 4]; 16];
    // SAFETY: this function is compiled only where SSE2 is enabled (the cfg above; it is
    // part of the x86-64 baseline), so its intrinsics are available (with a newer compiler
    // than the minimum supported one the block is not needed); the stores write 16 bytes
    // into a `[u32; 4]`.
    #[allow(unused_unsafe)]
    unsafe {
        let mut x: [__m128i; 16] = std::array::from_fn(|w| {
            _mm_set_epi32(inputs[3][w] as i32, inputs[2][w] as i32, inputs[1][w] as i32, inputs[0][w] as i32)
        });
        #[inline(always)]
        fn rotl<const L: i32, const R: i32>(v: __m128i) -> __m128i {
            // SAFETY: SSE2 is enabled (the function's cfg); shifts of register values only.
            #[allow(unused_unsafe)]
            unsafe {
                _mm_or_si128(_mm_slli_epi32::<L>(v), _mm_srli_epi32::<R>(v))
            }
        }
        #[inline(always)]
        fn quarter(x: &mut [__m128i; 16], a: usize, b: usize, c: usize, d: usize) {
            // SAFETY: SSE2 is enabled (the function's cfg); arithmetic on register values only.
            #[allow(unused_unsafe)]
            unsafe {
                x[a] = _mm_add_epi32(x[a], x[b]);
                x[d] = rotl::<16, 16>(_mm_xor_si128(x[d], x[a]));
                x[c] = _mm_add_epi32(x[c], x[d]);
                x[b] = rotl::<12, 20>(_mm_xor_si128(x[b], x[c]));
                x[a] = _mm_add_epi32(x[a], x[b]);
                x[d] = rotl::<8, 24>(_mm_xor_si128(x[d], x[a]));
                x[c] = _mm_add_epi32(x[c], x[d]);
                x[b] = rotl::<7, 25>(_mm_xor_si128(x[b], x[c]));
            }
        }
        chacha8_schedule(&mut x, quarter);
        for (o, v) in out.iter_mut().zip(x) {
            _mm_storeu_si128(o.as_mut_ptr().cast(), v);
        }
    }
    out
}

/// Elsewhere, the four blocks one after the other, with the scalar rounds.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
fn rounds4(inputs: &[[u32; 16]; 4]) -> [[u32; 4]; 16] {
    let mut out = [[0u32; 4]; 16];
    for (b, input) in inputs.iter().enumerate() {
        let x = rounds(input);
        for w in 0..16 {
            out[w][b] = x[w];
        }
    }
    out
}

/// Computes the next block of four streams at once (their first blocks, see [`prefill`]).
fn refill4(streams: [&mut Stream; 4]) {
    let inputs = [streams[0].input(), streams[1].input(), streams[2].input(), streams[3].input()];
    let x = rounds4(&inputs);
    for (lane, s) in streams.into_iter().enumerate() {
        s.take_one(&inputs[lane], |w| x[w][lane]);
    }
}

/// Computes the next block of up to eight streams at once, each state word of the eight
/// side by side in one 256-bit register: [`refill4`] for CPUs with AVX2. An empty lane
/// computes a block of zeros that goes nowhere (eight lanes cost less than two scalar
/// blocks). The bits are the scalar ones (a test compares them with `rand_chacha`).
///
/// # Safety
/// The CPU must support AVX2 ([`avx2`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn refill8(mut lanes: [Option<&mut Stream>; 8]) {
    use std::arch::x86_64::{__m256i, _mm256_loadu_si256};
    let inputs: [[u32; 16]; 8] = std::array::from_fn(|i| lanes[i].as_ref().map_or([0; 16], |s| s.input()));
    // Word w of the eight blocks as one vector, transposed through a plain array.
    let init: [__m256i; 16] = std::array::from_fn(|w| {
        let lanes: [u32; 8] = std::array::from_fn(|b| inputs[b][w]);
        // SAFETY: the load reads the 32 bytes of `lanes`.
        unsafe { _mm256_loadu_si256(lanes.as_ptr().cast()) }
    });
    let mut x = init;
    let mut nowhere = [[0u64; BLOCK]; 8];
    // SAFETY: AVX2 is enabled here, as the caller vouches; each stream's block goes to
    // the last 8 words of its buffer, an empty lane's to its row of `nowhere`.
    unsafe {
        rounds8_lanes(&mut x);
        let outs: [*mut u64; 8] = std::array::from_fn(|b| match &mut lanes[b] {
            Some(s) => s.buf[BUFFER - BLOCK..].as_mut_ptr(),
            None => nowhere[b].as_mut_ptr(),
        });
        finish8(&x, &init, |b| outs[b]);
    }
    for s in lanes.iter_mut().flatten() {
        s.counter = s.counter.wrapping_add(1);
        s.next = BUFFER - BLOCK;
    }
}

/// Whether the AVX2 block functions run: the CPU has AVX2 (checked at run time; the
/// standard library caches the answer) and [`set_portable_blocks`] has not turned them off.
#[cfg(target_arch = "x86_64")]
#[inline]
fn avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && !PORTABLE_BLOCKS.load(std::sync::atomic::Ordering::Relaxed)
}

/// See [`set_portable_blocks`].
static PORTABLE_BLOCKS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Computes every block with the portable functions (four SSE2 lanes on x86-64, scalar
/// elsewhere) even where the CPU has AVX2, for the whole process: what a CPU without AVX2
/// runs, so that a test can compare its trials with the AVX2 ones. The numbers are the
/// same either way; only the speed differs.
#[doc(hidden)]
pub fn set_portable_blocks(on: bool) {
    PORTABLE_BLOCKS.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// The [`WIDE`](super::WIDE) consecutive blocks from `input`'s counter on, into `out` in order: with
/// AVX2 where it runs ([`avx2`]), else four lanes at a time ([`rounds4`]: SSE2 on x86-64,
/// the scalar rounds elsewhere).
#[inline]
pub(super) fn wide_blocks(input: &[u32; 16], out: &mut [u64; BUFFER]) {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: AVX2 is available (checked just above).
        return unsafe { wide_blocks_avx2(input, out) };
    }
    wide_blocks_sse2(input, out);
}

/// [`wide_blocks`] four at a time ([`rounds4`]: SSE2 on x86-64, scalar elsewhere).
pub(super) fn wide_blocks_sse2(input: &[u32; 16], out: &mut [u64; BUFFER]) {
    let at = |i: usize| {
        let mut x = *input;
        let c = counter_of(input).wrapping_add(i as u64);
        x[12] = c as u32;
        x[13] = (c >> 32) as u32;
        x
    };
    for (half, words) in out.chunks_exact_mut(4 * BLOCK).enumerate() {
        let inputs: [[u32; 16]; 4] = std::array::from_fn(|i| at(4 * half + i));
        let x = rounds4(&inputs);
        for (b, block) in words.chunks_exact_mut(BLOCK).enumerate() {
            for (i, o) in block.iter_mut().enumerate() {
                let lo = x[2 * i][b].wrapping_add(inputs[b][2 * i]);
                let hi = x[2 * i + 1][b].wrapping_add(inputs[b][2 * i + 1]);
                *o = u64::from(lo) | (u64::from(hi) << 32);
            }
        }
    }
}

/// The 64-bit block counter of an input block (words 12 and 13).
#[inline]
fn counter_of(input: &[u32; 16]) -> u64 {
    u64::from(input[12]) | (u64::from(input[13]) << 32)
}

/// ChaCha8's rounds on eight blocks side by side (`x[word]` holds that word of the
/// eight), in AVX2 registers; the input is not added back. Rotations by 16 and 8 are
/// byte shuffles, one instruction instead of three.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn rounds8_lanes(x: &mut [std::arch::x86_64::__m256i; 16]) {
    use std::arch::x86_64::{
        _mm256_add_epi32, _mm256_or_si256, _mm256_setr_epi8, _mm256_shuffle_epi8, _mm256_slli_epi32,
        _mm256_srli_epi32, _mm256_xor_si256,
    };
    #[rustfmt::skip]
    let rot16 = _mm256_setr_epi8(
        2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
        2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
    );
    #[rustfmt::skip]
    let rot8 = _mm256_setr_epi8(
        3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14,
        3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14,
    );
    macro_rules! rotl {
        ($v:expr, $l:literal, $r:literal) => {{
            let v = $v;
            _mm256_or_si256(_mm256_slli_epi32::<$l>(v), _mm256_srli_epi32::<$r>(v))
        }};
    }
    macro_rules! quarter {
        ($a:literal, $b:literal, $c:literal, $d:literal) => {
            x[$a] = _mm256_add_epi32(x[$a], x[$b]);
            x[$d] = _mm256_shuffle_epi8(_mm256_xor_si256(x[$d], x[$a]), rot16);
            x[$c] = _mm256_add_epi32(x[$c], x[$d]);
            x[$b] = rotl!(_mm256_xor_si256(x[$b], x[$c]), 12, 20);
            x[$a] = _mm256_add_epi32(x[$a], x[$b]);
            x[$d] = _mm256_shuffle_epi8(_mm256_xor_si256(x[$d], x[$a]), rot8);
            x[$c] = _mm256_add_epi32(x[$c], x[$d]);
            x[$b] = rotl!(_mm256_xor_si256(x[$b], x[$c]), 7, 25);
        };
    }
    // The schedule of `chacha8_schedule`: four double rounds, columns then diagonals.
    for _ in 0..4 {
        quarter!(0, 4, 8, 12);
        quarter!(1, 5, 9, 13);
        quarter!(2, 6, 10, 14);
        quarter!(3, 7, 11, 15);
        quarter!(0, 5, 10, 15);
        quarter!(1, 6, 11, 12);
        quarter!(2, 7, 8, 13);
        quarter!(3, 4, 9, 14);
    }
}

/// Adds the input back to eight blocks' rounds (`x[word]`, lanes = blocks) and writes
/// block `b` to `store(b)`: its 16 words as 8 little-endian u64 pairs, which on x86 (little
/// endian) is the words' memory order. Two 8x8 transposes of 32-bit words (unpacks, then
/// 128-bit halves swapped), not 128 scalar moves.
///
/// # Safety
/// The CPU must support AVX2; every `store(b)` must point to 8 writable u64, the eight
/// ranges must not overlap, and nothing else may read or write them during the call.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn finish8(
    x: &[std::arch::x86_64::__m256i; 16],
    input: &[std::arch::x86_64::__m256i; 16],
    mut store: impl FnMut(usize) -> *mut u64,
) {
    use std::arch::x86_64::{
        __m256i, _mm256_add_epi32, _mm256_permute2x128_si256, _mm256_storeu_si256, _mm256_unpackhi_epi32,
        _mm256_unpackhi_epi64, _mm256_unpacklo_epi32, _mm256_unpacklo_epi64,
    };
    let y: [__m256i; 16] = std::array::from_fn(|w| _mm256_add_epi32(x[w], input[w]));
    for half in 0..2 {
        let r = &y[8 * half..8 * half + 8];
        let t0 = _mm256_unpacklo_epi32(r[0], r[1]);
        let t1 = _mm256_unpackhi_epi32(r[0], r[1]);
        let t2 = _mm256_unpacklo_epi32(r[2], r[3]);
        let t3 = _mm256_unpackhi_epi32(r[2], r[3]);
        let t4 = _mm256_unpacklo_epi32(r[4], r[5]);
        let t5 = _mm256_unpackhi_epi32(r[4], r[5]);
        let t6 = _mm256_unpacklo_epi32(r[6], r[7]);
        let t7 = _mm256_unpackhi_epi32(r[6], r[7]);
        // u[k] holds word 8*half + (0..4) of blocks k and k + 4 (in its two halves), and
        // v[k] words 8*half + (4..8).
        let u = [
            _mm256_unpacklo_epi64(t0, t2),
            _mm256_unpackhi_epi64(t0, t2),
            _mm256_unpacklo_epi64(t1, t3),
            _mm256_unpackhi_epi64(t1, t3),
        ];
        let v = [
            _mm256_unpacklo_epi64(t4, t6),
            _mm256_unpackhi_epi64(t4, t6),
            _mm256_unpacklo_epi64(t5, t7),
            _mm256_unpackhi_epi64(t5, t7),
        ];
        for k in 0..4 {
            // SAFETY: each store writes 32 bytes, words 8*half .. 8*half + 8 of a block,
            // inside the 8 u64 the caller vouches for.
            unsafe {
                let lo = store(k).add(4 * half).cast::<__m256i>();
                _mm256_storeu_si256(lo, _mm256_permute2x128_si256::<0x20>(u[k], v[k]));
                let hi = store(k + 4).add(4 * half).cast::<__m256i>();
                _mm256_storeu_si256(hi, _mm256_permute2x128_si256::<0x31>(u[k], v[k]));
            }
        }
    }
}

/// [`wide_blocks`] with AVX2: the eight blocks differ only in their counters.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn wide_blocks_avx2(input: &[u32; 16], out: &mut [u64; BUFFER]) {
    use std::arch::x86_64::{__m256i, _mm256_loadu_si256, _mm256_set1_epi32};
    let counter = counter_of(input);
    let lanes =
        |f: fn(u64) -> u32| -> [u32; 8] { std::array::from_fn(|b| f(counter.wrapping_add(b as u64))) };
    let (lo, hi) = (lanes(|c| c as u32), lanes(|c| (c >> 32) as u32));
    let init: [__m256i; 16] = std::array::from_fn(|w| match w {
        // SAFETY: each load reads the 32 bytes of a `[u32; 8]`.
        12 => unsafe { _mm256_loadu_si256(lo.as_ptr().cast()) },
        13 => unsafe { _mm256_loadu_si256(hi.as_ptr().cast()) },
        _ => _mm256_set1_epi32(input[w] as i32),
    });
    let mut x = init;
    // SAFETY: AVX2 is enabled here, as the caller vouches.
    unsafe {
        rounds8_lanes(&mut x);
        let base = out.as_mut_ptr();
        // Block b goes to words 8b .. 8b + 8 of the buffer.
        finish8(&x, &init, |b| base.add(BLOCK * b));
    }
}

/// Computes the first block of every stream in `streams` that is due one: eight at a time
/// where the CPU has AVX2 (`refill8`; a remainder of four takes four lanes, of one the
/// scalar block function, any other fills eight lanes), else four at a time (`refill4`)
/// and a remainder of one to three through the scalar block function. The streams yield
/// the same numbers as without it: each block is the one its first draw would have
/// computed.
#[inline]
pub fn prefill<'a>(streams: impl IntoIterator<Item = &'a mut Stream>) {
    let mut due = streams.into_iter().filter(|s| s.due());
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        loop {
            let mut lanes: [Option<&'a mut Stream>; 8] = Default::default();
            let mut n = 0;
            while n < 8 {
                let Some(s) = due.next() else { break };
                lanes[n] = Some(s);
                n += 1;
            }
            match n {
                0 => return,
                // One block alone, or four in SSE2 lanes, cost less than eight lanes.
                1 | 4 => return prefill4(lanes.into_iter().flatten()),
                // SAFETY: AVX2 is available (checked above).
                8 => unsafe { refill8(lanes) },
                // SAFETY: as above.
                _ => return unsafe { refill8(lanes) },
            }
        }
    }
    prefill4(due)
}

/// [`prefill`] four at a time, for streams all due a block.
pub(super) fn prefill4<'a>(mut due: impl Iterator<Item = &'a mut Stream>) {
    loop {
        match (due.next(), due.next(), due.next(), due.next()) {
            (Some(a), Some(b), Some(c), Some(d)) => refill4([a, b, c, d]),
            (a, b, c, _) => {
                for s in [a, b, c].into_iter().flatten() {
                    s.refill();
                }
                return;
            }
        }
    }
}
