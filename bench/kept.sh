#!/usr/bin/env bash
# Whether /me/accounts and debug_token answers are kept (issue #14, point 1): graphtoken on the
# world of bench/endpoints.sh (100 people with 3 Pages each), TOKENS tokens with pages_show_list,
# then passes that ask /me/accounts once for every token (bench/each_token_once.lua), with a round
# of fb_exchange_token between the second and the third, then two passes of debug_token (viewed
# with the app's token) and a last one of /me/accounts. After each pass it prints how often
# people's Page lists were read (the `user_pages` cache's hits and misses on /metrics): a kept
# answer reads none, so a pass whose answers were all kept reads 0. Then the server's resident
# memory. Loopback only; every wrk run has -d and a timeout; the server is stopped by PID on exit.
#
#   BIN=target/release/graphtoken bench/kept.sh        # TOKENS=20000
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TOKENS="${TOKENS:-20000}"
RUN="$(mktemp -d -t graphtoken-kept.XXXXXX)"
# shellcheck source=bench/common.sh
source "$HERE/common.sh"

pages_world "$RUN/world.toml"
port=$(free_port)
url="http://127.0.0.1:$port"
"$BIN" serve --listen "127.0.0.1:$port" --db "sqlite://$RUN/kept.db" --seed "$RUN/world.toml" \
  --admin-key bench-admin-key >"$LOGS/kept.out" 2>"$LOGS/kept.log" &
PIDS+=($!); gpid=$!
wait_http "$url/healthz" || { log "graphtoken did not start"; exit 1; }
log "minting $TOKENS tokens (email, pages_show_list) through the admin API"
MINT_SCOPES=email,pages_show_list python3 "$HERE/mint.py" "$url" bench-admin-key "$TOKENS" "$RUN/tokens.txt"

reads() {
  curl -s -H "Authorization: Bearer bench-admin-key" "$url/metrics" |
    awk '/^graphtoken_cache\{cache="user_pages",what="(hits|misses)"\}/ {n += $2} END {print n}'
}
# pass NAME [PATH [TOKEN_PARAM]]: every token once on PATH (default /me/accounts).
pass() {
  local before after secs=$((TOKENS / 2000 + 3))
  before=$(reads)
  TOKEN_PARAM="${3:-access_token}" TOKENS_FILE="$RUN/tokens.txt" timeout $((secs + 20)) \
    wrk -t1 -c16 -d"${secs}s" -s "$HERE/each_token_once.lua" "$url${2:-/me/accounts}" >/dev/null 2>&1 || true
  after=$(reads)
  echo "pass $1 over $TOKENS tokens: $((after - before)) Page lists read"
}
pass 1
pass 2
endpoint "$url" exchange
TOKENS_FILE="$RUN/tokens.txt" timeout 30 wrk -t2 -c64 -d8s -s "$HERE/param_random_token.lua" "$EP_URL" |
  awk '/Requests\/sec/ {print "fb_exchange_token for 8 s: " $2 " req/s"}'
pass 3
endpoint "$url" debug_token
pass "debug_token 1" "${EP_URL#"$url"}" input_token
pass "debug_token 2" "${EP_URL#"$url"}" input_token
pass 4
grep -E "VmHWM|VmRSS" "/proc/$gpid/status"
