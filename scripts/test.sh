#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, then runs
#   1. every crate's unit, property and end-to-end tests (the end-to-end tests start the real
#      watchtrail binary and drive it with the official AWS SDK for Rust, including the kill -9 crash test);
#   2. the AWS CLI smoke test against a freshly started server.
set -euo pipefail
cd "$(dirname "$0")/.."

# The AWS CLI (v1, from PyPI) drives the smoke test; moto's S3 server stands in for an
# S3-compatible bucket in the segment-store test.
if ! command -v aws >/dev/null 2>&1 || ! python3 -c "import moto.server, duckdb" >/dev/null 2>&1; then
  echo "== installing the AWS CLI and moto's S3 server"
  python3 -m pip install --quiet --disable-pip-version-check awscli "moto[server]" duckdb
  # pyenv only creates console-script shims (aws) on a rehash.
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
  hash -r
fi
export WATCHTRAIL_REQUIRE_S3=1
# DuckDB is the independent oracle of crates/insights/tests/duckdb_oracle.rs.
export WATCHTRAIL_REQUIRE_DUCKDB=1

echo "== cargo test --workspace"
cargo test --workspace --locked

echo "== AWS CLI smoke test"
cargo build --locked -p watchtrail --quiet
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
scripts/cli-smoke.sh "$target_dir/debug/watchtrail"
