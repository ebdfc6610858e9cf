#!/usr/bin/env bash
# Two builds of graphtoken side by side, in one run, on loopback only: the same world for both
# (bench/endpoints.sh's: 100 people with 3 Pages each, tokens with pages_show_list), warmed the
# same way, then each endpoint measured in turns, A then B in odd rounds and B then A in even
# ones, so that a change is judged against its parent on the same noisy machine. Bounded: every
# wrk run has -d and a timeout; both servers are stopped by PID on exit.
#
#   A=/tmp/graphtoken-before B=target/release/graphtoken bench/ab.sh
#   A=... B=... ENDPOINTS="me debug_token accounts exchange" ROUNDS=4 DUR=6 bench/ab.sh
#   A=... B=... ENDPOINTS=debug_token WARM=/me bench/ab.sh   # warm /me only (default: both)
#
# Prints a markdown table and, per endpoint, B's req/s and req per server CPU-second as a share
# of A's, by round and as the median; writes it to bench/logs/ab.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TOKENS="${TOKENS:-20000}"
DUR="${DUR:-6}"
PROFILE="${PROFILE:-2:64}"
ROUNDS="${ROUNDS:-4}"
ENDPOINTS="${ENDPOINTS:-me debug_token accounts}"
WARM="${WARM:-/me /me/accounts}"
: "${A:?A=path of the first graphtoken binary}" "${B:?B=path of the second graphtoken binary}"
BIN="$A" # common.sh builds nothing when BIN is set
RUN="$(mktemp -d -t graphtoken-ab.XXXXXX)"
# shellcheck source=bench/common.sh
source "$HERE/common.sh"

for e in $ENDPOINTS; do endpoint "" "$e" || exit 2; done # refused before any work
unset TOKEN_PARAM
pages_world "$RUN/world.toml"
declare -A pid url
for side in A B; do
  port=$(free_port)
  "${!side}" serve --listen "127.0.0.1:$port" --db "sqlite://$RUN/$side.db" \
    --seed "$RUN/world.toml" --admin-key bench-admin-key >"$LOGS/ab_$side.out" 2>"$LOGS/ab_$side.log" &
  PIDS+=($!); pid[$side]=$!; url[$side]="http://127.0.0.1:$port"
  wait_http "${url[$side]}/healthz" || { log "graphtoken $side did not start"; exit 1; }
  log "minting $TOKENS tokens on $side"
  MINT_SCOPES=email,pages_show_list python3 "$HERE/mint.py" "${url[$side]}" bench-admin-key "$TOKENS" "$RUN/tokens_$side.txt"
  for path in $WARM; do
    pass=$((TOKENS / 2000 + 3))
    TOKENS_FILE="$RUN/tokens_$side.txt" timeout $((pass + 20)) wrk -t1 -c16 -d"${pass}s" \
      -s "$HERE/each_token_once.lua" "${url[$side]}$path" >/dev/null 2>&1 || true
  done
done

one() { # one SIDE ENDPOINT ROUND
  endpoint "${url[$1]}" "$2" || exit 2
  TOKENS_FILE="$RUN/tokens_$1.txt" LUA="$EP_LUA" measure "$1 $2, round $3" "${pid[$1]}" "$EP_URL"
  unset TOKEN_PARAM
}
for r in $(seq 1 "$ROUNDS"); do
  for e in $ENDPOINTS; do
    if [ $((r % 2)) -eq 1 ]; then one A "$e" "$r"; one B "$e" "$r"; else one B "$e" "$r"; one A "$e" "$r"; fi
  done
done

{
  echo "run $(date -u +%FT%TZ), $(nproc) cores, A = $A, B = $B, graphtoken on SQLite, $TOKENS tokens of 100 people with 3 Pages each, wrk ${PROFILE/:/ threads, } connections, ${DUR}s"
  echo
  rows_table
  echo
  python3 - "$RUN/rows" "$ENDPOINTS" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
for e in sys.argv[2].split():
    def col(side, i):
        return [float(r[i]) for r in rows if r[0].startswith(f"{side} {e},")]
    rps = [b / a for a, b in zip(col("A", 2), col("B", 2)) if a]
    cpu = [b / a for a, b in zip(col("A", 7), col("B", 7)) if a]
    print(f"{e}: B/A req/s by round " + ", ".join(f"{x:.2f}" for x in rps)
          + f", median {statistics.median(rps):.2f}; per server CPU-s " + ", ".join(f"{x:.2f}" for x in cpu)
          + f", median {statistics.median(cpu):.2f}")
PY
} | tee "$LOGS/ab.md"
