#!/usr/bin/env bash
# npm run bench: the `_entities` hot path of the real server (src/server.ts) against a bare
# graphql-js baseline (bench/serve-bare.ts) and against the real server without authorization
# (bench/serve-candidate.ts --no-auth), and the dual-read budget (the real server shadowing at
# 10%, bench/serve-candidate.ts --shadow, against itself with shadowing off, at light load), on a dedicated
# seeded database. Servers run pinned to
# core 1; PostgreSQL, wrk and this script's helpers to core 0. Results: a table on stdout and
# bench/results/latest.json. Exits 0 whether targets pass or not; non-zero only if something broke.
# Then the spends phase (bench/spends.ts) on the same database: spendPrivacyBudget at 32 clients,
# on one hot tenant and over 100 tenants, real server against the bare one; non-zero if a budget
# window's counter disagrees with its spend rows. Then the RDP phase (bench/spends-rdp.ts): RDP
# spends on one hot tenant against BASIC ones, on the real server. package.json's `bench` then runs the decision-log
# ingest phase (bench/decisions.ts, its own server and database).
# Then the shapes phase (bench/shapes.ts): what a gateway mostly sends ({ __typename }, small
# _entities batches, ledger(first: 100), 20 x evidence(first: 10) with cursors), each against the
# bare server, with graphql-jit on both sides (bare-jit, candidate-jit); 1,000 callers' tokens in
# rotation; the idle CPU and RSS of a server as deployed (deployed). The idle phase (bench/idle.ts,
# not in the default phases) measures only that, with only the deployed server running.
#
# Settings (env): DATABASE_URL (else an embedded PostgreSQL in a temp folder), BENCH_ROUNDS (8;
# fewer if BENCH_ROUNDS_BUDGET_SECONDS, 180, runs out first on a busy machine),
# BENCH_SLICE_SECONDS (4), BENCH_WARMUP_SECONDS (4), BENCH_CONNECTIONS (8),
# BENCH_PROFILE=1 (after the slices, profile one more slice of each server: V8 CPU profiles in
# bench/results/profiles/, summarised by bench/profile-summary.ts), BENCH_LIGHT_ROUNDS (8),
# BENCH_LIGHT_SLICE_SECONDS (8), BENCH_LIGHT_THINK_MS (the p50 of a back-to-back slice),
# BENCH_SPEND_ROUNDS (3), BENCH_SPEND_SLICE_SECONDS (5), BENCH_SHAPE_ROUNDS (BENCH_ROUNDS, else 4),
# BENCH_SHAPE_SLICE_SECONDS (3), BENCH_IDLE_SECONDS (10), BENCH_IDLE_SETTLE_SECONDS (idle phase: 120),
# BENCH_PHASES ("entities spends rdp shapes": which of this script's phases run; "idle" alone:
# the deployed server's idle cost, with BENCH_PROFILE=1 a profile of its idle window).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
command -v taskset >/dev/null || (apt-get update && apt-get install -y util-linux)

if [ "$(nproc)" -ge 2 ]; then
  LOAD_CORE=0 SERVER_CORE=1
else
  echo "bench: only one core; servers, PostgreSQL and wrk share it (figures will be noisy)" >&2
  LOAD_CORE=0 SERVER_CORE=0
fi
export BENCH_WRK_CORE=$LOAD_CORE BENCH_SERVER_CORE=$SERVER_CORE

RUN=$(mktemp -d /tmp/ig-bench.XXXXXX)
DB_PID="" PM_PID="" PM_AFFINITY="" EMBEDDED="" MEASURE_PID=""
SERVER_PIDS=()

stop_pid() { # pid, seconds to wait before SIGKILL, [signal to ask with (TERM)]
  local pid=$1 waited=0
  kill -0 "$pid" 2>/dev/null || return 0
  kill "-${3:-TERM}" "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt "$(( $2 * 10 ))" ]; do sleep 0.1; waited=$((waited + 1)); done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "$MEASURE_PID" ] && stop_pid "$MEASURE_PID" 5
  for pid in "${SERVER_PIDS[@]}"; do stop_pid "$pid" 10; done
  # bench/db.ts drops its database (or stops its embedded PostgreSQL) on SIGUSR2.
  [ -n "$DB_PID" ] && stop_pid "$DB_PID" 30 USR2
  if [ -n "$PM_PID" ] && [ -d "/proc/$PM_PID" ]; then
    if [ "$EMBEDDED" = true ]; then
      # Ours: bench/db.ts stops it; if that failed, the postmaster goes too.
      kill -TERM "$PM_PID" 2>/dev/null || true
    elif [ -n "$PM_AFFINITY" ]; then
      # Someone else's PostgreSQL: give its processes their cores back.
      for p in "$PM_PID" $(pgrep -P "$PM_PID" || true); do taskset -pc "$PM_AFFINITY" "$p" >/dev/null 2>&1 || true; done
    fi
  fi
  rm -rf "$RUN"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_for() { # file, pid, what, seconds
  local waited=0
  until [ -s "$1" ]; do
    if ! kill -0 "$2" 2>/dev/null; then echo "bench: $3 exited before it was ready:" >&2; cat "$RUN"/*.log >&2 || true; exit 1; fi
    if [ "$waited" -ge "$(( $4 * 10 ))" ]; then echo "bench: $3 not ready after $4 s" >&2; cat "$RUN"/*.log >&2 || true; exit 1; fi
    sleep 0.1; waited=$((waited + 1))
  done
}
json() { node -e "process.stdout.write(String(JSON.parse(require('fs').readFileSync(process.argv[1],'utf8'))[process.argv[2]] ?? ''))" "$1" "$2"; }

if [ -n "${DATABASE_URL:-}" ]; then where="on DATABASE_URL's PostgreSQL"; else where="on an embedded PostgreSQL"; fi
echo "bench: preparing the database $where…"
taskset -c "$LOAD_CORE" node --import tsx bench/db.ts "$RUN/db.json" >"$RUN/db.log" 2>&1 &
DB_PID=$!
wait_for "$RUN/db.json" "$DB_PID" "bench/db.ts" 180
cat "$RUN/db.log"
BENCH_DB_URL=$(json "$RUN/db.json" url)
EMBEDDED=$(json "$RUN/db.json" embedded)
PM_PID=$(json "$RUN/db.json" postmasterPid)
if [ -n "$PM_PID" ] && [ -d "/proc/$PM_PID" ]; then
  PM_AFFINITY=$(taskset -pc "$PM_PID" | sed 's/.*: //')
  # A backend may exit between pgrep and taskset (a shared PostgreSQL): not an error.
  for p in "$PM_PID" $(pgrep -P "$PM_PID" || true); do taskset -pc "$LOAD_CORE" "$p" >/dev/null 2>&1 || true; done
  echo "bench: PostgreSQL (postmaster $PM_PID) pinned to core $LOAD_CORE"
else
  echo "bench: PostgreSQL does not run on this machine; not pinned" >&2
  PM_PID=""
fi

if [ "${BENCH_PROFILE:-}" = 1 ]; then export BENCH_PROFILE_DIR="$PWD/bench/results/profiles"; fi
# The servers run compiled, as `npm start` runs the product (bench/compile.mjs says why): src/ from
# a fresh dist/, each server entry of bench/ bundled into bench/.compiled/.
node scripts/build.mjs
node bench/compile.mjs bench/serve-bare.ts bench/serve-candidate.ts
start_server() { # name, entry of bench/.compiled, args…
  local name=$1 entry=$2; shift 2
  # NODE_ENV=production in the environment as deployed: graphql-js reads it at load time and
  # otherwise runs its development-mode instanceOf checks (~5% of the CPU of this request).
  NODE_ENV=production DATABASE_URL="$BENCH_DB_URL" BENCH_READY="$RUN/$name.json" \
    taskset -c "$SERVER_CORE" node "bench/.compiled/$entry" "$@" >"$RUN/$name.log" 2>&1 &
  SERVER_PIDS+=($!)
}
PHASES=" ${BENCH_PHASES:-entities spends rdp shapes} "
phase() { [[ "$PHASES" == *" $1 "* ]]; }
NAMES=()
if phase entities || phase spends || phase rdp || phase shapes; then
  NAMES+=(bare candidate noauth shadow)
  start_server bare serve-bare.mjs
  GRAPHQL_EXECUTOR=graphql-js start_server candidate serve-candidate.mjs
  GRAPHQL_EXECUTOR=graphql-js start_server noauth serve-candidate.mjs --no-auth
  # The dual-read budget: the same server shadowing the seeded migration (bench/shadow-routes.ts).
  GRAPHQL_EXECUTOR=graphql-js BENCH_SHADOW_MIGRATION_ID=$(json "$RUN/db.json" shadowMigrationId) start_server shadow serve-candidate.mjs --shadow
fi
if phase shapes; then
  NAMES+=(bare-jit bare-apollo candidate-jit)
  start_server bare-jit serve-bare.mjs --jit
  start_server bare-apollo serve-bare.mjs --apollo
  GRAPHQL_EXECUTOR=jit start_server candidate-jit serve-candidate.mjs
fi
if phase shapes || phase idle; then
  NAMES+=(deployed)
  start_server deployed serve-candidate.mjs --as-deployed
fi
for i in "${!NAMES[@]}"; do
  wait_for "$RUN/${NAMES[$i]}.json" "${SERVER_PIDS[$i]}" "${NAMES[$i]} server" 180
done
echo "bench: servers up (${NAMES[*]}) on core $SERVER_CORE"

# In the background and waited for, so that a signal reaches the trap at once.
for p in entities:measure spends:spends rdp:spends-rdp shapes:shapes idle:idle; do
  phase "${p%%:*}" || continue
  taskset -c "$LOAD_CORE" node --import tsx "bench/${p#*:}.ts" "$RUN" &
  MEASURE_PID=$!
  wait "$MEASURE_PID"
done
