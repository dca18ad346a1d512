"""Cosign signatures travel with their images: copied as tags, byte-identical, on real skopeo and registries."""

import re

from testkit.images import make_index, simple_image
from testkit.registry import Registry
from testkit.signatures import sign, signature_tag
from tests.integration.conftest import results, skomirror, skopeo_digest, write_isc
from tests.integration.test_airgap import carry
from tests.integration.test_releases import release_setup  # noqa: F401  (a fixture)


def seed(source: Registry):
    """A signed multi-arch image (signed at its index and at its arm64 child), and an unsigned one."""
    signed = make_index([simple_image("signed", (8_000,), architecture=arch) for arch in ("amd64", "arm64")])
    source.push("apps/signed", "1", signed)
    source.push("apps/unsigned", "1", simple_image("unsigned", (8_000,)))
    signatures = {signed.digest: sign(source, "apps/signed", signed.digest),
                  signed.images[1].digest: sign(source, "apps/signed", signed.images[1].digest)}
    return signed, signatures


def isc(tmp_path, source: Registry):
    return str(write_isc(tmp_path / "isc.yaml", [f"{source.host}/apps/signed:1", f"{source.host}/apps/unsigned:1"]))


def assert_signatures_at(registry: Registry, repository: str, signatures):
    for signed, digest in signatures.items():
        assert skopeo_digest(f"{registry.host}/{repository}:{signature_tag(signed)}") == digest
    assert not [tag for tag in registry.tags(repository.replace("signed", "unsigned")) if tag.endswith(".sig")]


def test_mirror_to_mirror_copies_signatures_as_they_are_and_a_rerun_skips_them(tmp_path, source, destination):
    signed, signatures = seed(source)
    workspace = tmp_path / "ws"
    run = skomirror(isc(tmp_path, source), f"docker://{destination.host}/mirror", "--workspace", str(workspace),
                    cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert skopeo_digest(f"{destination.host}/mirror/apps/signed:1") == signed.digest
    assert_signatures_at(destination, "mirror/apps/signed", signatures)  # same digest: same layers, annotations
    document = results(workspace)
    assert document["run"]["signatures"] == {"removed": False, "signed": 1,
                                             "unsigned": [f"{source.host}/apps/unsigned:1"]}
    copied = {image["signs"]: image["status"] for image in document["images"] if image["signs"]}
    assert copied == {digest: "copied" for digest in signatures}
    assert "signatures: 1 of 2 images signed; 1 unsigned (listed in results.json)" in run.stderr
    assert not list((workspace / "cluster-resources").glob("*")) or \
        ".sig" not in "".join(path.read_text() for path in (workspace / "cluster-resources").glob("*.yaml"))

    again = skomirror(isc(tmp_path, source), f"docker://{destination.host}/mirror", "--workspace", str(workspace),
                      cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert {image["status"] for image in results(workspace)["images"]} == {"skipped"}
    assert len([image for image in results(workspace)["images"] if image["signs"]]) == 2


def test_signatures_cross_the_air_gap_unchanged(tmp_path, source, registries):
    signed, signatures = seed(source)
    disk = tmp_path / "disk"
    m2d = skomirror(isc(tmp_path, source), f"file://{disk}", "--workspace", str(tmp_path / "ws-connected"),
                    cwd=tmp_path)
    assert m2d.returncode == 0, m2d.stdout + m2d.stderr
    disconnected = registries("disconnected")
    workspace = tmp_path / "ws-disconnected"
    d2m = skomirror("--from", str(carry(disk, tmp_path / "usb")), f"docker://{disconnected.host}/ocp",
                    "--workspace", str(workspace), cwd=tmp_path)
    assert d2m.returncode == 0, d2m.stdout + d2m.stderr
    assert skopeo_digest(f"{disconnected.host}/ocp/apps/signed:1") == signed.digest
    assert_signatures_at(disconnected, "ocp/apps/signed", signatures)
    assert results(workspace)["run"]["signatures"]["signed"] == 1


def test_remove_signatures_mirrors_none(tmp_path, source, registries):
    seed(source)
    destination = registries("destination")
    workspace = tmp_path / "ws"
    run = skomirror(isc(tmp_path, source), f"docker://{destination.host}", "--remove-signatures",
                    "--workspace", str(workspace), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert destination.tags("apps/signed") == ["1"]
    assert results(workspace)["run"]["signatures"] == {"removed": True}
    assert "signatures: not mirrored (--remove-signatures)" in run.stderr

    disk, disconnected = tmp_path / "disk", registries("disconnected")  # shipped, then dropped on the other side
    m2d = skomirror(isc(tmp_path, source), f"file://{disk}", "--workspace", str(tmp_path / "ws-connected"),
                    cwd=tmp_path)
    assert m2d.returncode == 0, m2d.stdout + m2d.stderr
    d2m = skomirror("--from", str(carry(disk, tmp_path / "usb")), f"docker://{disconnected.host}",
                    "--remove-signatures", "--workspace", str(tmp_path / "ws-disconnected"), cwd=tmp_path)
    assert d2m.returncode == 0, d2m.stdout + d2m.stderr
    assert disconnected.tags("apps/signed") == ["1"]


def test_a_signed_release_payload_keeps_its_signature_in_release_images(tmp_path, release_setup, source, destination):
    seeded, env, flags, _, _ = release_setup
    repository, payload = seeded["4.18.1"].payload.split("/", 1)[1].split("@")
    signature = sign(source, repository, payload)
    workspace = tmp_path / "ws"
    run = skomirror("isc.yaml", f"docker://{destination.host}/mirror", "--workspace", str(workspace), *flags,
                    cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert skopeo_digest(f"{destination.host}/mirror/openshift/release-images:{signature_tag(payload)}") == signature
    counted = results(workspace)["run"]["signatures"]
    assert counted["signed"] == 1 and f"{source.host}/{repository}@{payload}" not in counted["unsigned"]
    resources = "".join(path.read_text() for path in (workspace / "cluster-resources").glob("*.yaml"))
    assert "release-images" in resources and ".sig" not in resources  # the signature is no cluster resource


def test_a_rerun_lists_a_repository_once_instead_of_a_head_per_unsigned_image(tmp_path, source, destination):
    images = {tag: simple_image(f"many-{tag}", (2_000,)) for tag in map(str, range(1, 7))}
    for tag, image in images.items():
        source.push("apps/many", tag, image)
    signatures = {images["1"].digest: sign(source, "apps/many", images["1"].digest)}
    isc_path = str(write_isc(tmp_path / "many.yaml", [f"{source.host}/apps/many:{tag}" for tag in images]))
    arguments = (isc_path, f"docker://{destination.host}/mirror", "--workspace", str(tmp_path / "ws"))
    first = skomirror(*arguments, cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    signatures[images["2"].digest] = sign(source, "apps/many", images["2"].digest)  # signed since the last run

    log = source.log_path.read_text()
    again = skomirror(*arguments, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    requests = re.findall(r'"(GET|HEAD) /v2/(\S*) HTTP', source.log_path.read_text()[len(log):])
    assert [path for _, path in requests if "/tags/list" in path] == ["apps/many/tags/list?n=1000"], requests
    signature_heads = sorted(path for method, path in requests if path.endswith(".sig"))
    assert signature_heads == sorted(f"apps/many/manifests/{signature_tag(signed)}" for signed in signatures)
    for signed, digest in signatures.items():  # the new one found too: the list is this run's
        assert skopeo_digest(f"{destination.host}/mirror/apps/many:{signature_tag(signed)}") == digest
    assert sorted(tag for tag in destination.tags("mirror/apps/many") if tag.endswith(".sig")) == \
        sorted(map(signature_tag, signatures))
    assert results(tmp_path / "ws")["run"]["signatures"]["signed"] == 2
