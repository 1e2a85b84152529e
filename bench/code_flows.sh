#!/usr/bin/env bash
# Complete authorization code flows, as new browsers do them: authorize (PKCE) -> sign in ->
# consent -> code -> token, CONCURRENCY flows at a time (4 by default) for DURATION_S seconds.
#
#   bench/code_flows.sh [sqlite|postgres] [DURATION_S]
#
# Each flow signs in with a password, so one argon2id verification per flow bounds the rate on
# the hashing pool; the rest is the pages, the grant and session writes and the token endpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
duration=${2:-15}
password='correct horse battery staple bench'

BENCH_EXTRA_YAML='passwords: {minimum_complexity: 0}
rate_limiting:
  login:
    per_ip: {burst: 1000000, per_second: 1000000}
    per_account: {burst: 1000000, per_second: 1000000}'
bench_init "${1:-sqlite}"
(cd "$dir" && "$bin" database migrate >/dev/null)
(cd "$dir" && "$bin" manage register-user alice -p "$password" --yes >/dev/null)
bench_start
echo "--- complete code flows ($backend, ${CONCURRENCY:-4} at a time, ${duration} s)"
python3 bench/login_client.py flows "$base" "$password" alice "$client_id" "$client_secret" \
  "$redirect_uri" "${CONCURRENCY:-4}" "$duration"
echo "server VmRSS after: $(( $(rss_kib) / 1024 )) MiB"
