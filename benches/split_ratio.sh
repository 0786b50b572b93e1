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
#
# COUNT=instructions counts instructions with valgrind's callgrind instead of timing, which
# no other job on the machine can disturb: plain Monte Carlo's instructions per trial (the
# difference of a run of 2 x COUNT_TRIALS trials and one of COUNT_TRIALS, default 100,000)
# and the mean instructions of a splitting run over the first three seeds, under callgrind
# (about two minutes for rare.toml); the variance across seeds still comes from the SEEDS
# plain runs. The ratio is then one of instructions, a proxy for CPU time that ignores
# how fast each instruction runs.
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
instructions() { # runs the command under callgrind; prints the instructions it executed
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | awk '/refs:/ { gsub(",", "", $NF); print $NF }'
}
if [ "${COUNT:-time}" = instructions ]; then
  n=${COUNT_TRIALS:-100000}
  # shellcheck disable=SC2086
  plain_one=$(instructions "$bin" run "$scenario" --trials "$n" --threads 1 --no-trials-csv --charts none ${PLAIN_ARGS:-} -q --out "$out/count-1")
  # shellcheck disable=SC2086
  plain_two=$(instructions "$bin" run "$scenario" --trials $((2 * n)) --threads 1 --no-trials-csv --charts none ${PLAIN_ARGS:-} -q --out "$out/count-2")
  per_trial=$(awk -v a="$plain_one" -v b="$plain_two" -v n="$n" 'BEGIN { printf "%.6g", (b - a) / n }')
  split_sum=0
  for s in 1 2 3; do
    i=$(instructions "$bin" run "$scenario" --split --trials "$split_trials" --seed "$s" --threads 1 --charts none -q --out "$out/count-split-$s")
    split_sum=$(awk -v a="$split_sum" -v b="$i" 'BEGIN { printf "%.15g", a + b }')
  done
  per_split=$(awk -v a="$split_sum" 'BEGIN { printf "%.6g", a / 3 }')
fi
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
awk -v rate="$plain_rate" -v seeds="$seeds" -v level="$level" -v per_trial="${per_trial:-}" -v per_split="${per_split:-}" '
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
    if (per_trial != "") {
      plain_work = plain_trials * per_trial
      split_work = per_split * rv * 1.96 ^ 2 / 0.01
      ri = plain_work / split_work
      printf "instructions: plain %.0f per trial, %.3g for a 10%% relative error; splitting %.4g per run, %.3g for a 10%% relative error\n", per_trial, plain_work, per_split, split_work
      printf "ratio: %.0fx fewer instructions with splitting (95%% range from the %d seeds: %.0fx to %.0fx)\n", ri, n, ri * lo, ri * hi
    }
  }' "$out/splits"
