#!/usr/bin/env bash
# Compiles the .po catalogues into .mo files. Needs gettext's msgfmt: installed with apt when
# missing and we are root; otherwise a clear message (fatal when STRICT=1, as for `make test`).
# PYTHON selects the interpreter (default .venv/bin/python; the Dockerfile passes `python`).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
STRICT=${STRICT:-0}

if ! command -v msgfmt >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> msgfmt is missing: installing gettext with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends gettext >/dev/null
    else
        echo "WARNING: gettext's 'msgfmt' is not installed, so translations cannot be compiled." >&2
        echo "         Install it, e.g. 'sudo apt-get install gettext' (Debian/Ubuntu)" >&2
        echo "         or 'brew install gettext' (macOS), then run this again." >&2
        if [ "$STRICT" = 1 ]; then
            exit 1
        fi
        echo "         Continuing without compiled translations (pages fall back to English)." >&2
        exit 0
    fi
fi

# Only the project's catalogues: never walk into the virtualenv (Django's own locale files)
# or var/.
if [ -z "$(find . \( -path ./.venv -o -path ./var -o -path ./.git -o -path ./node_modules \) -prune \
        -o -name '*.po' -print -quit)" ]; then
    echo "==> No translation catalogues (*.po) yet: nothing to compile"
    exit 0
fi
echo "==> Compiling translations"
"$PYTHON" manage.py compilemessages --ignore=.venv --ignore=var --ignore=.git \
    --ignore=node_modules -v 0
