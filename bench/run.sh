#!/usr/bin/env bash
# GET /me requests per second with 100,000 tokens in the store, side by side with the axum
# hello-world baseline from ../shared/bench, in one run, on loopback only. Bounded: every wrk run
# has -d and a timeout; every server started here is stopped by PID on exit.
#
#   bench/run.sh                 # TOKENS=100000 DUR=8 PROFILE=2:64
#   TOKENS=20000 DUR=5 bench/run.sh
#
# Prints a markdown table and writes it to bench/logs/latest.md (raw wrk output beside it).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
PEERS="${PEERS:-$ROOT/../shared/bench}"
TOKENS="${TOKENS:-100000}"
DUR="${DUR:-8}"
PROFILE="${PROFILE:-2:64}"
LOGS="$HERE/logs"
RUN="$(mktemp -d -t graphtoken-bench.XXXXXX)"
PIDS=()
mkdir -p "$LOGS"
log() { echo "[bench] $*" >&2; }
cleanup() {
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
  done
  rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v wrk >/dev/null || { log "installing wrk"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
log "building graphtoken (release)"
(cd "$ROOT" && cargo build --release -q --bin graphtoken)
log "building the axum baseline (release, target dir bench/target-baseline)"
CARGO_TARGET_DIR="$HERE/target-baseline" cargo build --release -q --locked --manifest-path "$PEERS/axum-baseline/Cargo.toml"

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'; }
wait_http() { for _ in $(seq 1 300); do curl -s -o /dev/null --max-time 1 "$1" && return 0; sleep 0.1; done; return 1; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

# measure NAME PID URL -> appends a row; wrk picks a random token of $TOKENS_FILE per request
measure() {
  local name="$1" pid="$2" url="$3" t="${PROFILE%%:*}" c="${PROFILE##*:}" out t0 t1
  out="$LOGS/wrk_$(echo "$name" | tr -c 'A-Za-z0-9\n' '_').txt"
  timeout 20 wrk -t1 -c16 -d2s -s "$PEERS/lua/get_random_token.lua" "$url" >/dev/null 2>&1 || true # warm
  t0=$(ticks "$pid")
  timeout $((DUR + 20)) wrk -t"$t" -c"$c" -d"${DUR}s" --latency -s "$PEERS/lua/get_random_token.lua" "$url" >"$out" 2>&1
  t1=$(ticks "$pid")
  python3 - "$name" "$out" "$t0" "$t1" "$(getconf CLK_TCK)" "$DUR" "t${t}c${c}" >>"$RUN/rows" <<'PY'
import re, sys
name, out, t0, t1, tck, dur, load = sys.argv[1:]
txt = open(out).read()
g = lambda p: (re.search(p, txt, re.M) or [None, None])[1]
rps = float(g(r"^Requests/sec:\s+([\d.]+)") or 0)
total = int(g(r"^\s+(\d+) requests in") or 0)
non2xx = int(g(r"Non-2xx or 3xx responses:\s+(\d+)") or 0)
cpu_s = (int(t1) - int(t0)) / float(tck)
p50, p99 = g(r"^\s+50%\s+(\S+)"), g(r"^\s+99%\s+(\S+)")
per_cpu = total / cpu_s if cpu_s else 0
print("\t".join([name, load, f"{rps:.0f}", str(p50), str(p99), str(non2xx), f"{cpu_s / float(dur) * 100:.0f}", f"{per_cpu:.0f}"]))
PY
  tail -n1 "$RUN/rows" | sed 's/^/[bench]   /' >&2
}

# 1. the axum baseline: a HashMap lookup of a random one of 100k tokens
port=$(free_port)
ADDR="127.0.0.1:$port" TOKENS="$TOKENS" "$HERE/target-baseline/release/axum-baseline" >"$LOGS/axum.log" 2>&1 &
PIDS+=($!); apid=$!
wait_http "http://127.0.0.1:$port/hello" || { log "axum baseline did not start"; exit 1; }
curl -s "http://127.0.0.1:$port/tokens?n=$TOKENS" >"$RUN/axum_tokens.txt"
TOKENS_FILE="$RUN/axum_tokens.txt" measure "axum baseline GET /hello_auth" "$apid" "http://127.0.0.1:$port/hello_auth"
kill -TERM "$apid"; wait "$apid" 2>/dev/null || true

# 2. graphtoken: GET /me with a random one of $TOKENS real user tokens (SQLite, cache warm after 1st touch)
port=$(free_port)
"$ROOT/target/release/graphtoken" serve --listen "127.0.0.1:$port" --db "sqlite://$RUN/bench.db" \
  --seed "$HERE/world.toml" --admin-key bench-admin-key >"$LOGS/graphtoken.out" 2>"$LOGS/graphtoken.log" &
PIDS+=($!); gpid=$!
wait_http "http://127.0.0.1:$port/healthz" || { log "graphtoken did not start"; exit 1; }
log "minting $TOKENS tokens through the admin API"
start=$(date +%s)
python3 "$HERE/mint.py" "http://127.0.0.1:$port" bench-admin-key "$TOKENS" "$RUN/gt_tokens.txt"
log "minted in $(( $(date +%s) - start )) s"
# cold: right after minting, most requests are a token's first touch (a store read)
TOKENS_FILE="$RUN/gt_tokens.txt" measure "graphtoken GET /me, cold" "$gpid" "http://127.0.0.1:$port/me"
# warm: every token seen once (one sequential pass, not measured), then the same load
log "one pass over every token"
# (the script stops sending after the last token; wrk still waits out -d, sized for >= 4k req/s)
pass=$((TOKENS / 4000 + 3))
TOKENS_FILE="$RUN/gt_tokens.txt" timeout $((pass + 20)) wrk -t1 -c16 -d"${pass}s" -s "$HERE/each_token_once.lua" "http://127.0.0.1:$port/me" >"$LOGS/warm_pass.txt" 2>&1 || true
seen=$(awk '/requests in/{print $1}' "$LOGS/warm_pass.txt")
[ "${seen:-0}" -ge "$TOKENS" ] || log "warning: the pass made ${seen:-0} requests for $TOKENS tokens"
TOKENS_FILE="$RUN/gt_tokens.txt" measure "graphtoken GET /me, warm" "$gpid" "http://127.0.0.1:$port/me"
rss=$(awk '/VmHWM/{print $2}' "/proc/$gpid/status")
kill -TERM "$gpid"; wait "$gpid" 2>/dev/null || true

{
  echo "run $(date -u +%FT%TZ), $(nproc) cores, $TOKENS tokens, wrk ${PROFILE/:/ threads, } connections, ${DUR}s"
  echo
  echo "| server | load | req/s | p50 | p99 | non-2xx | server CPU % | req per server CPU-s |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n",$1,$2,$3,$4,$5,$6,$7,$8}' "$RUN/rows"
  echo
  awk -F'\t' 'NR==1{b=$3; bc=$8} NR>1{printf "%s / baseline: %.0f%% of req/s, %.0f%% of req per server CPU-second\n", $1, 100*$3/b, 100*$8/bc}' "$RUN/rows"
  echo "graphtoken peak RSS: $((rss / 1024)) MiB"
} | tee "$LOGS/latest.md"
