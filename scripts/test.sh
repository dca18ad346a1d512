#!/usr/bin/env bash
# Install what is missing (skopeo, docker-registry, the Python packages), then run the whole suite.
# Extra arguments go to pytest, e.g. scripts/test.sh tests/unit -x
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_packages
ensure_venv
cd "$ROOT"
exec "$VENV/bin/python" -m pytest "$@"
