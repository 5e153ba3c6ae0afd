#!/usr/bin/env bash
# Installs what Techo needs to build, run and test, and skips what is already there.
# Debian/Ubuntu. Run as root or with sudo available. Idempotent.
#   scripts/setup.sh           everything (app + tests)
#   scripts/setup.sh --cli     only what the core and the CLI need
set -euo pipefail

WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen pinned in ui/Cargo.toml
TAURI_DRIVER_VERSION=2.1.0     # the WebDriver bridge for the app's end-to-end test (3.x is alpha)

say() { printf 'setup: %s\n' "$*" >&2; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

APT_PKGS=(build-essential pkg-config curl file libssl-dev sqlite3 tmux)
if [ "${1:-}" != "--cli" ]; then
  APT_PKGS+=(libwebkit2gtk-4.1-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev
             xvfb xauth dbus-x11 gnome-keyring imagemagick webkit2gtk-driver
             fonts-ipafont-gothic)  # Japanese glyphs in the window and its screenshots
fi

missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "Debian packages: all present"
fi

if ! command -v cargo >/dev/null 2>&1; then
  say "cargo not found: install Rust with rustup (https://rustup.rs) and run this again"; exit 1
fi

if [ "${1:-}" != "--cli" ]; then
  if ! rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! wasm-bindgen --version 2>/dev/null | grep -q " ${WASM_BINDGEN_VERSION}$"; then
    say "installing wasm-bindgen-cli ${WASM_BINDGEN_VERSION} (about 11 minutes on 2 cores, once)"
    # Not --locked: a dependency version locked upstream is missing from the registry.
    cargo install wasm-bindgen-cli --version "${WASM_BINDGEN_VERSION}" --force
  else
    say "wasm-bindgen-cli ${WASM_BINDGEN_VERSION}: present"
  fi
  # tauri-driver has no --version: ask cargo what it installed.
  if ! command -v tauri-driver >/dev/null 2>&1 || ! cargo install --list | grep -q "^tauri-driver v${TAURI_DRIVER_VERSION}:"; then
    say "installing tauri-driver ${TAURI_DRIVER_VERSION} (about 3 minutes, once)"
    cargo install tauri-driver --version "${TAURI_DRIVER_VERSION}" --locked --force
  else
    say "tauri-driver ${TAURI_DRIVER_VERSION}: present"
  fi
fi
# The sync tests' third-party peers (tests/peers: Medplum, oauth2-mock-server) run under Node.js
# 20.19+; their npm packages are pinned in tests/peers/package-lock.json.
if [ "${1:-}" != "--cli" ]; then
  peer_pkgs=()
  command -v node >/dev/null 2>&1 || peer_pkgs+=(nodejs)
  command -v npm >/dev/null 2>&1 || peer_pkgs+=(npm)
  if [ "${#peer_pkgs[@]}" -gt 0 ]; then
    say "installing ${peer_pkgs[*]} (for the sync tests' peers)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${peer_pkgs[@]}" >/dev/null
  fi
  peers="$(cd "$(dirname "$0")/.." && pwd)/tests/peers"
  node_ok=$(node -e 'const [a, b] = process.versions.node.split(".").map(Number); console.log(a > 20 || (a === 20 && b >= 19) ? "yes" : "no")' 2>/dev/null || echo no)
  if [ "$node_ok" != yes ]; then
    say "tests/peers needs Node.js 20.19+ (found $(node --version 2>/dev/null || echo none); Debian 12's is 18, NodeSource has newer): the sync-peer tests will skip (and fail under CI)"
  elif [ ! -d "$peers/node_modules" ] || [ "$peers/package-lock.json" -nt "$peers/node_modules/.package-lock.json" ]; then
    say "installing the sync-test peers' npm packages (npm ci in tests/peers, about 10 s)"
    (cd "$peers" && npm ci --no-audit --no-fund --loglevel=error)
  else
    say "tests/peers npm packages: present"
  fi
fi
if ! command -v cargo-nextest >/dev/null 2>&1; then
  say "installing cargo-nextest"
  cargo install cargo-nextest --locked --version 0.9.143
fi
