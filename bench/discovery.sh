#!/usr/bin/env bash
# Throughput and latency of the OpenID Provider discovery document.
#
#   bench/discovery.sh [DURATION_S]
#
# Starts the release server (SQLite; the document touches no database) and runs wrk (2 threads,
# 64 connections, --latency) on GET /.well-known/openid-configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
duration=${1:-15}

bench_init sqlite
bench_start

curl -sf -o /dev/null "$base/.well-known/openid-configuration"
wrk -t2 -c64 -d"${duration}s" --latency "$base/.well-known/openid-configuration" | tee "$dir/wrk.txt"
echo "discovery (2 threads, 64 connections, ${duration} s): $(wrk_summary "$dir/wrk.txt")"
