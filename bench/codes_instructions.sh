#!/usr/bin/env bash
# Instructions per redemption of the login dialog's code exchange (issue #14, point 2), counted
# by valgrind's callgrind as bench/instructions.sh counts the other endpoints: the server's
# user-space instructions (not the kernel's writes), which the machine's other load does not
# move. Each build runs under callgrind on the world of bench/codes.sh; its person signs in, the
# dialog makes REQS codes (and WARM more, redeemed first), the counters are zeroed, the REQS
# codes are redeemed one at a time, and the count is read. Loopback only; each server is
# stopped by PID when its turn ends.
#
#   bench/codes_instructions.sh /tmp/graphtoken-before target/release/graphtoken
#   REQS=2000 DUMPS=/tmp/dumps bench/codes_instructions.sh A
#
# With DUMPS=DIR, each build's count is kept as DIR/BUILD_codes.callgrind. Prints a markdown
# table and writes it to bench/logs/codes_instructions.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
REQS="${REQS:-1000}"
WARM="${WARM:-200}"
[ $# -ge 1 ] || { echo "usage: bench/codes_instructions.sh BIN [BIN…]" >&2; exit 2; }
BIN="$1" # common.sh builds nothing when BIN is set
RUN="$(mktemp -d -t graphtoken-codes-instr.XXXXXX)"
# shellcheck source=bench/common.sh
source "$HERE/common.sh"
command -v valgrind >/dev/null || { log "installing valgrind"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }
codes_world "$RUN/world.toml"
app="client_id=1000000000000099&redirect_uri=https%3A%2F%2Fbench.test%2Fcb"

# codes BASE COOKIE N FILE: N codes from the dialog, one per line.
codes() {
  python3 - "$@" <<'PY'
import http.client, sys
from urllib.parse import urlparse, parse_qs
base, cookie, n, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
u = urlparse(base)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
dialog = "/dialog/oauth?client_id=1000000000000099&redirect_uri=https%3A%2F%2Fbench.test%2Fcb&scope=public_profile&state=bench"
with open(path, "w") as out:
    for _ in range(n):
        c.request("GET", dialog, headers={"Cookie": cookie})
        r = c.getresponse(); r.read()
        code = parse_qs(urlparse(r.getheader("Location") or "").query).get("code")
        if not code:
            sys.exit(f"the dialog answered {r.status} without a code")
        out.write(code[0] + "\n")
PY
}

# redeem BASE FILE: every code of FILE redeemed once, one at a time; each must give a token.
redeem() {
  python3 - "$@" <<'PY'
import http.client, json, sys
from urllib.parse import urlparse
base, path = sys.argv[1], sys.argv[2]
u = urlparse(base)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
q = "/oauth/access_token?client_id=1000000000000099&redirect_uri=https%3A%2F%2Fbench.test%2Fcb&client_secret=0123456789abcdef0123456789abcdef&code="
for code in (l.strip() for l in open(path) if l.strip()):
    c.request("GET", q + code)
    r = c.getresponse(); body = r.read()
    if r.status != 200 or "access_token" not in json.loads(body):
        sys.exit(f"a redemption answered {r.status}: {body[:200]!r}")
PY
}

i=0
for bin in "$@"; do
  i=$((i + 1))
  callgrind_serve "$i" "$bin" codes_instr
  cookie=$(sign_in "$g") || { log "build $i: could not sign in"; exit 1; }
  log "build $i ($bin): making $((WARM + REQS)) codes"
  codes "$g" "$cookie" "$WARM" "$RUN/warm_$i.txt"
  codes "$g" "$cookie" "$REQS" "$RUN/codes_$i.txt"
  redeem "$g" "$RUN/warm_$i.txt"
  callgrind_control -z "$gpid" >/dev/null 2>&1
  redeem "$g" "$RUN/codes_$i.txt"
  ir=$(callgrind_read "$i" codes)
  printf '%s\t%s\n' "$i" "$((ir / REQS))" >>"$RUN/rows"
  log "build $i: $((ir / REQS)) instructions per redemption"
  kill -TERM "$gpid" 2>/dev/null; wait "$gpid" 2>/dev/null || true
done

{
  echo "run $(date -u +%FT%TZ), $REQS codes redeemed one at a time (after $WARM), under valgrind --tool=callgrind (user-space instructions of the server's process)"
  echo
  python3 - "$RUN/rows" "$@" <<'PY'
import sys
ir = dict(l.split("\t") for l in open(sys.argv[1]) if l.strip())
print("| build | instructions per redemption |")
print("|---|---:|")
first = int(ir["1"])
for i, b in enumerate(sys.argv[2:], 1):
    n = int(ir[str(i)])
    print(f"| {b} | {n:,}" + (f" ({n / first:.3f})" if i > 1 else "") + " |")
PY
} | tee "$LOGS/codes_instructions.md"
