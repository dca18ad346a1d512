"""Bad input, one table: a one-line error naming the problem and where, exit 1, nothing at the destination.

Where a case's ISC is read, its images are real: pushed to a source registry of their own, so a copy
started by mistake would write to the (checked empty) destination.
"""

import json
import os
import re
import sys
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple

import pytest

from testkit.images import simple_image
from tests.integration.conftest import skomirror
from tests.unit.conftest import help_text

HEAD = "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\n"
ONE_IMAGE = HEAD + "mirror:\n  additionalImages:\n  - name: SRC/a/b:1\n"


class Case(NamedTuple):
    isc: str
    args: List[str]  # DEST stands for the test registry, DISK for a file:// destination, ISC for the config file
    message: str  # a regular expression the single error line must match
    setup: Callable[[Path], Dict[str, str]] = lambda tmp: {}  # returns extra environment
    only_line: bool = False  # stderr holds nothing but that error line


def python_only_path(tmp: Path) -> Dict[str, str]:
    """A PATH with python but without skopeo."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    return {"PATH": str(bin_dir)}


def old_skopeo(tmp: Path) -> Dict[str, str]:
    """A skopeo that answers like 1.5.2: no --preserve-digests."""
    bin_dir = tmp / "oldbin"
    bin_dir.mkdir()
    help_file = tmp / "old-help.txt"
    help_file.write_text("\n".join(line for line in help_text("1.9.3").splitlines()
                                   if "--preserve-digests" not in line and "--multi-arch" not in line))
    script = bin_dir / "skopeo"
    script.write_text(f"#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'skopeo version 1.5.2'; exit 0; fi\n"
                      f"cat {help_file}\n")
    script.chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"}


def bad_authfile(tmp: Path) -> Dict[str, str]:
    (tmp / "auth.json").write_text('{"auths": ["secret-looking-content"]}')
    return {}


def corrupt_archive(tmp: Path) -> Dict[str, str]:
    usb = tmp / "usb"
    usb.mkdir()
    (usb / "mirror_000001.tar").write_bytes(b"not the bytes the manifest promised" * 100)
    (usb / "mirror_shipment_0001.json").write_text(json.dumps({
        "format": "skomirror.shipment/v1", "id": 1, "created": "2026-11-28T00:00:00Z", "basedOn": [],
        "isc": "skomirror/shipment-0001/isc.yaml", "images": [], "blobs": [],
        "parts": [{"name": "mirror_000001.tar", "size": 3500, "sha256": "0" * 64}]}))
    return {}


def alias_bomb() -> str:
    """Nine lines of nine aliases each: a billion values once expanded."""
    lines = ['l0: &l0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
    return HEAD + "\n".join(lines) + "\nmirror:\n  additionalImages:\n  - name: SRC/a/b:1\n"


UNWRITABLE = "/proc/skomirror-workspace" if os.geteuid() == 0 else "/skomirror-workspace-not-allowed"

CASES = {
    "malformed YAML": Case(HEAD + "mirror:\n  additionalImages: [\n", ["ISC", "DEST"], r"isc.yaml:5:1: malformed YAML"),
    "unknown key": Case(HEAD + "mirror:\n  additionalImage: []\n", ["ISC", "DEST"],
                        r"isc.yaml:4: mirror.additionalImage: unknown key 'additionalImage'; did you mean"),
    "wrong type": Case(HEAD + "mirror:\n  platform:\n    graph: sometimes\n", ["ISC", "DEST"],
                       r"isc.yaml:5: mirror.platform.graph: expected true or false, got 'sometimes'"),
    "invalid image reference": Case(HEAD + "mirror:\n  additionalImages:\n  - name: SRC/UPPER/case:1\n",
                                    ["ISC", "DEST"], r"isc.yaml:5: mirror.additionalImages\[0\].name: invalid "
                                                     r"repository path component 'UPPER'"),
    "image without tag or digest": Case(HEAD + "mirror:\n  additionalImages:\n  - name: SRC/a/b\n", ["ISC", "DEST"],
                                        r"isc.yaml:5: mirror.additionalImages\[0\].name: .* has no tag or digest"),
    "alias bomb": Case(alias_bomb(), ["ISC", "DEST"], r"isc.yaml:8:\d+: the YAML holds more than 100,000 values once "
                                                      r"its aliases are expanded"),
    "blockedImages needing backtracking": Case(ONE_IMAGE + "  blockedImages:\n  - name: '(a)\\1'\n", ["ISC", "DEST"],
                                               r"isc.yaml:7: mirror.blockedImages\[0\].name: the regular expression "
                                               r"'\(a\)\\\\1' cannot be used: a backreference"),
    "unsupported apiVersion": Case("kind: ImageSetConfiguration\napiVersion: v1\nmirror: {}\n", ["ISC", "DEST"],
                                   r"isc.yaml:2: apiVersion: unsupported apiVersion 'v1'"),
    "unsupported kind": Case("kind: ConfigMap\napiVersion: mirror.openshift.io/v2alpha1\nmirror: {}\n",
                             ["ISC", "DEST"], r"isc.yaml:1: kind: unsupported kind 'ConfigMap'"),
    "section not supported": Case(HEAD + "mirror:\n  samples:\n  - name: x\n",
                                  ["ISC", "DEST"], r"isc.yaml:5: mirror.samples: samples .*: skomirror cannot"),
    "ISC of 0 images": Case(HEAD + "mirror: {}\n", ["ISC", "DEST"],
                            r"isc.yaml: the ImageSetConfiguration selects no images"),
    "DEST missing": Case(ONE_IMAGE, ["ISC"], r"DEST is missing after CONFIG isc.yaml: add docker://"),
    "DEST without transport": Case(ONE_IMAGE, ["ISC", "registry:5000/x"],
                                   r"DEST 'registry:5000/x' must start with docker:// .* or file://"),
    "unreachable destination": Case(ONE_IMAGE, ["ISC", "docker://127.0.0.1:9/mirror"],
                                    r"cannot use the destination docker://127.0.0.1:9/mirror: connection refused"),
    "bad authfile": Case(ONE_IMAGE, ["ISC", "DEST", "--authfile", "auth.json"],
                         r"--authfile auth.json: no \"auths\" object", bad_authfile),
    "missing skopeo": Case(ONE_IMAGE, ["ISC", "DEST"], r"skopeo not found on PATH; install it: dnf install -y "
                                                       r"skopeo .* apt-get install -y skopeo", python_only_path),
    "skopeo too old": Case(ONE_IMAGE, ["ISC", "DEST"], r"skopeo 1.5.2 is too old: skomirror needs "
                                                       r"--preserve-digests \(skopeo >= 1.6.0\)", old_skopeo),
    "unwritable workspace": Case(ONE_IMAGE, ["ISC", "DEST", "--workspace", UNWRITABLE],
                                 rf"workspace {UNWRITABLE} is not writable"),
    "missing --from directory": Case(ONE_IMAGE, ["--from", "file:///nonexistent/usb", "DEST"],
                                     r"--from file:///nonexistent/usb: no such directory"),
    "--from into a file:// destination": Case(ONE_IMAGE, ["--from", "usb", "DISK"],
                                              r"--from pushes archives into a registry: DEST must be docker://, "
                                              r"not file://"),
    "corrupt archive": Case(ONE_IMAGE, ["--from", "usb", "DEST"],
                            r"archive check failed in usb, nothing was pushed: shipment 1: mirror_000001.tar is "
                            r"(corrupt|\d+ bytes)", corrupt_archive),
    "usage error": Case(ONE_IMAGE, ["--parallel-images", "0", "ISC", "DEST"],
                        r"Invalid value for '--parallel-images'.*\(see 'skomirror run --help'\)", only_line=True),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gives_one_line_exit_1_and_writes_nothing_to_the_destination(tmp_path, registries, destination,
                                                                                 name):
    case = CASES[name]
    isc = case.isc
    if "ISC" in case.args and "SRC" in isc:
        source = registries("source")
        source.push("a/b", "1", simple_image("bad-input"))  # SRC/a/b:1, the image ONE_IMAGE names
        isc = isc.replace("SRC", source.host)
    (tmp_path / "isc.yaml").write_text(isc)
    env = case.setup(tmp_path)
    args = [{"ISC": "isc.yaml", "DEST": f"docker://{destination.host}", "DISK": "file://mirror"}.get(arg, arg)
            for arg in case.args]
    result = skomirror(*args, "--retry-delay", "0.01", cwd=tmp_path, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("skomirror: error:")]
    assert len(errors) == 1, result.stderr
    assert re.search(case.message, errors[0]), errors[0]
    if case.only_line:
        assert result.stderr.strip().splitlines() == errors, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "secret-looking-content" not in result.stderr + result.stdout
    assert destination.catalog() == []
    assert not (tmp_path / "mirror").exists()  # nor on disk, for a file:// DEST
