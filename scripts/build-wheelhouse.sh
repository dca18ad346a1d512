#!/usr/bin/env bash
# Download the pinned dependencies (scripts/constraints.txt) as wheels for a target Python and build
# skomirror's wheel and sdist beside them, so that a machine without network installs with:
#   python3 -m pip install --no-index --find-links dist/wheelhouse skomirror
# Usage: scripts/build-wheelhouse.sh [--python-version 3.9] [--platform manylinux2014_x86_64] [DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON_VERSION=3.9
PLATFORM="manylinux2014_$(uname -m)"
OUT="$ROOT/dist/wheelhouse"
while [ $# -gt 0 ]; do
  case "$1" in
    --python-version) PYTHON_VERSION="$2"; shift 2 ;;
    --platform) PLATFORM="$2"; shift 2 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) OUT="$1"; shift ;;
  esac
done
PYTHON="${PYTHON:-python3}"
mkdir -p "$OUT"
requirements=$(grep -Ev '^\s*(#|$)' "$ROOT/scripts/constraints.txt")
# shellcheck disable=SC2086
"$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  --python-version "$PYTHON_VERSION" --implementation cp --platform "$PLATFORM" --platform any \
  --dest "$OUT" $requirements
# skomirror itself, built with the pinned backend only (no build-time download)
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
"$PYTHON" -m venv "$build/venv"
"$build/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index --find-links "$OUT" \
  setuptools wheel
(cd "$ROOT" && "$build/venv/bin/python" -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir "$OUT" .)
(cd "$ROOT" && "$build/venv/bin/python" -c 'from setuptools import build_meta as b; import sys; print(b.build_sdist(sys.argv[1]))' "$OUT" >/dev/null)
rm -rf "$ROOT/build" "$ROOT"/skomirror.egg-info
echo "wheelhouse: $OUT ($(ls "$OUT" | wc -l) files, for Python $PYTHON_VERSION on $PLATFORM)" >&2
