# What every benchmark script here shares: its run folder and logs, the servers it started
# (stopped by PID on exit), wrk (installed when missing), the peers' folder (PEERS), the
# graphtoken binary (BIN, or a release build of this checkout), a free loopback port and a wait
# for a server to answer.
# Sourced by run.sh and revocation.sh after they set HERE, ROOT and RUN.
PEERS="${PEERS:-$ROOT/../shared/bench}"
PIDS=()
LOGS="$HERE/logs"
mkdir -p "$LOGS"
log() { echo "[bench] $*" >&2; }
cleanup() {
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
  done
  rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v wrk >/dev/null || { log "installing wrk"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
BIN="${BIN:-}"
if [ -z "$BIN" ]; then
  log "building graphtoken (release)"
  (cd "$ROOT" && cargo build --release -q --bin graphtoken)
  BIN="$ROOT/target/release/graphtoken"
fi

# The key that seals the secrets of the databases the benchmarks make (PostgreSQL needs one
# given; every instance on a database the same).
export GRAPHTOKEN_SECRET_KEY="${GRAPHTOKEN_SECRET_KEY:-$(python3 -c 'import secrets; print(secrets.token_hex(32))')}"

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'; }
wait_http() { for _ in $(seq 1 300); do curl -s -o /dev/null --max-time 1 "$1" && return 0; sleep 0.1; done; return 1; }
