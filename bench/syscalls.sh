#!/usr/bin/env bash
# System calls per request of GET /me over a large world (issue #14, point 3): TOKENS long-lived
# tokens stored with `graphtoken bench populate` (bench/large.sh's world), then each build in
# turn on that one database (the same file, so its layout and the OS's cache are the same for
# all), while wrk asks for random ones of HOT tokens, then of all of them: `perf stat` counts
# the server's system calls of each kind for COUNT seconds, divided by the requests wrk counted
# meanwhile. Loopback only; bounded: every wrk run has -d and a timeout; each server is stopped
# by PID before the next starts.
#
#   bench/syscalls.sh /tmp/graphtoken-before target/release/graphtoken
#   TOKENS=1000000 ROUNDS=2 bench/syscalls.sh A B
#
# Needs perf (Debian's linux-perf). Prints a markdown table and writes it to
# bench/logs/syscalls.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TOKENS="${TOKENS:-10000000}"
HOT="${HOT:-20000}"
ROUNDS="${ROUNDS:-2}"
COUNT="${COUNT:-4}"
BUDGET="${BUDGET:-256}"
[ $# -ge 1 ] || { echo "usage: bench/syscalls.sh BIN [BIN…]" >&2; exit 2; }
BIN="$1" # common.sh builds nothing when BIN is set
RUN="$(mktemp -d -t graphtoken-syscalls.XXXXXX)"
# shellcheck source=bench/common.sh
source "$HERE/common.sh"
command -v perf >/dev/null || { log "installing perf"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf >/dev/null; }
large_world "$1"
KINDS="fcntl pread64 writev recvfrom futex epoll_wait"
EVENTS="raw_syscalls:sys_enter$(for k in $KINDS; do printf ',syscalls:sys_enter_%s' "$k"; done),context-switches"

for r in $(seq 1 "$ROUNDS"); do
  i=0
  for bin in "$@"; do
    i=$((i + 1))
    port=$(free_port)
    "$bin" serve --listen "127.0.0.1:$port" --db "$DB" --admin-key bench-admin-key \
      --memory-budget "$BUDGET" >>"$LOGS/syscalls.out" 2>>"$LOGS/syscalls.log" &
    gpid=$!; PIDS+=("$gpid")
    wait_http "http://127.0.0.1:$port/healthz" || { log "build $i did not start"; exit 1; }
    for set in hot tokens; do
      TOKENS_FILE="$RUN/$set.txt" timeout $((COUNT + 30)) wrk -t2 -c64 -d"$((COUNT + 4))s" \
        -s "$HERE/random_line.lua" "http://127.0.0.1:$port/me" >"$RUN/wrk.txt" 2>&1 &
      load=$!
      sleep 2
      perf stat -x, -e "$EVENTS" -p "$gpid" -o "$RUN/perf.txt" -- sleep "$COUNT" >/dev/null 2>&1
      wait "$load" || true
      what="over $HOT tokens"; [ "$set" = hot ] || what="over all $TOKENS tokens"
      python3 - "$i" "$r" "$what" "$RUN/wrk.txt" "$RUN/perf.txt" "$COUNT" "$HERE/wrk_stats.py" >>"$RUN/rows" <<'PY'
import subprocess, sys
build, rnd, what, wrk, perf, count, stats = sys.argv[1:]
rps = float(subprocess.run([sys.executable, stats, wrk], capture_output=True, text=True, check=True).stdout.split("\t")[0])
n = {}
for line in open(perf):
    f = line.strip().split(",")
    if len(f) > 2 and f[0].isdigit():
        n[f[2].split(":")[-1].replace("sys_enter_", "").replace("sys_enter", "all")] = int(f[0])
reqs = max(rps * float(count), 1)
kinds = ["all", "fcntl", "pread64", "writev", "recvfrom", "futex", "epoll_wait", "context-switches"]
print("\t".join([f"build {build}, round {rnd}, GET /me {what}", f"{rps:.0f}"] + [f"{n.get(k, 0) / reqs:.2f}" for k in kinds]))
PY
      tail -n1 "$RUN/rows" | sed 's/^/[bench]   /' >&2
    done
    kill -TERM "$gpid"; wait "$gpid" 2>/dev/null || true
  done
done

{
  echo "run $(date -u +%FT%TZ), $(nproc) cores, graphtoken on SQLite (--memory-budget $BUDGET), $TOKENS tokens of 100 people, wrk 2 threads, 64 connections, bench/random_line.lua; system calls counted for ${COUNT}s by perf stat, per request wrk answered"
  echo
  i=0; for bin in "$@"; do i=$((i + 1)); echo "- build $i: $bin"; done
  echo
  echo "| load | req/s | all | fcntl | pread64 | writev | recvfrom | futex | epoll_wait | context switches |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",$1,$2,$3,$4,$5,$6,$7,$8,$9,$10}' "$RUN/rows"
} | tee "$LOGS/syscalls.md"
