#!/usr/bin/env bash
# A real Slurm for brink's tests (issue 7).
#
# Starts a private single-node Slurm cluster on loopback from Debian's packages (slurm-wlm
# and munge; installed with apt-get if sbatch is missing), submits a sharded run of
# baghdad-2020 with `brink slurm --submit` (an array job, then a merge job with
# --dependency=afterok), waits for both by polling `scontrol`, checks that the merged folder
# equals a single-machine `brink run` byte for byte (every file; manifest.json but for its
# wall-clock fields). Then it does the same for a sharded sweep written with
# `brink slurm -- sweep ...`, and stops every daemon by its PID, whatever happens.
#
# Needs root: it installs packages and runs slurmctld, slurmd and munged as root. Nothing is
# written outside a temp dir: no /etc/slurm/slurm.conf (so Debian's init scripts stay
# idle), a private munge key and socket (a system munged, if any, is left alone), no
# accounting, no cgroups (proctrack/linuxproc, task/none). Every wait has a time limit.
#
# Usage, from anywhere:   sudo tests/slurm/run.sh
# Environment:
#   BRINK          the brink binary (default: $CARGO_TARGET_DIR or target, /release/brink;
#                  built if missing)
#   SHARDS=4       number of shards (array tasks)
#   TRIALS=20000   trials of the run
#   SWEEP_TRIALS=10000   trials per grid point of the sharded sweep (6 points)
#   SLURM_TIMEOUT=120   seconds to wait for the jobs; START_TIMEOUT=30 for the daemons
#   CTLD_PORT=6817 SLURMD_PORT=6818   ports on loopback
#   KEEP=1         keep the temp dir (configuration, logs, results) afterwards
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

SHARDS=${SHARDS:-4}
TRIALS=${TRIALS:-20000}
SWEEP_TRIALS=${SWEEP_TRIALS:-10000}
SLURM_TIMEOUT=${SLURM_TIMEOUT:-120}
START_TIMEOUT=${START_TIMEOUT:-30}
CTLD_PORT=${CTLD_PORT:-6817}
SLURMD_PORT=${SLURMD_PORT:-6818}
SCENARIO=scenarios/baghdad-2020.toml

say() { printf '[slurm-test %5ss] %s\n' "$SECONDS" "$*"; }
die() { say "FAILED: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (it installs slurm-wlm and munge, and runs their daemons); run it with sudo, or set BRINK_SLURM=0 for .ci/run to skip it"

# --- packages -----------------------------------------------------------------------------
if ! command -v sbatch >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  say "installing slurm-wlm and munge (Debian packages, no recommends)"
  export DEBIAN_FRONTEND=noninteractive
  timeout 300 apt-get update -qq
  timeout 300 apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi
for c in sbatch scontrol sinfo squeue scancel slurmctld slurmd munged mungekey; do
  command -v "$c" >/dev/null 2>&1 || die "$c not found after installing slurm-wlm and munge"
done
say "$(dpkg-query -W -f '${Package} ${Version}, ' slurm-wlm munge 2>/dev/null || true)$(uname -sr)"

# --- brink --------------------------------------------------------------------------------
BRINK=${BRINK:-${CARGO_TARGET_DIR:-target}/release/brink}
if [ ! -x "$BRINK" ]; then
  say "building $BRINK"
  cargo build --release --locked -q
fi
[ -x "$BRINK" ] || die "no brink binary at $BRINK (set BRINK=path/to/brink)"
BRINK=$(cd "$(dirname "$BRINK")" && pwd)/$(basename "$BRINK")

# --- the private cluster ------------------------------------------------------------------
tmp=$(mktemp -d /tmp/brink-slurm.XXXXXX)
mkdir -p "$tmp"/{munge,state,spool,run,log}
# munged wants every directory above its socket searchable by all (and none writable by all).
chmod 755 "$tmp" "$tmp/munge"
export SLURM_CONF=$tmp/slurm.conf

# Every process this script starts, for cleanup: name and PID file.
daemons=("slurmd:$tmp/run/slurmd.pid" "slurmctld:$tmp/run/slurmctld.pid" "munged:$tmp/munge/munged.pid")

# A stopped daemon may linger as a zombie until PID 1 reaps it: that counts as stopped.
alive() {
  local pid=$1 state
  [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f1)
  [ "$state" != Z ]
}

stop_daemon() {
  local name=$1 file=$2 pid i
  [ -s "$file" ] || return 0
  pid=$(cat "$file")
  # Only our own daemon: the PID must still belong to a process of that name.
  [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$name" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 50); do alive "$pid" || return 0; sleep 0.1; done
  say "$name ($pid) did not stop on SIGTERM; SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if [ -s "$tmp/run/slurmctld.pid" ]; then
    # Cancel jobs first: slurmstepd outlives slurmd otherwise.
    timeout 10 scancel --quiet --full "${array_id:-0}" "${merge_id:-0}" 2>/dev/null
    for j in $(timeout 5 squeue -h -o %A 2>/dev/null); do timeout 5 scancel --quiet "$j"; done
  fi
  for d in "${daemons[@]}"; do stop_daemon "${d%%:*}" "${d#*:}"; done
  if [ "$rc" -ne 0 ]; then
    for f in "$tmp"/log/*.log "$tmp"/munge/munged.log "$tmp"/job/logs/*.out "$tmp"/sweep/logs/*.out; do
      [ -s "$f" ] && { echo "----- $f (last 30 lines)"; tail -n 30 "$f"; } >&2
    done
  fi
  if [ "${KEEP:-0}" = 1 ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
  say "stopped everything (exit $rc)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$CTLD_PORT" "$SLURMD_PORT"; do
  port_busy "$p" && die "port $p on 127.0.0.1 is in use (another Slurm?); set CTLD_PORT/SLURMD_PORT"
done

# SlurmctldHost must be this machine's own short name. The daemons bind to whatever the
# hostname resolves to, so use its 127.x address from /etc/hosts (127.0.1.1 on stock Debian).
host=$(hostname -s)
addr=$(awk -v h="$host" '$1 ~ /^127\./ { for (i = 2; i <= NF; i++) if ($i == h || $i ~ "^" h "\\.") { print $1; exit } }' /etc/hosts)
comm=""
if [ -n "$addr" ]; then
  comm="CommunicationParameters=NoCtldInAddrAny,NoInAddrAny"
else
  say "warning: $host has no 127.x line in /etc/hosts; the daemons listen on all addresses"
  addr=127.0.0.1
fi
cpus=$(nproc)

mungekey --create --keyfile="$tmp/munge/munge.key" >/dev/null 2>&1 ||
  mungekey -c -k "$tmp/munge/munge.key"
chmod 600 "$tmp/munge/munge.key"
munged --socket="$tmp/munge/munge.socket" --key-file="$tmp/munge/munge.key" \
  --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/munge/munged.log" \
  --seed-file="$tmp/munge/munged.seed" --origin=127.0.0.1

cat >"$SLURM_CONF" <<EOF
ClusterName=brinkci
SlurmctldHost=$host($addr)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
${comm}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge/munge.socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/run/slurmctld.pid
SlurmdPidFile=$tmp/run/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
MinJobAge=3600
NodeName=$host NodeAddr=$addr NodeHostname=$host CPUs=$cpus State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld
slurmd
say "started munged, slurmctld, slurmd on $host ($addr), $cpus CPUs; waiting for the node"
t0=$SECONDS
until [ "$(timeout 5 sinfo -h -n "$host" -o %T 2>/dev/null | head -n1)" = idle ]; do
  [ $((SECONDS - t0)) -lt "$START_TIMEOUT" ] || die "the node is not idle after ${START_TIMEOUT}s: $(sinfo -h -o '%T %E' 2>&1)"
  sleep 0.2
done
say "node idle"

final() { case $1 in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | PREEMPTED | BOOT_FAIL | DEADLINE) return 0 ;; *) return 1 ;; esac; }
states() { timeout 10 scontrol -o show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }

# Waits for the array job $array_id and the merge job $merge_id submitted at $submitted,
# checks that every task and the merge COMPLETED with exit 0, and sets $took.
wait_jobs() {
  local last="" now merge_state array_states report bad tasks
  while :; do
    merge_state=$(states "$merge_id" | head -n1)
    array_states=$(states "$array_id" | sort | uniq -c | awk '{printf "%s%s x%s", sep, $2, $1; sep=", "}')
    now="shards: ${array_states:-?}; merge: ${merge_state:-?}"
    [ "$now" != "$last" ] && say "$now"
    last=$now
    if [ -n "$merge_state" ] && final "$merge_state"; then break; fi
    [ $((SECONDS - submitted)) -lt "$SLURM_TIMEOUT" ] || die "jobs not done after ${SLURM_TIMEOUT}s"
    sleep 0.5
  done
  took=$((SECONDS - submitted))
  report=$(timeout 10 scontrol -o show job "$array_id"; timeout 10 scontrol -o show job "$merge_id")
  bad=$(printf '%s\n' "$report" | grep -v 'JobState=COMPLETED .*ExitCode=0:0' || true)
  tasks=$(printf '%s\n' "$report" | grep -c 'ArrayTaskId=' || true)
  if [ -n "$bad" ] || [ "$tasks" -ne "$SHARDS" ]; then
    printf '%s\n' "$report" | grep -o 'JobId=[0-9]* \(ArrayJobId=[0-9]* ArrayTaskId=[0-9]* \)\?\|JobState=[A-Z_]*\|ExitCode=[0-9:]*' >&2 || true
    die "not every job COMPLETED with ExitCode=0:0 ($tasks array tasks)"
  fi
  say "array job $array_id ($SHARDS tasks) and merge job $merge_id COMPLETED, exit 0, ${took}s after submission"
}

# Wall-clock seconds of a command, to 3 decimals, in $secs.
timed() {
  local t0
  t0=$(date +%s.%N)
  "$@"
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
}

# --- the run ------------------------------------------------------------------------------
job=$tmp/job
submitted=$SECONDS
"$BRINK" slurm --shards "$SHARDS" --dir "$job" --partition ci --time 00:10:00 --submit \
  -- run "$SCENARIO" --trials "$TRIALS"
array_id=$(cat "$job/array.jobid")
merge_id=$(cat "$job/merge.jobid")
wait_jobs

# --- the check ----------------------------------------------------------------------------
timed "$BRINK" run "$SCENARIO" --trials "$TRIALS" --out "$tmp/single" --quiet
say "the single-machine run took ${secs}s"
merged=$job/results
[ -f "$merged/manifest.json" ] || die "no merged results in $merged"
diff -r --exclude=manifest.json "$tmp/single" "$merged" >&2 || die "the merged folder differs from a single run"
# manifest.json: equal but for the fields that describe how the run was made.
stable() {
  awk '/^  "command": \[/ { skip = 1; next }
       skip && /^  \],?$/ { skip = 0; next }
       skip { next }
       /^  "(threads|wall_seconds|trials_per_second|events_per_second)":/ { next }
       { print }' "$1"
}
diff <(stable "$tmp/single/manifest.json") <(stable "$merged/manifest.json") >&2 ||
  die "manifest.json differs from a single run's beyond threads, wall_seconds, trials_per_second, events_per_second and command"
n=$(find "$merged" -type f | wc -l)
say "OK: the merged folder ($n files) equals a single brink run byte for byte"

# --- a sharded sweep ----------------------------------------------------------------------
# `brink slurm -- COMMAND ...` writes the same jobs for compare, sweep and sensitivity: here
# a 2-param sweep of baghdad-2020, split by trials, against the same sweep on one machine.
# A sweep's manifest.json has no wall-clock fields, so the whole folder must be equal.
sweep=(sweep "$SCENARIO" --param p_targeted_killing=0.1:0.6:3
  --param p_iran_strike_after_leader_killed=0.6:0.95:2 --trials "$SWEEP_TRIALS")
job=$tmp/sweep
submitted=$SECONDS
"$BRINK" slurm --shards "$SHARDS" --dir "$job" --partition ci --time 00:10:00 --submit -- "${sweep[@]}"
array_id=$(cat "$job/array.jobid")
merge_id=$(cat "$job/merge.jobid")
wait_jobs
timed "$BRINK" "${sweep[@]}" --out "$tmp/single-sweep" --quiet
say "the single-machine sweep took ${secs}s"
[ -f "$job/results/sweep.csv" ] || die "no merged sweep in $job/results"
diff -r "$tmp/single-sweep" "$job/results" >&2 || die "the merged sweep differs from a single-machine sweep"
n=$(find "$job/results" -type f | wc -l)
say "OK: the merged sweep ($n files) equals a single-machine sweep byte for byte; total ${SECONDS}s"
