#!/usr/bin/env bash
# The redraw time of `brink serve` (docs/performance.md#brink-serve): what the page asks
# for when a slider is released, timed from the request to the last byte of the answer.
#
#   cargo build --release --features serve && bash benches/serve_redraw.sh [SCENARIO] [REPEATS]
#
# It starts the release binary on a free port, loads the baseline once (as opening the
# page does), then for 20,000 and 100,000 trials moves one param to REPEATS different
# values: each request runs the changed scenario, pairs it with the baseline and draws
# the levels and time_to_level charts, as the page's request does. Prints the median and
# the slowest time of each. Needs curl. BIN=path/to/brink measures another build (to
# compare two builds at the same load, alternating them).
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-scenarios/baghdad-2020.toml}
repeats=${2:-9}
param=${PARAM:-p_iraqi_arrests}
out=$(mktemp)
bin=${BIN:-target/release/brink}
"$bin" serve "$scenario" --port 0 >"$out" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 50); do
    grep -q http "$out" && break
    sleep 0.1
done
addr=$(grep -o 'http://[^ ]*' "$out")
charts="chart=levels&chart=time_to_level"
for trials in 20000 100000; do
    curl -sf -o /dev/null "${addr}api/run?trials=$trials&$charts"
    times=()
    for i in $(seq "$repeats"); do
        value=$(awk -v i="$i" 'BEGIN { printf "%.3f", 0.02 + 0.04 * i }')
        t=$(curl -sf -o /dev/null -w '%{time_total}' "${addr}api/run?trials=$trials&set=$param=$value&$charts")
        times+=("$t")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk -v n="$trials" '
        { t[NR] = $1 }
        END { printf "%6d trials: median %.0f ms, slowest %.0f ms (%d redraws)\n", n, 1000 * t[int((NR + 1) / 2)], 1000 * t[NR], NR }'
done
