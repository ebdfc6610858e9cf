#!/usr/bin/env bash
# A flame graph of graphtoken under load (issue #14, point 1): one endpoint, loopback only,
# the world of bench/endpoints.sh (100 people with 3 Pages each, tokens with pages_show_list),
# `perf record --call-graph dwarf` on the server (unwinding through .eh_frame, so a release
# build without frame pointers is enough), folded and drawn by inferno. Bounded: wrk runs
# DUR+10 s, perf records DUR s; the server is stopped by PID on exit.
#
#   bench/flamegraph.sh debug_token     # or: me, accounts, exchange
#   BIN=/path/to/graphtoken DUR=5 TOKENS=20000 bench/flamegraph.sh accounts
#
# Writes docs/flamegraphs/ENDPOINT.svg, and the folded stacks to bench/logs/ENDPOINT.folded.
# Needs perf (Debian's linux-perf) and inferno (`cargo install inferno`: installed when missing).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
WHAT="${1:-debug_token}"
TOKENS="${TOKENS:-20000}"
DUR="${DUR:-5}"
RUN="$(mktemp -d -t graphtoken-flame.XXXXXX)"
# shellcheck source=bench/common.sh
source "$HERE/common.sh"
command -v perf >/dev/null || { log "installing perf"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf >/dev/null; }
command -v inferno-flamegraph >/dev/null || { log "installing inferno"; cargo install -q --locked inferno; }
OUT="$ROOT/docs/flamegraphs"
mkdir -p "$OUT"

pages_world "$RUN/world.toml"
pages_server flame
endpoint "$g" "$WHAT" || exit 2
url="$EP_URL"; LUA="$EP_LUA"
TOKENS_FILE="$RUN/gt_tokens.txt" timeout $((DUR + 30)) wrk -t2 -c64 -d"$((DUR + 10))s" -s "$LUA" "$url" >"$LOGS/flame_wrk.txt" 2>&1 &
load=$!
sleep 4
perf record -F 499 --call-graph dwarf,16384 -p "$gpid" -o "$RUN/perf.data" -- sleep "$DUR" >"$LOGS/perf.log" 2>&1 ||
  { log "perf record failed (bench/logs/perf.log; perf_event_paranoid?)"; exit 1; }
wait "$load" || true
perf script -i "$RUN/perf.data" 2>/dev/null | inferno-collapse-perf >"$LOGS/$WHAT.folded"
inferno-flamegraph --title "graphtoken $WHAT under load (wrk -t2 -c64), $(git -C "$ROOT" rev-parse --short HEAD)" \
  <"$LOGS/$WHAT.folded" >"$OUT/$WHAT.svg"
log "wrote $OUT/$WHAT.svg ($(wc -l <"$LOGS/$WHAT.folded") stacks); load: $(python3 "$HERE/wrk_stats.py" "$LOGS/flame_wrk.txt" | cut -f1) req/s"
