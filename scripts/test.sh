#!/usr/bin/env bash
# Install what is missing (skopeo, docker-registry, the Python packages), then run the whole suite.
# Extra arguments go to pytest, e.g. scripts/test.sh tests/unit -x; two test processes by default
# (SKOMIRROR_TEST_WORKERS, or -n 0 for one process)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
workers="${SKOMIRROR_TEST_WORKERS:-2}"
if ! [[ "$workers" =~ ^([0-9]+|auto|logical)$ ]]; then
  say "SKOMIRROR_TEST_WORKERS=$workers: a number of test processes (or auto), e.g. SKOMIRROR_TEST_WORKERS=4"
  exit 2
fi
ensure_packages
ensure_venv
# the pinned wheels for the bastion tests (tests/integration/test_bastion.py): downloaded here, never by a test
"$ROOT/scripts/build-wheelhouse.sh" 2>/dev/null || say "warning: scripts/build-wheelhouse.sh failed; the bastion tests will say so"
cd "$ROOT"
exec "$VENV/bin/python" -m pytest -n "$workers" --dist worksteal "$@"
