# What every benchmark script here shares: its run folder and logs, the servers it started
# (stopped by PID on exit), wrk (installed when missing), the peers' folder (PEERS), the
# graphtoken binary (BIN, or a release build of this checkout), a free loopback port and a wait
# for a server to answer.
# Sourced by every script here after it sets HERE, ROOT and RUN; measure() also wants DUR and
# PROFILE.
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

# start_baseline N: builds and starts the axum token-lookup baseline of ../shared/bench with N
# tokens (loopback, stopped on exit); sets apid and aurl, writes its tokens to
# $RUN/axum_tokens.txt.
start_baseline() {
  log "building the axum baseline (release, target dir bench/target-baseline)"
  CARGO_TARGET_DIR="$HERE/target-baseline" cargo build --release -q --locked --manifest-path "$PEERS/axum-baseline/Cargo.toml"
  local port
  port=$(free_port)
  ADDR="127.0.0.1:$port" TOKENS="$1" "$HERE/target-baseline/release/axum-baseline" >"$LOGS/axum.log" 2>&1 &
  PIDS+=($!); apid=$!; aurl="http://127.0.0.1:$port/hello_auth"
  wait_http "http://127.0.0.1:$port/hello" || { log "axum baseline did not start"; exit 1; }
  curl -s "http://127.0.0.1:$port/tokens?n=$1" >"$RUN/axum_tokens.txt"
}

ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

# measure NAME PID URL -> appends a row to $RUN/rows; wrk picks a random token of $TOKENS_FILE
# per request ($LUA: the wrk script, by default the peers' access_token one), after a warm-up
# of 2 s (none with WARM=0).
measure() {
  local name="$1" pid="$2" url="$3" t="${PROFILE%%:*}" c="${PROFILE##*:}" out t0 t1
  out="$LOGS/wrk_$(echo "$name" | tr -c 'A-Za-z0-9\n' '_').txt"
  [ "${WARM:-1}" = 0 ] || timeout 20 wrk -t1 -c16 -d2s -s "${LUA:-$PEERS/lua/get_random_token.lua}" "$url" >/dev/null 2>&1 || true # warm
  t0=$(ticks "$pid")
  timeout $((DUR + 20)) wrk -t"$t" -c"$c" -d"${DUR}s" --latency -s "${LUA:-$PEERS/lua/get_random_token.lua}" "$url" >"$out" 2>&1
  t1=$(ticks "$pid")
  python3 - "$name" "$out" "$t0" "$t1" "$(getconf CLK_TCK)" "$DUR" "t${t}c${c}" "$HERE/wrk_stats.py" >>"$RUN/rows" <<'PY'
import subprocess, sys
name, out, t0, t1, tck, dur, load, stats = sys.argv[1:]
rps, total, non2xx, p50, p99 = subprocess.run([sys.executable, stats, out], capture_output=True, text=True, check=True).stdout.split("\t")
rps, total, non2xx, p99 = int(rps), int(total), int(non2xx), p99.strip()
cpu_s = (int(t1) - int(t0)) / float(tck)
per_cpu = total / cpu_s if cpu_s else 0
print("\t".join([name, load, f"{rps:.0f}", str(p50), str(p99), str(non2xx), f"{cpu_s / float(dur) * 100:.0f}", f"{per_cpu:.0f}"]))
PY
  tail -n1 "$RUN/rows" | sed 's/^/[bench]   /' >&2
}

# rows_table: the rows measure() wrote ($RUN/rows), as a markdown table.
rows_table() {
  echo "| server | load | req/s | p50 | p99 | non-2xx | server CPU % | req per server CPU-s |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n",$1,$2,$3,$4,$5,$6,$7,$8}' "$RUN/rows"
}

# pages_world OUT: the bench world, and 3 Pages for each of its 100 people.
pages_world() {
  {
    cat "$HERE/world.toml"
    for u in $(seq 0 99); do
      for p in 0 1 2; do
        printf '\n[[pages]]\nkey = "page%d_%d"\nname = "Bench Page %d-%d"\nroles = { user%d = "Admin" }\n' "$u" "$p" "$u" "$p" "$u"
      done
    done
  } >"$1"
}

# pages_server NAME: graphtoken ($BIN) on a new database of the pages world ($RUN/world.toml),
# its output in $LOGS/NAME.out and .log; sets gpid and g. Then $TOKENS tokens (email,
# pages_show_list) minted into $RUN/gt_tokens.txt, and each asked for once on /me and
# /me/accounts (their entries and Page tokens made), as every measurement of the hot endpoints
# starts.
pages_server() {
  local port pass url
  port=$(free_port)
  "$BIN" serve --listen "127.0.0.1:$port" --db "sqlite://$RUN/bench.db" \
    --seed "$RUN/world.toml" --admin-key bench-admin-key >"$LOGS/$1.out" 2>"$LOGS/$1.log" &
  PIDS+=($!); gpid=$!; g="http://127.0.0.1:$port"
  wait_http "$g/healthz" || { log "graphtoken did not start"; exit 1; }
  log "minting $TOKENS tokens (email, pages_show_list) through the admin API"
  MINT_SCOPES=email,pages_show_list python3 "$HERE/mint.py" "$g" bench-admin-key "$TOKENS" "$RUN/gt_tokens.txt"
  pass=$((TOKENS / 2000 + 3))
  for url in "$g/me" "$g/me/accounts"; do
    TOKENS_FILE="$RUN/gt_tokens.txt" timeout $((pass + 20)) wrk -t1 -c16 -d"${pass}s" -s "$HERE/each_token_once.lua" "$url" >/dev/null 2>&1 || true
  done
}

# endpoint BASE WHAT: sets EP_URL and EP_LUA (the wrk script) for one endpoint of the bench
# world (me, accounts, debug_token, exchange); exchange also exports TOKEN_PARAM.
endpoint() {
  local app="1000000000000099%7C0123456789abcdef0123456789abcdef"
  local secret="client_id=1000000000000099&client_secret=0123456789abcdef0123456789abcdef"
  EP_LUA="$PEERS/lua/get_random_token.lua"
  case "$2" in
    me) EP_URL="$1/me" ;;
    accounts) EP_URL="$1/me/accounts" ;;
    debug_token) EP_URL="$1/debug_token?access_token=$app"; EP_LUA="$HERE/param_random_token.lua" ;;
    exchange)
      EP_URL="$1/oauth/access_token?grant_type=fb_exchange_token&$secret"
      EP_LUA="$HERE/param_random_token.lua"; export TOKEN_PARAM=fb_exchange_token ;;
    *) log "unknown endpoint $2 (me, accounts, debug_token, exchange)"; return 2 ;;
  esac
}

# large_world BIN: DB ($RUN/large.db) with the bench world and TOKENS long-lived tokens of its
# 100 people, stored by BIN's `graphtoken bench populate` (the tokens in $RUN/tokens.txt, its
# report in $RUN/populate.txt), and HOT of them sampled in $RUN/hot.txt.
large_world() {
  DB="sqlite://$RUN/large.db"
  "$1" seed "$HERE/world.toml" --db "$DB" >/dev/null
  log "storing $TOKENS tokens with $1 bench populate"
  "$1" bench populate --db "$DB" --app bench --users "$(seq -s, -f 'user%g' 0 99)" \
    --tokens "$TOKENS" --scopes email --long --out "$RUN/tokens.txt" | tee "$RUN/populate.txt" >&2
  # The file is in hash order: a random sample, not the first lines (one stretch of the index).
  shuf -n "$HOT" "$RUN/tokens.txt" >"$RUN/hot.txt"
}

# codes_world FILE: the world of the code exchange's benchmarks (bench/codes.sh,
# bench/codes_instructions.sh): one app with a redirect URI and lifted rate limits, and one person
# with a password who granted it before (the dialog asks them nothing, it redirects with a code).
codes_world() {
  cat >"$1" <<'TOML'
[[apps]]
key = "bench"
id = "1000000000000099"
name = "Bench App"
secret = "0123456789abcdef0123456789abcdef"
mode = "live"
redirect_uris = ["https://bench.test/cb"]
rate_limits = { app = 4000000000, user = 4000000000, page = 4000000000 }

[[users]]
key = "signer"
name = "Sign In"
email = "signer@bench.test"
password = "correct horse battery staple"

[[grants]]
user = "signer"
app = "bench"
TOML
}

# sign_in BASE: signs the person of codes_world in at BASE, prints their cookies (the login
# page's, then the one the sign-in sets) as a Cookie header's value.
sign_in() {
  python3 - "$1" <<'PY'
import http.client, re, sys
from urllib.parse import urlencode, urlparse
u = urlparse(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
jar = {}
def keep(r):
    for h, v in r.getheaders():
        if h.lower() == "set-cookie":
            name, _, value = v.split(";")[0].partition("=")
            jar[name] = value
c.request("GET", "/device")
r = c.getresponse(); page = r.read().decode(); keep(r)
csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
body = urlencode({"email": "signer@bench.test", "pass": "correct horse battery staple", "csrf": csrf, "next": "/device"})
cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
c.request("POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
r = c.getresponse(); r.read(); keep(r)
if r.status != 303:
    sys.exit(f"sign-in answered {r.status}")
print("; ".join(f"{k}={v}" for k, v in jar.items()))
PY
}

# callgrind_serve I BIN LOGNAME: build number I (BIN) serving $RUN/world.toml on a new SQLite
# file under valgrind's callgrind, its dumps as $RUN/cg.I.*, its output in
# $LOGS/LOGNAME_I.{out,log}; sets gpid and g (its base URL). For bench/instructions.sh and
# bench/codes_instructions.sh.
callgrind_serve() {
  local port
  port=$(free_port)
  valgrind --tool=callgrind --cache-sim="$([ -n "${CACHE_SIM:-}" ] && echo yes || echo no)" \
    --callgrind-out-file="$RUN/cg.$1.%p" \
    "$2" serve --listen "127.0.0.1:$port" --db "sqlite://$RUN/b$1.db" \
    --seed "$RUN/world.toml" --admin-key bench-admin-key >"$LOGS/$3_$1.out" 2>"$LOGS/$3_$1.log" &
  gpid=$!; PIDS+=("$gpid"); g="http://127.0.0.1:$port"
  for _ in $(seq 1 60); do curl -s -o /dev/null --max-time 2 "$g/healthz" && break; sleep 1; done
  curl -s -o /dev/null --max-time 2 "$g/healthz" || { log "build $1 did not start under valgrind"; exit 1; }
}

# callgrind_read I NAME: prints the instructions build I (server $gpid) counted since its
# counters were last zeroed (`callgrind_control -z "$gpid"`), from a dump made now; with
# DUMPS=DIR the dump is kept as DIR/I_NAME.callgrind. With CACHE_SIM=1 (valgrind simulating the
# machine's caches), prints callgrind's estimate of cycles in their place: the instructions,
# plus 10 for each first-level cache miss and 100 for each last-level one.
callgrind_read() {
  local before dump
  before=$(ls "$RUN"/cg."$1".* 2>/dev/null | wc -l)
  callgrind_control -d "$gpid" >/dev/null 2>&1
  for _ in $(seq 1 100); do [ "$(ls "$RUN"/cg."$1".* | wc -l)" -gt "$before" ] && break; sleep 0.1; done
  dump=$(ls -t "$RUN"/cg."$1".* | head -1)
  if [ -n "${DUMPS:-}" ]; then mkdir -p "$DUMPS" && cp "$dump" "$DUMPS/${1}_$2.callgrind"; fi
  awk '/^events:/ { for (i = 2; i <= NF; i++) col[$i] = i }
    /^(summary|totals):/ {
      if (!("D1mr" in col)) { print $2; exit }
      l1 = $col["I1mr"] + $col["D1mr"] + $col["D1mw"]; ll = $col["ILmr"] + $col["DLmr"] + $col["DLmw"]
      printf "%d\n", $col["Ir"] + 10 * l1 + 100 * ll; exit
    }' "$dump"
}
