"""Platform releases end to end: a local update service, generated payloads, oc-mirror's names."""

import base64
import json
import subprocess

import pytest
import yaml

from skomirror.imagefs import layer_digests, layer_members, platform_manifest
from skomirror.manifests import parse_manifest
from skomirror.naming import MirrorName
from skomirror.store import Store
from testkit.images import simple_image
from testkit.releases import graph_data_tarball, seed_releases
from testkit.updateservice import UpdateServiceStub, graph_document
from tests.integration.conftest import results, skomirror, skopeo_digest

COMPONENTS = ["cli", "installer", "machine-config-operator", "etcd", "console"]
ISC = """kind: ImageSetConfiguration
apiVersion: mirror.openshift.io/v2alpha1
mirror:
  platform:
    graph: true
    channels:
    - name: stable-4.18
      minVersion: 4.18.1
    - name: fast-4.18
"""


@pytest.fixture
def release_setup(tmp_path, source):
    seeded = seed_releases(source, ["4.18.1", "4.18.2"], COMPONENTS)
    nodes = [(version, release.payload) for version, release in seeded.items()]
    graphs = {(channel, "amd64"): graph_document(nodes, [("4.18.1", "4.18.2")], channel)
              for channel in ("stable-4.18", "fast-4.18")}
    tarball = graph_data_tarball({"stable-4.18": ["4.18.1", "4.18.2"]})
    signatures = {release.payload.split("@")[1]: f"signature of {version}".encode()
                  for version, release in seeded.items()}
    base = source.push("ubi9/ubi", "latest", simple_image("ubi9-base", (10_000,)))
    with UpdateServiceStub(graphs, tarball, signatures) as stub:
        (tmp_path / "isc.yaml").write_text(ISC)
        env = {"UPDATE_URL_OVERRIDE": f"{stub.url}/api/upgrades_info/v1/graph"}
        flags = ["--graph-data", f"{stub.url}/graph-data.tar.gz", "--graph-base-image", f"{source.host}/ubi9/ubi:latest",
                 "--signature-url", f"{stub.url}/signatures"]
        yield seeded, env, flags, tarball, base


def graph_image_files(tmp_path, reference: str) -> dict:
    store = Store(tmp_path / "graph-pulled").prepare()
    subprocess.run(["skopeo", "--insecure-policy", "copy", "--src-tls-verify=false", "--dest-shared-blob-dir",
                    str(store.blobs), f"docker://{reference}", store.spec(MirrorName("graph", "x"))],
                   check=True, capture_output=True)
    manifest = platform_manifest(store, parse_manifest(store.read_blob(store.tagged_digest(MirrorName("graph", "x")))))
    config = json.loads(store.read_blob(manifest.blobs[0].digest))
    last = layer_digests(store, manifest)[-1]
    return config, {member.name: content for member, content in layer_members(store, last) if content is not None}


def test_releases_are_mirrored_under_oc_mirror_names_with_graph_and_cluster_resources(tmp_path, release_setup,
                                                                                        destination):
    seeded, env, flags, tarball, _ = release_setup
    dry = skomirror("isc.yaml", f"docker://{destination.host}/mirror", "--dry-run", *flags, cwd=tmp_path, env=env)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "releases (amd64): 4.18.1, 4.18.2" in dry.stderr

    result = skomirror("isc.yaml", f"docker://{destination.host}/mirror", *flags, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    for version, release in seeded.items():
        assert skopeo_digest(f"{destination.host}/mirror/openshift/release-images:{version}-x86_64") == \
            release.payload.split("@")[1]
        for name, image in release.components.items():
            assert skopeo_digest(f"{destination.host}/mirror/openshift/release:{version}-x86_64-{name}") == \
                image.split("@")[1], name
    assert len(destination.tags("mirror/openshift/release")) == 2 * len(COMPONENTS)

    config, files = graph_image_files(tmp_path, f"{destination.host}/mirror/openshift/graph-image:latest")
    assert files["var/lib/cincinnati-graph-data/channels/stable-4.18.yaml"] == \
        b"name: stable-4.18\nversions:\n- 4.18.1\n- 4.18.2\n"
    assert files["var/lib/cincinnati-graph-data/version"] == b"1.1.0\n"
    assert config["config"]["Cmd"][-1].startswith("exec cp -rp /var/lib/cincinnati-graph-data/*")

    resources = tmp_path / "skomirror-workspace" / "cluster-resources"
    (idms,) = list(yaml.safe_load_all((resources / "idms-oc-mirror.yaml").read_text()))
    assert idms["metadata"]["name"] == "idms-release-0"
    mirrors = {e["source"]: e["mirrors"] for e in idms["spec"]["imageDigestMirrors"]}
    source_host = seeded["4.18.1"].payload.split("/")[0]
    assert mirrors == {
        f"{source_host}/openshift-release-dev/ocp-v4.0-art-dev": [f"{destination.host}/mirror/openshift/release"],
        f"{source_host}/openshift-release-dev/ocp-release": [f"{destination.host}/mirror/openshift/release-images"]}
    service = yaml.safe_load((resources / "updateService.yaml").read_text())
    assert service["spec"] == {"graphDataImage": f"{destination.host}/mirror/openshift/graph-image:latest",
                               "releases": f"{destination.host}/mirror/openshift/release-images", "replicas": 2}
    configmap = json.loads((resources / "signature-configmap.json").read_text())
    assert configmap["metadata"]["namespace"] == "openshift-config-managed"
    assert {key: base64.b64decode(value) for key, value in configmap["binaryData"].items()} == {
        release.payload.split("@")[1].replace(":", "-") + "-1": f"signature of {version}".encode()
        for version, release in seeded.items()}
    assert yaml.safe_load((resources / "signature-configmap.yaml").read_text()) == configmap


def test_releases_cross_the_air_gap_with_their_signatures(tmp_path, release_setup, registries):
    seeded, env, flags, _, _ = release_setup
    disk = tmp_path / "disk"
    m2d = skomirror("isc.yaml", f"file://{disk}", *flags, "--workspace", str(tmp_path / "ws1"), cwd=tmp_path, env=env)
    assert m2d.returncode == 0, m2d.stdout + m2d.stderr
    disconnected = registries("disconnected")
    d2m = skomirror("--from", str(disk), f"docker://{disconnected.host}/ocp", "--workspace", str(tmp_path / "ws2"),
                    cwd=tmp_path)
    assert d2m.returncode == 0, d2m.stdout + d2m.stderr
    for version, release in seeded.items():
        assert disconnected.manifest_digest("ocp/openshift/release-images", f"{version}-x86_64") == \
            release.payload.split("@")[1]
    assert disconnected.manifest_digest("ocp/openshift/graph-image", "latest")
    resources = tmp_path / "ws2" / "cluster-resources"
    assert (resources / "updateService.yaml").exists()
    assert len(json.loads((resources / "signature-configmap.json").read_text())["binaryData"]) == 2


def test_an_unknown_channel_stops_with_exit_2_before_copying(tmp_path, release_setup, destination):
    _, env, flags, _, _ = release_setup
    (tmp_path / "isc.yaml").write_text(ISC.replace("fast-4.18", "fast-4.99"))
    result = skomirror("isc.yaml", f"docker://{destination.host}", *flags, cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "channel 'fast-4.99' (amd64) has no releases" in result.stderr
    assert destination.catalog() == []


def test_a_release_that_cannot_be_complete_copies_nothing(tmp_path, source, destination):
    seeded = seed_releases(source, ["4.18.1"], ["installer"])
    broken = seeded["4.18.1"]
    missing = dict(broken.components, etcd=f"{source.host}/openshift-release-dev/ocp-v4.0-art-dev@sha256:{'e' * 64}")
    from testkit.releases import release_payload
    digest = source.push("openshift-release-dev/ocp-release", "4.18.1-broken", release_payload("4.18.1", missing))
    (tmp_path / "isc.yaml").write_text(
        "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v2alpha1\nmirror:\n  platform:\n"
        f"    release: {source.host}/openshift-release-dev/ocp-release@{digest}\n")
    result = skomirror("isc.yaml", f"docker://{destination.host}", "--signature-url", "http://127.0.0.1:9",
                       cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no signature for release" in result.stderr  # a warning: the run goes on without it
    assert "cannot be read: nothing is copied" in result.stderr
    images = {i["origin"]: i["status"] for i in results(tmp_path / "skomirror-workspace")["images"]}
    assert images[missing["etcd"]] == "failed"
    assert set(images.values()) == {"failed", "pending"}
    assert destination.catalog() == []
