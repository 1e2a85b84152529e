#!/usr/bin/env bash
# A storm of Matrix password logins during introspection load, with a real Synapse to create
# the devices on (../shared/peers/synapse):
#
#   [ROUNDS=3] [CONNECTIONS=20] [LOGINS=64] [BENCH_SKIP_BUILD=1] bench/login_storm.sh [postgres|sqlite] [DURATION_S]
#
# After a warm-up (bench_warm_up), $ROUNDS rounds (3 by default), each of:
#   - calm: DURATION_S (10 s by default) of introspection alone (wrk, 2 threads,
#     $CONNECTIONS connections, `bench/introspect.lua`);
#   - storm: the same introspection load while $LOGINS connections (64 by default, wrk with
#     `bench/login_storm.lua`) each POST `m.login.password` for the same user again as soon
#     as they have their answer, for the same time. Prints the logins signed in (200),
#     refused (503: hashing saturated), rate limited (429) and other, and introspection's
#     requests/s and p99 next to the calm run's (the share kept, in %).
# The server's VmRSS is read before, sampled every 20 ms during the storms (peak), and read
# 10 s after the last one, and where the machine's CPU went during each storm (the server's
# hashing threads, the rest of the server, PostgreSQL, Synapse, the load generators:
# bench/cpu_split.py). The sign-in rate limits are lifted: the storm measures hashing.
# `cargo bench -p portcullis-passwords` gives the time of one hash on the same machine.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
duration=${2:-10}
rounds=${ROUNDS:-3}
password='correct horse battery staple bench'
synapse_scripts=$PWD/../shared/peers/synapse
sport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BENCH_HOMESERVER_ENDPOINT=http://127.0.0.1:$sport/
BENCH_EXTRA_YAML=$sign_in_bench_yaml
bench_init "${1:-postgres}"
stop_all() {
  bash "$synapse_scripts/stop-synapse.sh" "$dir/synapse" > /dev/null 2>&1 || true
  bench_cleanup
}
trap stop_all EXIT
MAS_ENDPOINT=$base/ MAS_SECRET=$hs_secret SYNAPSE_PORT=$sport SYNAPSE_SERVER_NAME=localhost \
  SYNAPSE_VENV=$PWD/target/synapse-venv bash "$synapse_scripts/run-synapse.sh" "$dir/synapse" \
  > "$dir/synapse.env"

(cd "$dir" && "$bin" database migrate > /dev/null)
(cd "$dir" && "$bin" manage register-user alice -p "$password" --yes > /dev/null)
bench_start
# HASHING_POLICY=idle|batch|nice:N moves the server's hashing threads to another policy or
# niceness (`chrt`, `renice`), to compare with the one the server chooses.
for task in $(grep -l '^password-hashin' /proc/"$pid"/task/*/comm | xargs -n1 dirname | xargs -n1 basename); do
  case "${HASHING_POLICY:-}" in
    idle) chrt --idle -p 0 "$task" ;;
    batch) chrt --batch -p 0 "$task" ;;
    nice:*) renice -n "${HASHING_POLICY#nice:}" -p "$task" > /dev/null ;;
  esac
done
token=$(bench_token)
wrk_introspect() {
  TOKEN=$token HS_SECRET=$hs_secret wrk -t2 -c"${CONNECTIONS:-20}" -d"${duration}s" --latency \
    -s bench/introspect.lua "$base/oauth2/introspect"
}
# The storm: the logins and, at the same time, introspection; bench/cpu_split.py reads where
# the CPU went meanwhile.
storm() {
  LOGIN_USER=alice LOGIN_PASSWORD=${STORM_PASSWORD:-$password} wrk -t2 -c"${LOGINS:-64}" -d"${duration}s" \
    -s bench/login_storm.lua "$base/_matrix/client/v3/login" > "$dir/storm.txt" &
  wrk_introspect > "$dir/during.txt"
  wait
}
export token hs_secret duration base dir password
wrk_requests() { awk '/^Requests\/sec/ {printf "%d\n", $2}' "$1"; }
sample_peak() {
  local peak=0 now
  while kill -0 "$1" 2> /dev/null; do
    now=$(rss_kib); [ "$now" -gt "$peak" ] && peak=$now
    sleep 0.02
  done
  echo "$peak"
}

sleep 2
rss_before=$(rss_kib)
anon_before=$(anon_rss_kib)
bench_warm_up "$token"
peak=0
for round in $(seq 1 "$rounds"); do
  python3 bench/cpu_split.py "$pid" -- bash -c "$(declare -f wrk_introspect); wrk_introspect" \
    > "$dir/calm.txt" 2> "$dir/cpu-calm.txt"
  python3 bench/cpu_split.py "$pid" -- bash -c "$(declare -f wrk_introspect storm); storm" \
    2> "$dir/cpu.txt" &
  storm_pid=$!
  sample_peak "$storm_pid" > "$dir/peak.txt" &
  sampler_pid=$!
  wait "$storm_pid" "$sampler_pid"
  round_peak=$(cat "$dir/peak.txt")
  [ "$round_peak" -gt "$peak" ] && peak=$round_peak
  calm=$(wrk_requests "$dir/calm.txt"); during=$(wrk_requests "$dir/during.txt")
  echo "round $round: $(grep '^logins:' "$dir/storm.txt") in ${duration} s"
  echo "  introspection calm:   $(wrk_summary "$dir/calm.txt")"
  echo "  introspection storm:  $(wrk_summary "$dir/during.txt") — $((100 * during / calm)) % of calm;" \
    "$(grep 'answers not active' "$dir/during.txt")"
  echo "  calm: $(cat "$dir/cpu-calm.txt")"
  echo "  storm: $(cat "$dir/cpu.txt")"
done
sleep 10
echo "server VmRSS: idle $((rss_before / 1024)) MiB (RssAnon $((anon_before / 1024)) MiB); peak during the storms $((peak / 1024)) MiB;" \
  "10 s after the last $(( $(rss_kib) / 1024 )) MiB (own memory, RssAnon: $(( $(anon_rss_kib) / 1024 )) MiB)"
