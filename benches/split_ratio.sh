#!/usr/bin/env bash
# The work-normalised gain of multilevel splitting over plain Monte Carlo
# (docs/performance.md#rare-rungs-by-splitting): the CPU time each needs to estimate a
# rare level's probability to a 10% relative error at 95% confidence, on one thread.
#
#   cargo build --release && bash benches/split_ratio.sh [SCENARIO] [LEVEL] [SEEDS]
#
# Defaults: benches/scenarios/rare.toml, its top level l6 (P = 1.58e-5 in closed form),
# 40 seeds. Times are CPU times (user + system, from bash's `time`), not wall-clock ones, so
# that other jobs on the machine slow the measurement less. Plain Monte Carlo: the trials
# per CPU second of a plain run (TRIALS trials, default 10,000,000), run before and after
# the splitting runs and averaged, and the trials a 10% relative error needs, 1.96^2 (1 - p)
# / (0.1^2 p). Splitting: SEEDS runs of `brink run --split` (SPLIT_TRIALS per stage, default
# 100,000, over its default 40 replications), the variance of their estimates across seeds (not the
# runs' own intervals), and the time a 10% relative error needs at that variance
# (variance falls as 1 / work). p is the mean of the splitting estimates. BIN=path/to/brink
# measures another build; PLAIN_ARGS adds options to the plain run (for a scenario with
# params given as distributions, "--draws 2 --draw-trials 10" keeps its headline spread
# out of the timing).
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-benches/scenarios/rare.toml}
level=${2:-l6}
seeds=${3:-40}
bin=${BIN:-target/release/brink}
trials=${TRIALS:-10000000}
split_trials=${SPLIT_TRIALS:-100000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cpu_seconds() { # runs the command; prints its CPU seconds (user + system)
  local TIMEFORMAT='%3U %3S'
  { time "$@" 2>&3; } 3>&2 2>"$out/time"
  awk '{ print $1 + $2 }' "$out/time"
}
plain_rate() { # trials per CPU second of a plain run into folder $1
  local secs
  # shellcheck disable=SC2086
  secs=$(cpu_seconds "$bin" run "$scenario" --trials "$trials" --threads 1 --no-trials-csv --charts none ${PLAIN_ARGS:-} -q --out "$out/$1")
  awk -v n="$trials" -v s="$secs" 'BEGIN { printf "%.6g", n / s }'
}
plain_before=$(plain_rate plain-before)
for s in $(seq 1 "$seeds"); do
  secs=$(cpu_seconds "$bin" run "$scenario" --split --trials "$split_trials" --seed "$s" --threads 1 --charts none -q --out "$out/split-$s")
  # The run's estimate: the mean of its replications (replications.csv has no labels,
  # whose commas a plain split would misread).
  p=$(awk -F, -v l="$level" '$2 == l { sum += $3; n++ } END { printf "%.10g", sum / n }' "$out/split-$s/replications.csv")
  echo "$secs $p"
done > "$out/splits"
plain_after=$(plain_rate plain-after)
plain_rate=$(awk -v a="$plain_before" -v b="$plain_after" 'BEGIN { printf "%.6g", (a + b) / 2 }')
awk -v rate="$plain_rate" -v seeds="$seeds" -v level="$level" '
  { t += $1; x[NR] = $2; sum += $2 }
  END {
    n = NR; mean = sum / n; t /= n
    for (i = 1; i <= n; i++) v += (x[i] - mean) ^ 2
    v /= (n - 1)
    rv = v / (mean * mean)
    plain_trials = 1.96 ^ 2 * (1 - mean) / (0.01 * mean)
    plain_secs = plain_trials / rate
    split_secs = t * rv * 1.96 ^ 2 / 0.01
    printf "level %s: P = %.4g (mean of %d splitting runs)\n", level, mean, n
    printf "plain Monte Carlo: %.0f trials per CPU second on one thread; a 10%% relative error needs %.3g trials: %.1f s\n", rate, plain_trials, plain_secs
    printf "splitting: %.3f CPU s per run, relative sd across seeds %.2f%%; a 10%% relative error needs %.3f s\n", t, 100 * sqrt(rv), split_secs
    # The variance across n seeds is itself uncertain: its 95% interval from chi-square
    # with n - 1 df (Wilson-Hilferty), which the ratio inherits.
    df = n - 1; k = 2 / (9 * df)
    lo = (1 - k - 1.96 * sqrt(k)) ^ 3; hi = (1 - k + 1.96 * sqrt(k)) ^ 3
    r = plain_secs / split_secs
    printf "ratio: %.0fx less CPU time with splitting (95%% range from the %d seeds: %.0fx to %.0fx)\n", r, n, r * lo, r * hi
  }' "$out/splits"
