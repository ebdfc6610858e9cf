#!/usr/bin/env bash
# GET /me, and durable issuance (`fb_exchange_token`), with one graphtoken instance against two
# on one throwaway PostgreSQL database, in alternating turns, on loopback only; bounded (every
# wrk has -d and a timeout) and self-stopping.
#
#   bench/scale.sh                 # TOKENS=20000 DUR=5 ROUNDS=3 CONNS=64
#   BIN=target/release/graphtoken bench/scale.sh
#
# Each round measures, with the same tokens:
#   one  instance A pinned to CPU 0, one wrk pinned to CPU 1 (the server has a core of its own);
#   two  A pinned to CPU 0 and B to CPU 1, two wrk processes (half the connections each, one
#        per instance) left to share both CPUs with the servers.
# On a 2-core machine "two" cannot give each instance a core of its own *and* the load
# generators theirs, so the figure to read beside req/s is requests per server CPU-second: if
# two instances serve as many requests per CPU-second as one, N instances on N free cores serve
# N times as many. Prints a markdown table and writes it to bench/logs/scale.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TOKENS="${TOKENS:-20000}"
DUR="${DUR:-5}"
ROUNDS="${ROUNDS:-3}"
CONNS="${CONNS:-64}"
if [ -z "${GRAPHTOKEN_TEST_POSTGRES:-}" ]; then
  exec "$ROOT/scripts/with-postgres" "$0" "$@"
fi
[ "$(nproc)" -ge 2 ] || { echo "bench/scale.sh needs at least 2 CPUs" >&2; exit 1; }
RUN="$(mktemp -d -t graphtoken-scale.XXXXXX)"
# shellcheck source=bench/common.sh
source "$HERE/common.sh"
LUA="$PEERS/lua/get_random_token.lua"

KEY=bench-admin-key
PA="$(free_port)"; PB="$(free_port)"
"$BIN" serve --listen "127.0.0.1:$PA" --db "$GRAPHTOKEN_TEST_POSTGRES" --seed "$HERE/world.toml" \
  --admin-key "$KEY" >"$LOGS/scale-a.log" 2>&1 &
PIDS+=($!); A=$!
wait_http "http://127.0.0.1:$PA/healthz" || { log "instance A did not start"; exit 1; }
"$BIN" serve --listen "127.0.0.1:$PB" --db "$GRAPHTOKEN_TEST_POSTGRES" \
  --admin-key "$KEY" >"$LOGS/scale-b.log" 2>&1 &
PIDS+=($!); B=$!
wait_http "http://127.0.0.1:$PB/healthz" || { log "instance B did not start"; exit 1; }
log "minting $TOKENS tokens on A"
python3 "$HERE/mint.py" "http://127.0.0.1:$PA" "$KEY" "$TOKENS" "$RUN/tokens.txt"
export TOKENS_FILE="$RUN/tokens.txt"
pass=$((TOKENS / 4000 + 3))
for port in "$PA" "$PB"; do
  log "one pass over every token on :$port"
  timeout $((pass + 20)) wrk -t1 -c16 -d"${pass}s" -s "$HERE/each_token_once.lua" \
    "http://127.0.0.1:$port/me" >/dev/null 2>&1 || true
done

# wrk_rps FILE -> requests/s
wrk_rps() { python3 "$HERE/wrk_stats.py" "$1" | cut -f1; }

# The exchange: one short-lived token, exchanged again and again (each answer is a new token,
# written before it is sent).
short=$(curl -s -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
  -d '{"user": "user0", "app": "bench", "scopes": ["email"]}' \
  "http://127.0.0.1:$PA/_admin/tokens" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
EXCHANGE="/oauth/access_token?grant_type=fb_exchange_token&client_id=1000000000000099&client_secret=0123456789abcdef0123456789abcdef&fb_exchange_token=$short"

# turn KIND ROUND PATH LUA... : one turn of each kind, appended to rows as KIND ROUND RPS TICKS
turn() {
  local kind="$1" r="$2" path="$3" a0 a1 b0 b1 wa rps
  shift 3
  taskset -a -p -c 0 "$A" >/dev/null
  taskset -a -p -c 0,1 "$B" >/dev/null
  a0=$(ticks "$A")
  timeout $((DUR + 20)) taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" "$@" \
    "http://127.0.0.1:$PA$path" >"$RUN/${kind}_one_$r.txt" 2>&1
  a1=$(ticks "$A")
  echo -e "$kind one\t$r\t$(wrk_rps "$RUN/${kind}_one_$r.txt")\t$((a1 - a0))" >>"$RUN/rows"
  taskset -a -p -c 1 "$B" >/dev/null
  a0=$(ticks "$A"); b0=$(ticks "$B")
  timeout $((DUR + 20)) wrk -t1 -c$((CONNS / 2)) -d"${DUR}s" "$@" \
    "http://127.0.0.1:$PA$path" >"$RUN/${kind}_two_a_$r.txt" 2>&1 &
  wa=$!
  timeout $((DUR + 20)) wrk -t1 -c$((CONNS / 2)) -d"${DUR}s" "$@" \
    "http://127.0.0.1:$PB$path" >"$RUN/${kind}_two_b_$r.txt" 2>&1
  wait "$wa"
  a1=$(ticks "$A"); b1=$(ticks "$B")
  rps=$(( $(wrk_rps "$RUN/${kind}_two_a_$r.txt") + $(wrk_rps "$RUN/${kind}_two_b_$r.txt") ))
  echo -e "$kind two\t$r\t$rps\t$((a1 - a0 + b1 - b0))" >>"$RUN/rows"
  tail -n2 "$RUN/rows" | sed 's/^/[bench]   /' >&2
}

for r in $(seq 1 "$ROUNDS"); do
  turn me "$r" /me -s "$LUA"
  turn exchange "$r" "$EXCHANGE"
done
grep -h "Non-2xx" "$RUN"/*.txt >&2 || true

{
  echo "run $(date -u +%FT%TZ), $(nproc) cores, PostgreSQL, $TOKENS tokens, $CONNS connections, ${DUR}s a turn"
  echo
  python3 - "$RUN/rows" "$(getconf CLK_TCK)" "$DUR" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]) if l.strip()]
tck, dur = float(sys.argv[2]), float(sys.argv[3])
def fig(kind):
    rs = [r for r in rows if r[0] == kind]
    rps = [float(r[2]) for r in rs]
    per_cpu = [float(r[2]) * dur / (int(r[3]) / tck) for r in rs]
    cpu = [int(r[3]) / tck / dur * 100 for r in rs]
    return rps, per_cpu, cpu
print("| call | instances | req/s by round | median req/s | server CPU % (median) | req per server CPU-second (median) |")
print("|---|---|---|---:|---:|---:|")
notes = []
for call, label in (("me", "GET /me"), ("exchange", "fb_exchange_token")):
    one, two = fig(f"{call} one"), fig(f"{call} two")
    for name, (rps, per_cpu, cpu) in (("one (a core of its own)", one), ("two (sharing 2 cores with wrk)", two)):
        print(f"| {label} | {name} | {', '.join(f'{x:.0f}' for x in rps)} | {statistics.median(rps):.0f} | {statistics.median(cpu):.0f} | {statistics.median(per_cpu):.0f} |")
    ratios = [t / o for o, t in zip(one[0], two[0])]
    notes.append(f"{label}: two / one req/s by round {', '.join(f'{x:.2f}' for x in ratios)}, of medians {statistics.median(two[0]) / statistics.median(one[0]):.2f}; "
                 f"req per server CPU-second, two / one of medians {statistics.median(two[1]) / statistics.median(one[1]):.2f}")
print()
for n in notes:
    print(f"- {n}")
PY
} | tee "$LOGS/scale.md"
