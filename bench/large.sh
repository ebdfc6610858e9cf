#!/usr/bin/env bash
# A large world (issue #14, point 3): TOKENS live tokens (ten million by default) stored with
# `graphtoken bench populate`, then GET /me over random ones of all of them against the same
# server over HOT of them (20,000), in alternating turns, with the server's resident memory
# after each turn, its start-up on that database, and the database's size per token. Both loads
# use bench/random_line.lua (a random line of the token file per request), so wrk costs the
# same in both. Loopback only; bounded: every wrk run has -d and a timeout; every server started
# here is stopped by PID on exit.
#
#   bench/large.sh                            # TOKENS=10000000 HOT=20000 DUR=8 ROUNDS=3
#   TOKENS=1000000 BIN=/path/to/graphtoken bench/large.sh
#   BUDGET=160 bench/large.sh                 # the server's --memory-budget, in MiB (default 256)
#
# Needs about 2.5 GB of disk in $TMPDIR for ten million tokens. Prints a markdown table and
# writes it to bench/logs/large.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TOKENS="${TOKENS:-10000000}"
HOT="${HOT:-20000}"
DUR="${DUR:-8}"
PROFILE="${PROFILE:-2:64}"
ROUNDS="${ROUNDS:-3}"
BUDGET="${BUDGET:-256}"
RUN="$(mktemp -d -t graphtoken-large.XXXXXX)"
# shellcheck source=bench/common.sh
source "$HERE/common.sh"
large_world "$BIN"
db_bytes=$(du -cb "$RUN"/large.db* | tail -n1 | cut -f1)

# start: the server on the large database (gpid, port); ready_ms: the time until /healthz
# answers.
start() {
  local t0 t1
  port=$(free_port)
  t0=$(date +%s%N)
  "$BIN" serve --listen "127.0.0.1:$port" --db "$DB" --admin-key bench-admin-key \
    --memory-budget "$BUDGET" >>"$LOGS/large.out" 2>>"$LOGS/large.log" &
  gpid=$!; PIDS+=("$gpid")
  local up=""
  for _ in $(seq 1 3000); do curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/healthz" && { up=1; break; }; sleep 0.01; done
  [ -n "$up" ] || { log "graphtoken did not start (bench/logs/large.log)"; exit 1; }
  t1=$(date +%s%N)
  ready_ms=$(((t1 - t0) / 1000000))
}
rss() { awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
hwm() { awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

start
first_start=$ready_ms
log "ready in $first_start ms"
me="http://127.0.0.1:$port/me"
: >"$RUN/rss"
for r in $(seq 1 "$ROUNDS"); do
  TOKENS_FILE="$RUN/hot.txt" LUA="$HERE/random_line.lua" measure "GET /me over $HOT tokens, round $r" "$gpid" "$me"
  echo "$(rss "$gpid")" >>"$RUN/rss"
  TOKENS_FILE="$RUN/tokens.txt" LUA="$HERE/random_line.lua" measure "GET /me over all $TOKENS tokens, round $r" "$gpid" "$me"
  echo "$(rss "$gpid")" >>"$RUN/rss"
done
peak=$(hwm "$gpid")
kill -TERM "$gpid"; wait "$gpid" 2>/dev/null || true
start
restart=$ready_ms
log "restarted in $restart ms"
kill -TERM "$gpid"; wait "$gpid" 2>/dev/null || true

{
  echo "run $(date -u +%FT%TZ), commit $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) cores, graphtoken on SQLite (--memory-budget $BUDGET), $TOKENS tokens of 100 people, wrk ${PROFILE/:/ threads, } connections, ${DUR}s, bench/random_line.lua"
  echo
  echo "$(tail -n2 "$RUN/populate.txt" | tr '\n' ' ')"
  echo
  echo "| load | req/s | p50 | p99 | non-2xx | server CPU % | req per server CPU-s | RSS after (MiB) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  paste "$RUN/rows" "$RUN/rss" | awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n",$1,$3,$4,$5,$6,$7,$8,$9}'
  echo
  python3 - "$RUN/rows" "$TOKENS" "$HOT" "$db_bytes" "$first_start" "$restart" "$peak" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
tokens, hot, db, first, again, peak = (int(x) for x in sys.argv[2:])
h = [float(r[2]) for r in rows if f"over {hot} tokens" in r[0]]
a = [float(r[2]) for r in rows if "over all" in r[0]]
print(f"GET /me over all {tokens} tokens: by round " + ", ".join(f"{x / y:.2f}" for x, y in zip(a, h))
      + f" of the same server over {hot}; medians {statistics.median(a):.0f} / {statistics.median(h):.0f} req/s = {statistics.median(a) / statistics.median(h):.2f}")
print(f"server resident memory at its peak: {peak} MiB")
print(f"ready after start: {first} ms; after a restart: {again} ms")
print(f"database with its WAL: {db / 2**20:.0f} MiB, {db / tokens:.0f} bytes per token")
PY
} | tee "$LOGS/large.md"
