#!/usr/bin/env bash
# Builds Techo's Yew UI into ui/dist/, which the app embeds at compile time.
# Plain route (no trunk): cargo → wasm32, then wasm-bindgen --target web, then the static files.
# Works offline once the crates are in cargo's cache. Steps that are up to date are skipped.
#   scripts/build-ui.sh            (honours CARGO_TARGET_DIR)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { printf 'build-ui: %s\n' "$*" >&2; }

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$ROOT/ui/dist"
WASM="$TARGET_DIR/wasm32-unknown-unknown/release/techo-ui.wasm"
STATIC=(index.html style.css main.js)

# wasm-bindgen-cli must be exactly the version the UI crate pins.
PIN="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' ui/Cargo.toml)"
if ! command -v wasm-bindgen >/dev/null 2>&1; then
  say "wasm-bindgen not found: run scripts/setup.sh (installs wasm-bindgen-cli $PIN)"; exit 1
fi
HAVE="$(wasm-bindgen --version | awk '{print $2}')"
if [ "$HAVE" != "$PIN" ]; then
  say "wasm-bindgen $HAVE found, the UI needs $PIN: run scripts/setup.sh"; exit 1
fi

# cargo itself skips the compile when nothing changed.
cargo build --release --target wasm32-unknown-unknown -p techo-ui

mkdir -p "$OUT"
if [ ! -f "$OUT/techo_ui_bg.wasm" ] || [ ! -f "$OUT/techo_ui.js" ] || [ "$WASM" -nt "$OUT/techo_ui_bg.wasm" ]; then
  say "wasm-bindgen → ui/dist"
  wasm-bindgen --target web --no-typescript --out-name techo_ui --out-dir "$OUT" "$WASM"
else
  say "wasm-bindgen output is up to date"
fi

# Copy the static files only when they changed (keeps mtimes, so the app doesn't rebuild).
for f in "${STATIC[@]}"; do
  cmp -s "ui/$f" "$OUT/$f" || cp "ui/$f" "$OUT/$f"
done
# The printable summary's style sheet is techo-share's (one source for the CLI's page and the app).
SUMMARY_CSS=src-tauri/crates/techo-share/src/summary.css
cmp -s "$SUMMARY_CSS" "$OUT/summary.css" || cp "$SUMMARY_CSS" "$OUT/summary.css"

# Drop anything else (old outputs): ui/dist holds exactly what the app embeds.
find "$OUT" -mindepth 1 -maxdepth 1 ! -name techo_ui.js ! -name techo_ui_bg.wasm ! -name summary.css \
  $(printf '! -name %s ' "${STATIC[@]}") -exec rm -rf {} +

say "done: $(du -sh "$OUT" | cut -f1) in ui/dist ($(ls "$OUT" | tr '\n' ' '))"
