"""A command imports what it uses: a run of additional images loads none of the release, operator, helm or
delete modules (BENCHMARKS.md, start-up). Each case runs in a fresh interpreter, so this test's own imports
do not count."""

import json
import socket
import subprocess
import sys
import textwrap

import pytest

# skomirror.release.cincinnati is not here: `list releases` still names its architectures (--filter-by-archs)
# at registration; skomirror.helm.jsonpath and catalog.semver check the ISC itself (config/model.py).
NOT_FOR_ADDITIONAL_IMAGES = ("skomirror.release.payload", "skomirror.release.selection", "skomirror.release.signatures",
                             "skomirror.release.graph_image", "skomirror.collectors.releases",
                             "skomirror.collectors.operators", "skomirror.catalog.fbc", "skomirror.catalog.filter",
                             "skomirror.helm.charts", "skomirror.helm.choose", "skomirror.helm.images",
                             "skomirror.collectors.helm", "skomirror.delete", "skomirror.airgap",
                             "skomirror.commands.merge_reading")
# The bar is drawn by tqdm only on a terminal; without one (these probes' stderr is a pipe), tqdm and the
# importlib.metadata it reads its own version with stay out.
NOT_WITHOUT_A_TERMINAL = ("tqdm", "skomirror.terminal")

PROBE = textwrap.dedent("""
    import atexit, json, sys
    atexit.register(lambda: open(sys.argv[1], "w").write(json.dumps(sorted(sys.modules))))
    from skomirror.cli import main
    main(sys.argv[2:])
""")


def closed_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


def modules_imported_by(argv, tmp_path):
    seen = tmp_path / "modules.json"
    subprocess.run([sys.executable, "-c", PROBE, str(seen), *argv], cwd=tmp_path, capture_output=True, timeout=120)
    return json.loads(seen.read_text())


def loaded(modules, prefixes):
    return [name for name in modules if any(name == p or name.startswith(p + ".") for p in prefixes)]


def test_a_dry_run_of_additional_images_imports_no_release_operator_helm_or_delete_module(tmp_path):
    port = closed_port()  # nothing listens: the run collects and plans, then stops at the destination check
    isc = tmp_path / "isc.yaml"
    isc.write_text("kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\nmirror:\n"
                   f"  additionalImages:\n  - name: 127.0.0.1:{port}/library/busybox:1.36\n")
    modules = modules_imported_by(["run", "--dry-run", "--retry-times", "0", str(isc),
                                   f"docker://127.0.0.1:{port}/mirror"], tmp_path)
    assert "skomirror.collectors.additional" in modules and "skomirror.workflows.mirror_to_mirror" in modules
    assert "skomirror.plan" in modules  # the run got as far as its plan
    assert loaded(modules, NOT_FOR_ADDITIONAL_IMAGES + NOT_WITHOUT_A_TERMINAL) == []


@pytest.mark.parametrize("argv", [["--help"], ["version", "--short"]])
def test_help_and_version_import_no_workflow_or_run(argv, tmp_path):
    modules = modules_imported_by(argv, tmp_path)
    assert "skomirror.cli" in modules
    assert loaded(modules, NOT_FOR_ADDITIONAL_IMAGES + NOT_WITHOUT_A_TERMINAL
                  + ("skomirror.run", "skomirror.workflows.mirror_to_mirror")) == []
