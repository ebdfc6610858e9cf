#!/usr/bin/env bash
# GET /me requests per second with 100,000 tokens in the store, side by side with the axum
# hello-world baseline from ../shared/bench, in one run, on loopback only. Bounded: every wrk run
# has -d and a timeout; every server started here is stopped by PID on exit.
#
#   bench/run.sh                 # TOKENS=100000 DUR=8 PROFILE=2:64 ROUNDS=3
#   TOKENS=20000 DUR=5 ROUNDS=1 bench/run.sh
#   BIN=/path/to/graphtoken bench/run.sh   # measure a build made elsewhere
#   BACKEND=postgres bench/run.sh          # graphtoken on a throwaway PostgreSQL (scripts/with-postgres)
#
# Prints a markdown table and writes it to bench/logs/latest.md (raw wrk output beside it).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TOKENS="${TOKENS:-100000}"
DUR="${DUR:-8}"
PROFILE="${PROFILE:-2:64}"
ROUNDS="${ROUNDS:-3}"
BACKEND="${BACKEND:-sqlite}"
if [ "$BACKEND" = postgres ] && [ -z "${GRAPHTOKEN_TEST_POSTGRES:-}" ]; then
  exec "$ROOT/scripts/with-postgres" "$0" "$@"
fi
RUN="$(mktemp -d -t graphtoken-bench.XXXXXX)"
# shellcheck source=bench/common.sh
source "$HERE/common.sh"
# Both servers run side by side; they are measured in turns, ROUNDS times, so that drift on
# the machine hits both alike.
start_baseline "$TOKENS"

port=$(free_port)
case "$BACKEND" in
  postgres) DB="$GRAPHTOKEN_TEST_POSTGRES" ;;
  *) DB="sqlite://$RUN/bench.db" ;;
esac
"$BIN" serve --listen "127.0.0.1:$port" --db "$DB" \
  --seed "$HERE/world.toml" --admin-key bench-admin-key >"$LOGS/graphtoken.out" 2>"$LOGS/graphtoken.log" &
PIDS+=($!); gpid=$!; gurl="http://127.0.0.1:$port/me"
wait_http "http://127.0.0.1:$port/healthz" || { log "graphtoken did not start"; exit 1; }
log "minting $TOKENS tokens through the admin API"
start=$(date +%s)
python3 "$HERE/mint.py" "http://127.0.0.1:$port" bench-admin-key "$TOKENS" "$RUN/gt_tokens.txt"
log "minted in $(( $(date +%s) - start )) s"

# cold: right after minting, most requests are a token's first touch (a store read); once only
TOKENS_FILE="$RUN/gt_tokens.txt" measure "graphtoken GET /me, cold" "$gpid" "$gurl"
# warm: every token seen once (one sequential pass, not measured)
log "one pass over every token"
# (the script stops sending after the last token; wrk still waits out -d, sized for >= 4k req/s)
pass=$((TOKENS / 4000 + 3))
TOKENS_FILE="$RUN/gt_tokens.txt" timeout $((pass + 20)) wrk -t1 -c16 -d"${pass}s" -s "$HERE/each_token_once.lua" "$gurl" >"$LOGS/warm_pass.txt" 2>&1 || true
seen=$(awk '/requests in/{print $1}' "$LOGS/warm_pass.txt")
[ "${seen:-0}" -ge "$TOKENS" ] || log "warning: the pass made ${seen:-0} requests for $TOKENS tokens"

for r in $(seq 1 "$ROUNDS"); do
  TOKENS_FILE="$RUN/axum_tokens.txt" measure "axum baseline GET /hello_auth, round $r" "$apid" "$aurl"
  TOKENS_FILE="$RUN/gt_tokens.txt" measure "graphtoken GET /me, warm, round $r" "$gpid" "$gurl"
done
rss=$(awk '/VmHWM/{print $2}' "/proc/$gpid/status")

{
  echo "run $(date -u +%FT%TZ), $(nproc) cores, graphtoken on $BACKEND, $TOKENS tokens, wrk ${PROFILE/:/ threads, } connections, ${DUR}s"
  echo
  rows_table
  echo
  python3 - "$RUN/rows" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
base = [r for r in rows if r[0].startswith("axum")]
warm = [r for r in rows if "warm" in r[0]]
cold = [r for r in rows if "cold" in r[0]]
med = lambda rs, i: statistics.median(float(r[i]) for r in rs)
ratios = [100 * float(w[2]) / float(b[2]) for b, w in zip(base, warm)]
print(f"rounds: {len(warm)}; warm / baseline req/s by round: " + ", ".join(f"{x:.0f}%" for x in ratios))
print(f"median req/s: baseline {med(base, 2):.0f}, graphtoken warm {med(warm, 2):.0f} -> {100 * med(warm, 2) / med(base, 2):.0f}% of the baseline")
print(f"median req per server CPU-second: baseline {med(base, 7):.0f}, graphtoken warm {med(warm, 7):.0f} -> {100 * med(warm, 7) / med(base, 7):.0f}%")
if cold:
    print(f"cold (first touch of most tokens), once: {float(cold[0][2]):.0f} req/s = {100 * float(cold[0][2]) / med(base, 2):.0f}% of the baseline median")
PY
  echo "graphtoken peak RSS: $((rss / 1024)) MiB"
} | tee "$LOGS/latest.md"
