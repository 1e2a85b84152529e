#!/usr/bin/env bash
# Fault injection: what a bad day does to a running deployment. Results in docs/reliability.md.
#
#   bench/faults.sh [kill|postgres|disk|all] [SECONDS]      (all, 20 s each by default)
#
# kill      Two `mas-cli server` processes (release build), each with its worker, on one fresh
#           PostgreSQL database, under tokens, introspections and refreshes (bench/fault_load.py
#           kill); half-way through, server A gets SIGKILL. Every token handed out must work at
#           B afterwards, every refresh chain must go on from its last answer, and A, started
#           again, must serve the same tokens.
# postgres  The same two servers on a PostgreSQL cluster of the script's own (initdb in a
#           temporary directory, so the shared server is untouched), under token load; the
#           cluster is stopped for a third of the time, then started again. Meanwhile every
#           request must be answered 503 at once, and both servers must serve again by
#           themselves.
# disk      One server on SQLite, its database on a small tmpfs of its own (needs root to
#           mount it), under token load; the disk is filled for a third of the time, then room
#           is made again. Requests meanwhile must be answered 503, the server must serve again
#           afterwards, every token handed out must be active, and SQLite's integrity check
#           must pass.
#
# Every scenario also fails if a server's log mentions a panic or corruption. Only 127.0.0.1 is
# ever contacted; databases, clusters and mounts go away on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-all}
seconds=${2:-20}
case "$scenario" in kill | postgres | disk | all) ;; *)
  echo "usage: $0 [kill|postgres|disk|all] [SECONDS]" >&2
  exit 2
  ;;
esac

[ -n "${BENCH_SKIP_BUILD:-}" ] || cargo build --release --quiet --bin mas-cli
bin=$PWD/target/release/mas-cli
key=$PWD/crates/config/tests/fixtures/keys/rsa-2048.pkcs1.pem
client_id=01J5Z6K3QY8V0W9X2ABCDEFGH0
client_secret=faults-client-secret-$RANDOM$RANDOM
hs_secret=faults-homeserver-secret-$RANDOM$RANDOM
password='correct horse battery staple faults'
pg_url=${PORTCULLIS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
dir=$(mktemp -d)
chmod 755 "$dir"
pids=()
databases=()
cluster=
mounted=

cleanup() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    echo "failed; the errors the servers logged (count, message):" >&2
    cat "$dir"/*.log 2>/dev/null | grep -E ' (ERROR|WARN) ' | grep -v 'out of reach' | sed 's/^[^ ]* *//' | cut -c1-300 |
      sort | uniq -c | sort -rn | head -n 12 >&2 || true
  fi
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for db in "${databases[@]}"; do
    psql "$pg_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  [ -z "$cluster" ] || as_postgres pg_ctl stop -m immediate -D "$cluster" >/dev/null 2>&1 || true
  [ -z "$mounted" ] || umount "$mounted" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# PostgreSQL's server programs refuse to run as root: as root, they run as `postgres`.
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

write_config() { # DIR PORT DATABASE-URI
  mkdir -p "$1"
  cat > "$1/config.yaml" <<YAML
http:
  public_base: http://127.0.0.1:$2/
  listeners:
    - name: web
      resources: [{name: human}, {name: oauth}, {name: discovery}, {name: health}]
      binds: [{address: "127.0.0.1:$2"}]
database:
  uri: "$3"
  max_connections: 10
secrets:
  encryption: "$(python3 -c 'print("cd"*32)')"
  keys: [{kid: faults, key_file: "$key"}]
matrix:
  homeserver: localhost
  secret: $hs_secret
  endpoint: "http://127.0.0.1:9/"
passwords: {minimum_complexity: 0}
rate_limiting:
  login:
    per_ip: {burst: 1000000, per_second: 1000000}
    per_account: {burst: 1000000, per_second: 1000000}
clients:
  - client_id: $client_id
    client_auth_method: client_secret_post
    client_secret: $client_secret
    redirect_uris: ["https://bench.invalid/callback"]
YAML
}

started=
start() { # NAME PORT EXTRA-ARGS... (sets $started to the process id)
  local name=$1 port=$2
  shift 2
  (cd "$dir/$name" && RUST_LOG=warn exec "$bin" server "$@" >/dev/null 2>>"$dir/$name.log") &
  started=$!
  pids+=("$started")
  for _ in $(seq 1 400); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/health" && return 0
    sleep 0.05
  done
  echo "server $name did not start:" >&2
  cat "$dir/$name.log" >&2
  exit 1
}

no_panics() { # LOG...
  local panics
  panics=$(cat "$@" | grep -ciE "panick|corrupt" || true)
  echo "log lines mentioning a panic or corruption: $panics"
  [ "$panics" -eq 0 ]
}

new_database() { # sets $db_uri to a fresh database on the shared PostgreSQL server
  local name=portcullis_faults_$$_$RANDOM
  psql "$pg_url" -qc "CREATE DATABASE $name" >/dev/null
  databases+=("$name")
  db_uri=$(python3 -c 'import sys, urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p._replace(path="/"+sys.argv[2]).geturl())' "$pg_url" "$name")
}

scenario_kill() {
  echo "--- kill: SIGKILL of server A under tokens, introspections and refreshes ($seconds s)"
  new_database
  local port_a port_b
  port_a=$(free_port)
  port_b=$(free_port)
  write_config "$dir/kill-a" "$port_a" "$db_uri"
  write_config "$dir/kill-b" "$port_b" "$db_uri"
  (cd "$dir/kill-a" && "$bin" database migrate >/dev/null &&
    "$bin" manage register-user alice -p "$password" --yes >/dev/null)
  start kill-a "$port_a" --no-migrate
  local pid_a=$started
  start kill-b "$port_b" --no-migrate
  python3 bench/fault_load.py kill "http://127.0.0.1:$port_a" "http://127.0.0.1:$port_b" \
    "$pid_a" "$seconds" "$client_id" "$client_secret" "$hs_secret" "$password" "$dir/tokens.txt"
  # A again, on the same database: the tokens are its too.
  start kill-a "$port_a" --no-migrate
  echo -n "after restarting A: "
  python3 bench/fault_load.py active "http://127.0.0.1:$port_a" "$hs_secret" "$dir/tokens.txt"
  no_panics "$dir/kill-a.log" "$dir/kill-b.log"
}

scenario_postgres() {
  echo "--- postgres: PostgreSQL stopped for a third of the time under token load ($seconds s)"
  cluster=$dir/cluster
  mkdir -p "$cluster"
  [ "$(id -u)" != 0 ] || chown postgres: "$cluster"
  as_postgres initdb --auth=trust --username=postgres --no-sync -D "$cluster" >/dev/null
  local pg_port
  pg_port=$(free_port)
  local options="-p $pg_port -c listen_addresses=127.0.0.1 -k $cluster"
  as_postgres pg_ctl start --wait --silent -o "$options" -l "$cluster/log" -D "$cluster"
  local uri="postgres://postgres@127.0.0.1:$pg_port/postgres"
  local port_a port_b
  port_a=$(free_port)
  port_b=$(free_port)
  write_config "$dir/pg-a" "$port_a" "$uri"
  write_config "$dir/pg-b" "$port_b" "$uri"
  (cd "$dir/pg-a" && "$bin" database migrate >/dev/null)
  start pg-a "$port_a" --no-migrate
  start pg-b "$port_b" --no-migrate
  local runas=""
  [ "$(id -u)" != 0 ] || runas="runuser -u postgres --"
  python3 bench/fault_load.py outage "http://127.0.0.1:$port_a" "http://127.0.0.1:$port_b" \
    "$seconds" "$client_id" "$client_secret" "$hs_secret" \
    "$runas pg_ctl stop --wait --silent -m fast -D $cluster" \
    "$runas pg_ctl start --wait --silent -o '$options' -l $cluster/log -D $cluster"
  no_panics "$dir/pg-a.log" "$dir/pg-b.log"
  echo "what server A logged about the outage (count, message):"
  sed 's/^[^ ]* *//' "$dir/pg-a.log" | cut -c1-160 | sort | uniq -c | sort -rn | head -n 5
}

scenario_disk() {
  echo "--- disk: SQLite's disk full for a third of the time under token load ($seconds s)"
  mounted=$dir/disk
  mkdir -p "$mounted"
  if ! mount -t tmpfs -o size=64m tmpfs "$mounted" 2>/dev/null; then
    mounted=
    echo "skipped: mounting a small tmpfs needs root"
    return 0
  fi
  local port
  port=$(free_port)
  write_config "$dir/disk" "$port" "sqlite://$mounted/portcullis.db"
  (cd "$dir/disk" && "$bin" database migrate >/dev/null)
  start disk "$port" --no-migrate
  local pid=$started
  python3 bench/fault_load.py disk "http://127.0.0.1:$port" "$seconds" "$client_id" \
    "$client_secret" "$hs_secret" \
    "dd if=/dev/zero of=$mounted/filler bs=64k 2>/dev/null || true" "rm -f $mounted/filler"
  kill -TERM "$pid"
  wait "$pid" || true
  echo -n "SQLite's integrity check after the server stopped: "
  python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' \
    "$mounted/portcullis.db" | tee "$dir/integrity"
  grep -qx ok "$dir/integrity"
  no_panics "$dir/disk.log"
  echo "what the server logged while the disk was full (count, message):"
  sed 's/^[^ ]* *//' "$dir/disk.log" | cut -c1-160 | sort | uniq -c | sort -rn | head -n 5
}

case "$scenario" in
  kill) scenario_kill ;;
  postgres) scenario_postgres ;;
  disk) scenario_disk ;;
  all)
    scenario_kill
    scenario_postgres
    scenario_disk
    ;;
esac
