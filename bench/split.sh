#!/usr/bin/env bash
# Where a request's CPU goes: the server's user-space and kernel time per request, for the axum
# baseline and graphtoken's endpoints in turns (issue #14, point 1), on the world of
# bench/endpoints.sh (100 people with 3 Pages each, tokens with pages_show_list), loopback only.
# Each turn reads the server's utime and stime (/proc/PID/stat) around one wrk run and divides
# by the requests wrk counted. With WORKERS=N both servers run N worker threads (the baseline's
# WORKERS, graphtoken's TOKIO_WORKER_THREADS); by default, one per core. Comparing WORKERS=1
# with the default shows what the cores' sharing costs each server (cache lines passed between
# them, wake-ups). Bounded: every wrk run has -d and a timeout; both servers are stopped by PID
# on exit.
#
#   bench/split.sh                                   # ENDPOINTS="me debug_token" ROUNDS=3 DUR=6
#   WORKERS=1 BIN=/path/to/graphtoken bench/split.sh
#
# Prints a markdown table and writes it to bench/logs/split.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TOKENS="${TOKENS:-20000}"
DUR="${DUR:-6}"
ROUNDS="${ROUNDS:-3}"
ENDPOINTS="${ENDPOINTS:-me debug_token}"
RUN="$(mktemp -d -t graphtoken-split.XXXXXX)"
# shellcheck source=bench/common.sh
source "$HERE/common.sh"
for e in $ENDPOINTS; do endpoint "" "$e" || exit 2; done # refused before any work
unset TOKEN_PARAM
pages_world "$RUN/world.toml"

[ -z "${WORKERS:-}" ] || export WORKERS TOKIO_WORKER_THREADS="$WORKERS"
start_baseline "$TOKENS"
pages_server graphtoken

# turn NAME PID URL LUA TOKENS_FILE [TOKEN_PARAM]: one wrk run (after a 2 s warm-up), and a row
# NAME, req/s, user and system µs per request.
turn() {
  local name="$1" pid="$2" url="$3" lua="$4" file="$5" u0 s0 u1 s1 out="$LOGS/split_wrk.txt"
  export TOKENS_FILE="$file" TOKEN_PARAM="${6:-}"
  [ -n "$TOKEN_PARAM" ] || unset TOKEN_PARAM
  timeout 20 wrk -t1 -c16 -d2s -s "$lua" "$url" >/dev/null 2>&1 || true
  read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$pid/stat")
  timeout $((DUR + 20)) wrk -t2 -c64 -d"${DUR}s" -s "$lua" "$url" >"$out" 2>&1
  read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$pid/stat")
  python3 - "$name" "$out" "$u0" "$s0" "$u1" "$s1" "$(getconf CLK_TCK)" "$HERE/wrk_stats.py" >>"$RUN/rows" <<'PY'
import subprocess, sys
name, out, u0, s0, u1, s1, tck, stats = sys.argv[1:]
rps, total = subprocess.run([sys.executable, stats, out], capture_output=True, text=True, check=True).stdout.split("\t")[:2]
per = lambda a, b: (int(b) - int(a)) / float(tck) / int(total) * 1e6
print("\t".join([name, f"{float(rps):.0f}", f"{per(u0, u1):.2f}", f"{per(s0, s1):.2f}"]))
PY
  tail -n1 "$RUN/rows" | sed 's/^/[bench]   /' >&2
}

for r in $(seq 1 "$ROUNDS"); do
  turn "axum baseline GET /hello_auth, round $r" "$apid" "$aurl" "$PEERS/lua/get_random_token.lua" "$RUN/axum_tokens.txt"
  for e in $ENDPOINTS; do
    endpoint "$g" "$e"
    turn "graphtoken $e, round $r" "$gpid" "$EP_URL" "$EP_LUA" "$RUN/gt_tokens.txt" "${TOKEN_PARAM:-}"
    unset TOKEN_PARAM
  done
done

{
  echo "run $(date -u +%FT%TZ), commit $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) cores, ${WORKERS:-default} worker threads, $TOKENS tokens, wrk 2 threads, 64 connections, ${DUR}s"
  echo
  echo "| server | req/s | user µs per request | system µs per request |"
  echo "|---|---:|---:|---:|"
  awk -F'\t' '{printf "| %s | %s | %s | %s |\n",$1,$2,$3,$4}' "$RUN/rows"
} | tee "$LOGS/split.md"
