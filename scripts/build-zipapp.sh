#!/usr/bin/env bash
# Build dist/skomirror.pyz: skomirror and its pinned dependencies (scripts/constraints.txt) in one file,
# pure Python (PyYAML without its C part), for `python3 skomirror.pyz run ...` on a machine with only
# python3 (>= 3.9) and skopeo. Takes the wheels from dist/wheelhouse (scripts/build-wheelhouse.sh makes
# it, downloading them once) and downloads nothing itself.
# Usage: scripts/build-zipapp.sh [OUTPUT.pyz]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/dist/skomirror.pyz}"
WHEELHOUSE="${WHEELHOUSE:-$ROOT/dist/wheelhouse}"
PYTHON="${PYTHON:-python3}"
[ -d "$WHEELHOUSE" ] || { echo "no wheelhouse in $WHEELHOUSE: run scripts/build-wheelhouse.sh first" >&2; exit 1; }
"$PYTHON" - "$ROOT" "$WHEELHOUSE" "$OUT" <<'PY'
import re, shutil, sys, tempfile, zipapp, zipfile
from pathlib import Path

root, wheelhouse, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
pins = [line.split("==") for line in (root / "scripts/constraints.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")]
runtime = [(name, version) for name, version in pins if name.lower() not in ("setuptools", "wheel")]
with tempfile.TemporaryDirectory() as build:
    target = Path(build)
    for name, version in runtime:
        pattern = re.compile(rf"{re.escape(name).replace('-', '[-_]')}-{re.escape(version)}-.*\.whl$", re.I)
        wheels = [w for w in wheelhouse.iterdir() if pattern.match(w.name)]
        if not wheels:
            sys.exit(f"{name}=={version} is not in {wheelhouse}: run scripts/build-wheelhouse.sh")
        with zipfile.ZipFile(wheels[0]) as wheel:
            for member in wheel.namelist():
                if member.endswith((".so", ".pyd")) or ".dist-info/" in member and not member.endswith(
                        ("METADATA", "LICENSE", "LICENSE.txt", "LICENSE.rst")):
                    continue  # pure Python only: PyYAML falls back to its Python parser
                wheel.extract(member, target)
    shutil.copytree(root / "skomirror", target / "skomirror", ignore=shutil.ignore_patterns("__pycache__"))
    (target / "__main__.py").write_text("from skomirror.cli import main\nmain()\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    zipapp.create_archive(target, out, interpreter="/usr/bin/env python3", compressed=True)
print(f"built {out} ({out.stat().st_size // 1024} KiB)", file=sys.stderr)
PY
