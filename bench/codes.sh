#!/usr/bin/env bash
# The login dialog's code exchange (issue #14, point 2): durable issuance through
# `/oauth/access_token?code=…`, each code redeemed once, on loopback only. A person who granted
# the app before signs in once; then, each round, wrk opens the dialog with their cookie for
# MAKE seconds (every answer is a redirect with a new code: nothing to ask), more turns of it until
# there are NEED codes (by default 50,000 for each second of DUR: a round that runs out redeems
# used codes, refused, and its rate counts them), and redeems those codes for DUR seconds. A
# redemption opens a session and mints a short-lived token, answered after its commit. Bounded:
# every wrk run has -d and a timeout (four making turns at most); the servers are stopped on exit.
# Each round measures the axum token-lookup baseline of ../shared/bench first, for the machine's
# pace in that round (bench/endpoints.sh's way).
#
#   bench/codes.sh                                     # ROUNDS=3 MAKE=16 DUR=6
#   BIN=target/release/graphtoken ROUNDS=5 bench/codes.sh
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
ROUNDS="${ROUNDS:-3}"
MAKE="${MAKE:-16}"
DUR="${DUR:-6}"
NEED="${NEED:-$((50000 * DUR))}"
PROFILE="${PROFILE:-2:64}"
RUN="$(mktemp -d -t graphtoken-codes.XXXXXX)"
# shellcheck source=bench/common.sh
source "$HERE/common.sh"

start_baseline 20000

codes_world "$RUN/world.toml"
port=$(free_port)
"$BIN" serve --listen "127.0.0.1:$port" --db "sqlite://$RUN/codes.db" --seed "$RUN/world.toml" \
  --admin-key bench-admin-key >"$LOGS/codes.out" 2>"$LOGS/codes.log" &
PIDS+=($!); pid=$!; g="http://127.0.0.1:$port"
wait_http "$g/healthz" || { log "graphtoken did not start"; exit 1; }

# Signed in once.
COOKIE=$(sign_in "$g") || { log "could not sign in"; exit 1; }
export COOKIE CODES_DIR="$RUN"

app="client_id=1000000000000099&redirect_uri=https%3A%2F%2Fbench.test%2Fcb"
dialog="$g/dialog/oauth?$app&scope=public_profile&state=bench"
redeem="$g/oauth/access_token?$app&client_secret=0123456789abcdef0123456789abcdef"
export WRK_THREADS="${PROFILE%%:*}"
for r in $(seq 1 "$ROUNDS"); do
  rm -f "$RUN"/codes_*.txt
  # MAKE seconds of codes, then more MAKE-second turns (three at most) until there are NEED:
  # a round that runs out of codes redeems used ones, refused, and its rate counts those.
  made=0
  for turn in 1 2 3 4; do
    timeout $((MAKE + 20)) wrk -t2 -c32 -d"${MAKE}s" -s "$HERE/dialog_codes.lua" "$dialog" >"$LOGS/codes_make.txt" 2>&1 ||
      log "round $r: making codes ended early (bench/logs/codes_make.txt)"
    made=$({ cat "$RUN"/codes_*.txt 2>/dev/null || true; } | wc -l)
    [ "$made" -lt "$NEED" ] || break
  done
  cat "$RUN"/codes_*.txt >"$RUN/codes.txt" 2>/dev/null || true
  log "round $r: $made codes made in $turn turns of ${MAKE} s"
  [ -s "$RUN/codes.txt" ] || { log "the dialog gave no code (bench/logs/codes_make.txt)"; exit 1; }
  # The machine's pace in this round: the baseline just before the redemptions.
  TOKENS_FILE="$RUN/axum_tokens.txt" measure "axum baseline GET /hello_auth, round $r" "$apid" "$aurl"
  WARM=0 TOKENS_FILE="$RUN/codes.txt" LUA="$HERE/each_code_once.lua" \
    measure "dialog code exchange (durable), round $r" "$pid" "$redeem"
  refused=$(tail -n1 "$RUN/rows" | cut -f6)
  [ "$refused" = 0 ] || log "warning: round $r had $refused non-2xx answers (codes run out, or errors: bench/logs/codes.log); its rate is left out of the median"
done

{
  echo "run $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git -C "$ROOT" rev-parse --short HEAD), BIN = $BIN, $(nproc) cores, graphtoken on SQLite, wrk ${PROFILE%%:*} threads, ${PROFILE##*:} connections, ${DUR}s, codes made in turns of ${MAKE}s until there were $NEED before each round"
  echo
  rows_table
  echo
  python3 - "$RUN/rows" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
base = [float(r[2]) for r in rows if r[0].startswith("axum")]
# Rounds with non-2xx answers (codes run out, or errors) are left out: their rate counts them.
got = [(float(r[2]), b) for r, b in zip((r for r in rows if r[0].startswith("dialog")), base) if r[5] == "0"]
if not got or min(base) <= 0:
    sys.exit("no round to sum up")
rates = [g for g, _ in got]
print("dialog code exchange: by round " + ", ".join(f"{g:.0f} ({g / b:.2f} of the baseline)" for g, b in got)
      + f"; median {statistics.median(rates):.0f} redemptions/s = {statistics.median(rates) / statistics.median(base):.2f} of the baseline median {statistics.median(base):.0f}")
PY
} | tee "$LOGS/codes.md"
