#!/usr/bin/env bash
# Two builds' dialog code exchange side by side (issue #14, point 2): TURNS turns of
# bench/codes.sh (MAKE=24, ROUNDS=2 each), A then B in odd turns and B then A in even ones, on
# loopback only: the second run of a turn came out about 9% behind the first whichever build it
# was (docs/benchmarks.md), so an even number of turns is fair. Each run starts its own server
# and world, so the builds never share a database (and measures the axum baseline of
# ../shared/bench, which it builds once into bench/target-baseline). Bounded by codes.sh.
#
#   A=/tmp/graphtoken-before B=target/release/graphtoken bench/codes_ab.sh
#   A=... B=... TURNS=4 MAKE=16 ROUNDS=3 bench/codes_ab.sh
#
# Prints every round's row, then each build's median redemptions/s and per server CPU-second,
# and B's as a share of A's; writes it to bench/logs/codes_ab.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
: "${A:?A=path of the first graphtoken binary}" "${B:?B=path of the second graphtoken binary}"
TURNS="${TURNS:-2}"
rows="$(mktemp -t graphtoken-codes-ab.XXXXXX)"
trap 'rm -f "$rows"' EXIT
mkdir -p "$HERE/logs"
for t in $(seq 1 "$TURNS"); do
  if [ $((t % 2)) -eq 1 ]; then order="A B"; else order="B A"; fi
  for side in $order; do
    echo "[bench] turn $t: $side" >&2
    BIN="${!side}" MAKE="${MAKE:-24}" ROUNDS="${ROUNDS:-2}" "$HERE/codes.sh" 2>/dev/null |
      grep '^| dialog' | sed "s/^/| $side /" | tee -a "$rows"
  done
done
{
  echo "run $(date -u +%FT%TZ), A = $A, B = $B, $TURNS turns of bench/codes.sh (MAKE=${MAKE:-24} ROUNDS=${ROUNDS:-2}), A then B in odd turns, B then A in even ones"
  echo
  echo "| build and round | load | redemptions/s | p50 | p99 | non-2xx | server CPU % | per server CPU-s |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|"
  sed 's/^| \([AB]\) | /| \1 /' "$rows"
  echo
  python3 - "$rows" <<'PY'
import statistics, sys
got = {"A": [], "B": []}
for line in open(sys.argv[1]):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) >= 9 and cells[0] in got:
        if cells[6] != "0":  # non-2xx answers (codes run out, or errors): its rate counts them
            print(f"left out of the medians: {line.strip()}")
            continue
        got[cells[0]].append((float(cells[3]), float(cells[8])))
if not got["A"] or not got["B"]:
    sys.exit("no rounds measured")
med = {s: (statistics.median(r for r, _ in v), statistics.median(c for _, c in v)) for s, v in got.items()}
for s in "AB":
    print(f"{s}: median {med[s][0]:.0f} redemptions/s, {med[s][1]:.0f} per server CPU-second ({len(got[s])} rounds)")
print(f"B/A: {med['B'][0] / med['A'][0]:.2f} by redemptions/s, {med['B'][1] / med['A'][1]:.2f} per server CPU-second")
PY
} | tee "$HERE/logs/codes_ab.md"
