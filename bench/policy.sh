#!/usr/bin/env bash
# What one policy decision costs: each entry point of the built-in policy evaluated 20,000
# times (release build) with a realistic policy.data, median and 99th percentile.
#
#   bench/policy.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --quiet -p portcullis-policy --example evaluate
