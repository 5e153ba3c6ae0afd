#!/usr/bin/env bash
# Builds Techo and runs it on a vault: the README's "run the app" command.
#
#   scripts/run-app.sh               set up, build, create the demo vault if needed, launch
#   scripts/run-app.sh --no-setup    skip scripts/setup.sh (tools already installed)
#   scripts/run-app.sh --no-launch   everything but starting the window (CI, smoke tests)
#
# The vault is $TECHO_VAULT, default ${XDG_DATA_HOME:-$HOME/.local/share}/techo/demo-vault.
# When nothing is there yet, a demo vault is created with the techo CLI: 3 synthetic persons,
# 2000 generated resources in all, seed 42, passphrase "techo-demo-passphrase" (synthetic data only).
# Without $DISPLAY (headless), an Xvfb server is started on a free display and stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { printf 'run-app: %s\n' "$*" >&2; }

SETUP=1
LAUNCH=1
for arg in "$@"; do
  case "$arg" in
    --no-setup) SETUP=0 ;;
    --no-launch) LAUNCH=0 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) say "unknown option: $arg (see --help)"; exit 2 ;;
  esac
done

DEMO_PASSPHRASE="techo-demo-passphrase"
DEMO_VAULT="${XDG_DATA_HOME:-$HOME/.local/share}/techo/demo-vault"
VAULT="${TECHO_VAULT:-$DEMO_VAULT}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
TECHO="$TARGET_DIR/release/techo"
APP="$TARGET_DIR/release/techo-app"

# 1. Tools and system packages (setup.sh skips what is already there).
if [ "$SETUP" = 1 ]; then
  scripts/setup.sh
fi

# 2. Build: the UI first (the app embeds ui/dist), then the CLI and the app.
scripts/build-ui.sh
say "building the techo CLI"
cargo build --release -p techo-cli
say "building the app"
cargo build --release -p techo-app --features custom-protocol

# 3. A demo vault when there is none yet (a missing or empty folder).
created_demo=0
if [ ! -e "$VAULT" ] || [ -z "$(ls -A "$VAULT" 2>/dev/null)" ]; then
  say "no vault at $VAULT: creating a demo vault with synthetic data"
  mkdir -p "$(dirname "$VAULT")"
  work="$(mktemp -d)"
  # A half-made demo vault would be reused next time: remove it when a step fails.
  trap 'rm -rf "$work"; say "creating the demo vault failed; removing $VAULT"; rm -rf "$VAULT"' EXIT
  printf '%s\n' "$DEMO_PASSPHRASE" | "$TECHO" --vault "$VAULT" init --passphrase-stdin
  # One file per person: an import file holds one person's record.
  "$TECHO" --vault "$VAULT" gen --persons 3 --resources 2000 --seed 42 --format ndjson --out-dir "$work"
  printf '%s\n' "$DEMO_PASSPHRASE" | "$TECHO" --vault "$VAULT" import --passphrase-stdin "$work"/person-*.ndjson
  trap - EXIT
  rm -rf "$work"
  created_demo=1
fi
if [ "$created_demo" = 1 ] || [ "$VAULT" = "$DEMO_VAULT" ]; then
  printf '\n  Demo vault: %s\n  Passphrase: %s   (synthetic demo data only)\n\n' "$VAULT" "$DEMO_PASSPHRASE"
fi

if [ "$LAUNCH" = 0 ]; then
  say "built; not launching (--no-launch). Start it with: TECHO_VAULT=\"$VAULT\" $APP"
  exit 0
fi

# 4. Headless: Xvfb when there is no display, and a session bus (the OS keyring and WebKit use
# it) when none is running; both stopped on exit.
. scripts/headless.sh
headless_start "headless"
trap 'exit 130' INT TERM

# 6. Launch, and wait for the window to close (Ctrl-C stops it too).
export TECHO_VAULT="$VAULT"
say "starting Techo on $VAULT"
"$APP" &
app_pid=$!
headless_started+=("$app_pid")
status=0
wait "$app_pid" || status=$?
exit "$status"
