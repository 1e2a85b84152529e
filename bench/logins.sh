#!/usr/bin/env bash
# Password logins: the cost of a verification against a hash, and a login storm during
# introspection load.
#
#   bench/logins.sh [sqlite|postgres] [DURATION_S]
#
# (a) Hash vs verification, both measured as the duration of POST /login (bench/login_client.py
#     compare: 20 rounds of three sequential logins, one of each kind, medians):
#     - `unknown`: a username that does not exist: no password check (the request's overhead);
#     - `verify`: a user whose hash is of the current scheme: one argon2id verification;
#     - `upgrade`: users whose hash is of an older scheme (version 1, argon2id with the same
#       parameters as version 2): one verification plus one argon2id hash of the new version,
#       in the same turn on the hashing pool (and one more row written).
#     So one hash ≈ upgrade − verify, and one verification ≈ verify − unknown.
# (b) On a freshly started server: waves of 64 simultaneous logins (GET /login, then all POST at
#     once) for the whole of a wrk run on /oauth2/introspect (2 threads, $CONNECTIONS connections,
#     64 by default), with
#     the server's VmRSS read before, sampled every 20 ms during (peak) and read 5 s after.
#     A 10 s wrk run without logins comes first, for comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
duration=${2:-15}
password='correct horse battery staple bench'

# The sign-in rate limits would turn nearly every login of the storm into a 429 before any
# password is checked: lifted here, as the storm measures hashing, not the limiter.
BENCH_EXTRA_YAML='passwords: {minimum_complexity: 0, schemes: [{version: 1, algorithm: argon2id}]}
rate_limiting:
  login:
    per_ip: {burst: 1000000, per_second: 1000000}
    per_account: {burst: 1000000, per_second: 1000000}'
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

echo "--- (a) sequential logins ($backend), interleaved: unknown user, verify, verify + upgrade"
python3 bench/login_client.py compare "$base" "$password" alice "${upgrade_users[@]}"

echo "--- (b) 64 concurrent logins during introspection load ($backend)"
bench_stop
bench_start
token=$(bench_token)
wrk_introspect() {
  TOKEN=$token HS_SECRET=$hs_secret wrk -t2 -c"${CONNECTIONS:-64}" -d"$1s" --latency \
    -s bench/introspect.lua "$base/oauth2/introspect"
}
sleep 2
rss_before=$(rss_kib)
wrk_introspect 10 > "$dir/baseline.txt"
echo "introspection without logins (10 s): $(wrk_summary "$dir/baseline.txt")"
rss_after_wrk=$(rss_kib)

python3 bench/login_client.py storm "$base" "$password" alice 64 "$((duration + 1))" "$pid" \
  > "$dir/storm.txt" &
storm_pid=$!
sleep 0.5
wrk_introspect "$duration" > "$dir/during.txt"
wait "$storm_pid"
cat "$dir/storm.txt"
echo "introspection during the logins (${duration} s): $(wrk_summary "$dir/during.txt")"
grep 'answers not active' "$dir/during.txt"
peak=$(sed -n 's/^peak_rss_kib=//p' "$dir/storm.txt")
sleep 5
rss_after=$(rss_kib)
sleep 10
rss_after_15=$(rss_kib)
echo "server VmRSS: idle before $((rss_before / 1024)) MiB ($rss_before KiB);" \
  "after the introspection-only run $((rss_after_wrk / 1024)) MiB;" \
  "peak during logins $((peak / 1024)) MiB; 5 s after $((rss_after / 1024)) MiB ($rss_after KiB);" \
  "15 s after $((rss_after_15 / 1024)) MiB ($rss_after_15 KiB)"
