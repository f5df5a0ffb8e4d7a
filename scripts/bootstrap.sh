#!/usr/bin/env bash
# Creates .venv when missing and installs the project into it when pyproject.toml changed since
# the last install (a stamp file records that), so that reruns are fast. Used by `make` and by
# scripts/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
STAMP="$VENV/.installed"

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if [ ! -x "$VENV/bin/python" ]; then
    if ! python=$(find_python); then
        echo "ERROR: Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)." >&2
        exit 1
    fi
    echo "==> Creating $VENV with $python ($("$python" --version 2>&1))"
    if ! "$python" -m venv "$VENV"; then
        echo "ERROR: '$python -m venv' failed. On Debian/Ubuntu install python3-venv first." >&2
        rm -rf "$VENV"
        exit 1
    fi
fi

if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
    echo "==> Installing the project and its dev tools into $VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e '.[dev]'
    touch "$STAMP"
fi
