"""`platforms`: only the listed platforms of a multi-arch image cross the link and land.

distribution 2.8 (Debian's docker-registry) refuses a sparse index, so a tag lands as
an index rewritten to the platforms copied, and a digest-pinned image is refused.
"""

import json
import subprocess
import tarfile
from pathlib import Path

from testkit.images import make_index, make_layer, simple_image
from tests.integration.conftest import results, skomirror, skopeo_digest, statuses


def two_platform_app(source, repository="apps/app", tag="1"):
    base = [make_layer("shared-base", 20_000)]
    amd64 = simple_image("app", (30_000,), base=base, architecture="amd64")
    arm64 = simple_image("app", (50_000,), base=base, architecture="arm64")
    index = make_index([amd64, arm64])
    source.push(repository, tag, index)
    return index, amd64, arm64


def own_layer(image) -> str:
    return image.layers[-1].blob.digest


def blob_reads(registry, digest: str) -> int:
    """GETs of blob `digest` in the registry's access log so far."""
    return sum(1 for line in registry.log_path.read_text(errors="replace").splitlines()
               if f"/blobs/{digest}" in line and '"GET ' in line)


def platforms_isc(path: Path, name: str, platforms=("linux/amd64",)) -> Path:
    lines = ["kind: ImageSetConfiguration", "apiVersion: mirror.openshift.io/v2alpha1", "mirror:",
             "  additionalImages:", f"  - name: {name}", "    platforms:"]
    for platform in platforms:
        os, architecture = platform.split("/")[:2]
        lines += [f"    - os: {os}", f"      architecture: {architecture}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def pull(reference: str, architecture: str, into: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["skopeo", "--insecure-policy", "--override-arch", architecture, "--override-os", "linux",
                           "copy", "--src-tls-verify=false", f"docker://{reference}", f"oci:{into}:x"],
                          capture_output=True, text=True)


def test_only_the_listed_platform_crosses_the_link_and_an_amd64_pull_works(tmp_path, source, destination):
    index, amd64, arm64 = two_platform_app(source)
    isc = platforms_isc(tmp_path / "isc.yaml", f"{source.host}/apps/app:1")
    workspace = tmp_path / "ws"
    assert blob_reads(source, own_layer(amd64)) == blob_reads(source, own_layer(arm64)) == 0
    run = skomirror(str(isc), f"docker://{destination.host}/mirror", "--workspace", str(workspace), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr

    assert blob_reads(source, own_layer(amd64)) == 1  # the log counts what it should
    assert blob_reads(source, own_layer(arm64)) == 0  # never read from the source
    assert not destination.has_blob("mirror/apps/app", own_layer(arm64))
    assert destination.has_blob("mirror/apps/app", own_layer(amd64))
    assert skopeo_digest(f"{destination.host}/mirror/apps/app@{arm64.digest}") is None
    assert skopeo_digest(f"{destination.host}/mirror/apps/app@{amd64.digest}") == amd64.digest

    # distribution 2.8 refuses the sparse index: the tag holds the index of the amd64 platform alone
    landed = skopeo_digest(f"{destination.host}/mirror/apps/app:1")
    assert landed not in (None, index.digest)
    raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false",
                          f"docker://{destination.host}/mirror/apps/app:1"], capture_output=True, check=True).stdout
    assert [entry["digest"] for entry in json.loads(raw)["manifests"]] == [amd64.digest]
    assert pull(f"{destination.host}/mirror/apps/app:1", "amd64", tmp_path / "pulled").returncode == 0
    assert pull(f"{destination.host}/mirror/apps/app:1", "arm64", tmp_path / "refused").returncode != 0
    record = results(workspace)["images"][0]
    assert record["status"] == "copied" and record["digest"] == landed

    rerun = skomirror(str(isc), f"docker://{destination.host}/mirror", "--workspace", str(workspace), cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert set(statuses(workspace).values()) == {"skipped"}


def test_a_digest_pinned_image_is_refused_where_its_digest_cannot_be_kept(tmp_path, source, destination):
    index, _, arm64 = two_platform_app(source)
    plain = source.push("apps/plain", "1", simple_image("plain", (4_000,)))
    isc = platforms_isc(tmp_path / "isc.yaml", f"{source.host}/apps/app@{index.digest}")
    isc.write_text(isc.read_text() + f"  - name: {source.host}/apps/plain:1\n")
    workspace = tmp_path / "ws"
    run = skomirror(str(isc), f"docker://{destination.host}/mirror", "--workspace", str(workspace), cwd=tmp_path)
    assert run.returncode == 8, run.stdout + run.stderr
    output = run.stdout + run.stderr
    assert "refuses a sparse index" in output and "pulled by digest" in output, output
    assert skopeo_digest(f"{destination.host}/mirror/apps/plain:1") == plain
    assert not destination.has_blob("mirror/apps/app", own_layer(arm64))


def test_a_platform_the_image_does_not_have_is_an_error_naming_it(tmp_path, source, destination):
    two_platform_app(source)
    isc = platforms_isc(tmp_path / "isc.yaml", f"{source.host}/apps/app:1", platforms=("linux/s390x",))
    run = skomirror(str(isc), f"docker://{destination.host}/mirror", "--workspace", str(tmp_path / "ws"),
                    cwd=tmp_path)
    assert run.returncode == 8, run.stdout + run.stderr
    assert f"{source.host}/apps/app:1 has none of the platforms linux/s390x (it has linux/amd64, linux/arm64)" \
        in run.stdout + run.stderr
    assert destination.tags("mirror/apps/app") == []


def test_mirror_to_disk_carries_the_listed_platform_only_and_disk_to_mirror_pushes_it(tmp_path, source, registries):
    index, amd64, arm64 = two_platform_app(source)
    isc = platforms_isc(tmp_path / "isc.yaml", f"{source.host}/apps/app:1")
    disk = tmp_path / "disk"
    to_disk = skomirror(str(isc), f"file://{disk}", "--workspace", str(tmp_path / "ws-out"), cwd=tmp_path)
    assert to_disk.returncode == 0, to_disk.stdout + to_disk.stderr
    assert blob_reads(source, own_layer(arm64)) == 0
    members = set()
    for part in disk.glob("mirror_*.tar"):
        with tarfile.open(part) as archive:
            members |= set(archive.getnames())
    assert f"blobs/sha256/{own_layer(amd64).split(':')[1]}" in members
    assert f"blobs/sha256/{own_layer(arm64).split(':')[1]}" not in members
    assert f"blobs/sha256/{index.digest.split(':')[1]}" in members  # the source's own index travels, sparse

    destination = registries("disconnected")
    from_disk = skomirror(f"docker://{destination.host}/mirror", "--from", f"file://{disk}",
                          "--workspace", str(tmp_path / "ws-in"), cwd=tmp_path)
    assert from_disk.returncode == 0, from_disk.stdout + from_disk.stderr
    assert pull(f"{destination.host}/mirror/apps/app:1", "amd64", tmp_path / "pulled").returncode == 0
    assert not destination.has_blob("mirror/apps/app", own_layer(arm64))
    assert skopeo_digest(f"{destination.host}/mirror/apps/app@{amd64.digest}") == amd64.digest
