#!/usr/bin/env bash
# The main job, end to end, on this machine only: start two registries on 127.0.0.1,
# fill the source with sample images, mirror them with `skomirror run` from
# examples/demo-isc.yaml, show what arrived, run again to show the resume, then
# the same images across an air gap (mirror to disk, archives, disk to mirror), stop.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_packages
ensure_venv
cd "$ROOT"
# the test kit (tests/testkit) builds the sample images; it is not part of the installed package
PYTHONPATH="$ROOT/tests${PYTHONPATH:+:$PYTHONPATH}" exec "$VENV/bin/python" -m testkit.demo
