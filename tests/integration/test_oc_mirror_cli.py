"""oc-mirror v2's command lines, as its documentation writes them, against real registries: mirror to mirror,
mirror to disk then disk to mirror, delete in its two steps; --secure-policy applies the policy skopeo reads."""

import json
import os
import re
import subprocess
import sys

import yaml

from testkit.images import simple_image
from tests.integration.conftest import PROJECT, results, skomirror, skopeo_digest, write_isc


def oc_mirror(*args: str, cwd, env=None) -> subprocess.CompletedProcess:
    """skomirror called as oc-mirror is: no `run`, no skomirror-only flag."""
    return subprocess.run([sys.executable, "-m", "skomirror", *args], cwd=cwd, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(PROJECT), **(env or {})), timeout=300)


def test_mirror_to_mirror_as_oc_mirror_writes_it(tmp_path, source, destination):
    digest = source.push("apps/one", "1", simple_image("oc-one"))
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/apps/one:1"])
    run = oc_mirror("-c", str(isc), "--workspace", f"file://{tmp_path / 'ws'}", f"docker://{destination.host}",
                    "--v2", "--src-tls-verify=false", "--dest-tls-verify=false", "--retry-times", "2",
                    "--retry-delay", "1s", "--image-timeout", "2m", "--parallel-images", "4",
                    "--remove-signatures=false", "--log-level", "debug", "--cache-dir", str(tmp_path / "cache"),
                    cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert skopeo_digest(f"{destination.host}/apps/one:1") == digest
    assert (tmp_path / "ws" / "results.json").is_file() and not (tmp_path / "cache").exists()
    assert run.stderr.count("--cache-dir") == 1  # said once, not used
    refused = oc_mirror("-c", str(isc), f"docker://{destination.host}", "--v2", "--workspace",
                        f"file://{tmp_path / 'ws'}", "-p", "55001", cwd=tmp_path)
    assert refused.returncode == 1 and refused.stderr.startswith("skomirror: error: -p is oc-mirror's, and "
                                                                 "skomirror does not support it: ")


def test_mirror_to_disk_then_disk_to_mirror_as_oc_mirror_writes_them(tmp_path, source, registries):
    digest = source.push("apps/two", "1", simple_image("oc-two", (2_000, 3_000)))
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/apps/two:1"])
    disk = tmp_path / "mirror1"
    m2d = oc_mirror("-c", str(isc), f"file://{disk}", "--v2", "--src-tls-verify=false", "--retry-delay", "10s",
                    cwd=tmp_path)
    assert m2d.returncode == 0, m2d.stderr
    assert sorted(path.name for path in disk.glob("mirror_*.tar")) == ["mirror_000001.tar"]
    disconnected = registries("disconnected")
    d2m = oc_mirror("-c", str(isc), "--from", f"file://{disk}", f"docker://{disconnected.host}", "--v2",
                    "--dest-tls-verify=false", "--workspace", f"file://{tmp_path / 'ws-disconnected'}",
                    cwd=tmp_path)
    assert d2m.returncode == 0, d2m.stderr
    assert skopeo_digest(f"{disconnected.host}/apps/two:1") == digest


def test_delete_in_two_steps_as_oc_mirror_writes_them(tmp_path, source, destination):
    digest = source.push("apps/gone", "1", simple_image("oc-gone"))
    source.push("apps/kept", "1", simple_image("oc-kept"))
    workspace = f"file://{tmp_path / 'ws'}"
    mirrored = oc_mirror("-c", str(write_isc(tmp_path / "isc.yaml", [f"{source.host}/apps/{name}:1"
                                                                       for name in ("gone", "kept")])),
                         "--workspace", workspace, f"docker://{destination.host}", "--v2",
                         "--src-tls-verify=false", "--dest-tls-verify=false", cwd=tmp_path)
    assert mirrored.returncode == 0, mirrored.stderr
    last = oc_mirror("-c", str(write_isc(tmp_path / "isc2.yaml", [f"{source.host}/apps/kept:1"])), "--workspace",
                     workspace, f"docker://{destination.host}", "--v2", "--src-tls-verify=false",
                     "--dest-tls-verify=false", cwd=tmp_path)
    assert last.returncode == 0, last.stderr
    disc = tmp_path / "delete-isc.yaml"
    disc.write_text("kind: DeleteImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\ndelete:\n"
                    f"  additionalImages:\n  - name: {source.host}/apps/gone:1\n")
    generated = oc_mirror("delete", "-c", str(disc), "--generate", "--workspace", workspace, "--delete-id",
                          "delete1-test", f"docker://{destination.host}", "--v2", "--src-tls-verify=false",
                          "--dest-tls-verify=false", cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    listing = tmp_path / "ws" / "delete" / "delete-images-delete1-test.yaml"
    assert (tmp_path / "ws" / "delete" / "delete-imageset-config-delete1-test.yaml").read_text() == disc.read_text()
    assert [item["digest"] for item in yaml.safe_load(listing.read_text())["items"]] == [digest]
    deleted = oc_mirror("delete", "--delete-yaml-file", str(listing), f"docker://{destination.host}", "--v2",
                        "--dest-tls-verify=false", "--workspace", workspace, "--retry-delay", "1s", cwd=tmp_path)
    assert deleted.returncode == 0, deleted.stderr
    status = destination.request("GET", f"/v2/apps/gone/manifests/{digest}",
                                 headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})[0]
    assert status == 404
    assert skopeo_digest(f"{destination.host}/apps/kept:1")


def test_secure_policy_copies_under_the_policy_skopeo_reads(tmp_path, source, destination):
    """A user policy that rejects everything: --secure-policy fails the copy on it, --policy FILE and the
    default (--insecure-policy) copy."""
    source.push("apps/signed", "1", simple_image("oc-policy"))
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/apps/signed:1"])
    home = tmp_path / "home"
    (home / ".config" / "containers").mkdir(parents=True)
    (home / ".config" / "containers" / "policy.json").write_text(json.dumps({"default": [{"type": "reject"}]}))
    accepting = tmp_path / "accepting.json"
    accepting.write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
    env = {"HOME": str(home)}
    workspace = tmp_path / "skomirror-workspace"

    secure = skomirror(str(isc), f"docker://{destination.host}", "--secure-policy", cwd=tmp_path, env=env)
    assert secure.returncode == 8, secure.stderr
    (image,) = results(workspace)["images"]
    assert image["status"] == "failed" and "rejected" in image["error"]["message"].lower(), image
    assert "--insecure-policy" not in open(image["log"]).read()

    given = skomirror(str(isc), f"docker://{destination.host}", "--secure-policy", "--policy", str(accepting),
                      cwd=tmp_path, env=env)
    assert given.returncode == 0, given.stderr
    (image,) = results(workspace)["images"]
    assert image["status"] == "copied" and f"--policy {accepting}" in open(image["log"]).read()

    default = skomirror(str(isc), f"docker://{destination.host}/other", cwd=tmp_path, env=env)
    assert default.returncode == 0, default.stderr
    (image,) = results(workspace)["images"]
    assert image["status"] == "copied" and "--insecure-policy" in open(image["log"]).read()


def test_log_level_error_shows_the_summary_only_and_debug_each_image_as_it_ends(tmp_path, source, destination):
    source.push("apps/lv", "1", simple_image("lv-one"))
    isc = write_isc(tmp_path / "isc.yaml", [f"{source.host}/apps/lv:1", f"{source.host}/apps/lv:missing"])
    common = ["-c", str(isc), f"docker://{destination.host}", "--v2", "--src-tls-verify=false",
              "--dest-tls-verify=false", "--retry-times", "0"]
    quiet = oc_mirror(*common, "--workspace", f"file://{tmp_path / 'quiet'}", "--log-level", "error", cwd=tmp_path)
    assert quiet.returncode == 8 and quiet.stdout == ""
    lines = quiet.stderr.splitlines()
    assert "2 images: 1 copied, 0 skipped (already mirrored), 1 failed" in lines, quiet.stderr
    assert not [line for line in lines if re.match(r"(\S+ \S+ )?(checking|mirroring)[: ]", line)], quiet.stderr
    chatty_default = oc_mirror(*common, "--workspace", f"file://{tmp_path / 'info'}", cwd=tmp_path)
    assert [line for line in chatty_default.stderr.splitlines() if re.match(r"\S+ \S+ checking: ", line)]  # the same check, shown at info
    assert any("warning" in line for line in lines)  # TLS off: warnings stay at every level
    chatty = oc_mirror(*common, "--workspace", f"file://{tmp_path / 'chatty'}", "--log-level", "debug",
                       cwd=tmp_path)
    assert chatty.returncode == 8
    assert [line for line in chatty.stderr.splitlines()
            if line.startswith("skipped ") and f"{source.host}/apps/lv:1 -> " in line], chatty.stderr
    assert [line for line in chatty.stderr.splitlines()
            if line.startswith("failed ") and f"{source.host}/apps/lv:missing -> " in line], chatty.stderr
