#!/usr/bin/env bash
# Two graphtoken instances on one throwaway PostgreSQL database: how long a revocation on one
# takes to be refused by the other (bench/visibility.py), bounded and self-stopping.
#
#   bench/instances.sh [ROUNDS]        # BIN=path/to/graphtoken to skip the release build
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
RUN="$(mktemp -d)"
source "$HERE/common.sh"
ROUNDS="${1:-200}"

if [ -z "${GRAPHTOKEN_TEST_POSTGRES:-}" ]; then
  exec "$ROOT/scripts/with-postgres" "$0" "$@"
fi

KEY=bench-admin-key
PA="$(free_port)"; PB="$(free_port)"
"$BIN" serve --listen "127.0.0.1:$PA" --db "$GRAPHTOKEN_TEST_POSTGRES" --seed "$HERE/world.toml" \
  --admin-key "$KEY" >"$LOGS/instance-a.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$PA/healthz" || { log "instance A did not start"; exit 1; }
"$BIN" serve --listen "127.0.0.1:$PB" --db "$GRAPHTOKEN_TEST_POSTGRES" \
  --admin-key "$KEY" >"$LOGS/instance-b.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$PB/healthz" || { log "instance B did not start"; exit 1; }
log "revocation visibility, A → B, $ROUNDS rounds"
timeout 600 python3 "$HERE/visibility.py" "http://127.0.0.1:$PA" "http://127.0.0.1:$PB" "$KEY" "$ROUNDS"
