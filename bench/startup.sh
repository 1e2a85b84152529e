#!/usr/bin/env bash
# Start-up time and idle memory of the release binary, on an already migrated SQLite database.
#
#   bench/startup.sh [RUNS]
#
# For each run: start `mas-cli server`, poll /health until it answers, record the time from
# spawn to the first 200 (as a client sees it) and the time the server itself logs at "ready";
# then, on one more run, let it idle for two seconds and read its resident memory (VmRSS).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}

cargo build --release --quiet --bin mas-cli
bin=$PWD/target/release/mas-cli
key=$PWD/crates/config/tests/fixtures/keys/rsa-2048.pkcs1.pem

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$dir/config.yaml" <<YAML
http:
  public_base: http://127.0.0.1:$port/
  listeners:
    - name: web
      resources: [{name: health}]
      binds: [{address: "127.0.0.1:$port"}]
secrets:
  encryption: "$(python3 -c 'print("ab"*32)')"
  keys: [{key_file: "$key"}]
matrix:
  homeserver: localhost
  secret: bench
YAML
cd "$dir"
"$bin" database migrate >/dev/null 2>&1

now_ns() { date +%s%N; }
wait_ready() {
  until curl -sf -o /dev/null "http://127.0.0.1:$port/health"; do :; done
}

client_ms=()
server_ms=()
for _ in $(seq "$runs"); do
  start=$(now_ns)
  RUST_LOG=info "$bin" server 2> server.log &
  pid=$!
  wait_ready
  end=$(now_ns)
  kill -TERM "$pid"; wait "$pid" || true
  client_ms+=("$(( (end - start) / 1000 ))")
  server_ms+=("$(sed -n 's/.*elapsed_ms=\([0-9]*\).*/\1/p' server.log | head -n 1)")
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
max() { printf '%s\n' "$@" | sort -n | tail -n 1; }

RUST_LOG=warn "$bin" server 2>/dev/null &
pid=$!
wait_ready
sleep 2
rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
kill -TERM "$pid"; wait "$pid" || true

echo "runs: $runs"
echo "spawn to first /health 200 (client view): median $(median "${client_ms[@]}") us, max $(max "${client_ms[@]}") us"
echo "start to ready (server log): median $(median "${server_ms[@]}") ms, max $(max "${server_ms[@]}") ms"
echo "idle resident memory: $((rss_kib / 1024)) MiB ($rss_kib KiB)"
