#!/usr/bin/env bash
# The Admin API's user lists over a large database: 100,000 users, 100,000 addresses and
# 200,000 sessions (bench/seed_admin.py), then bench/admin_client.py (one request at a time).
#
#   bench/admin_lists.sh [sqlite|postgres]
#
# Target (issue 15): every page of 100 and every count=only under 20 ms p99, on both backends.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh

bench_init "${1:-sqlite}"
(cd "$dir" && "$bin" database migrate >/dev/null)
case "$backend" in
  sqlite) python3 bench/seed_admin.py sqlite "$dir/bench.db" ;;
  postgres) python3 bench/seed_admin.py postgres "$db_name" ;;
esac
(cd "$dir" && "$bin" manage register-user benchadmin --yes --admin >/dev/null 2>&1 || true)
token=$(cd "$dir" && "$bin" manage generate-token --admin --user benchadmin 2>/dev/null)
bench_start
echo "--- admin API user lists ($backend)"
python3 bench/admin_client.py "$base" "$token"
echo "server VmRSS after: $(( $(rss_kib) / 1024 )) MiB (own memory, RssAnon: $(( $(anon_rss_kib) / 1024 )) MiB)"
