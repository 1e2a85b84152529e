#!/usr/bin/env bash
# Password logins: the cost of a verification against a hash, and a login storm during
# introspection load.
#
#   [CONNECTIONS=20] [ROUNDS=5] bench/logins.sh [sqlite|postgres] [DURATION_S]
#
# (a) Hash vs verification, both measured as the duration of POST /login (bench/login_client.py
#     compare: 20 rounds of four sequential logins, one of each kind, medians):
#     - `unknown`: a username that does not exist: no password check (the request's overhead);
#     - `wrong`: an existing user with a wrong password: one argon2id verification, nothing
#       written;
#     - `verify`: the same user with the right password, whose hash is of the current scheme:
#       one verification and a new browser session written;
#     - `upgrade`: users whose hash is of an older scheme (version 1, argon2id with the same
#       parameters as version 2): one verification plus one argon2id hash of the new version,
#       in the same turn on the hashing pool, the same browser session, and one more row.
#     So one verification ≈ wrong − unknown, and one hash ≈ upgrade − verify: each difference
#     leaves hashing work alone. `cargo bench -p portcullis-passwords` measures the same ratio
#     without HTTP.
# (b) On a freshly started server, after a warm-up (bench_warm_up): $ROUNDS rounds (5 by
#     default), each a wrk run on /oauth2/introspect without logins, then one during waves of 64
#     simultaneous logins (GET /login, then all POST at once), both DURATION_S long (10 s by
#     default; wrk: 2 threads, $CONNECTIONS connections, 20 by default). Prints each run and the
#     median p99 of each kind: a single stall of the virtual machine moves a 10 s p99 on its own
#     (seen without any login), and the interleaved rounds show where the stalls fall. The
#     server's VmRSS is read before, sampled every 20 ms during the logins (peak) and read 5 and
#     15 s after the last round.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
duration=${2:-10}
rounds=${ROUNDS:-5}
password='correct horse battery staple bench'

BENCH_EXTRA_YAML=$sign_in_bench_yaml
bench_init "${1:-sqlite}"
cat > "$dir/v2.yaml" <<YAML
passwords: {schemes: [{version: 2, algorithm: argon2id}]}
YAML
register() { (cd "$dir" && "$bin" manage register-user "$1" -p "$password" --yes >/dev/null); }

(cd "$dir" && "$bin" database migrate >/dev/null)
upgrade_users=()
for i in $(seq -w 0 19); do register "upg$i"; upgrade_users+=("upg$i"); done
export MAS_CONFIG=config.yaml:v2.yaml   # lists concatenate: schemes are now versions 1 and 2
register alice
bench_start

echo "--- (a) sequential logins ($backend), interleaved: unknown user, wrong password, verify, verify + upgrade"
python3 bench/login_client.py compare "$base" "$password" alice "${upgrade_users[@]}"

echo "--- (b) 64 concurrent logins during introspection load ($backend)"
bench_stop
bench_start
token=$(bench_token)
wrk_introspect() {
  TOKEN=$token HS_SECRET=$hs_secret wrk -t2 -c"${CONNECTIONS:-20}" -d"$1s" --latency \
    -s bench/introspect.lua "$base/oauth2/introspect"
}
sleep 2
rss_before=$(rss_kib)
bench_warm_up "$token"
rss_after_wrk=$(rss_kib)

# Rounds of the same length, each a run without logins then a run with them, so that both
# see the same machine: a stall of the virtual machine lands in either, and shows as such.
peak=0
without=()
during=()
for round in $(seq 1 "$rounds"); do
  wrk_introspect "$duration" > "$dir/baseline.txt"
  echo "round $round, introspection without logins (${duration} s): $(wrk_summary "$dir/baseline.txt")"
  without+=("$(wrk_p99_ms "$dir/baseline.txt")")

  ${STORM_PREFIX:-} python3 bench/login_client.py storm "$base" "$password" alice 64 "$((duration + 1))" "$pid" \
    > "$dir/storm.txt" &
  storm_pid=$!
  sleep 0.5
  wrk_introspect "$duration" > "$dir/during.txt"
  wait "$storm_pid"
  sed 's/^/  /' "$dir/storm.txt"
  echo "round $round, introspection during the logins (${duration} s): $(wrk_summary "$dir/during.txt")"
  grep 'answers not active' "$dir/during.txt"
  during+=("$(wrk_p99_ms "$dir/during.txt")")
  round_peak=$(sed -n 's/^peak_rss_kib=//p' "$dir/storm.txt")
  [ "$round_peak" -gt "$peak" ] && peak=$round_peak
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
echo "introspection p99 over $rounds rounds, in ms: without logins ${without[*]} (median" \
  "$(median "${without[@]}")); during the logins ${during[*]} (median $(median "${during[@]}"))"
sleep 5
rss_after=$(rss_kib)
sleep 10
rss_after_15=$(rss_kib)
echo "server VmRSS: idle before $((rss_before / 1024)) MiB ($rss_before KiB);" \
  "after the warm-up $((rss_after_wrk / 1024)) MiB;" \
  "peak during logins $((peak / 1024)) MiB; 5 s after $((rss_after / 1024)) MiB ($rss_after KiB);" \
  "15 s after $((rss_after_15 / 1024)) MiB ($rss_after_15 KiB)"
