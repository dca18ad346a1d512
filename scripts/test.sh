#!/usr/bin/env bash
# Install what is missing (skopeo, docker-registry, the Python packages), then run the whole suite.
# Extra arguments go to pytest, e.g. scripts/test.sh tests/unit -x; two test processes by default
# (SKOMIRROR_TEST_WORKERS, or -n 0 for one process)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_packages
ensure_venv
# the pinned wheels for the bastion tests (tests/integration/test_bastion.py): downloaded here, never by a test
"$ROOT/scripts/build-wheelhouse.sh" 2>/dev/null || say "warning: scripts/build-wheelhouse.sh failed; the bastion tests will say so"
cd "$ROOT"
exec "$VENV/bin/python" -m pytest -n "${SKOMIRROR_TEST_WORKERS:-2}" --dist worksteal "$@"
