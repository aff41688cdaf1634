#!/usr/bin/env bash
# StoreLink developer entry point.
#   ./run.sh serve   install (first time) and serve on http://127.0.0.1:5000 (SQLite + demo data)
#   ./run.sh test    install (first time) and run the whole test suite
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv

install() {
  local stamp="$VENV/.installed-$(cat "$@" | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    local args=()
    for f in "$@"; do args+=(-r "$f"); done
    "$VENV/bin/python" -m pip install --quiet "${args[@]}"
    rm -f "$VENV"/.installed-*
    touch "$stamp"
  fi
}

case "${1:-}" in
  serve)
    install requirements.txt
    exec "$VENV/bin/python" wsgi.py
    ;;
  test)
    shift
    install requirements.txt requirements-dev.txt
    set +e
    "$VENV/bin/python" -m pytest "$@"
    status=$?
    # pytest exits 5 when it collected no tests: that is a failure here, never a pass.
    [ "$status" -eq 5 ] && echo "no tests were collected" >&2
    exit "$status"
    ;;
  *)
    echo "usage: $0 serve | test [pytest args]" >&2
    exit 2
    ;;
esac
