# Shared set-up of the load benchmarks (sourced by introspection.sh, discovery.sh, logins.sh,
# code_flows.sh, login_storm.sh).
#
# bench_init BACKEND   builds the release binary (unless BENCH_SKIP_BUILD is set), makes a
#                      throwaway directory, picks a free port, creates a fresh PostgreSQL
#                      database (no TLS unless PG_SSLMODE) when BACKEND is `postgres`, writes
#                      $dir/config.yaml: every resource on one listener, one static confidential
#                      client (client_secret_post, redirect URI $redirect_uri),
#                      database.max_connections $DB_CONNECTIONS (20 by default). Extra YAML for
#                      the file can be given in $BENCH_EXTRA_YAML; the homeserver's address in
#                      $BENCH_HOMESERVER_ENDPOINT.
# bench_start          migrates, starts `mas-cli server` (RUST_LOG=warn, plus the NAME=value
#                      words of $BENCH_SERVER_ENV), waits for /health.
# bench_stop           stops it (SIGTERM) and waits.
# bench_warm_up TOKEN  3 s of introspection load whose numbers are thrown away: right after
#                      start-up the pool opens its database connections one request at a time
#                      (on PostgreSQL a new backend process each), which puts 15-70 ms into the
#                      p99 of a first run. The runs that count measure the warm server.
# Everything (server, database, directory) goes away on exit.
#
# Only 127.0.0.1 is ever contacted.

bin=$PWD/target/release/mas-cli
key=$PWD/crates/config/tests/fixtures/keys/rsa-2048.pkcs1.pem
client_id=01J5Z6K3QY8V0W9X2ABCDEFGH0
client_secret=bench-client-secret-$RANDOM$RANDOM
# Never fetched: code flows stop at the redirect and read the code from its address.
redirect_uri=https://bench.invalid/callback
hs_secret=bench-homeserver-secret-$RANDOM$RANDOM
pid=
db_name=

# Password schemes and sign-in rate limits for the sign-in benchmarks: one argon2id scheme, and
# limits lifted (they would turn nearly every login of a storm into a 429 before any password is
# checked; the benchmarks measure hashing, not the limiter).
sign_in_bench_yaml='passwords: {minimum_complexity: 0, schemes: [{version: 1, algorithm: argon2id}]}
rate_limiting:
  login:
    per_ip: {burst: 1000000, per_second: 1000000}
    per_account: {burst: 1000000, per_second: 1000000}'

bench_cleanup() {
  bench_stop
  if [ -n "$db_name" ]; then
    dropdb -h 127.0.0.1 -U postgres --if-exists "$db_name" || true
  fi
  # A benchmark whose server logged errors measured something else: say which, at the end
  # (the 503s of sign-ins refused on purpose during a storm are expected, and left out).
  local errors
  errors=$(grep ' ERROR ' "$dir/server.log" 2>/dev/null | grep -v 'Status code: 503' |
    sed 's/^[^ ]* *//; s/latency=[0-9]* ms//' | sort | uniq -c | sort -rn | head -n 5)
  if [ -n "$errors" ]; then
    echo "the server logged errors (count, message):" >&2
    echo "$errors" >&2
  fi
  rm -rf "$dir"
  # What the benchmark printed is its result: cleaning up does not change its exit status.
  return 0
}

bench_init() {
  backend=${1:-sqlite}
  # BENCH_SKIP_BUILD=1 reuses target/release/mas-cli as it is (e.g. while the tree does not build).
  [ -n "${BENCH_SKIP_BUILD:-}" ] || cargo build --release --quiet --bin mas-cli
  dir=$(mktemp -d)
  trap bench_cleanup EXIT
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  base="http://127.0.0.1:$port"
  case "$backend" in
    sqlite) db_yaml="{uri: \"sqlite:bench.db\", max_connections: ${DB_CONNECTIONS:-20}}" ;;
    postgres)
      db_name=portcullis_bench_$(python3 -c 'import secrets; print(secrets.token_hex(4))')
      createdb -h 127.0.0.1 -U postgres "$db_name"
      # Loopback: no TLS by default (PG_SSLMODE=prefer measures the TLS cost too).
      db_yaml="{uri: \"postgresql://postgres@127.0.0.1:5432/$db_name?sslmode=${PG_SSLMODE:-disable}\", max_connections: ${DB_CONNECTIONS:-20}}"
      ;;
    *) echo "usage: $0 [sqlite|postgres]" >&2; exit 2 ;;
  esac
  cat > "$dir/config.yaml" <<YAML
http:
  public_base: $base/
  issuer: $base/
  listeners:
    - name: web
      resources: [{name: discovery}, {name: human}, {name: oauth}, {name: compat}, {name: adminapi}, {name: health}]
      binds: [{address: "127.0.0.1:$port"}]
database: $db_yaml
secrets:
  encryption: "$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
  keys: [{kid: bench-rsa, key_file: "$key"}]
matrix:
  homeserver: localhost
  secret: $hs_secret
${BENCH_HOMESERVER_ENDPOINT:+  endpoint: "$BENCH_HOMESERVER_ENDPOINT"}
clients:
  - client_id: $client_id
    client_auth_method: client_secret_post
    client_secret: $client_secret
    redirect_uris: ["$redirect_uri"]
${BENCH_EXTRA_YAML:-}
YAML
}

bench_start() {
  (cd "$dir" && "$bin" database migrate >/dev/null)
  # shellcheck disable=SC2086 # BENCH_SERVER_ENV: extra NAME=value words for the server only.
  (cd "$dir" && exec env RUST_LOG=warn ${BENCH_SERVER_ENV:-} "$bin" server >> server.log 2>&1) &
  pid=$!
  for _ in $(seq 1 400); do
    curl -sf -o /dev/null "$base/health" && return 0
    if ! kill -0 "$pid" 2>/dev/null; then cat "$dir/server.log" >&2; exit 1; fi
    sleep 0.05
  done
  echo "the server did not answer /health" >&2
  exit 1
}

bench_stop() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi
  pid=
}

bench_warm_up() {
  TOKEN=$1 HS_SECRET=$hs_secret wrk -t2 -c"${CONNECTIONS:-20}" -d3s \
    -s bench/introspect.lua "$base/oauth2/introspect" > /dev/null
}

# A fresh access token from the client credentials grant.
bench_token() {
  curl -s "$base/oauth2/token" \
    -d grant_type=client_credentials --data-urlencode 'scope=urn:mas:graphql:*' \
    -d client_id="$client_id" -d client_secret="$client_secret" |
    python3 -c 'import json, sys; body = sys.stdin.read(); print(json.loads(body)["access_token"])' ||
    { echo "no token; server log:" >&2; tail -n 20 "$dir/server.log" >&2; return 1; }
}

# The `active` field of an introspection of $1, as the homeserver asks it.
bench_introspect_active() {
  curl -sf "$base/oauth2/introspect" -H "Authorization: Bearer $hs_secret" -d token="$1" |
    python3 -c 'import json, sys; print(str(json.load(sys.stdin)["active"]).lower())'
}

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
# The server's own memory (heap and stacks), without the pages of files it maps (SQLite reads
# its database through a memory map: those pages are the kernel's file cache, shared and
# reclaimable, yet counted in VmRSS).
anon_rss_kib() { awk '/^RssAnon/ {print $2}' "/proc/$pid/status"; }

# The p99 of wrk --latency output in file $1, in milliseconds.
wrk_p99_ms() {
  awk '/^ +99%/ {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
    printf "%.2f\n", v * (u == "us" ? 0.001 : (u == "s" ? 1000 : 1))}' "$1"
}

# Requests/s, p50 and p99 from wrk --latency output in file $1.
wrk_summary() {
  awk '
    /^Requests\/sec:/ {rps = $2}
    /^ +50%/ {p50 = $2}
    /^ +99%/ {p99 = $2}
    /Non-2xx or 3xx/ {bad = $NF}
    /requests in/ {n = $1}
    END {printf "requests: %s, requests/s: %s, p50: %s, p99: %s, non-2xx/3xx: %s\n", n, rps, p50, p99, (bad == "" ? 0 : bad)}
  ' "$1"
}
