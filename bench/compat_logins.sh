#!/usr/bin/env bash
# Sequential password logins on the Matrix login API (`m.login.password`), with a real Synapse
# (../shared/peers/synapse/run-synapse.sh) to create the devices on:
#
#   [N=40] [BACKEND=sqlite|postgres] [BUSY=0] [HASHING_POLICY=normal|idle] [BENCH_SKIP_BUILD=1] bench/compat_logins.sh
#
# N rounds, each of three sequential logins (one Python client, a new connection each): the
# right password (one verification, the device created on Synapse, the session written), a
# wrong password (one verification, nothing else), an unknown user (one verification against
# nothing, so that the time does not tell users apart). Then N of `GET /login` and N of a
# refused `POST {}`: the cost of HTTP alone. Prints the medians. SQLite (or PostgreSQL with
# BACKEND=postgres, a fresh database), release build, the sign-in rate limits lifted (they would
# refuse the rounds).
#
# BUSY=N keeps N other processes spinning on the CPU during the rounds, as other work on a shared
# host does. HASHING_POLICY=idle moves the server's hashing threads to SCHED_IDLE (`chrt`), where
# they were before 2026-12-07, to compare. At the end, the hashing threads' time waiting for a CPU
# while runnable (`/proc/<pid>/task/<tid>/schedstat`), per password checked.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${BENCH_SKIP_BUILD:-}" ] || cargo build --release --quiet --bin mas-cli
bin=$PWD/target/release/mas-cli
key=$PWD/crates/config/tests/fixtures/keys/rsa-2048.pkcs1.pem
synapse_scripts=$PWD/../shared/peers/synapse
dir=$(mktemp -d); pid=; busy_pids=(); db_name=
cleanup() {
  for p in "${busy_pids[@]}"; do kill "$p" 2>/dev/null; done
  [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null
  bash "$synapse_scripts/stop-synapse.sh" "$dir/synapse" >/dev/null 2>&1 || true
  [ -n "$db_name" ] && dropdb -h 127.0.0.1 -U postgres --if-exists "$db_name"
  rm -rf "$dir"
}
trap cleanup EXIT
fp() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(fp); sport=$(fp); base="http://127.0.0.1:$port/"; secret=s3cret
MAS_ENDPOINT=$base MAS_SECRET=$secret SYNAPSE_PORT=$sport SYNAPSE_SERVER_NAME=localhost \
  SYNAPSE_VENV=$PWD/target/synapse-venv bash "$synapse_scripts/run-synapse.sh" "$dir/synapse" > "$dir/synapse.env"
database_yaml="{uri: \"sqlite:mas.db\"}"
if [ "${BACKEND:-sqlite}" = postgres ]; then
  db_name=portcullis_bench_$(python3 -c 'import secrets; print(secrets.token_hex(4))')
  createdb -h 127.0.0.1 -U postgres "$db_name"
  database_yaml="{uri: \"postgresql://postgres@127.0.0.1:5432/$db_name?sslmode=disable\"}"
fi
cat > "$dir/config.yaml" <<YAML
http:
  public_base: $base
  listeners:
    - name: web
      resources: [{name: discovery}, {name: oauth}, {name: compat}, {name: health}]
      binds: [{address: "127.0.0.1:$port"}]
secrets:
  encryption: "$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
  keys: [{kid: k, key_file: "$key"}]
matrix: {homeserver: localhost, secret: $secret, endpoint: "http://127.0.0.1:$sport/"}
database: $database_yaml
passwords: {minimum_complexity: 0, schemes: [{version: 1, algorithm: argon2id}]}
rate_limiting:
  login:
    per_ip: {burst: 1000000, per_second: 1000000}
    per_account: {burst: 1000000, per_second: 1000000}
YAML
cd "$dir"
"$bin" database migrate >/dev/null
"$bin" manage register-user alice -p 'correct horse battery staple' --yes >/dev/null 2>&1
RUST_LOG=warn "$bin" server > server.log 2>&1 & pid=$!
for _ in $(seq 1 100); do curl -sf -o /dev/null "${base}health" && break; sleep 0.1; done
hashing_threads() { grep -l '^password-hashin' /proc/"$pid"/task/*/comm | xargs -n1 dirname; }
if [ "${HASHING_POLICY:-normal}" = idle ]; then
  for task in $(hashing_threads); do chrt --idle -p 0 "$(basename "$task")"; done
fi
waited_ns() { local total=0; for task in $(hashing_threads); do total=$((total + $(awk '{print $2}' "$task/schedstat"))); done; echo "$total"; }
for _ in $(seq 1 "${BUSY:-0}"); do sh -c 'while :; do :; done' & busy_pids+=($!); done
waited_before=$(waited_ns)
python3 - "$base" "${N:-40}" <<'PY'
import json, sys, time, statistics, urllib.request
base, n = sys.argv[1], int(sys.argv[2])
def login(pw, dev, user="alice"):
    body = json.dumps({"type":"m.login.password","identifier":{"type":"m.id.user","user":user},"password":pw,"device_id":dev}).encode()
    req = urllib.request.Request(base+"_matrix/client/v3/login", data=body, headers={"content-type":"application/json"})
    t = time.perf_counter()
    try:
        urllib.request.urlopen(req).read()
    except urllib.error.HTTPError as e:
        e.read()
    return (time.perf_counter()-t)*1000
for _ in range(3): login("correct horse battery staple", "WARM")
ok, wrong, unknown = [], [], []
for i in range(n):
    ok.append(login("correct horse battery staple", "DEV%02d" % (i % 5)))
    wrong.append(login("nope", "X"))
    unknown.append(login("nope", "X", "nobody"))
def timed(req):
    t = time.perf_counter()
    try: urllib.request.urlopen(req).read()
    except urllib.error.HTTPError as e: e.read()
    return (time.perf_counter()-t)*1000
flows = [timed(urllib.request.Request(base+"_matrix/client/v3/login")) for _ in range(n)]
bad = [timed(urllib.request.Request(base+"_matrix/client/v3/login", data=b"{}", headers={"content-type":"application/json"})) for _ in range(n)]
print("right password (verification, device on Synapse, session): median %.1f ms" % statistics.median(ok))
print("wrong password (verification only): median %.1f ms" % statistics.median(wrong))
print("unknown user (verification against nothing): median %.1f ms" % statistics.median(unknown))
print("HTTP alone: GET /login median %.1f ms, refused POST {} median %.1f ms" % (statistics.median(flows), statistics.median(bad)))
PY
checked=$(( 3 * ${N:-40} + 3 ))
echo "hashing threads ($(for task in $(hashing_threads); do chrt -p "$(basename "$task")" | sed -n 's/.*policy: //p'; done | sort | uniq -c | xargs)), ${BUSY:-0} busy process(es):" \
  "waiting for a CPU while runnable $(( ($(waited_ns) - waited_before) / checked / 1000 )) µs per password checked"
