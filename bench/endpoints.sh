#!/usr/bin/env bash
# The hot endpoints beside GET /me, side by side with the axum token-lookup baseline from
# ../shared/bench, in one run, on loopback only (issue #14, point 1): GET /debug_token (the app
# token as the caller, a random user token inspected) and GET /me/accounts (a random user token
# of a person with 3 Pages). Every person of the world runs 3 Pages; every token has
# pages_show_list, so debug_token lists the Pages in granular_scopes. Then durable issuance
# (point 2: fb_exchange_token of a random token, each answer a new token written before it is
# sent) and GET /me's tail latency at 256 connections, alone and while tokens are issued beside
# it (point 5). Each endpoint's turn has a turn of the baseline right beside it (before it in
# odd rounds, after it in even ones), and is reported as a share of that one: the machine's
# pace drifts within a round. Bounded: every wrk run has -d and a timeout; every server started
# here is stopped by PID on exit.
#
#   bench/endpoints.sh                   # TOKENS=20000 DUR=8 PROFILE=2:64 ROUNDS=3
#   BIN=/path/to/graphtoken bench/endpoints.sh
#
# Prints a markdown table and writes it to bench/logs/endpoints.md (raw wrk output beside it).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TOKENS="${TOKENS:-20000}"
DUR="${DUR:-8}"
PROFILE="${PROFILE:-2:64}"
ROUNDS="${ROUNDS:-3}"
RUN="$(mktemp -d -t graphtoken-endpoints.XXXXXX)"
# shellcheck source=bench/common.sh
source "$HERE/common.sh"

pages_world "$RUN/world.toml"

start_baseline "$TOKENS"

pages_server graphtoken
endpoint "$g" debug_token; debug="$EP_URL"
endpoint "$g" accounts; accounts="$EP_URL"
endpoint "$g" me; me="$EP_URL"
endpoint "$g" exchange; exchange="$EP_URL"
unset TOKEN_PARAM # given per measurement below

# paired NAME ROUND [VAR=VALUE…] -- URL: one turn of the baseline and one of graphtoken's NAME at
# URL (with the wrk settings given), the baseline first in odd rounds and second in even ones,
# so each endpoint is judged against a baseline measured right beside it.
paired() {
  local name="$1" r="$2" url settings=()
  shift 2
  while [ "$1" != -- ]; do settings+=("$1"); shift; done
  url="$2"
  base() { TOKENS_FILE="$RUN/axum_tokens.txt" measure "axum baseline GET /hello_auth beside $name, round $r" "$apid" "$aurl"; }
  ours() { (export TOKENS_FILE="$RUN/gt_tokens.txt" "${settings[@]}"; measure "graphtoken $name, round $r" "$gpid" "$url"); }
  if [ $((r % 2)) = 1 ]; then base; ours; else ours; base; fi
}
for r in $(seq 1 "$ROUNDS"); do
  paired "GET /me" "$r" -- "$me"
  paired "GET /debug_token" "$r" LUA="$HERE/param_random_token.lua" -- "$debug"
  paired "GET /me/accounts (3 Pages)" "$r" -- "$accounts"
  paired "fb_exchange_token (durable)" "$r" LUA="$HERE/param_random_token.lua" TOKEN_PARAM=fb_exchange_token -- "$exchange"
done
# Tail latency: GET /me at 256 connections, alone, then with 16 connections exchanging tokens
# beside it for the whole measurement (its warm-up included).
for r in $(seq 1 "$ROUNDS"); do
  TOKENS_FILE="$RUN/gt_tokens.txt" PROFILE=2:256 measure "graphtoken GET /me at 256 connections, round $r" "$gpid" "$me"
  TOKENS_FILE="$RUN/gt_tokens.txt" TOKEN_PARAM=fb_exchange_token timeout $((DUR + 30)) \
    wrk -t1 -c16 -d"$((DUR + 5))s" -s "$HERE/param_random_token.lua" "$exchange" >"$LOGS/wrk_beside_$r.txt" 2>&1 &
  beside=$!; PIDS+=("$beside")
  TOKENS_FILE="$RUN/gt_tokens.txt" PROFILE=2:256 measure "graphtoken GET /me at 256 connections while tokens are issued, round $r" "$gpid" "$me"
  wait "$beside" || true
  log "  issued beside it: $(python3 "$HERE/wrk_stats.py" "$LOGS/wrk_beside_$r.txt" | cut -f1) tokens/s"
done
non2xx=$(awk -F'\t' '$1 ~ /graphtoken/ && $6 != 0' "$RUN/rows" | wc -l)
[ "$non2xx" -eq 0 ] || log "warning: $non2xx graphtoken rows had non-2xx answers (see the table)"

{
  echo "run $(date -u +%FT%TZ), commit $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) cores, graphtoken on SQLite, $TOKENS tokens of 100 people with 3 Pages each, wrk ${PROFILE/:/ threads, } connections, ${DUR}s"
  echo
  rows_table
  echo
  python3 - "$RUN/rows" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
for name in ["GET /me", "GET /debug_token", "GET /me/accounts (3 Pages)", "fb_exchange_token (durable)"]:
    got = [float(r[2]) for r in rows if r[0].startswith(f"graphtoken {name},")]
    base = [float(r[2]) for r in rows if r[0].startswith(f"axum baseline GET /hello_auth beside {name},")]
    ratios = [g / b for g, b in zip(got, base)]
    print(f"{name}: of the baseline beside it, by round " + ", ".join(f"{x:.2f}" for x in ratios)
          + f"; median **{statistics.median(ratios):.2f}**; median {statistics.median(got):.0f} req/s, the baseline's beside it {statistics.median(base):.0f}")
PY
} | tee "$LOGS/endpoints.md"
