#!/usr/bin/env bash
# `graphtoken db copy` of a large world: its time and its peak memory, for one build or several
# in turn. TOKENS live tokens (a million by default) are stored with `graphtoken bench
# populate` by the first build; each build then copies that database into a new SQLite file
# and, when run under scripts/with-postgres (GRAPHTOKEN_TEST_POSTGRES set), into a new
# PostgreSQL database of that throwaway cluster, and that one back into a new SQLite file. Peak memory is the copying process's maximum
# resident set (`/usr/bin/time -f %M`). Everything stays on this machine; every database made
# here is deleted at the end (the cluster with scripts/with-postgres).
#
#   bench/copy.sh /tmp/graphtoken-before target/release/graphtoken
#   TOKENS=3000000 scripts/with-postgres bench/copy.sh target/release/graphtoken
#
# Prints a markdown table and writes it to bench/logs/copy.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TOKENS="${TOKENS:-1000000}"
[ $# -ge 1 ] || { echo "usage: bench/copy.sh BIN [BIN…]" >&2; exit 2; }
BIN="$1" # common.sh builds nothing when BIN is set
RUN="$(mktemp -d -t graphtoken-copy.XXXXXX)"
# shellcheck source=bench/common.sh
source "$HERE/common.sh"
PG="${GRAPHTOKEN_TEST_POSTGRES:-}"
PSQL=""
if [ -n "$PG" ]; then
  PSQL="$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n1)"
  [ -x "$PSQL" ] || { log "no psql to make the PostgreSQL targets with"; exit 1; }
fi

SRC="sqlite://$RUN/source.db"
"$BIN" seed "$HERE/world.toml" --db "$SRC" >/dev/null
log "storing $TOKENS tokens with $BIN bench populate"
"$BIN" bench populate --db "$SRC" --app bench --users "$(seq -s, -f 'user%g' 0 99)" \
  --tokens "$TOKENS" --scopes email --long --out "$RUN/tokens.txt" >&2
rm -f "$RUN/tokens.txt"
size=$(du -b "$RUN/source.db" | cut -f1)

# copy BIN FROM TO LABEL: one timed copy, as a table row.
copy() {
  local out="$RUN/copy.txt"
  /usr/bin/time -f "%e %M" -o "$RUN/time" "$1" db copy --from "$2" --to "$3" >"$out" 2>&1 || {
    log "the copy failed:"; cat "$out" >&2; exit 1; }
  read -r secs peak <"$RUN/time"
  python3 -c 'import sys; s, kb, rows = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]); print(f"| {sys.argv[4]} | {sys.argv[5]} | {s:.1f} | {rows / s:,.0f} | {kb / 1024:,.0f} |")' \
    "$secs" "$peak" "$(awk '/^copied/ {print $2}' "$out")" "$1" "$4"
}

{
  echo "run $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) cores; the source: SQLite, $TOKENS tokens of 100 people, $((size / 1048576)) MiB"
  echo
  echo "| build | copy | seconds | rows a second | peak MiB |"
  echo "|---|---|---:|---:|---:|"
  for b in "$@"; do
    copy "$b" "$SRC" "sqlite://$RUN/target.db" "SQLite into a new SQLite file"
    rm -f "$RUN/target.db"*
    if [ -n "$PG" ]; then
      "$PSQL" -q "$PG" -c "CREATE DATABASE copy_target" >/dev/null
      TARGET="${PG/\/postgres\?//copy_target?}"
      copy "$b" "$SRC" "$TARGET" "SQLite into a new PostgreSQL database"
      copy "$b" "$TARGET" "sqlite://$RUN/back.db" "that PostgreSQL database into a new SQLite file"
      rm -f "$RUN/back.db"*
      "$PSQL" -q "$PG" -c "DROP DATABASE copy_target" >/dev/null
    fi
  done
} | tee "$LOGS/copy.md"
