#!/usr/bin/env bash
# Durable issuance held for a minute (issue #14, point 2): fb_exchange_token of a random token
# of the bench world (bench/endpoints.sh's), each answer a new token written before it is sent,
# for DUR seconds at a stretch, ROUNDS times on one server: the database and its WAL grow the
# whole time, so checkpoints and WAL start-overs fall inside the measurement (endpoints.sh's 8 s
# turns catch a few). Reports tokens/s, p50, p99 and the longest wait. Loopback only; bounded:
# every wrk run has -d and a timeout; the server is stopped by PID on exit.
#
#   bench/issuance.sh                     # TOKENS=20000 DUR=60 PROFILE=2:64 ROUNDS=2
#   BIN=/path/to/graphtoken DUR=30 bench/issuance.sh
#
# Prints a markdown table and writes it to bench/logs/issuance.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TOKENS="${TOKENS:-20000}"
DUR="${DUR:-60}"
PROFILE="${PROFILE:-2:64}"
ROUNDS="${ROUNDS:-2}"
RUN="$(mktemp -d -t graphtoken-issuance.XXXXXX)"
# shellcheck source=bench/common.sh
source "$HERE/common.sh"

pages_world "$RUN/world.toml"
pages_server graphtoken
endpoint "$g" exchange
name() { echo "graphtoken fb_exchange_token (durable), ${DUR} s, round $1"; }
# longest R: round R's longest wait, from the wrk output measure() kept.
longest() { awk '$1 == "Latency" {print $4; exit}' "$LOGS/wrk_$(name "$1" | tr -c 'A-Za-z0-9\n' '_').txt"; }
for r in $(seq 1 "$ROUNDS"); do
  TOKENS_FILE="$RUN/gt_tokens.txt" LUA="$EP_LUA" measure "$(name "$r")" "$gpid" "$EP_URL"
  log "  longest wait: $(longest "$r")"
done

{
  echo "run $(date -u +%FT%TZ), commit $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) cores, graphtoken on SQLite, $TOKENS tokens of 100 people with 3 Pages each, wrk ${PROFILE/:/ threads, } connections, ${DUR}s a round"
  echo
  rows_table
  echo
  for r in $(seq 1 "$ROUNDS"); do
    echo "round $r: longest wait $(longest "$r")"
  done
} | tee "$LOGS/issuance.md"
