#!/usr/bin/env bash
# One command for Techo's benchmarks: import throughput vs a plain sqlite3 load, peak RSS,
# query latency on a big vault, and sync of 50k resources from a loopback FHIR peer vs a plain
# HTTP client. Builds the release CLI and the bench, runs them, prints a Markdown table and
# writes target/bench/report.md. Needs no network (beyond a first `cargo build` fetching
# crates), the sqlite3 CLI (scripts/setup.sh --cli installs it) and, for the sync part, node
# ≥ 20.19 with `npm ci` done in tests/peers (scripts/setup.sh; or skip it: --sync-resources 0).
#
#   scripts/bench.sh                              100k-resource import, 1M-resource query vault, 50k sync
#   scripts/bench.sh --resources 10000 --big 0    quick check of the harness (~2 minutes with the sync)
#   scripts/bench.sh --resources 10000 --rss-factor 0 --big 0 --csv-rows 0
#                                                 mostly the sync benchmark
#   scripts/bench.sh --help                       all options (--big-persons, --runs, --keep, --reuse-big…)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v sqlite3 >/dev/null 2>&1; then
  echo "bench: the sqlite3 CLI is missing (apt-get install sqlite3, or scripts/setup.sh --cli)" >&2
  exit 1
fi

# The sync part (on unless --sync-resources 0) runs the FHIR peer under node: check before building.
sync_resources=50000 node=node peers=tests/peers prev=""
for a in "$@"; do
  case "$prev" in --sync-resources) sync_resources="$a" ;; --node) node="$a" ;; --peers) peers="$a" ;; esac
  case "$a" in -h | --help) sync_resources=0 ;; esac
  prev="$a"
done
if [ "$sync_resources" != "0" ]; then
  if ! command -v "$node" >/dev/null 2>&1; then
    echo "bench: node is missing for the sync benchmark (scripts/setup.sh installs it; or skip it with --sync-resources 0)" >&2
    exit 1
  fi
  if [ ! -f "$peers/node_modules/@medplum/fhir-router/package.json" ]; then
    echo "bench: $peers/node_modules is missing for the sync benchmark (run \`npm ci\` in tests/peers, or scripts/setup.sh; or skip it with --sync-resources 0)" >&2
    exit 1
  fi
fi

TARGET="${CARGO_TARGET_DIR:-target}"
echo "bench: building the release CLI and bench (cargo build --release -p techo-cli -p techo-bench)" >&2
cargo build --release -p techo-cli -p techo-bench >&2

echo "bench: running; progress on stderr, the report on stdout and in $TARGET/bench/report.md" >&2
exec "$TARGET/release/techo-bench" --techo "$TARGET/release/techo" --report "$TARGET/bench/report.md" "$@"
