#!/usr/bin/env bash
# Two builds of graphtoken on one large world (issue #14, point 3), side by side: TOKENS
# long-lived tokens stored with A's `graphtoken bench populate`, each server started on a copy
# of that database of its own (a SQLite file serves one process at a time), then in turns (A first in odd rounds, B first in even ones) GET /me over HOT random
# ones of them and over all of them, with bench/random_line.lua. A and B must want the same
# schema: each migrates the database it is given. Loopback only; bounded: every wrk run has -d
# and a timeout; both servers are stopped by PID on exit. Needs about 4 GB of disk in $TMPDIR
# for ten million tokens.
#
#   A=/tmp/graphtoken-before B=target/release/graphtoken bench/large_ab.sh
#   A=... B=... TOKENS=1000000 ROUNDS=3 BUDGET=256 bench/large_ab.sh
#
# Prints a markdown table, each server's peak resident memory, and per round B's share of A;
# writes it to bench/logs/large_ab.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TOKENS="${TOKENS:-10000000}"
HOT="${HOT:-20000}"
DUR="${DUR:-8}"
PROFILE="${PROFILE:-2:64}"
ROUNDS="${ROUNDS:-3}"
BUDGET="${BUDGET:-256}"
: "${A:?A=path of the first graphtoken binary}" "${B:?B=path of the second graphtoken binary}"
BIN="$A" # common.sh builds nothing when BIN is set
RUN="$(mktemp -d -t graphtoken-large-ab.XXXXXX)"
# shellcheck source=bench/common.sh
source "$HERE/common.sh"
large_world "$A"
# A copy each, both written the same way (a SQLite file serves one process at a time).
for side in a b; do
  cp "$RUN/large.db" "$RUN/large_$side.db"
  [ ! -f "$RUN/large.db-wal" ] || cp "$RUN/large.db-wal" "$RUN/large_$side.db-wal"
done
rm -f "$RUN/large.db" "$RUN/large.db-wal" "$RUN/large.db-shm"

declare -A pid url db=([A]="sqlite://$RUN/large_a.db" [B]="sqlite://$RUN/large_b.db")
for side in A B; do
  port=$(free_port)
  "${!side}" serve --listen "127.0.0.1:$port" --db "${db[$side]}" --admin-key bench-admin-key \
    --memory-budget "$BUDGET" >>"$LOGS/large_ab_$side.out" 2>>"$LOGS/large_ab_$side.log" &
  PIDS+=($!); pid[$side]=$!; url[$side]="http://127.0.0.1:$port/me"
  wait_http "http://127.0.0.1:$port/healthz" || { log "graphtoken $side did not start"; exit 1; }
done
for r in $(seq 1 "$ROUNDS"); do
  order="A B"; [ $((r % 2)) -eq 1 ] || order="B A"
  for side in $order; do
    TOKENS_FILE="$RUN/hot.txt" LUA="$HERE/random_line.lua" measure "$side GET /me over $HOT tokens, round $r" "${pid[$side]}" "${url[$side]}"
    TOKENS_FILE="$RUN/tokens.txt" LUA="$HERE/random_line.lua" measure "$side GET /me over all $TOKENS tokens, round $r" "${pid[$side]}" "${url[$side]}"
  done
done

{
  echo "run $(date -u +%FT%TZ), $(nproc) cores, A = $A, B = $B, graphtoken on SQLite (--memory-budget $BUDGET), $TOKENS tokens of 100 people, wrk ${PROFILE/:/ threads, } connections, ${DUR}s, bench/random_line.lua"
  echo
  grep -m1 "^stored" "$RUN/populate.txt" || true
  echo
  rows_table
  echo
  for side in A B; do
    echo "$side: peak resident memory $(awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/${pid[$side]}/status") MiB"
  done
  python3 - "$RUN/rows" "$TOKENS" "$HOT" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
tokens, hot = sys.argv[2], sys.argv[3]
def col(side, what, i):
    return [float(r[i]) for r in rows if r[0].startswith(f"{side} GET /me over {what}")]
for side in "AB":
    ratio = [a / h for a, h in zip(col(side, "all", 2), col(side, hot, 2)) if h]
    print(f"{side}: over all {tokens} against over {hot}, by round " + ", ".join(f"{x:.2f}" for x in ratio))
rps = [b / a for a, b in zip(col("A", "all", 2), col("B", "all", 2)) if a]
cpu = [b / a for a, b in zip(col("A", "all", 7), col("B", "all", 7)) if a]
print("over all: B/A req/s by round " + ", ".join(f"{x:.2f}" for x in rps)
      + "; per server CPU-s " + ", ".join(f"{x:.2f}" for x in cpu))
PY
} | tee "$LOGS/large_ab.md"
