"""`platform.kubeVirtContainer: true`: the KubeVirt container disk a release names is mirrored with it."""

from testkit.releases import seed_releases
from testkit.updateservice import UpdateServiceStub, graph_document
from tests.integration.conftest import skomirror, skopeo_digest

ISC = "\n".join(["kind: ImageSetConfiguration", "apiVersion: mirror.openshift.io/v2alpha1", "mirror:",
                 "  platform:", "    kubeVirtContainer: true", "    channels:", "    - name: stable-4.18", ""])


def mirror_release(tmp_path, release, destination):
    graphs = {("stable-4.18", "amd64"): graph_document([("4.18.1", release.payload)], [], "stable-4.18")}
    with UpdateServiceStub(graphs, b"", {}) as stub:
        (tmp_path / "isc.yaml").write_text(ISC)
        env = {"UPDATE_URL_OVERRIDE": f"{stub.url}/api/upgrades_info/v1/graph"}
        return skomirror("isc.yaml", f"docker://{destination.host}/mirror", "--signature-url",
                         f"{stub.url}/signatures", cwd=tmp_path, env=env)


def test_the_kubevirt_image_lands_as_a_release_component(tmp_path, source, destination):
    release = seed_releases(source, ["4.18.1"], ["cli", "installer"], kubevirt=True)["4.18.1"]
    run = mirror_release(tmp_path, release, destination)
    assert run.returncode == 0, run.stdout + run.stderr
    assert skopeo_digest(f"{destination.host}/mirror/openshift/release:4.18.1-x86_64-kube-virt-container") == \
        release.kubevirt.split("@")[1]
    idms = "\n".join(path.read_text() for path in tmp_path.rglob("idms*.yaml"))
    assert f"{source.host}/openshift-release-dev/ocp-v4.0-art-dev" in idms


def test_a_release_without_one_is_a_warning_naming_the_key(tmp_path, source, destination):
    release = seed_releases(source, ["4.18.1"], ["cli"])["4.18.1"]
    run = mirror_release(tmp_path, release, destination)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "isc.yaml:5: mirror.platform.kubeVirtContainer: no release-manifests/0000_50_installer_coreos-bootimages" \
           ".yaml in release 4.18.1" in run.stderr
