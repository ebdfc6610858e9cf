#!/usr/bin/env bash
# GET /me requests per second while sessions are being revoked, against the same load with no
# revocations, in one run on one server (issue "One write path"). Loopback only and bounded:
# every wrk run has -d and a timeout, the revoker stops by itself, and the server started here is
# stopped by PID on exit.
#
#   bench/revocation.sh            # TOKENS=2000 RATE=20 DUR=8 CONN=256 ROUNDS=3
#   BIN=/path/to/graphtoken bench/revocation.sh   # measure another build (say, an older commit)
#
# wrk (2 threads, CONN connections) calls GET /me with a random one of TOKENS tokens held by
# user0..user49 of bench/world.toml. In the "revoking" turns bench/revoke.py ends about RATE
# sessions a second of other people (user50..user99): a login, then a security reset (190/460).
# Turns alternate quiet / revoking, ROUNDS times. Prints a markdown table and writes it to
# bench/logs/revocation_latest.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TOKENS="${TOKENS:-2000}"
RATE="${RATE:-20}"
DUR="${DUR:-8}"
CONN="${CONN:-256}"
ROUNDS="${ROUNDS:-3}"
RUN="$(mktemp -d -t graphtoken-revocation.XXXXXX)"
# shellcheck source=bench/common.sh
source "$HERE/common.sh"

port=$(free_port)
base="http://127.0.0.1:$port"
"$BIN" serve --listen "127.0.0.1:$port" --db "sqlite://$RUN/bench.db" \
  --seed "$HERE/world.toml" --admin-key bench-admin-key >"$LOGS/revocation_server.out" 2>"$LOGS/revocation_server.log" &
PIDS+=($!)
wait_http "$base/healthz" || { log "graphtoken did not start"; exit 1; }
log "minting $TOKENS tokens for user0..user49"
python3 "$HERE/mint.py" "$base" bench-admin-key "$TOKENS" "$RUN/tokens.txt" 50
export TOKENS_FILE="$RUN/tokens.txt"
timeout 30 wrk -t2 -c"$CONN" -d3s -s "$PEERS/lua/get_random_token.lua" "$base/me" >/dev/null 2>&1 || true # warm

# measure NAME -> appends "name  req/s  p50  p99  non-2xx  note"
measure() {
  local name="$1" out note=""
  out="$LOGS/revocation_wrk_$(echo "$name" | tr -c 'A-Za-z0-9\n' '_').txt"
  if [[ "$name" == revoking* ]]; then
    python3 "$HERE/revoke.py" "$base" bench-admin-key "$RATE" "$DUR" 50 99 >"$RUN/revoked.txt" &
    local rpid=$!
  fi
  timeout $((DUR + 20)) wrk -t2 -c"$CONN" -d"${DUR}s" --latency -s "$PEERS/lua/get_random_token.lua" "$base/me" >"$out" 2>&1
  if [[ "$name" == revoking* ]]; then
    wait "$rpid"
    note="$(cat "$RUN/revoked.txt")"
  fi
  local rps total non2xx p50 p99
  IFS=$'\t' read -r rps total non2xx p50 p99 < <(python3 "$HERE/wrk_stats.py" "$out")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rps" "$p50" "$p99" "$non2xx" "$note" >>"$RUN/rows"
  tail -n1 "$RUN/rows" | sed 's/^/[bench]   /' >&2
}

for r in $(seq 1 "$ROUNDS"); do
  measure "quiet, round $r"
  measure "revoking, round $r"
done

{
  echo "run $(date -u +%FT%TZ), binary $BIN, $(nproc) cores, $TOKENS tokens, wrk 2 threads, $CONN connections, ${DUR}s, about $RATE revocations/s"
  echo
  echo "| turn | req/s | p50 | p99 | non-2xx | revocations |"
  echo "|---|---:|---:|---:|---:|---|"
  awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s |\n",$1,$2,$3,$4,$5,$6}' "$RUN/rows"
  echo
  python3 - "$RUN/rows" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
quiet = [float(r[1]) for r in rows if r[0].startswith("quiet")]
busy = [float(r[1]) for r in rows if r[0].startswith("revoking")]
ratios = [100 * b / q for q, b in zip(quiet, busy)]
print("revoking / quiet req/s by round: " + ", ".join(f"{x:.0f}%" for x in ratios))
print(f"median req/s: quiet {statistics.median(quiet):.0f}, revoking {statistics.median(busy):.0f} -> {100 * statistics.median(busy) / statistics.median(quiet):.0f}%")
PY
} | tee "$LOGS/revocation_latest.md"
