#!/usr/bin/env bash
# Instructions per request, counted by valgrind's callgrind: a measure of the work a request
# costs in graphtoken's own process (user space: the kernel's share is not counted) that the
# machine's other load does not move, for changes too small to see in req/s on a shared machine.
# Each build runs under callgrind on the world of bench/endpoints.sh (100 people with 3 Pages
# each, tokens with pages_show_list), every token is asked for once on /me and /me/accounts and
# on each endpoint measured, the counters are zeroed, REQS requests of each endpoint are sent
# one at a time over keep-alive connections (a random token each), and the counters are read.
# Loopback only; each server is stopped by PID when its turn ends.
#
#   bench/instructions.sh /tmp/graphtoken-before target/release/graphtoken
#   ENDPOINTS="me accounts" REQS=3000 TOKENS=2000 bench/instructions.sh A B C
#
# With DUMPS=DIR, each build's count of each endpoint is kept as DIR/BUILD_ENDPOINT.callgrind,
# for `callgrind_annotate --inclusive=yes` (which functions the instructions went to).
#
# With CACHE_SIM=1, valgrind simulates the machine's caches and the table gives callgrind's
# estimate of cycles per request (instructions + 10 per first-level miss + 100 per last-level
# one): it counts what a change does to memory traffic as well, still untouched by the
# machine's other load (the hardware counters are not available in this VM). About four times
# slower, and it moves about 3% between runs (fresh tokens, other addresses, other conflicts in
# the simulated caches): a check of direction, where the plain count is the finer measure.
#
# Prints a markdown table (instructions per request, by build and endpoint, and each build's
# count as a share of the first's) and writes it to bench/logs/instructions.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TOKENS="${TOKENS:-2000}"
REQS="${REQS:-3000}"
ENDPOINTS="${ENDPOINTS:-me debug_token accounts exchange}"
[ $# -ge 1 ] || { echo "usage: bench/instructions.sh BIN [BIN…]" >&2; exit 2; }
BIN="$1" # common.sh builds nothing when BIN is set
RUN="$(mktemp -d -t graphtoken-instr.XXXXXX)"
# shellcheck source=bench/common.sh
source "$HERE/common.sh"
command -v valgrind >/dev/null || { log "installing valgrind"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }
for e in $ENDPOINTS; do endpoint "" "$e" || exit 2; done # refused before any work
unset TOKEN_PARAM
pages_world "$RUN/world.toml"

# send URL_TEMPLATE TOKENS_FILE N: N GETs, one at a time, {} replaced by a random token (with
# N=0, by every token once, in order).
send() {
  python3 - "$@" <<'PY'
import http.client, random, sys
from urllib.parse import urlparse
template, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
tokens = [l.strip() for l in open(path) if l.strip()]
u = urlparse(template.replace("{}", "x"))
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
rng = random.Random(7)
picked = tokens if n == 0 else (rng.choice(tokens) for _ in range(n))
bad = total = 0
for token in picked:
    q = urlparse(template.replace("{}", token))
    conn.request("GET", q.path + "?" + q.query)
    r = conn.getresponse()
    r.read()
    bad += r.status != 200
    total += 1
if bad:
    print(f"[bench] {bad} of {total} answers were not 200", file=sys.stderr)
    sys.exit(1)
PY
}

i=0
for bin in "$@"; do
  i=$((i + 1))
  callgrind_serve "$i" "$bin" instr
  log "build $i ($bin): minting $TOKENS tokens"
  MINT_SCOPES=email,pages_show_list python3 "$HERE/mint.py" "$g" bench-admin-key "$TOKENS" "$RUN/tokens_$i.txt"
  for path in /me /me/accounts; do send "$g$path?access_token={}" "$RUN/tokens_$i.txt" 0; done
  for e in $ENDPOINTS; do
    endpoint "$g" "$e"
    param="${TOKEN_PARAM:-access_token}"
    [ "$e" = debug_token ] && param=input_token
    unset TOKEN_PARAM
    sep='?'; case "$EP_URL" in *'?'*) sep='&' ;; esac
    # Every token once first, so that what an endpoint keeps (a debug_token answer) is kept,
    # as it is in a long run: the count is of answers in their steady state.
    send "$EP_URL$sep$param={}" "$RUN/tokens_$i.txt" 0
    callgrind_control -z "$gpid" >/dev/null 2>&1
    send "$EP_URL$sep$param={}" "$RUN/tokens_$i.txt" "$REQS"
    ir=$(callgrind_read "$i" "$e")
    printf '%s\t%s\t%s\n' "$i" "$e" "$((ir / REQS))" >>"$RUN/rows"
    log "build $i $e: $((ir / REQS)) per request"
  done
  kill -TERM "$gpid" 2>/dev/null; wait "$gpid" 2>/dev/null || true
done

{
  what="user-space instructions of the server's process"
  [ -n "${CACHE_SIM:-}" ] && what="callgrind's estimated cycles of the server's process in user space: instructions + 10 per L1 miss + 100 per LL miss, caches simulated"
  echo "run $(date -u +%FT%TZ), $REQS requests per endpoint one at a time, $TOKENS tokens of 100 people with 3 Pages each, under valgrind --tool=callgrind ($what)"
  echo
  python3 - "$RUN/rows" "$ENDPOINTS" "$@" <<'PY'
import sys
rows = [l.split("\t") for l in open(sys.argv[1]) if l.strip()]
endpoints, bins = sys.argv[2].split(), sys.argv[3:]
ir = {(r[0], r[1]): int(r[2]) for r in rows}
print("| build | " + " | ".join(endpoints) + " |")
print("|---|" + "---:|" * len(endpoints))
for i, b in enumerate(bins, 1):
    cells = []
    for e in endpoints:
        n, first = ir.get((str(i), e)), ir.get(("1", e))
        cells.append(f"{n:,}" + (f" ({n / first:.3f})" if i > 1 and first else ""))
    print(f"| {b} | " + " | ".join(cells) + " |")
PY
} | tee "$LOGS/instructions.md"
