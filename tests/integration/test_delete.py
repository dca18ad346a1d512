"""`skomirror delete` on a real docker-registry: generate, review, delete by digest, keep what is needed."""

import json

import yaml

from testkit.images import simple_image
from testkit.isc import write_isc
from tests.integration.conftest import PROJECT, skomirror, skopeo_digest

import os
import subprocess
import sys


def delete(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(PROJECT))
    return subprocess.run([sys.executable, "-m", "skomirror", "delete", "--src-tls-verify=false",
                           "--dest-tls-verify=false", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def disc(path, names):
    lines = ["kind: DeleteImageSetConfiguration", "apiVersion: mirror.openshift.io/v2alpha1", "delete:",
             "  additionalImages:"] + [f"  - name: {name}" for name in names]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_generate_then_delete_removes_only_the_listed_manifests_and_keeps_what_the_last_mirror_needs(
        tmp_path, source, destination):
    digests = {name: source.push(f"apps/{name}", "1", simple_image(name, (3_000,))) for name in ("a", "b", "c")}
    source.push("apps/c", "2", simple_image("c", (3_000,)))  # the same image as c:1, under another tag
    dest = f"docker://{destination.host}/mirror"
    workspace = tmp_path / "ws"
    first = write_isc(tmp_path / "v1.yaml", [f"{source.host}/apps/{n}:1" for n in ("a", "b", "c")] +
                      [f"{source.host}/apps/c:2"])
    assert skomirror(str(first), dest, "--workspace", str(workspace), cwd=tmp_path).returncode == 0
    kept = write_isc(tmp_path / "v2.yaml", [f"{source.host}/apps/{n}:1" for n in ("b", "c")])
    assert skomirror(str(kept), dest, "--workspace", str(workspace), cwd=tmp_path).returncode == 0

    names = [f"{source.host}/apps/a:1", f"{source.host}/apps/b:1", f"{source.host}/apps/c:2",
             f"{source.host}/apps/gone:1"]
    generated = delete("--generate", "-c", str(disc(tmp_path / "disc.yaml", names)), "--workspace", str(workspace),
                       dest, cwd=tmp_path)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    listing = workspace / "delete" / "delete-images.yaml"
    items = yaml.safe_load(listing.read_text())["items"]
    assert [(i["imageReference"], i["digest"], i["type"]) for i in items] == [
        (f"{dest}/apps/a:1", digests["a"], "generic"), (f"{dest}/apps/b:1", digests["b"], "generic"),
        (f"{dest}/apps/c:2", digests["c"], "generic")]  # apps/gone is not there: not listed
    assert skopeo_digest(f"{destination.host}/mirror/apps/a:1") == digests["a"]  # generate deletes nothing

    deleted = delete("--delete-yaml-file", str(listing), "--workspace", str(workspace), dest, cwd=tmp_path)
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    status = destination.request("GET", f"/v2/mirror/apps/a/manifests/{digests['a']}",
                                 headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})[0]
    assert status == 404
    assert skopeo_digest(f"{destination.host}/mirror/apps/b:1") == digests["b"]  # the last mirror needs it
    assert skopeo_digest(f"{destination.host}/mirror/apps/c:1") == digests["c"]  # shares c:2's digest: kept
    assert skopeo_digest(f"{destination.host}/mirror/apps/c:2") == digests["c"]
    results = json.loads((workspace / "delete" / "delete-results.json").read_text())
    assert [image["status"] for image in results["images"]] == ["deleted", "kept", "kept"]
    assert f"kept {dest}/apps/c:2: the last mirror in {workspace} needs it" in deleted.stderr

    again = delete("--delete-yaml-file", str(listing), "--workspace", str(workspace), dest, cwd=tmp_path)
    assert again.returncode == 0 and "1 already gone" in again.stderr, again.stdout + again.stderr


def test_a_registry_that_refuses_deletes_gives_one_line_per_image_and_the_exit_code(tmp_path, source, registries):
    destination = registries("no-deletes", deletes=False)
    digests = [source.push(f"apps/{name}", "1", simple_image(name, (2_000,))) for name in ("a", "b")]
    dest = f"docker://{destination.host}/mirror"
    workspace = tmp_path / "ws"
    names = [f"{source.host}/apps/{n}:1" for n in ("a", "b")]
    assert skomirror(str(write_isc(tmp_path / "isc.yaml", names)), dest, "--workspace", str(tmp_path / "other"),
                     cwd=tmp_path).returncode == 0
    assert delete("--generate", "-c", str(disc(tmp_path / "disc.yaml", names)), "--workspace", str(workspace), dest,
                  cwd=tmp_path).returncode == 0
    result = delete("--delete-yaml-file", str(workspace / "delete" / "delete-images.yaml"), "--workspace",
                    str(workspace), dest, cwd=tmp_path)
    assert result.returncode == 8, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("failed to delete")]
    assert len(lines) == 2 and all("registry does not allow deletes" in line for line in lines), result.stdout
    assert "Traceback" not in result.stderr
    assert [skopeo_digest(f"{destination.host}/mirror/apps/{n}:1") for n in ("a", "b")] == digests
