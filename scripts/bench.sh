#!/usr/bin/env bash
# One command for Techo's benchmarks: import throughput vs a plain sqlite3 load, peak RSS,
# and query latency on a big vault. Builds the release CLI and the bench, runs them, prints
# a Markdown table and writes target/bench/report.md. Needs no network (beyond a first
# `cargo build` fetching crates) and the sqlite3 CLI (scripts/setup.sh --cli installs it).
#
#   scripts/bench.sh                              100k-resource import, 1M-resource query vault
#   scripts/bench.sh --resources 10000 --big 0    quick check of the harness (~1 minute)
#   scripts/bench.sh --help                       all options (--big-persons, --runs, --keep, --reuse-big…)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v sqlite3 >/dev/null 2>&1; then
  echo "bench: the sqlite3 CLI is missing (apt-get install sqlite3, or scripts/setup.sh --cli)" >&2
  exit 1
fi

TARGET="${CARGO_TARGET_DIR:-target}"
echo "bench: building the release CLI and bench (cargo build --release -p techo-cli -p techo-bench)" >&2
cargo build --release -p techo-cli -p techo-bench >&2

echo "bench: running; progress on stderr, the report on stdout and in $TARGET/bench/report.md" >&2
exec "$TARGET/release/techo-bench" --techo "$TARGET/release/techo" --report "$TARGET/bench/report.md" "$@"
