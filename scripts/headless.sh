# Sourced by run-app.sh and test.sh: gives a headless machine a display and a session bus.
#   headless_start "why"   starts Xvfb (when $DISPLAY is unset) and a D-Bus session bus (when
#                          none is running), exports DISPLAY / DBUS_SESSION_BUS_ADDRESS, and
#                          stops both when the calling script exits.
# Needs: a `say` function, Xvfb and dbus-launch (scripts/setup.sh installs them).
headless_started=()
headless_stop() {
  for ((i = ${#headless_started[@]} - 1; i >= 0; i--)); do kill "${headless_started[$i]}" 2>/dev/null || true; done
}
headless_start() {
  trap headless_stop EXIT
  if [ -z "${DISPLAY:-}" ]; then
    command -v Xvfb >/dev/null 2>&1 || { say "no \$DISPLAY and no Xvfb: run scripts/setup.sh"; exit 1; }
    local n=99
    while [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ]; do n=$((n + 1)); done
    Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
    headless_started+=("$!")
    export DISPLAY=":$n"
    for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$n" ] && break; sleep 0.1; done
    export NO_AT_BRIDGE=1   # no accessibility bus on a virtual screen nobody looks at
    say "no \$DISPLAY: started Xvfb on $DISPLAY ($1; screenshot with: DISPLAY=$DISPLAY import -window root shot.png)"
  fi
  if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ] && command -v dbus-launch >/dev/null 2>&1; then
    eval "$(dbus-launch --sh-syntax)"
    headless_started+=("$DBUS_SESSION_BUS_PID")
  fi
}
