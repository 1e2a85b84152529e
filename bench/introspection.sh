#!/usr/bin/env bash
# Introspection throughput and latency: the homeserver's hot path.
#
#   [CONNECTIONS=20] [TOKEN_KIND=access|personal] bench/introspection.sh [sqlite|postgres] [DURATION_S]
#
# TOKEN_KIND=personal introspects a personal access token (`manage generate-token`) instead of
# an access token of the client credentials grant.
#
# Starts the release server with a static confidential client and a 20-connection database pool,
# gets an access token with the client credentials grant, warms the server up (bench_warm_up),
# and runs wrk (2 threads, $CONNECTIONS connections, 20 by default, --latency) POSTing `token=<it>` to /oauth2/introspect with
# `Authorization: Bearer <matrix.secret>`. Then checks, with one curl each, that a second token
# is active, is revoked, and is inactive right after.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
duration=${2:-15}
connections=${CONNECTIONS:-20}

bench_init "${1:-sqlite}"
bench_start

if [ "${TOKEN_KIND:-access}" = personal ]; then
  (cd "$dir" && "$bin" manage register-user benchbot --yes >/dev/null 2>&1)
  token=$(cd "$dir" && "$bin" manage generate-token --user benchbot 2>/dev/null)
else
  token=$(bench_token)
fi
echo "backend: $backend; ${TOKEN_KIND:-access} token active before the run: $(bench_introspect_active "$token")"
bench_warm_up "$token"
TOKEN=$token HS_SECRET=$hs_secret wrk -t2 -c"$connections" -d"${duration}s" --latency \
  -s bench/introspect.lua "$base/oauth2/introspect" | tee "$dir/wrk.txt"
echo "idle-after-load resident memory: $(( $(rss_kib) / 1024 )) MiB"

second=$(bench_token)
before=$(bench_introspect_active "$second")
revoke=$(curl -s -o /dev/null -w '%{http_code}' "$base/oauth2/revoke" \
  -d token="$second" -d client_id="$client_id" -d client_secret="$client_secret")
after=$(bench_introspect_active "$second")
echo "revocation: active before: $before; revoke: HTTP $revoke; active right after: $after"
echo "introspection ($backend, 2 threads, $connections connections, ${duration} s): $(wrk_summary "$dir/wrk.txt")"
