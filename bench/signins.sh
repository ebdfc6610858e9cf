#!/usr/bin/env bash
# Sign-ins per second (argon2id with the OWASP parameters, hashed off the async workers) through
# the login page, on loopback, bounded: DUR seconds, THREADS clients at once.
#
#   bench/signins.sh                 # DUR=10 THREADS=8
#   BIN=target/release/graphtoken bench/signins.sh
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
DUR="${DUR:-10}"
THREADS="${THREADS:-8}"
RUN="$(mktemp -d -t graphtoken-signins.XXXXXX)"
# shellcheck source=bench/common.sh
source "$HERE/common.sh"
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

cat >"$RUN/world.toml" <<'TOML'
[[apps]]
key = "bench"
name = "Bench App"
redirect_uris = ["https://bench.test/cb"]

[[users]]
key = "signer"
name = "Sign In"
email = "signer@bench.test"
password = "correct horse battery staple"
TOML
port=$(free_port)
"$BIN" serve --listen "127.0.0.1:$port" --db "sqlite://$RUN/signins.db" --seed "$RUN/world.toml" \
  --admin-key bench-admin-key >"$LOGS/signins.log" 2>&1 &
PIDS+=($!); pid=$!
wait_http "http://127.0.0.1:$port/healthz" || { log "graphtoken did not start"; exit 1; }
t0=$(ticks "$pid"); s0=$(date +%s.%N)
read -r ok bad < <(timeout $((DUR + 60)) python3 "$HERE/signins.py" "http://127.0.0.1:$port" "$DUR" "$THREADS" \
  signer@bench.test "correct horse battery staple")
t1=$(ticks "$pid"); s1=$(date +%s.%N)
python3 - "$ok" "$bad" "$t0" "$t1" "$(getconf CLK_TCK)" "$s0" "$s1" "$(nproc)" "$THREADS" <<'PY' | tee "$LOGS/signins.md"
import sys
ok, bad, t0, t1, tck, s0, s1, cores, threads = sys.argv[1:]
ok, bad = int(ok), int(bad)
wall = float(s1) - float(s0)
cpu = (int(t1) - int(t0)) / float(tck)
print(f"{ok} sign-ins ({bad} failed) in {wall:.1f} s with {threads} clients on {cores} cores:")
print(f"- {ok / wall:.1f} sign-ins a second; {ok / wall / int(cores):.1f} per core")
print(f"- server CPU {cpu:.1f} s: {ok / cpu if cpu else 0:.1f} sign-ins per server CPU-second")
PY
