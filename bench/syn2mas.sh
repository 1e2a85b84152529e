#!/usr/bin/env bash
# `mas-cli syn2mas migrate` over a large Synapse: 100,000 users, 100,000 addresses, 10,000
# upstream identities, 200,000 devices with an access token each (bench/seed_synapse.py), from
# Synapse's SQLite or PostgreSQL database into ours on the same backend.
#
#   bench/syn2mas.sh [sqlite|postgres]
#
# A real Synapse (from PyPI, ../shared/peers/synapse/) runs once to create its schema and is
# stopped; the rows are then written into its database directly. Target (issue 18): under 2
# minutes for the migration, on each backend.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh

bench_init "${1:-sqlite}"
synapse_scripts=$PWD/../shared/peers/synapse
synapse_dir=$dir/synapse
synapse_db=
stop_synapse() { bash "$synapse_scripts/stop-synapse.sh" "$synapse_dir" >/dev/null 2>&1 || true; }
drop_synapse_db() { [ -z "$synapse_db" ] || dropdb -h 127.0.0.1 -U postgres --if-exists "$synapse_db"; }
trap 'stop_synapse; drop_synapse_db; bench_cleanup' EXIT

synapse_args=()
if [ "$backend" = postgres ]; then
  synapse_db=synapse_bench_$(python3 -c 'import secrets; print(secrets.token_hex(4))')
  psql -q -h 127.0.0.1 -U postgres -c \
    "CREATE DATABASE $synapse_db ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
  cat > "$dir/synapse-db.yaml" <<YAML
database: {name: psycopg2, args: {user: postgres, host: 127.0.0.1, port: 5432, dbname: $synapse_db}}
YAML
  export SYNAPSE_EXTRA_CONFIG=$dir/synapse-db.yaml SYNAPSE_WAIT_BG_UPDATES=0
  synapse_args=(--synapse-database-uri "postgresql://postgres@127.0.0.1:5432/$synapse_db")
fi
SYNAPSE_AUTH_MODE=legacy SYNAPSE_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])') \
  bash "$synapse_scripts/run-synapse.sh" "$synapse_dir" > /dev/null
stop_synapse
case "$backend" in
  sqlite) python3 bench/seed_synapse.py sqlite "$synapse_dir/homeserver.db" ;;
  postgres) python3 bench/seed_synapse.py postgres "$synapse_db" ;;
esac

cat >> "$dir/config.yaml" <<'YAML'
passwords:
  schemes:
    - {version: 1, algorithm: bcrypt}
    - {version: 2, algorithm: argon2id}
upstream_oauth2:
  providers:
    - id: upstream
      synapse_idp_id: oidc-upstream
      issuer: https://id.example.com
      client_id: portcullis
      token_endpoint_auth_method: none
YAML
(cd "$dir" && "$bin" database migrate >/dev/null)
echo "--- syn2mas migrate ($backend to $backend)"
start=$(date +%s.%N)
(cd "$dir" && /usr/bin/time -f "peak RSS %M KiB" "$bin" syn2mas migrate --accept-warnings \
  --synapse-config "$synapse_dir/homeserver.yaml" "${synapse_args[@]}" | grep -v '^  ')
end=$(date +%s.%N)
python3 -c "print(f'migration took {$end - $start:.1f} s')"
