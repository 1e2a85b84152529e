#!/usr/bin/env bash
# Fault injection: a server killed with SIGKILL under load loses no acknowledged write.
#
#   bench/faults.sh [SECONDS]
#
# Two `mas-cli server` processes (release build) on one fresh PostgreSQL database, each with its
# worker. For SECONDS (default 20), eight clients ask both servers for tokens (client credentials)
# and introspect them, half of the time through each server. Half-way through, server A gets
# SIGKILL in the middle of its requests. Afterwards every token a server handed out (an answer
# 200 reached the client) is introspected through server B: each must be active. A is then
# started again and must serve the same tokens. The numbers go to docs/reliability.md.
#
# Only 127.0.0.1 is ever contacted; the database is dropped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}

cargo build --release --quiet --bin mas-cli
bin=$PWD/target/release/mas-cli
key=$PWD/crates/config/tests/fixtures/keys/rsa-2048.pkcs1.pem
client_id=01J5Z6K3QY8V0W9X2ABCDEFGH0
client_secret=faults-client-secret-$RANDOM$RANDOM
hs_secret=faults-homeserver-secret-$RANDOM$RANDOM
pg_url=${PORTCULLIS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
db_name=portcullis_faults_$$_$RANDOM
dir=$(mktemp -d)
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$pg_url" -qc "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

psql "$pg_url" -qc "CREATE DATABASE $db_name" >/dev/null
db_uri=$(python3 -c 'import sys, urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p._replace(path="/"+sys.argv[2]).geturl())' "$pg_url" "$db_name")

write_config() { # DIR PORT
  mkdir -p "$1"
  cat > "$1/config.yaml" <<YAML
http:
  public_base: http://127.0.0.1:$2/
  listeners:
    - name: web
      resources: [{name: oauth}, {name: discovery}, {name: health}]
      binds: [{address: "127.0.0.1:$2"}]
database:
  uri: "$db_uri"
  max_connections: 10
secrets:
  encryption: "$(python3 -c 'print("cd"*32)')"
  keys: [{kid: faults, key_file: "$key"}]
matrix:
  homeserver: localhost
  secret: $hs_secret
  endpoint: "http://127.0.0.1:9/"
clients:
  - client_id: $client_id
    client_auth_method: client_secret_post
    client_secret: $client_secret
YAML
}

port_a=$(free_port)
port_b=$(free_port)
write_config "$dir/a" "$port_a"
write_config "$dir/b" "$port_b"
(cd "$dir/a" && "$bin" database migrate >/dev/null)

started=
start() { # NAME PORT EXTRA-ARGS... (sets $started to the process id)
  local name=$1 port=$2
  shift 2
  (cd "$dir/$name" && RUST_LOG=warn exec "$bin" server "$@" >/dev/null 2>>"$dir/$name.log") &
  started=$!
  pids+=("$started")
  until curl -sf -o /dev/null "http://127.0.0.1:$port/health"; do sleep 0.05; done
}

start a "$port_a" --no-migrate
pid_a=$started
start b "$port_b" --no-migrate

python3 - "$port_a" "$port_b" "$pid_a" "$seconds" "$client_id" "$client_secret" "$hs_secret" \
  "$dir/tokens.txt" <<'PY'
import json, os, signal, sys, threading, time, urllib.parse, urllib.request, urllib.error

port_a, port_b, pid_a, seconds, client_id, client_secret, hs_secret, out = sys.argv[1:]
bases = [f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"]
seconds = float(seconds)
lock = threading.Lock()
stats = {"handed_out": 0, "failed_a": 0, "failed_b": 0, "introspected": 0,
         "introspection_errors_a": 0, "introspection_errors_b": 0}
tokens = []

def post(url, fields, bearer=None):
    data = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(url, data=data)
    if bearer:
        request.add_header("Authorization", f"Bearer {bearer}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())

def client(index):
    n = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        base = bases[(index + n) % 2]
        n += 1
        try:
            answer = post(base + "/oauth2/token", {
                "grant_type": "client_credentials", "client_id": client_id,
                "client_secret": client_secret, "scope": "urn:mas:graphql:*"})
        except (urllib.error.URLError, ConnectionError, OSError):
            with lock:
                stats["failed_a" if base == bases[0] else "failed_b"] += 1
            continue
        with lock:
            stats["handed_out"] += 1
            tokens.append(answer["access_token"])
        other = bases[n % 2]
        try:
            post(other + "/oauth2/introspect", {"token": answer["access_token"]}, hs_secret)
            with lock:
                stats["introspected"] += 1
        except (urllib.error.URLError, ConnectionError, OSError):
            with lock:
                stats["introspection_errors_a" if other == bases[0] else "introspection_errors_b"] += 1

threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
for thread in threads:
    thread.start()
time.sleep(seconds / 2)
os.kill(int(pid_a), signal.SIGKILL)
killed_at = time.monotonic()
for thread in threads:
    thread.join()

inactive = 0
for token in tokens:
    answer = post(bases[1] + "/oauth2/introspect", {"token": token}, hs_secret)
    if not answer.get("active"):
        inactive += 1
with open(out, "w") as f:
    f.write("\n".join(tokens))
print(f"tokens handed out: {stats['handed_out']}; token requests with no answer: "
      f"{stats['failed_a']} to the killed server A, {stats['failed_b']} to server B")
print(f"introspections answered during the run: {stats['introspected']}; with no answer: "
      f"{stats['introspection_errors_a']} from A, {stats['introspection_errors_b']} from B")
print(f"handed-out tokens inactive at server B afterwards: {inactive}")
sys.exit(1 if inactive or stats["failed_b"] or stats["introspection_errors_b"] else 0)
PY

# A again, on the same database: the tokens are its too.
start a "$port_a" --no-migrate
python3 - "$port_a" "$hs_secret" "$dir/tokens.txt" <<'PY'
import json, sys, urllib.parse, urllib.request
port, hs_secret, path = sys.argv[1:]
tokens = [line for line in open(path).read().splitlines() if line]
inactive = 0
for token in tokens:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/oauth2/introspect",
        data=urllib.parse.urlencode({"token": token}).encode())
    request.add_header("Authorization", f"Bearer {hs_secret}")
    with urllib.request.urlopen(request, timeout=10) as response:
        if not json.loads(response.read()).get("active"):
            inactive += 1
print(f"after restarting A: {len(tokens)} tokens introspected through it, {inactive} inactive")
sys.exit(1 if inactive else 0)
PY
panics=$(cat "$dir/a.log" "$dir/b.log" | grep -ciE "panick|corrupt" || true)
echo "log lines of either server mentioning a panic or corruption: $panics"
[ "$panics" -eq 0 ]
