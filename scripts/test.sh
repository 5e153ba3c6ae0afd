#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing (scripts/setup.sh), builds
# the UI and the CLI, then runs every test of the workspace with cargo-nextest, the OS-keyring
# test inside a private D-Bus session with gnome-keyring, and lints.
#   scripts/test.sh            everything
#   scripts/test.sh --quick    skip clippy
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\ntest.sh: %s\n' "$*" >&2; }

scripts/setup.sh

# CI runs in a fresh clone: keep the build cache outside it so a warm machine rebuilds little.
if [ "${CI:-}" = "true" ] && [ -z "${CARGO_TARGET_DIR:-}" ]; then
  export CARGO_TARGET_DIR="$HOME/.cache/techo/ci-target"
fi
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Tests never touch the real OS keyring unless they start their own (below).
export TECHO_KEYRING=none

say "building the UI (wasm), the CLI and the desktop app"
scripts/build-ui.sh
cargo build -p techo-cli
cargo build -p techo-app --features custom-protocol

# The app's end-to-end test needs a display and a session bus: our own (Xvfb, D-Bus) unless
# there is one, stopped on exit.
. scripts/headless.sh
headless_start "for the end-to-end test"
export TECHO_E2E=1

# The official FHIR R4 examples for the round-trip test (../shared, or the npm package).
if r4=$(scripts/fetch-r4-examples.sh 2>/dev/null); then
  export TECHO_R4_EXAMPLES="$r4"
fi

# The sync-peer tests (tests/it/sync_peers.rs) need tests/peers/node_modules, which
# scripts/setup.sh installed above; without it they skip, and fail under CI: stop here instead.
if [ ! -f tests/peers/node_modules/.package-lock.json ]; then
  say "tests/peers/node_modules is missing (scripts/setup.sh runs npm ci there): the sync-peer tests will skip"
  if [ -n "${CI:-}" ]; then exit 1; fi
fi

say "running the test suite"
cargo nextest run --workspace --exclude techo-ui --no-fail-fast

say "the UI's own logic (host build of the wasm crate: labels, counts, schedule words)"
cargo nextest run -p techo-ui --no-fail-fast

say "the OS keyring backend, inside a private D-Bus session with gnome-keyring"
dbus-run-session -- sh -c '
  printf "techo-test" | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
  TECHO_KEYRING= TECHO_TEST_OS_KEYRING=1 cargo nextest run -p techo-core os_keyring --no-fail-fast
'

if [ "${1:-}" != "--quick" ]; then
  say "clippy"
  cargo clippy --workspace --exclude techo-ui --all-targets -- -D warnings
  cargo clippy -p techo-ui --target wasm32-unknown-unknown -- -D warnings
fi
say "all tests passed"
